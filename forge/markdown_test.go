package forge_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestInert(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a command line is escaped", "/merge", `\/merge`},
		{"after up to three spaces too", "   /approve now\nok", "   \\/approve now\nok"},
		{"four spaces stay", "    /approve", "    /approve"},
		{"a slash mid-line stays", "see apps/podinfo and /this", "see apps/podinfo and /this"},
		{"CRLF lines", "a\r\n/merge\r\n", "a\r\n\\/merge\r\n"},
		{"a CR GitLab deletes before a command", "a\n\r/merge", "a\n\r\\/merge"},
		{"a lone CR joins lines for GitLab", "ok\r/approve", "ok\r/approve"},
		{"a backtick fence GitLab closes protects", "```diff\n/merge\n```\n/merge", "```diff\n/merge\n```\n\\/merge"},
		{"a tilde fence protects nothing on GitLab", "~~~\n/x\n~~~", "~~~\n\\/x\n~~~"},
		{"an unclosed fence protects nothing", "```\n/x", "```\n\\/x"},
		{"a closing line with trailing spaces closes nothing", "```\n/x\n```  ", "```\n\\/x\n```  "},
		{"a longer closing fence closes nothing on GitLab", "````\n/x\n````", "````\n\\/x\n````"},
		{"an indented fence protects nothing", "   ```\n/x\n   ```", "   ```\n\\/x\n   ```"},
		{"the first exact closing line ends the block", "```\n/a\n```\n/b\n```", "```\n/a\n```\n\\/b\n```"},
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

// gitlabCommands finds quick actions the way GitLab's extractor does
// (lib/gitlab/quick_actions/extractor.rb, reduced to its code-block and
// command rules): carriage returns deleted, "```" blocks closed by a line
// that is exactly "```" skipped, a command at the very start of a line.
var gitlabBlock = regexp.MustCompile("(?ms)^```.+?\\n```$")
var gitlabCommand = regexp.MustCompile(`(?m)^/[a-z_]+`)

func gitlabCommands(body string) []string {
	body = strings.ReplaceAll(body, "\r", "")
	body = gitlabBlock.ReplaceAllString(body, "")
	return gitlabCommand.FindAllString(body, -1)
}

// FuzzInert: whatever gitward is asked to send, GitLab finds no quick
// action in the inert form, and Inert is idempotent.
func FuzzInert(f *testing.F) {
	for _, seed := range []string{"/merge", "```\n/x\n```\n/y", "~~~\n/x", "a\n\r/merge", "```\n/x\n```  \n/y", "````\n```\n/x\n````"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out := forge.Inert(body)
		if cmds := gitlabCommands(out); len(cmds) > 0 {
			t.Fatalf("Inert(%q) = %q still has quick actions %q", body, out, cmds)
		}
		if again := forge.Inert(out); again != out {
			t.Fatalf("not idempotent: %q → %q", out, again)
		}
	})
}
