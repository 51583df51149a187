package forge

import "strings"

// Inert returns Markdown that no forge or bot reads as commands: every
// line that, after at most three spaces, starts with "/" gets a backslash
// before the slash, unless it is inside a code block GitLab itself
// protects. GitLab runs quick actions such as /merge or /approve written in
// notes and descriptions created through its API, as the token's user, and
// gitward's text quotes what people wrote (a break-glass reason, a file
// path). CommonMark shows "\/" as "/", so the text reads the same.
//
// The protected blocks are GitLab's, not CommonMark's, because GitLab's
// quick-action extractor decides: it deletes every "\r" first, and only a
// block that opens with "```" at the start of a line and closes with a
// line that is exactly "```" is code to it. Tilde fences, indented fences,
// unclosed fences and closing lines with anything after the backticks
// protect nothing, so lines there are escaped too (a literal backslash in
// such a block is the price). Inert is idempotent: adapters apply it to
// every body they send, and code comparing a body it will send with one
// it reads back applies it first.
func Inert(markdown string) string {
	if !strings.Contains(markdown, "/") {
		return markdown
	}
	lines := strings.SplitAfter(markdown, "\n")
	clean := make([]string, len(lines))
	for i, line := range lines {
		clean[i] = strings.TrimSuffix(strings.ReplaceAll(line, "\r", ""), "\n")
	}
	code := make([]bool, len(lines))
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(clean[i], "```") {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if clean[j] == "```" {
				for k := i; k <= j; k++ {
					code[k] = true
				}
				i = j
				break
			}
		}
	}
	for i, line := range lines {
		if code[i] {
			continue
		}
		text := clean[i]
		indent := len(text) - len(strings.TrimLeft(text, " "))
		if indent > 3 || !strings.HasPrefix(text[indent:], "/") {
			continue
		}
		// Escape the slash where it is in the line as sent, after any
		// "\r" and spaces GitLab would not see.
		at := strings.IndexByte(line, '/')
		lines[i] = line[:at] + `\` + line[at:]
	}
	return strings.Join(lines, "")
}
