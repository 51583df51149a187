// Package commands reads the slash commands people write in pull request and
// issue comments: /approve, /unapprove, /recheck, /breakglass and
// /gitward help.
//
// A command is a line that starts with it, after at most three spaces, as
// in Prow: "/approve" on a line of its own counts, "please /approve" and
// "/approved" do not. Lines inside fenced or indented code, block quotes and
// HTML comments are never commands, so quoting someone's comment or pasting
// a transcript does not repeat their commands. Command names are
// case-sensitive.
//
// Parsing is pure: what a command does, and whether its author may use it,
// is for the caller and the change-control policy to decide.
package commands

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gitward/gitward/report/markdown"
)

// Name is a command as it is written.
type Name string

// The commands gitward knows.
const (
	// Approve approves the pull request at its head, or at the commit it names.
	Approve Name = "/approve"
	// Unapprove withdraws the writer's earlier approvals.
	Unapprove Name = "/unapprove"
	// Recheck evaluates the pull request's checks again.
	Recheck Name = "/recheck"
	// BreakGlass bypasses change control in an emergency; see BreakGlassArgs.
	BreakGlass Name = "/breakglass"
	// Help asks for the list of commands ("/gitward help", or "/gitward").
	Help Name = "/gitward help"
	// Gitward is an unknown "/gitward ..." subcommand; it always carries Err.
	Gitward Name = "/gitward"
)

// Place says where a comment was written, which decides how /breakglass reads.
type Place int

const (
	// OnPullRequest is a comment on a pull request (or merge request).
	OnPullRequest Place = iota
	// OnIssue is a comment on an issue, such as an incident ticket.
	OnIssue
)

// Command is one command found in a comment.
type Command struct {
	Name Name
	// Line is the command's line in the comment body, counting from 1.
	Line int
	// Text is the line as written, without surrounding spaces.
	Text string
	// SHA is the commit an /approve names, in lower case; "" when none.
	SHA string
	// BreakGlass holds the arguments of /breakglass.
	BreakGlass BreakGlassArgs
	// Err is set when the command is malformed. Its message is written for
	// the person who wrote the command and can be posted as the reply.
	Err error
}

// aliased are the commands that can also be written "/gitward <name>".
var aliased = map[Name]bool{Approve: true, Unapprove: true, Recheck: true, BreakGlass: true}

// HelpText lists the commands, in Markdown, for /gitward help and for
// replies to commands gitward does not know.
const HelpText = "gitward reads these commands at the start of a line of a comment:\n\n" +
	"| command | what it does |\n" +
	"|---|---|\n" +
	"| `/approve` | approve the pull request at its current head commit |\n" +
	"| `/approve <sha>` | approve exactly that commit, which must be the head; a later push undoes it |\n" +
	"| `/unapprove` | withdraw your approvals of this pull request |\n" +
	"| `/recheck` | evaluate the checks again |\n" +
	"| `/breakglass <reason>` | on a pull request: let it merge without change control, in an emergency (break-glass responders only) |\n" +
	"| `/breakglass <cluster-or-app> <reason> [for 2h]` | on an incident issue: expect manual changes there for a while; `/breakglass end` ends it early |\n" +
	"| `/gitward help` | show this list |\n\n" +
	"Each command can also be written `/gitward approve`, `/gitward unapprove`, `/gitward recheck`, `/gitward breakglass ...`: " +
	"on GitLab, `/approve` and `/unapprove` are GitLab's own quick actions (a GitLab approval), so write `/gitward approve` there. " +
	"Commands in code blocks and quotes are ignored."

// shaRE is an abbreviated or full commit SHA.
var shaRE = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// Parse returns the commands in a comment body, in the order they appear.
// Malformed commands are returned too, with Err set.
func Parse(body string, where Place) []Command {
	text, ordinary := lines(body)
	var out []Command
	for i, line := range text {
		if !ordinary[i] {
			continue
		}
		line = strings.Trim(line, " \t")
		if !strings.HasPrefix(line, "/") {
			continue
		}
		word, args := cutWord(line)
		c := Command{Line: i + 1, Text: line}
		if Name(word) == Gitward {
			// "/gitward approve" is "/approve", and so on: GitLab takes
			// /approve and /unapprove for its own quick actions and never
			// shows gitward the comment, so the long form is how gitward's
			// commands are written there.
			if sub, rest := cutWord(args); aliased[Name("/"+sub)] {
				word, args = "/"+sub, rest
			}
		}
		switch Name(word) {
		case Approve:
			c.Name = Approve
			c.SHA, c.Err = approveArgs(args)
		case Unapprove, Recheck:
			// Trailing words are taken as a remark: withdrawing an approval
			// or re-evaluating grants nothing, so there is no harm in
			// acting on "/recheck please".
			c.Name = Name(word)
		case BreakGlass:
			c.Name = BreakGlass
			c.BreakGlass, c.Err = breakGlassArgs(args, where)
		case Gitward:
			sub, _ := cutWord(args)
			if sub == "" || sub == "help" {
				c.Name = Help
			} else {
				c.Name = Gitward
				c.Err = fmt.Errorf("gitward has no command `/gitward %s`.\n\n%s", markdown.Clip(sub, maxQuote), HelpText)
			}
		default:
			continue // another bot's command, or just a path
		}
		out = append(out, c)
	}
	return out
}

// approveArgs reads the optional commit SHA after /approve.
func approveArgs(args string) (string, error) {
	if args == "" {
		return "", nil
	}
	if shaRE.MatchString(args) {
		return strings.ToLower(args), nil
	}
	return "", fmt.Errorf("`/approve` takes an optional commit SHA (7 to 40 hex digits), not %q", markdown.Clip(args, maxQuote))
}

// cutWord splits s at its first run of spaces or tabs.
func cutWord(s string) (word, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.Trim(s[i:], " \t")
}

// maxQuote is how many characters of what someone wrote a reply quotes.
const maxQuote = 60

// The reactions gitward puts on a comment to answer the commands in it.
const (
	Accepted = "+1"       // every command was carried out
	Refused  = "confused" // a command was refused or malformed
	Seen     = "eyes"     // the commands were read and need no new evaluation (help)
)
