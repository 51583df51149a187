package commands

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/approve", "/approve 3f2a1c9", "```\n/approve\n```", "> /approve", "    /approve",
		"/breakglass prod down for 2h", "/breakglass", "/gitward foo", "- ```\n  /recheck\n  ```",
		"<!--\n/approve\n-->", "\r\n/unapprove\r", "~~~~\n~~~\n/approve", "/breakglass prod x for 2 hours",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, onIssue bool) {
		where := OnPullRequest
		if onIssue {
			where = OnIssue
		}
		cmds := Parse(body, where)
		n := len(strings.Split(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n"), "\n"))
		last := 0
		for _, c := range cmds {
			if c.Line <= last || c.Line > n {
				t.Fatalf("line %d out of order or range (previous %d, %d lines)", c.Line, last, n)
			}
			last = c.Line
			if !strings.HasPrefix(c.Text, "/") {
				t.Fatalf("command text %q does not start with /", c.Text)
			}
			switch c.Name {
			case Approve:
				if c.Err == nil && c.SHA != "" && !shaRE.MatchString(c.SHA) {
					t.Fatalf("accepted SHA %q", c.SHA)
				}
			case BreakGlass:
				if c.Err == nil && !c.BreakGlass.End && c.BreakGlass.Reason == "" {
					t.Fatalf("accepted /breakglass without a reason: %q", c.Text)
				}
				if c.BreakGlass.Window < 0 {
					t.Fatalf("negative window from %q", c.Text)
				}
			case Gitward:
				if c.Err == nil {
					t.Fatalf("unknown /gitward command without an error: %q", c.Text)
				}
			case Unapprove, Recheck, Help:
			default:
				t.Fatalf("unknown name %q", c.Name)
			}
		}
	})
}
