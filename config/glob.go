package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// Glob is a slash-separated path pattern with doublestar semantics, as used
// for approval rule paths, the secrets allowlist, protected branches and
// object matches:
//
//	pattern  matches
//	*        any run of characters except /
//	**       as a whole path segment: zero or more segments (a/** matches a and everything below it)
//	?        any one character except /
//	[a-z]    one character from a class; [!a-z] or [^a-z] negates
//	{a,b}    either alternative; alternatives may nest and contain /
//	\x       the character x itself
//
// Patterns are relative: a leading /, empty segments and . or .. segments are
// rejected, as is ** inside a segment ("a**"), which would silently mean *.
// The zero Glob matches nothing.
type Glob struct {
	pattern string
	alts    []string // doublestar patterns, one per alternative that can match
}

const (
	maxGlobLen   = 4096
	maxGlobAlts  = 256
	maxGlobDepth = 8
)

// ParseGlob checks pattern and returns it ready to match. Its error reads
// `invalid glob "clusters/[prod": missing closing ]`.
func ParseGlob(pattern string) (Glob, error) {
	alts, err := compileGlob(pattern)
	if err != nil {
		return Glob{}, fmt.Errorf("invalid glob %q: %s", pattern, err)
	}
	return Glob{pattern: pattern, alts: alts}, nil
}

// String returns the pattern as written.
func (g Glob) String() string { return g.pattern }

// IsZero reports whether g is the zero Glob.
func (g Glob) IsZero() bool { return g.pattern == "" }

// MarshalText returns the pattern as written.
func (g Glob) MarshalText() ([]byte, error) { return []byte(g.pattern), nil }

// UnmarshalText parses a pattern, so that a Glob survives a JSON round trip.
func (g *Glob) UnmarshalText(b []byte) error {
	p, err := ParseGlob(string(b))
	if err != nil {
		return err
	}
	*g = p
	return nil
}

// Match reports whether the slash-separated name matches the pattern. Names
// are paths, branches and object fields, never with an empty segment: for
// "", "a/" or "a//b" the answer is doublestar's, where the hand-written
// matcher before it let * match an empty segment ("**/*" matched "").
func (g Glob) Match(name string) bool {
	if !utf8.ValidString(name) {
		return false
	}
	for _, alt := range g.alts {
		if doublestar.MatchUnvalidated(alt, name) {
			return true
		}
	}
	return false
}

// MatchAny reports whether any of globs matches name.
func MatchAny(globs []Glob, name string) bool {
	for _, g := range globs {
		if g.Match(name) {
			return true
		}
	}
	return false
}

// compileGlob checks pattern and returns the doublestar pattern of each of
// its alternatives. github.com/bmatcuk/doublestar/v4 does the matching; this
// checks what doublestar accepts and gitward does not, and expands the { }
// alternatives itself, as it must to check each for a leading /, an empty
// segment or .., and to keep the few cases where doublestar alone would
// answer otherwise (doublestarPattern, doublestarClass).
func compileGlob(pattern string) ([]string, error) {
	switch {
	case pattern == "":
		return nil, errors.New("empty pattern")
	case len(pattern) > maxGlobLen:
		return nil, fmt.Errorf("longer than %d bytes", maxGlobLen)
	case !utf8.ValidString(pattern):
		return nil, errors.New("not valid UTF-8")
	}
	toks, err := globTokens(pattern)
	if err != nil {
		return nil, err
	}
	alts, err := expandAlts(toks)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, alt := range alts {
		segs := segments(alt)
		if err := checkSegments(segs); err != nil {
			return nil, err
		}
		p, ok := doublestarPattern(segs)
		if !ok {
			continue
		}
		out = append(out, p)
		// "a*/**" matches "a" (** is zero segments and * the empty
		// string), but doublestar says no when a * must match nothing at
		// the end of the name; so "P/**" is also tried as "P".
		if dir, ok := strings.CutSuffix(p, "/**"); ok {
			out = append(out, dir)
		}
	}
	return out, nil
}

