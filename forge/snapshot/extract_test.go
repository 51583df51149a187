package snapshot_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitward/gitward/forge/snapshot"
)

// extractTo extracts data into a fresh folder "out" under a temporary parent
// and returns both paths.
func extractTo(t *testing.T, data []byte, limits snapshot.Limits) (string, string, snapshot.Stats, error) {
	t.Helper()
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	st, err := snapshot.Extract(context.Background(), bytes.NewReader(data), out, limits)
	return parent, out, st, err
}

func TestExtractWritesTheTree(t *testing.T) {
	data := archive(t,
		globalHeader("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"),
		dir(top),
		file(top+"README.md", "# demo\n"),
		dir(top+"apps/"),
		dir(top+"apps/base/"),
		file(top+"apps/base/kustomization.yaml", "resources: [deploy.yaml]\n"),
		file(top+"apps/base/deploy.yaml", "kind: Deployment\n"),
		exe(top+"hack/render.sh", "#!/bin/sh\n"), // its folder is implied
		link(top+"apps/prod", "base"),
		link(top+"apps/base/shared", "../../hack/render.sh"),
		ent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: top + "suid", Mode: 0o6755, Size: 1}, body: "x"},
	)
	_, out, st, err := extractTo(t, data, snapshot.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := snapshot.Stats{Files: 5, Dirs: 3, Symlinks: 2, Bytes: int64(len("# demo\n") + len("resources: [deploy.yaml]\n") + len("kind: Deployment\n") + len("#!/bin/sh\n") + 1)}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	checkTree(t, out, st)

	t.Run("files hold their content without the top-level folder", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(out, "apps", "base", "kustomization.yaml"))
		if err != nil || string(b) != "resources: [deploy.yaml]\n" {
			t.Errorf("kustomization.yaml = %q, %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(out, "pax_global_header")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("pax global header was written as a file: %v", err)
		}
	})
	t.Run("the execute bit is kept and nothing else", func(t *testing.T) {
		for name, wantExec := range map[string]bool{"hack/render.sh": true, "README.md": false, "suid": true} {
			info, err := os.Lstat(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm()&0o100 != 0; got != wantExec {
				t.Errorf("%s: mode %v, want executable %v", name, info.Mode(), wantExec)
			}
			if info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
				t.Errorf("%s: mode %v keeps special bits", name, info.Mode())
			}
			if info.Mode().Perm()&^0o755 != 0 {
				t.Errorf("%s: mode %v is more than 0755", name, info.Mode())
			}
		}
	})
	t.Run("in-tree symlinks are kept and resolve", func(t *testing.T) {
		target, err := os.Readlink(filepath.Join(out, "apps", "prod"))
		if err != nil || target != "base" {
			t.Errorf("apps/prod -> %q, %v", target, err)
		}
		b, err := os.ReadFile(filepath.Join(out, "apps", "base", "shared"))
		if err != nil || string(b) != "#!/bin/sh\n" {
			t.Errorf("apps/base/shared = %q, %v", b, err)
		}
	})
}

func TestExtractDuplicates(t *testing.T) {
	tests := []struct {
		name string
		ents []ent
		path string
		want string // content read through path
	}{
		{
			name: "a later file replaces an earlier one",
			ents: []ent{dir(top), file(top+"a", "old"), file(top+"a", "new")},
			path: "a", want: "new",
		},
		{
			name: "a later symlink replaces an earlier file",
			ents: []ent{dir(top), file(top+"b", "b"), file(top+"a", "old"), link(top+"a", "b")},
			path: "a", want: "b",
		},
		{
			name: "a later file replaces an earlier symlink instead of writing through it",
			ents: []ent{dir(top), file(top+"b", "b"), link(top+"a", "b"), file(top+"a", "new")},
			path: "b", want: "b",
		},
		{
			name: "a repeated folder entry is harmless",
			ents: []ent{dir(top), dir(top + "d/"), file(top+"d/x", "x"), dir(top + "d/")},
			path: "d/x", want: "x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, out, _, err := extractTo(t, archive(t, tt.ents...), snapshot.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(out, tt.path))
			if err != nil || string(b) != tt.want {
				t.Errorf("%s = %q, %v; want %q", tt.path, b, err, tt.want)
			}
		})
	}
}

