package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-openapi/jsonpointer"
)

// parsePointer splits an RFC 6901 JSON pointer into its unescaped tokens.
func parsePointer(p string) ([]string, error) {
	ptr, err := jsonpointer.New(p)
	if err != nil {
		return nil, fmt.Errorf("JSON pointer %q does not start with /", p)
	}
	return ptr.DecodedTokens(), nil
}

// related reports whether pointer p is q, lies inside it, or holds it.
func related(p, q string) bool {
	return p == q || strings.HasPrefix(p, q+"/") || strings.HasPrefix(q, p+"/")
}

// setAt sets the value at the pointer tokens in a JSON-like value, making
// the mappings on the way that are missing; a list index may be one past
// the end, to append. It returns the new root.
func setAt(root any, toks []string, val any) (any, error) {
	if len(toks) == 0 {
		return val, nil
	}
	t := toks[0]
	switch c := root.(type) {
	case map[string]any:
		child, ok := c[t]
		if !ok {
			if len(toks) > 1 {
				if _, err := strconv.Atoi(toks[1]); err == nil {
					return nil, fmt.Errorf("%s is not a list here", t)
				}
			}
			child = map[string]any{}
		}
		n, err := setAt(child, toks[1:], val)
		if err != nil {
			return nil, err
		}
		c[t] = n
		return c, nil
	case []any:
		i, err := strconv.Atoi(t)
		if err != nil || i < 0 || i > len(c) || (i == len(c) && len(toks) > 1) {
			return nil, fmt.Errorf("the list has no item %s", t)
		}
		if i == len(c) {
			return append(c, val), nil
		}
		n, err := setAt(c[i], toks[1:], val)
		if err != nil {
			return nil, err
		}
		c[i] = n
		return c, nil
	case nil:
		return setAt(map[string]any{}, toks, val)
	}
	return nil, fmt.Errorf("%s is inside a value that is not a mapping or list", t)
}

// deleteAt removes the value at the pointer tokens. It returns the new root.
func deleteAt(root any, toks []string) (any, error) {
	if len(toks) == 0 {
		return nil, fmt.Errorf("cannot remove the whole object")
	}
	t := toks[0]
	switch c := root.(type) {
	case map[string]any:
		child, ok := c[t]
		if !ok {
			return nil, fmt.Errorf("%s is not set", t)
		}
		if len(toks) == 1 {
			delete(c, t)
			return c, nil
		}
		n, err := deleteAt(child, toks[1:])
		if err != nil {
			return nil, err
		}
		c[t] = n
		return c, nil
	case []any:
		i, err := strconv.Atoi(t)
		if err != nil || i < 0 || i >= len(c) {
			return nil, fmt.Errorf("the list has no item %s", t)
		}
		if len(toks) == 1 {
			return append(c[:i:i], c[i+1:]...), nil
		}
		n, err := deleteAt(c[i], toks[1:])
		if err != nil {
			return nil, err
		}
		c[i] = n
		return c, nil
	}
	return nil, fmt.Errorf("%s is inside a value that is not a mapping or list", t)
}

// deepCopy copies a JSON-like value.
func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(c))
		for i, x := range c {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}

// differences returns the pointers where two JSON-like values differ: maps
// key by key, lists item by item, at the highest pointer where a value is
// on one side only.
func differences(ptr string, a, b any) []string {
	am, aMap := a.(map[string]any)
	bm, bMap := b.(map[string]any)
	if aMap && bMap {
		var out []string
		for k, av := range am {
			bv, ok := bm[k]
			if !ok {
				out = append(out, ptr+"/"+jsonpointer.Escape(k))
				continue
			}
			out = append(out, differences(ptr+"/"+jsonpointer.Escape(k), av, bv)...)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				out = append(out, ptr+"/"+jsonpointer.Escape(k))
			}
		}
		return out
	}
	al, aList := a.([]any)
	bl, bList := b.([]any)
	if aList && bList {
		var out []string
		for i := 0; i < len(al) || i < len(bl); i++ {
			p := ptr + "/" + strconv.Itoa(i)
			if i >= len(al) || i >= len(bl) {
				out = append(out, p)
				continue
			}
			out = append(out, differences(p, al[i], bl[i])...)
		}
		return out
	}
	if !equalJSON(a, b) {
		return []string{ptr}
	}
	return nil
}

// sortedDifferences is differences in pointer order.
func sortedDifferences(a, b any) []string {
	d := differences("", a, b)
	sort.Strings(d)
	return d
}

// equalJSON compares two values by their JSON text, so that numbers
// decoded as int64 on one side and float64 on the other are equal.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