// globTokens checks the syntax of pattern and cuts it into tokens: one
// character, an escaped character \x, or a character class [...].
func globTokens(pattern string) ([]string, error) {
	var toks []string
	depth := 0
	for i := 0; i < len(pattern); {
		r, n := utf8.DecodeRuneInString(pattern[i:])
		switch r {
		case '\\':
			if i+n == len(pattern) {
				return nil, errors.New(`ends with an unfinished escape \`)
			}
			_, m := utf8.DecodeRuneInString(pattern[i+n:])
			n += m
		case '[':
			var err error
			if _, n, err = parseClass(pattern[i:]); err != nil {
				return nil, err
			}
		case ']':
			return nil, errors.New(`unmatched ]: write \] for a literal ]`)
		case '{':
			if depth >= maxGlobDepth {
				return nil, fmt.Errorf("{ } nested deeper than %d", maxGlobDepth)
			}
			depth++
		case '}':
			if depth == 0 {
				return nil, errors.New(`unmatched }: write \} for a literal }`)
			}
			depth--
		}
		toks = append(toks, pattern[i:i+n])
		i += n
	}
	if depth > 0 {
		return nil, errors.New("missing closing }")
	}
	return toks, nil
}

// globClass is a character class: the ranges it matches, or with neg the
// ranges it does not.
type globClass struct {
	neg    bool
	ranges [][2]rune
}

// parseClass reads the character class at the start of s, returning it and
// its length in bytes.
func parseClass(s string) (globClass, int, error) {
	var c globClass
	i := 1 // [
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		c.neg = true
		i++
	}
	next := func() (rune, error) {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == '\\' {
			if i >= len(s) {
				return 0, errors.New("missing closing ]")
			}
			r, n = utf8.DecodeRuneInString(s[i:])
			i += n
		}
		if r == '/' {
			return 0, errors.New("a character class cannot match /")
		}
		return r, nil
	}
	for {
		if i >= len(s) {
			return c, i, errors.New("missing closing ]")
		}
		if s[i] == ']' {
			if len(c.ranges) == 0 {
				return c, i, errors.New("empty character class []")
			}
			return c, i + 1, nil
		}
		lo, err := next()
		if err != nil {
			return c, i, err
		}
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			i++
			if hi, err = next(); err != nil {
				return c, i, err
			}
			if hi < lo {
				return c, i, fmt.Errorf("bad range %c-%c in character class", lo, hi)
			}
		}
		c.ranges = append(c.ranges, [2]rune{lo, hi})
	}
}

// expandAlts turns the tokens of a checked pattern into the token lists of
// its { } alternatives, in order.
func expandAlts(toks []string) ([][]string, error) {
	open := slices.Index(toks, "{")
	if open < 0 {
		return [][]string{toks}, nil
	}
	var choices [][]string
	depth, start, end := 0, open+1, -1
	for i := open; end < 0; i++ {
		switch toks[i] {
		case "{":
			depth++
			continue
		case "}":
			if depth--; depth > 0 {
				continue
			}
			end = i
		case ",":
			if depth > 1 {
				continue
			}
		default:
			continue
		}
		sub, err := expandAlts(toks[start:i])
		if err != nil {
			return nil, err
		}
		if choices = append(choices, sub...); len(choices) > maxGlobAlts {
			return nil, fmt.Errorf("more than %d { } alternatives", maxGlobAlts)
		}
		start = i + 1
	}
	rest, err := expandAlts(toks[end+1:])
	if err != nil {
		return nil, err
	}
	if len(choices)*len(rest) > maxGlobAlts {
		return nil, fmt.Errorf("more than %d { } alternatives", maxGlobAlts)
	}
	out := make([][]string, 0, len(choices)*len(rest))
	for _, c := range choices {
		for _, r := range rest {
			out = append(out, slices.Concat(toks[:open], c, r))
		}
	}
	return out, nil
}

// segments cuts the tokens of one alternative at each /.
func segments(toks []string) [][]string {
	var segs [][]string
	start := 0
	for i, t := range toks {
		if t == "/" {
			segs = append(segs, toks[start:i])
			start = i + 1
		}
	}
	return append(segs, toks[start:])
}

// checkSegments checks the path segments of one alternative.
func checkSegments(segs [][]string) error {
	for i, seg := range segs {
		first, last := i == 0, i == len(segs)-1
		switch {
		case len(seg) == 0 && first && last:
			return errors.New("can match an empty path")
		case len(seg) == 0 && first:
			return errors.New("must be relative to the repository root: remove the leading /")
		case len(seg) == 0 && last:
			return errors.New(`ends with /: add ** to match everything below, like "dir/**"`)
		case len(seg) == 0:
			return errors.New("empty path segment //")
		case isDots(seg):
			return errors.New(`"." and ".." segments are not allowed`)
		}
		for j := 1; j < len(seg) && len(seg) != 2; j++ {
			if seg[j-1] == "*" && seg[j] == "*" {
				return errors.New(`** must be a whole path segment, like "a/**/b"; use * within a name`)
			}
		}
	}
	return nil
}

// isDots reports whether a segment is the literal . or .., escaped or not.
func isDots(seg []string) bool {
	return len(seg) <= 2 && !slices.ContainsFunc(seg, func(t string) bool { return t != "." && t != `\.` })
}

// doublestarPattern joins the segments of one alternative for doublestar,
// or reports false if the alternative can match nothing: an escaped \/ is a
// character of a segment, and no segment of a name holds a /. A run of **
// segments is written as one: doublestar's "a/**/**" does not match "a" as
// "a/**" does.
func doublestarPattern(segs [][]string) (string, bool) {
	var b strings.Builder
	for i, seg := range segs {
		if isDeep(seg) && i > 0 && isDeep(segs[i-1]) {
			continue
		}
		if i > 0 {
			b.WriteByte('/')
		}
		for _, t := range seg {
			switch {
			case t == `\/`:
				return "", false
			case t[0] == '[':
				b.WriteString(doublestarClass(t))
			default:
				b.WriteString(t)
			}
		}
	}
	return b.String(), true
}

// isDeep reports whether a segment is **.
func isDeep(seg []string) bool { return len(seg) == 2 && seg[0] == "*" && seg[1] == "*" }

// doublestarClass rewrites a checked character class so that it cannot match
// /: doublestar lets [!a] and [.-0] match it, so "x[!a]y" would match "x/y",
// although its doc, like ours, says a class matches one character that is
// not /. Every character is written escaped.
func doublestarClass(class string) string {
	c, _, _ := parseClass(class)
	var b strings.Builder
	b.WriteByte('[')
	if c.neg {
		b.WriteByte('!')
	}
	span := func(lo, hi rune) {
		b.WriteString(`\` + string(lo))
		if hi != lo {
			b.WriteString(`-\` + string(hi))
		}
	}
	for _, r := range c.ranges {
		if lo, hi := r[0], r[1]; !c.neg && lo < '/' && '/' < hi {
			span(lo, '/'-1)
			span('/'+1, hi)
		} else {
			span(lo, hi)
		}
	}
	if c.neg {
		span('/', '/')
	}
	b.WriteByte(']')
	return b.String()
}
