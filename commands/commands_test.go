package commands

import (
	"strings"
	"testing"
	"time"
)

// found is a command as the tests describe it: its name, line, and the
// interesting arguments.
type found struct {
	Name Name
	Line int
	SHA  string
	Err  string
}

func summarise(cmds []Command) []found {
	var out []found
	for _, c := range cmds {
		f := found{Name: c.Name, Line: c.Line, SHA: c.SHA}
		if c.Err != nil {
			f.Err = c.Err.Error()
		}
		out = append(out, f)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []found
	}{
		{"a bare /approve approves", "/approve", []found{{Name: Approve, Line: 1}}},
		{"/approve may name the head commit", "/approve 3F2A1C9", []found{{Name: Approve, Line: 1, SHA: "3f2a1c9"}}},
		{"/approve may name a full SHA", "/approve " + strings.Repeat("ab", 20), []found{{Name: Approve, Line: 1, SHA: strings.Repeat("ab", 20)}}},
		{"/approve with words is refused with the reason", "/approve please", []found{{Name: Approve, Line: 1,
			Err: "`/approve` takes an optional commit SHA (7 to 40 hex digits), not \"please\""}}},
		{"/approve with a six-digit SHA is refused", "/approve 3f2a1c", []found{{Name: Approve, Line: 1,
			Err: "`/approve` takes an optional commit SHA (7 to 40 hex digits), not \"3f2a1c\""}}},
		{"/approve with a 41-digit SHA is refused", "/approve " + strings.Repeat("a", 41), []found{{Name: Approve, Line: 1,
			Err: "`/approve` takes an optional commit SHA (7 to 40 hex digits), not \"" + strings.Repeat("a", 41) + "\""}}},
		{"/approve with a SHA and more words is refused", "/approve 3f2a1c9 thanks", []found{{Name: Approve, Line: 1,
			Err: "`/approve` takes an optional commit SHA (7 to 40 hex digits), not \"3f2a1c9 thanks\""}}},
		{"leading spaces and trailing spaces are allowed", "   /approve   ", []found{{Name: Approve, Line: 1}}},
		{"a tab between command and SHA is a space", "/approve\t3f2a1c9", []found{{Name: Approve, Line: 1, SHA: "3f2a1c9"}}},
		{"/approved is not a command", "/approved", nil},
		{"/approve: is not a command", "/approve: yes", nil},
		{"names are case-sensitive", "/Approve\n/APPROVE", nil},
		{"a command in the middle of a line is not a command", "LGTM /approve", nil},
		{"another bot's command is not ours", "/lgtm\n/hold", nil},
		{"/unapprove withdraws", "/unapprove", []found{{Name: Unapprove, Line: 1}}},
		{"/unapprove with a remark still withdraws", "/unapprove wrong PR, sorry", []found{{Name: Unapprove, Line: 1}}},
		{"/recheck rechecks", "/recheck", []found{{Name: Recheck, Line: 1}}},
		{"/gitward help asks for help", "/gitward help", []found{{Name: Help, Line: 1}}},
		{"a bare /gitward asks for help", "/gitward", []found{{Name: Help, Line: 1}}},
		{"/gitward approve is /approve", "/gitward approve", []found{{Name: Approve, Line: 1}}},
		{"/gitward approve takes a SHA too", "/gitward approve 3F2A1C9", []found{{Name: Approve, Line: 1, SHA: "3f2a1c9"}}},
		{"/gitward approve with words is refused as /approve is", "/gitward approve please", []found{{Name: Approve, Line: 1,
			Err: "`/approve` takes an optional commit SHA (7 to 40 hex digits), not \"please\""}}},
		{"/gitward unapprove and recheck", "/gitward unapprove\n/gitward recheck", []found{{Name: Unapprove, Line: 1}, {Name: Recheck, Line: 2}}},
		{"/gitward Approve is not an alias", "/gitward Approve", []found{{Name: Gitward, Line: 1,
			Err: "gitward has no command `/gitward Approve`.\n\n" + HelpText}}},
		{"/gitward approved is not an alias", "/gitward approved", []found{{Name: Gitward, Line: 1,
			Err: "gitward has no command `/gitward approved`.\n\n" + HelpText}}},
		{"an unknown /gitward subcommand answers with help", "/gitward deploy", []found{{Name: Gitward, Line: 1,
			Err: "gitward has no command `/gitward deploy`.\n\n" + HelpText}}},
		{"several commands come back in order with their lines", "Looks good.\n\n/approve\n/recheck\n", []found{
			{Name: Approve, Line: 3}, {Name: Recheck, Line: 4}}},
		{"CRLF line endings count lines the same", "Looks good.\r\n\r\n/approve 3f2a1c9\r\n/recheck\r\n", []found{
			{Name: Approve, Line: 3, SHA: "3f2a1c9"}, {Name: Recheck, Line: 4}}},
		{"a lone CR ends a line", "ok\r/approve", []found{{Name: Approve, Line: 2}}},

		{"a command in a backtick fence is ignored", "```\n/approve\n```\n", nil},
		{"a command in a tilde fence is ignored", "~~~sh\n/approve\n~~~\n/recheck", []found{{Name: Recheck, Line: 4}}},
		{"a fence closes only with a fence at least as long", "````\n```\n/approve\n````\n/recheck", []found{{Name: Recheck, Line: 5}}},
		{"a fence closes only with the same character", "```\n~~~\n/approve\n```\n/recheck", []found{{Name: Recheck, Line: 5}}},
		{"a closing fence takes no info string", "```\n``` go\n/approve\n```\n/recheck", []found{{Name: Recheck, Line: 5}}},
		{"an unclosed fence runs to the end", "```\n/approve", nil},
		{"backticks with a backtick after them are inline code, not a fence", "```a`\n/approve", []found{{Name: Approve, Line: 2}}},
		{"a fence may be indented up to three spaces", "   ```\n/approve\n   ```\n/recheck", []found{{Name: Recheck, Line: 4}}},
		{"a fence in a list item hides its commands", "- ```\n  /approve\n  ```\n/recheck", []found{{Name: Recheck, Line: 4}}},
		{"an indented command is code", "    /approve", nil},
		{"a tab-indented command is code", "\t/approve", nil},
		{"a quoted command is ignored", "> /approve\n>/recheck", nil},
		{"a command in a nested quote is ignored", "> > /approve", nil},
		{"a command after a quote is read", "> /approve\n\n/recheck", []found{{Name: Recheck, Line: 3}}},
		{"a fence inside a quote does not hide the lines after the quote", "> ```\n/approve", []found{{Name: Approve, Line: 2}}},
		{"a command in an HTML comment is ignored", "<!--\n/approve\n-->\n/recheck", []found{{Name: Recheck, Line: 4}}},
		{"a one-line HTML comment hides only itself", "<!-- /approve -->\n/recheck", []found{{Name: Recheck, Line: 2}}},
		{"a list item is not a command", "- /approve", nil},
		{"an empty body has no commands", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarise(Parse(tt.body, OnPullRequest))
			if !equal(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.body, got, tt.want)
			}
		})
	}
}

