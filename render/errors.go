package render

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Why an app does not render, for errors.Is. ErrOutside (tree.go) joins them.
var (
	// ErrRemote marks a remote base or file: gitward renders only from the
	// repository snapshot.
	ErrRemote = errors.New("remote base")
	// ErrPlugin marks an exec, Go or KRM-function plugin, or Helm, which
	// gitward never runs.
	ErrPlugin = errors.New("plugin refused")
	// ErrInvalid marks a kustomization kustomize cannot read.
	ErrInvalid = errors.New("invalid kustomization")
	// ErrTimeLimit marks a render that ran past its time limit.
	ErrTimeLimit = errors.New("render time limit")
	// ErrOutputLimit marks a render whose YAML is larger than allowed.
	ErrOutputLimit = errors.New("render output limit")
	// ErrPanic marks a render that crashed inside kustomize.
	ErrPanic = errors.New("kustomize crashed")
)

// Error is one reason an app does not render, located in the repository
// where possible. File is a repository path; Line is 1-based, 0 if unknown.
type Error struct {
	File string
	Line int
	Msg  string
	// Err is the class of problem (ErrRemote, ErrOutside, ...) or the
	// underlying error; Unwrap returns it.
	Err error
}

// Error formats the problem as file:line: message, leaving out the file
// when the message already names it and there is no line.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" && (e.Line > 0 || !strings.Contains(e.Msg, e.File)) {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the class of the problem.
func (e *Error) Unwrap() error { return e.Err }

// Problems returns every *Error in err, which may join several, in order.
func Problems(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return out
}

func errorf(class error, file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Err: class}
}

// vroot is where the repository appears to kustomize: every path kustomize
// sees is under it, so it can never name a file of the machine gitward runs
// on, and nothing it prints depends on where the snapshot is on disk.
const vroot = "/repo"

// vrootRE finds vroot at the start of a path in kustomize's messages.
var vrootRE = regexp.MustCompile(`(^|[\s'"\x60\[(=,:])` + vroot + `(/|\b)`)

// repoPaths rewrites kustomize's message so that paths read from the
// repository root, like the rest of gitward's messages:
// "open /repo/apps/x.yaml" becomes "open apps/x.yaml", and "/repo" alone ".".
func repoPaths(msg string) string {
	return vrootRE.ReplaceAllStringFunc(msg, func(m string) string {
		lead := ""
		if m[0] != '/' {
			lead = m[:1]
		}
		if strings.HasSuffix(m, "/") {
			return lead
		}
		return lead + "."
	})
}

// lineRE finds the line number in a YAML parser's message.
var lineRE = regexp.MustCompile(`\bline (\d+)\b`)

// yamlLine returns the line a YAML parser's message names, or 0.
func yamlLine(msg string) int {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
