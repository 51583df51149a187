package forge

import "strings"

// Inert returns Markdown that no forge or bot reads as commands: every
// line that, after at most three spaces, starts with "/" outside fenced
// code gets a backslash before the slash. GitLab runs quick actions such
// as /merge or /approve written in notes and descriptions created through
// its API, as the token's user, and gitward's text quotes what people
// wrote (a break-glass reason, a file path). CommonMark shows "\/" as "/",
// so the text reads the same. Inert is idempotent: adapters apply it to
// every body they send, and code comparing a body it will send with one
// it reads back applies it first.
func Inert(markdown string) string {
	if !strings.Contains(markdown, "/") {
		return markdown
	}
	lines := strings.SplitAfter(markdown, "\n")
	var fence string // the opening fence while inside fenced code
	for i, line := range lines {
		text := strings.TrimRight(line, "\r\n")
		indent := len(text) - len(strings.TrimLeft(text, " "))
		body := text[indent:]
		if indent > 3 {
			continue
		}
		if fence != "" {
			if strings.HasPrefix(body, fence) && strings.Trim(body, fence[:1]+" \t") == "" {
				fence = ""
			}
			continue
		}
		if f := fenceOf(body); f != "" {
			fence = f
			continue
		}
		if strings.HasPrefix(body, "/") {
			lines[i] = line[:indent] + `\` + line[indent:]
		}
	}
	return strings.Join(lines, "")
}

// fenceOf returns the fence a line opens (three or more backticks or
// tildes), or "".
func fenceOf(s string) string {
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(s) && s[n] == c {
			n++
		}
		if n >= 3 && (c == '~' || !strings.Contains(s[n:], "`")) {
			return s[:n]
		}
	}
	return ""
}