func TestParseKeepsTheLineAsWritten(t *testing.T) {
	got := Parse("  /approve 3f2a1c9  \r\n", OnPullRequest)
	if len(got) != 1 || got[0].Text != "/approve 3f2a1c9" {
		t.Fatalf("got %+v, want Text %q", got, "/approve 3f2a1c9")
	}
}

func TestParseBreakGlass(t *testing.T) {
	tests := []struct {
		name  string
		where Place
		body  string
		want  BreakGlassArgs
		err   string
	}{
		{"on a pull request the reason is the rest of the line", OnPullRequest,
			"/breakglass payments down for 2h, rolling back", BreakGlassArgs{Reason: "payments down for 2h, rolling back"}, ""},
		{"on a pull request a reason is required", OnPullRequest,
			"/breakglass", BreakGlassArgs{}, "`/breakglass` needs a reason, such as `/breakglass payments are down, rolling back`"},
		{"on a pull request /breakglass end ends", OnPullRequest, "/breakglass end", BreakGlassArgs{End: true}, ""},
		{"/gitward breakglass is /breakglass", OnPullRequest,
			"/gitward breakglass payments down, rolling back", BreakGlassArgs{Reason: "payments down, rolling back"}, ""},
		{"on an issue the first word is the scope", OnIssue,
			"/breakglass prod database failover", BreakGlassArgs{Scope: "prod", Reason: "database failover"}, ""},
		{"on an issue a final for DURATION asks for a window", OnIssue,
			"/breakglass payments restart pods for 2h", BreakGlassArgs{Scope: "payments", Reason: "restart pods", Window: 2 * time.Hour}, ""},
		{"minutes and compound durations are Go durations", OnIssue,
			"/breakglass prod failover for 1h30m", BreakGlassArgs{Scope: "prod", Reason: "failover", Window: 90 * time.Minute}, ""},
		{"for followed by a word is part of the reason", OnIssue,
			"/breakglass prod waiting for vendor", BreakGlassArgs{Scope: "prod", Reason: "waiting for vendor"}, ""},
		{"/breakglass end ends the window", OnIssue, "/breakglass end", BreakGlassArgs{End: true}, ""},
		{"a window in words is refused with a hint", OnIssue,
			"/breakglass prod failover for 2 hours", BreakGlassArgs{}, "write the window as a Go duration such as `for 2h` or `for 30m`, not `for 2 hours`"},
		{"a window that is not a duration is refused", OnIssue,
			"/breakglass prod failover for 2x", BreakGlassArgs{}, "`for 2x` is not a duration: write a positive Go duration such as `for 2h` or `for 30m`"},
		{"a zero window is refused", OnIssue,
			"/breakglass prod failover for 0s", BreakGlassArgs{}, "`for 0s` is not a duration: write a positive Go duration such as `for 2h` or `for 30m`"},
		{"a scope without a reason is refused", OnIssue,
			"/breakglass prod", BreakGlassArgs{}, "`/breakglass prod` needs a reason after the cluster or app: `/breakglass <cluster-or-app> <reason> [for 2h]`"},
		{"a scope and a window without a reason is refused", OnIssue,
			"/breakglass prod for 2h", BreakGlassArgs{}, "`/breakglass prod` needs a reason after the cluster or app: `/breakglass <cluster-or-app> <reason> [for 2h]`"},
		{"nothing at all is refused", OnIssue,
			"/breakglass", BreakGlassArgs{}, "`/breakglass` on an issue needs a cluster or app and a reason: `/breakglass <cluster-or-app> <reason> [for 2h]`"},
		{"a scope that cannot be a name is refused", OnIssue,
			"/breakglass Prod! down", BreakGlassArgs{}, "\"Prod!\" is not a cluster or app name (lower-case letters, digits, '-', '.' and '_'); write `/breakglass <cluster-or-app> <reason> [for 2h]`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.body, tt.where)
			if len(got) != 1 || got[0].Name != BreakGlass {
				t.Fatalf("Parse(%q) = %+v, want one /breakglass", tt.body, got)
			}
			errText := ""
			if got[0].Err != nil {
				errText = got[0].Err.Error()
			}
			if errText != tt.err {
				t.Errorf("error\n got %q\nwant %q", errText, tt.err)
			}
			if got[0].BreakGlass != tt.want {
				t.Errorf("args\n got %+v\nwant %+v", got[0].BreakGlass, tt.want)
			}
		})
	}
}

func TestHelpNamesEveryCommand(t *testing.T) {
	for _, n := range []Name{Approve, Unapprove, Recheck, BreakGlass, Help} {
		if !strings.Contains(HelpText, "`"+string(n)) {
			t.Errorf("HelpText does not mention %s", n)
		}
	}
}

func equal(a, b []found) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
