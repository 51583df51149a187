package snapshot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCopyCountsTheBytesThatArriveNotTheHeader(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		want   string
	}{
		{"more bytes than the total allows are refused", Limits{MaxBytes: 1 << 20, MaxFileBytes: 8 << 20}, "archive exceeds the limit of 1 MiB uncompressed"},
		{"more bytes than one file allows are refused", Limits{MaxBytes: 8 << 20, MaxFileBytes: 1 << 20}, `file "big" is larger than the 1 MiB limit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &extractor{ctx: context.Background(), limits: tt.limits.orDefaults(), buf: make([]byte, 32<<10)}
			// A reader that yields more than any header would have said.
			r := io.LimitReader(zeros{}, 2<<20)
			var w bytes.Buffer
			err := x.copy(&w, r, "big")
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrLimit) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if int64(w.Len()) > 1<<20 {
				t.Errorf("wrote %d bytes past the limit", w.Len())
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestCheckPath(t *testing.T) {
	tests := []struct {
		path string
		want string // "" when allowed
	}{
		{"top/apps/base/kustomization.yaml", ""},
		{"top/./a", ""},
		{"top/a:b", ""},
		{"", "empty path"},
		{"top/a\x00b", "path contains a NUL byte"},
		{`top\a`, "path contains a backslash"},
		{"c:evil", "path starts with a drive letter"},
		{"/top/a", "absolute path"},
		{"top/../a", `path contains ".."`},
		{"top/" + strings.Repeat("a", maxPathLen), "path longer than 4096 bytes"},
	}
	for _, tt := range tests {
		got := ""
		if err := checkPath(tt.path); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("checkPath(%.40q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestResolveLinks(t *testing.T) {
	tests := []struct {
		name  string
		nodes map[string]nodeKind
		links map[string]string
		want  linkState // of link "l"
	}{
		{
			name:  "a link to a sibling stays inside",
			nodes: map[string]nodeKind{"a": nodeDir, "a/l": nodeSymlink, "a/b": nodeFile},
			links: map[string]string{"a/l": "b"},
			want:  inside,
		},
		{
			name:  "a link to the root stays inside",
			nodes: map[string]nodeKind{"l": nodeSymlink},
			links: map[string]string{"l": "."},
			want:  inside,
		},
		{
			name:  "dot-dot after a link to a folder climbs from the folder's real place",
			nodes: map[string]nodeKind{"a": nodeDir, "a/b": nodeDir, "a/b/c": nodeDir, "s": nodeSymlink, "l": nodeSymlink},
			links: map[string]string{"s": "a/b/c", "l": "s/../../.."},
			want:  inside,
		},
		{
			name:  "dot-dot after a link to the root escapes",
			nodes: map[string]nodeKind{"r": nodeSymlink, "l": nodeSymlink},
			links: map[string]string{"r": ".", "l": "r/.."},
			want:  escapes,
		},
		{
			name:  "a chain of links that ends outside escapes",
			nodes: map[string]nodeKind{"d": nodeDir, "d/up": nodeSymlink, "x": nodeSymlink, "l": nodeSymlink},
			links: map[string]string{"d/up": "..", "x": "d/up", "l": "x/../y"},
			want:  escapes,
		},
		{
			name:  "a loop is broken, not an escape",
			nodes: map[string]nodeKind{"a": nodeSymlink, "l": nodeSymlink},
			links: map[string]string{"a": "l/x", "l": "a/.."},
			want:  broken,
		},
		{
			name:  "a file used as a folder is broken",
			nodes: map[string]nodeKind{"f": nodeFile, "l": nodeSymlink},
			links: map[string]string{"l": "f/../.."},
			want:  broken,
		},
		{
			name:  "a missing folder is walked lexically",
			nodes: map[string]nodeKind{"l": nodeSymlink},
			links: map[string]string{"l": "missing/../.."},
			want:  escapes,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &extractor{nodes: tt.nodes, links: tt.links}
			if got := x.resolveLink("l", map[string]resolved{}).state; got != tt.want {
				t.Errorf("state = %d, want %d", got, tt.want)
			}
		})
	}
}
