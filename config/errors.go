package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a configuration, located by file, line, column and
// key path. Line and Column are 1-based; zero means unknown.
type Error struct {
	File   string // file name as given to the parser, or "env NAME" for an environment variable
	Line   int
	Column int
	Path   string // key path such as approvals.rules[0].paths[1]; empty for the whole file
	Msg    string
}

// Error formats the problem as file:line:col: path: message.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxPrintedErrors bounds how many problems Errors.Error prints.
const maxPrintedErrors = 50

// Errors is every problem found in one configuration, sorted by position.
// Its Error method prints one problem per line.
type Errors []*Error

// Error prints one problem per line, at most 50, then how many were left out.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == maxPrintedErrors {
			fmt.Fprintf(&b, "\n... and %d more", len(es)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives the single problems to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortErrors orders problems by file, line and column, keeping the order in
// which problems at the same place were found.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// errOrNil returns es sorted as an error, or nil when there is none.
func (es Errors) errOrNil() error {
	if len(es) == 0 {
		return nil
	}
	sortErrors(es)
	return es
}
