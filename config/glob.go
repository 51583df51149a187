package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Glob is a slash-separated path pattern with doublestar semantics, as used
// for approval rule paths, the secrets allowlist, protected branches and
// object matches:
//
//   - any run of characters except /
//     **       as a whole path segment: zero or more segments (a/** matches a and everything below it)
//     ?        any one character except /
//     [a-z]    one character from a class; [!a-z] or [^a-z] negates
//     {a,b}    either alternative; alternatives may nest and contain /
//     \x       the character x itself
//
// Patterns are relative: a leading /, empty segments and . or .. segments are
// rejected, as is ** inside a segment ("a**"), which would silently mean *.
// The zero Glob matches nothing.
type Glob struct {
	pattern string
	alts    [][]globSeg // one per brace alternative
}

type globSeg struct {
	deep bool      // the segment is **
	toks []globTok // otherwise the tokens of one segment
}

type globTokKind uint8

const (
	tokLit globTokKind = iota
	tokOne
	tokStar
	tokClass
	tokSep
	tokAlt
)

type globTok struct {
	kind   globTokKind
	r      rune        // tokLit
	neg    bool        // tokClass
	ranges [][2]rune   // tokClass
	alts   [][]globTok // tokAlt
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
func (g Glob) IsZero() bool { return g.alts == nil }

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

// Match reports whether the slash-separated name matches the pattern.
func (g Glob) Match(name string) bool {
	if !utf8.ValidString(name) {
		return false
	}
	parts := strings.Split(name, "/")
	for _, segs := range g.alts {
		if matchSegs(segs, parts) {
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

func compileGlob(pattern string) ([][]globSeg, error) {
	switch {
	case pattern == "":
		return nil, errors.New("empty pattern")
	case len(pattern) > maxGlobLen:
		return nil, fmt.Errorf("longer than %d bytes", maxGlobLen)
	case !utf8.ValidString(pattern):
		return nil, errors.New("not valid UTF-8")
	}
	p := &globParser{s: pattern}
	toks, err := p.seq(0)
	if err != nil {
		return nil, err
	}
	flat, err := expandAlts(toks)
	if err != nil {
		return nil, err
	}
	out := make([][]globSeg, 0, len(flat))
	for _, f := range flat {
		segs, err := splitSegs(f)
		if err != nil {
			return nil, err
		}
		out = append(out, segs)
	}
	return out, nil
}

type globParser struct {
	s string
	i int
}

// seq parses tokens until the end, or at depth > 0 until , or }.
func (p *globParser) seq(depth int) ([]globTok, error) {
	var toks []globTok
	for p.i < len(p.s) {
		r, size := utf8.DecodeRuneInString(p.s[p.i:])
		switch r {
		case '\\':
			p.i += size
			if p.i >= len(p.s) {
				return nil, errors.New(`ends with an unfinished escape \`)
			}
			r, size = utf8.DecodeRuneInString(p.s[p.i:])
			toks = append(toks, globTok{kind: tokLit, r: r})
			p.i += size
		case '*':
			toks = append(toks, globTok{kind: tokStar})
			p.i += size
		case '?':
			toks = append(toks, globTok{kind: tokOne})
			p.i += size
		case '/':
			toks = append(toks, globTok{kind: tokSep})
			p.i += size
		case '[':
			t, err := p.class()
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
		case ']':
			return nil, errors.New(`unmatched ]: write \] for a literal ]`)
		case '{':
			if depth >= maxGlobDepth {
				return nil, fmt.Errorf("{ } nested deeper than %d", maxGlobDepth)
			}
			p.i += size
			var alts [][]globTok
			for {
				alt, err := p.seq(depth + 1)
				if err != nil {
					return nil, err
				}
				alts = append(alts, alt)
				if p.i >= len(p.s) {
					return nil, errors.New("missing closing }")
				}
				c := p.s[p.i]
				p.i++
				if c == '}' {
					break
				}
			}
			toks = append(toks, globTok{kind: tokAlt, alts: alts})
		case ',', '}':
			if depth == 0 {
				if r == '}' {
					return nil, errors.New(`unmatched }: write \} for a literal }`)
				}
				toks = append(toks, globTok{kind: tokLit, r: r})
				p.i += size
				continue
			}
			return toks, nil
		default:
			toks = append(toks, globTok{kind: tokLit, r: r})
			p.i += size
		}
	}
	return toks, nil
}

// class parses a character class starting at [.
func (p *globParser) class() (globTok, error) {
	p.i++ // [
	t := globTok{kind: tokClass}
	if p.i < len(p.s) && (p.s[p.i] == '!' || p.s[p.i] == '^') {
		t.neg = true
		p.i++
	}
	next := func() (rune, error) {
		if p.i >= len(p.s) {
			return 0, errors.New("missing closing ]")
		}
		r, size := utf8.DecodeRuneInString(p.s[p.i:])
		p.i += size
		if r == '\\' {
			if p.i >= len(p.s) {
				return 0, errors.New("missing closing ]")
			}
			r, size = utf8.DecodeRuneInString(p.s[p.i:])
			p.i += size
		}
		if r == '/' {
			return 0, errors.New("a character class cannot match /")
		}
		return r, nil
	}
	for {
		if p.i >= len(p.s) {
			return t, errors.New("missing closing ]")
		}
		if p.s[p.i] == ']' {
			p.i++
			if len(t.ranges) == 0 {
				return t, errors.New("empty character class []")
			}
			return t, nil
		}
		lo, err := next()
		if err != nil {
			return t, err
		}
		hi := lo
		if p.i+1 < len(p.s) && p.s[p.i] == '-' && p.s[p.i+1] != ']' {
			p.i++
			if hi, err = next(); err != nil {
				return t, err
			}
			if hi < lo {
				return t, fmt.Errorf("bad range %c-%c in character class", lo, hi)
			}
		}
		t.ranges = append(t.ranges, [2]rune{lo, hi})
	}
}

// expandAlts turns a token list with alternatives into flat token lists.
func expandAlts(toks []globTok) ([][]globTok, error) {
	out := [][]globTok{nil}
	for _, t := range toks {
		if t.kind != tokAlt {
			for i := range out {
				out[i] = append(out[i], t)
			}
			continue
		}
		var choices [][]globTok
		for _, a := range t.alts {
			sub, err := expandAlts(a)
			if err != nil {
				return nil, err
			}
			choices = append(choices, sub...)
			if len(choices) > maxGlobAlts {
				return nil, fmt.Errorf("more than %d { } alternatives", maxGlobAlts)
			}
		}
		if len(out)*len(choices) > maxGlobAlts {
			return nil, fmt.Errorf("more than %d { } alternatives", maxGlobAlts)
		}
		next := make([][]globTok, 0, len(out)*len(choices))
		for _, prefix := range out {
			for _, c := range choices {
				n := make([]globTok, 0, len(prefix)+len(c))
				n = append(append(n, prefix...), c...)
				next = append(next, n)
			}
		}
		out = next
	}
	return out, nil
}

// splitSegs cuts a flat token list at / and checks each segment.
func splitSegs(toks []globTok) ([]globSeg, error) {
	var segs []globSeg
	var cur []globTok
	flush := func(last bool) error {
		switch {
		case len(cur) == 0 && len(segs) == 0 && last:
			return errors.New("can match an empty path")
		case len(cur) == 0 && len(segs) == 0:
			return errors.New("must be relative to the repository root: remove the leading /")
		case len(cur) == 0 && last && len(segs) > 0:
			return errors.New(`ends with /: add ** to match everything below, like "dir/**"`)
		case len(cur) == 0:
			return errors.New("empty path segment //")
		}
		if isLitSeg(cur, ".") || isLitSeg(cur, "..") {
			return errors.New(`"." and ".." segments are not allowed`)
		}
		stars := 0
		for i, t := range cur {
			if t.kind == tokStar {
				stars++
				if i > 0 && cur[i-1].kind == tokStar && len(cur) != 2 {
					return errors.New(`** must be a whole path segment, like "a/**/b"; use * within a name`)
				}
			}
		}
		if stars == 2 && len(cur) == 2 {
			segs = append(segs, globSeg{deep: true})
		} else {
			segs = append(segs, globSeg{toks: cur})
		}
		cur = nil
		return nil
	}
	for _, t := range toks {
		if t.kind == tokSep {
			if err := flush(false); err != nil {
				return nil, err
			}
			continue
		}
		cur = append(cur, t)
	}
	if err := flush(true); err != nil {
		return nil, err
	}
	return segs, nil
}

func isLitSeg(toks []globTok, s string) bool {
	if len(toks) != len(s) {
		return false
	}
	for i, t := range toks {
		if t.kind != tokLit || t.r != rune(s[i]) {
			return false
		}
	}
	return true
}

// matchSegs matches path parts against segments; ** matches any run of
// parts. Greedy with one backtrack point, which is exact for a single kind of
// wildcard.
func matchSegs(segs []globSeg, parts []string) bool {
	si, pi := 0, 0
	starSi, starPi := -1, 0
	for pi < len(parts) {
		if si < len(segs) && segs[si].deep {
			starSi, starPi = si, pi
			si++
			continue
		}
		if si < len(segs) && matchToks(segs[si].toks, []rune(parts[pi])) {
			si++
			pi++
			continue
		}
		if starSi < 0 {
			return false
		}
		starPi++
		si, pi = starSi+1, starPi
	}
	for si < len(segs) && segs[si].deep {
		si++
	}
	return si == len(segs)
}

// matchToks matches one path segment; * matches any run of characters.
func matchToks(toks []globTok, s []rune) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for si < len(s) {
		if ti < len(toks) {
			switch t := toks[ti]; t.kind {
			case tokStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tokOne:
				ti++
				si++
				continue
			case tokLit:
				if t.r == s[si] {
					ti++
					si++
					continue
				}
			case tokClass:
				if classMatch(t, s[si]) {
					ti++
					si++
					continue
				}
			}
		}
		if starTi < 0 {
			return false
		}
		starSi++
		ti, si = starTi+1, starSi
	}
	for ti < len(toks) && toks[ti].kind == tokStar {
		ti++
	}
	return ti == len(toks)
}

func classMatch(t globTok, r rune) bool {
	in := false
	for _, rg := range t.ranges {
		if rg[0] <= r && r <= rg[1] {
			in = true
			break
		}
	}
	return in != t.neg
}