func TestExtractRefuses(t *testing.T) {
	outside := t.TempDir() // the target of hostile symlinks: must stay empty
	small := snapshot.Limits{MaxBytes: 1 << 20, MaxFiles: 10, MaxFileBytes: 64 << 10}
	many := []ent{dir(top)}
	for i := range 11 {
		many = append(many, file(fmt.Sprintf("%sf%d", top, i), "x"))
	}
	valid := tarball(t, dir(top), file(top+"a", strings.Repeat("gitops ", 1000)), file(top+"b", "b"))
	corrupt := gz(t, valid)
	corrupt[len(corrupt)/2] ^= 0xff

	tests := []struct {
		name   string
		data   []byte
		limits snapshot.Limits
		want   string
		is     error
	}{
		{
			name: "an absolute path is refused",
			data: archive(t, dir(top), file("/etc/cron.d/evil", "x")),
			want: `entry "/etc/cron.d/evil": absolute path`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a dot-dot escape is refused",
			data: archive(t, dir(top), file(top+"../../evil", "x")),
			want: `entry "owner-repo-1a2b3c4/../../evil": path contains ".."`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a dot-dot that cleans to inside is refused all the same",
			data: archive(t, dir(top), file(top+"a/../b", "x")),
			want: `path contains ".."`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a backslash path is refused",
			data: archive(t, dir(top), file(top+`..\..\evil`, "x")),
			want: "path contains a backslash", is: snapshot.ErrUnsafe,
		},
		{
			name: "a drive letter path is refused",
			data: archive(t, file(`C:/Windows/evil`, "x")),
			want: "path starts with a drive letter", is: snapshot.ErrUnsafe,
		},
		{
			name: "a symlink to an absolute path is refused",
			data: archive(t, dir(top), link(top+"a", outside)),
			want: fmt.Sprintf(`symlink "owner-repo-1a2b3c4/a" -> %q: absolute target leaves the tree`, outside), is: snapshot.ErrUnsafe,
		},
		{
			name: "a symlink whose relative target leaves the tree is refused",
			data: archive(t, dir(top), dir(top+"apps/"), link(top+"apps/a", "../../etc")),
			want: `symlink "owner-repo-1a2b3c4/apps/a" -> "../../etc": target leaves the tree`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a symlink that leaves the tree through another symlink is refused",
			data: archive(t, dir(top), dir(top+"d/"), link(top+"d/up", ".."), link(top+"e", "d/up/..")),
			want: `symlink "owner-repo-1a2b3c4/e" -> "d/up/..": target leaves the tree through another symlink`, is: snapshot.ErrUnsafe,
		},
		{
			name: "writing through a symlink to an absolute path is refused",
			data: archive(t, dir(top), link(top+"a", outside), file(top+"a/evil", "x")),
			want: "absolute target leaves the tree", is: snapshot.ErrUnsafe,
		},
		{
			name: "writing through a symlink to the parent is refused",
			data: archive(t, dir(top), link(top+"a", ".."), file(top+"a/evil", "x")),
			want: "target leaves the tree", is: snapshot.ErrUnsafe,
		},
		{
			name: "writing through an in-tree symlink is refused",
			data: archive(t, dir(top), dir(top+"d/"), link(top+"a", "d"), file(top+"a/evil", "x")),
			want: `entry "owner-repo-1a2b3c4/a/evil": parent "a" is a symlink`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a symlink cannot replace a folder",
			data: archive(t, dir(top), dir(top+"d/"), dir(top+"e/"), link(top+"d", "e")),
			want: `entry "owner-repo-1a2b3c4/d": a file or symlink cannot replace an earlier folder`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a hard link is refused",
			data: archive(t, dir(top), file(top+"a", "x"), hardlink(top+"b", top+"a")),
			want: `hard link "owner-repo-1a2b3c4/b" -> "owner-repo-1a2b3c4/a": hard links are not supported`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a character device is refused",
			data: archive(t, dir(top), special(top+"null", tar.TypeChar)),
			want: `entry "owner-repo-1a2b3c4/null": character devices are not allowed`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a block device is refused",
			data: archive(t, dir(top), special(top+"sda", tar.TypeBlock)),
			want: "block devices are not allowed", is: snapshot.ErrUnsafe,
		},
		{
			name: "a fifo is refused",
			data: archive(t, dir(top), special(top+"pipe", tar.TypeFifo)),
			want: "named pipes (FIFOs) are not allowed", is: snapshot.ErrUnsafe,
		},
		{
			name:   "an archive over the file-count limit is refused",
			data:   archive(t, many...),
			limits: small,
			want:   "snapshot: archive exceeds the limit of 10 files and folders", is: snapshot.ErrLimit,
		},
		{
			name:   "an archive over the total size is refused although its header claims one byte",
			data:   sparseBomb(t, 8<<30),
			limits: snapshot.Limits{MaxBytes: 1 << 20, MaxFileBytes: 16 << 30},
			want:   "snapshot: archive exceeds the limit of 1 MiB uncompressed", is: snapshot.ErrLimit,
		},
		{
			name:   "files that together exceed the total size are refused",
			data:   archive(t, dir(top), file(top+"a", strings.Repeat("a", 40<<10)), file(top+"b", strings.Repeat("b", 40<<10))),
			limits: snapshot.Limits{MaxBytes: 64 << 10},
			want:   "archive exceeds the limit of 64 KiB uncompressed", is: snapshot.ErrLimit,
		},
		{
			name:   "a file over the single-file limit is refused",
			data:   archive(t, dir(top), dir(top+"x/"), file(top+"x/y", strings.Repeat("y", 65<<10))),
			limits: small,
			want:   `snapshot: file "x/y" is larger than the 64 KiB limit`, is: snapshot.ErrLimit,
		},
		{
			name: "entries under different top-level folders are refused",
			data: archive(t, dir(top), file(top+"a", "a"), file("other-top/b", "b")),
			want: `entry "other-top/b" is outside the top-level folder "owner-repo-1a2b3c4"`, is: snapshot.ErrUnsafe,
		},
		{
			name: "a file outside any top-level folder is refused",
			data: archive(t, file("README.md", "x")),
			want: `entry "README.md" is not inside a top-level folder`, is: snapshot.ErrUnsafe,
		},
		{
			name: "data that is not gzip is refused",
			data: []byte("<html>rate limited</html>"),
			want: "read archive: gzip: invalid header",
		},
		{
			name: "a corrupt gzip stream is refused",
			data: corrupt,
			want: "read archive: ",
		},
		{
			name: "a truncated download is refused",
			data: gz(t, valid)[:len(gz(t, valid))/2],
			want: "read archive: truncated: unexpected EOF",
		},
		{
			name: "a truncated tar stream is refused",
			data: gz(t, valid[:1024]),
			want: "read archive: truncated: unexpected EOF",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, _, _, err := extractTo(t, tt.data, tt.limits)
			if err == nil {
				t.Fatal("extracted without error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			assertEmpty(t, parent)
			assertEmpty(t, outside)
		})
	}
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		t.Errorf("%s: %s was left behind", dir, de.Name())
	}
}

