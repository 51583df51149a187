package forge_test

import (
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestInert(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a command line is escaped", "/merge", `\/merge`},
		{"after up to three spaces too", "   /approve now\nok", "   \\/approve now\nok"},
		{"four spaces are code and stay", "    /approve", "    /approve"},
		{"a slash mid-line stays", "see apps/podinfo and /this", "see apps/podinfo and /this"},
		{"CRLF lines", "a\r\n/merge\r\n", "a\r\n\\/merge\r\n"},
		{"fenced code stays", "```diff\n/merge\n```\n/merge", "```diff\n/merge\n```\n\\/merge"},
		{"a tilde fence closes only with tildes", "~~~\n```\n/x\n~~~\n/y", "~~~\n```\n/x\n~~~\n\\/y"},
		{"a longer fence needs a long close", "````\n```\n/x\n````\n/y", "````\n```\n/x\n````\n\\/y"},
		{"inline backticks are no fence", "```a`\n/x", "```a`\n\\/x"},
		{"an unclosed fence runs to the end", "```\n/x", "```\n/x"},
		{"quoted lines are no commands", "> /merge", "> /merge"},
		{"no slash, no change", "plain", "plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := forge.Inert(tc.in)
			if got != tc.want {
				t.Fatalf("Inert(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := forge.Inert(got); again != got {
				t.Errorf("not idempotent: %q → %q", got, again)
			}
		})
	}
}
