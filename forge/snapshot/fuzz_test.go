package snapshot_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge/snapshot"
)

// FuzzExtract feeds arbitrary tar streams (gzip'd by the test, so that the
// fuzzer works on the tar format rather than on checksums) and checks that an
// extraction either fails leaving nothing behind, or writes a tree of plain
// files, folders and symlinks that all stay inside it.
func FuzzExtract(f *testing.F) {
	seeds := [][]ent{
		{globalHeader("abc"), dir(top), file(top+"a/b", "x"), exe(top+"run", "y"), link(top+"l", "a/b")},
		{dir(top), dir(top + "d/"), link(top+"d/up", ".."), link(top+"e", "d/up/..")},
		{dir(top), link(top+"a", ".."), file(top+"a/evil", "x")},
		{dir(top), link(top+"a", "/tmp"), file(top+"a/evil", "x")},
		{dir(top), file(top+"../evil", "x")},
		{dir(top), file(top+"a", "x"), hardlink(top+"b", top+"a")},
		{dir(top), special(top+"p", tar.TypeFifo)},
		{dir(top), file(top+"a", "1"), link(top+"a", "b"), dir(top + "a/")},
		{file("x/a", "a"), file("y/b", "b")},
	}
	for _, s := range seeds {
		f.Add(tarball(f, s...))
	}
	limits := snapshot.Limits{MaxBytes: 1 << 20, MaxFiles: 64, MaxFileBytes: 256 << 10}

	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		out := filepath.Join(parent, "out")
		st, err := snapshot.Extract(context.Background(), bytes.NewReader(gz(t, data)), out, limits)
		if err != nil {
			if des, _ := os.ReadDir(parent); len(des) != 0 {
				t.Fatalf("error %v left %d entries behind", err, len(des))
			}
			return
		}
		if des, _ := os.ReadDir(parent); len(des) != 1 {
			t.Fatalf("extraction wrote %d entries next to its folder", len(des))
		}
		checkTree(t, out, st)
	})
}

// checkTree checks that every entry under out is a plain file, folder or
// symlink staying inside, and that st counts them.
func checkTree(t *testing.T, out string, st snapshot.Stats) {
	t.Helper()
	realOut, err := filepath.EvalSymlinks(out)
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var got snapshot.Stats
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == out {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		// Symlinks always show 0777 on Linux; their mode means nothing.
		if m := info.Mode(); m&fs.ModeSymlink == 0 && (m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 || m.Perm()&^0o755 != 0) {
			t.Errorf("%s: mode %v", p, m)
		}
		rel, _ := filepath.Rel(out, p)
		switch {
		case d.Type().IsRegular():
			got.Files++
			got.Bytes += info.Size()
		case d.IsDir():
			got.Dirs++
		case d.Type()&fs.ModeSymlink != 0:
			got.Symlinks++
			target, _ := os.Readlink(p)
			if filepath.IsAbs(target) {
				t.Errorf("%s -> %s is absolute", rel, target)
			}
			if resolved, err := filepath.EvalSymlinks(p); err == nil && resolved != realOut && !strings.HasPrefix(resolved, realOut+string(filepath.Separator)) {
				t.Errorf("%s -> %s resolves outside, to %s", rel, target, resolved)
			}
			if _, err := root.Stat(rel); err != nil && strings.Contains(err.Error(), "escapes") {
				t.Errorf("%s -> %s: %v", rel, target, err)
			}
		default:
			t.Errorf("%s: unexpected type %v", rel, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Bytes also counts replaced duplicates, so it can only be larger.
	if got.Files != st.Files || got.Dirs != st.Dirs || got.Symlinks != st.Symlinks || got.Bytes > st.Bytes {
		t.Errorf("tree holds %+v, stats say %+v", got, st)
	}
}