func TestExtractStopsWhenTheContextIsDone(t *testing.T) {
	ents := []ent{dir(top)}
	for i := range 400 {
		ents = append(ents, file(fmt.Sprintf("%sd%d/f%d", top, i%20, i), strings.Repeat("z", 16<<10)))
	}
	data := archive(t, ents...)

	t.Run("a context done before the start writes nothing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		parent := t.TempDir()
		_, err := snapshot.Extract(ctx, bytes.NewReader(data), filepath.Join(parent, "out"), snapshot.Limits{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		assertEmpty(t, parent)
	})
	t.Run("a context cancelled midway removes what was written", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		parent := t.TempDir()
		r := &cancelAfter{r: bytes.NewReader(data), n: int64(len(data) / 2), cancel: cancel}
		_, err := snapshot.Extract(ctx, r, filepath.Join(parent, "out"), snapshot.Limits{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		assertEmpty(t, parent)
	})
}

// cancelAfter cancels a context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestExtractLeavesAnExistingFolderAlone(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "keep"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := snapshot.Extract(context.Background(), bytes.NewReader(archive(t, dir(top), file(top+"a", "a"))), out, snapshot.Limits{})
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("error %v, want fs.ErrExist", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "keep")); err != nil || string(b) != "mine" {
		t.Errorf("existing file = %q, %v", b, err)
	}
}

func TestExtractAcceptsAnEmptyArchive(t *testing.T) {
	_, out, st, err := extractTo(t, archive(t, globalHeader("abc")), snapshot.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if st != (snapshot.Stats{}) {
		t.Errorf("stats = %+v, want none", st)
	}
	assertEmpty(t, out)
}

func TestDefaultLimits(t *testing.T) {
	want := snapshot.Limits{MaxBytes: 512 << 20, MaxFiles: 100000, MaxFileBytes: 64 << 20}
	if got := snapshot.DefaultLimits(); got != want {
		t.Errorf("DefaultLimits() = %+v, want %+v", got, want)
	}
}

// repoArchive builds a GitOps-like archive of n files of about 2 KiB each,
// 100 to a folder with a symlink beside them, in the order git archive
// writes: each folder's entries together.
func repoArchive(t testing.TB, n int) ([]byte, int64) {
	ents := []ent{globalHeader("1a2b3c4d"), dir(top), file(top+"README.md", "demo\n")}
	total := int64(len("demo\n"))
	body := strings.Repeat("apiVersion: apps/v1\nkind: Deployment\n", 56)
	for i := range n {
		d := fmt.Sprintf("%sclusters/c%d/apps/a%d/", top, i/100%7, i/100)
		if i%100 == 0 {
			ents = append(ents, dir(d), link(d+"base", "../../../../README.md"))
		}
		ents = append(ents, file(fmt.Sprintf("%sf%d.yaml", d, i), body))
		total += int64(len(body))
	}
	return archive(t, ents...), total
}

func BenchmarkExtract(b *testing.B) {
	data, total := repoArchive(b, 5000)
	parent := b.TempDir()
	b.SetBytes(total)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out := filepath.Join(parent, fmt.Sprint(i))
		i++
		if _, err := snapshot.Extract(context.Background(), bytes.NewReader(data), out, snapshot.Limits{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(out); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
