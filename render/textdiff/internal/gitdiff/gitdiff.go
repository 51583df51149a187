// Package gitdiff runs `git diff --no-index` the way the diff engine's
// agreement tests and benchmark compare against it, and reads the changed
// line numbers off a unified diff.
package gitdiff

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Git runs one git binary with the user's and the system's configuration
// shut out, so that git's defaults (Myers, indent heuristic) apply.
type Git struct {
	Bin string
	env []string
}

// ErrNoGit is returned by New when git is not installed.
var ErrNoGit = errors.New("git is not installed")

// New finds git on PATH; home is an empty folder for git to use as $HOME.
func New(home string) (*Git, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, ErrNoGit
	}
	env := append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+home,
		"LC_ALL=C", "GIT_PAGER=cat", "GIT_EXTERNAL_DIFF=")
	return &Git{Bin: bin, env: env}, nil
}

// Command returns `git diff --no-index` of two files, with the default
// algorithm and heuristics named so that no configuration can change them.
// Its exit code is 1 when the files differ.
func (g *Git) Command(a, b string) *exec.Cmd {
	cmd := exec.Command(g.Bin, "diff", "--no-index", "--no-color", "--no-ext-diff", "--text",
		"--diff-algorithm=myers", "--indent-heuristic", "--", a, b)
	cmd.Env = g.env
	return cmd
}

// Diff returns git's unified diff of two files ("" when they are equal).
func (g *Git) Diff(a, b string) (string, error) {
	out, err := g.Command(a, b).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		err = nil
	}
	if err != nil {
		if ee != nil {
			return "", fmt.Errorf("git diff --no-index: %v: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("git diff --no-index: %v", err)
	}
	return string(out), nil
}

// Changed is what a diff says changed: the 1-based numbers of the removed
// old lines and of the added new lines, in order.
type Changed struct {
	Old, New []int
}

func (c Changed) String() string {
	return fmt.Sprintf("-%v +%v", c.Old, c.New)
}

// Equal says whether two diffs changed the same lines.
func (c Changed) Equal(d Changed) bool {
	return equalInts(c.Old, d.Old) && equalInts(c.New, d.New)
}

func equalInts(a, b []int) bool {
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

// ParseChanged reads the removed and added line numbers off a unified diff
// of one file, git's or gotextdiff's; headers before the first hunk are
// skipped.
func ParseChanged(diff string) (Changed, error) {
	var c Changed
	inHunk := false
	oldLine, newLine := 0, 0
	sc := bufio.NewScanner(strings.NewReader(diff))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "@@ ") {
			f := strings.Fields(l)
			if len(f) < 3 {
				return c, fmt.Errorf("bad hunk header %q", l)
			}
			o, err := rangeStart(f[1], "-")
			if err != nil {
				return c, fmt.Errorf("bad hunk header %q: %v", l, err)
			}
			n, err := rangeStart(f[2], "+")
			if err != nil {
				return c, fmt.Errorf("bad hunk header %q: %v", l, err)
			}
			oldLine, newLine, inHunk = o, n, true
			continue
		}
		if !inHunk {
			continue
		}
		if l == "" {
			return c, errors.New("empty line in a hunk")
		}
		switch l[0] {
		case ' ':
			oldLine++
			newLine++
		case '-':
			c.Old = append(c.Old, oldLine)
			oldLine++
		case '+':
			c.New = append(c.New, newLine)
			newLine++
		case '\\':
		default:
			return c, fmt.Errorf("unexpected line %q", l)
		}
	}
	return c, sc.Err()
}

// rangeStart reads the first line of a hunk range such as "-12,3". In git's
// format a range of 0 lines names the line before it.
func rangeStart(r, sign string) (int, error) {
	r, ok := strings.CutPrefix(r, sign)
	if !ok {
		return 0, fmt.Errorf("range %q lacks %q", r, sign)
	}
	start, count, hasCount := strings.Cut(r, ",")
	s, err := strconv.Atoi(start)
	if err != nil {
		return 0, err
	}
	if hasCount && count == "0" {
		s++
	}
	return s, nil
}
