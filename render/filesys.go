package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly is returned by every writing method of snapshotFS.
var errReadOnly = errors.New("the repository snapshot is read-only")

// snapshotFS is the file system kustomize sees during one render: the
// repository at vroot and nothing else. Every path is resolved inside the
// tree, so neither ../ nor a symlink nor an absolute path reaches a file
// outside it; such a path is an error wrapping ErrOutside. It records the
// files kustomize reads.
type snapshotFS struct {
	tree *Tree

	mu    sync.Mutex
	reads map[string]bool
}

var _ filesys.FileSystem = (*snapshotFS)(nil)

func newSnapshotFS(t *Tree) *snapshotFS {
	return &snapshotFS{tree: t, reads: map[string]bool{}}
}

// rel turns a path as kustomize gives it into a repository path.
func rel(p string) (string, error) {
	p = filepath.ToSlash(p)
	if !path.IsAbs(p) {
		p = path.Join(vroot, p)
	}
	p = path.Clean(p)
	if p == vroot {
		return ".", nil
	}
	if r, ok := strings.CutPrefix(p, vroot+"/"); ok {
		return r, nil
	}
	return "", fmt.Errorf("%s is %w", p, ErrOutside)
}

// virt turns a repository path into the path kustomize sees.
func virt(p string) string {
	if p == "." || p == "" {
		return vroot
	}
	return vroot + "/" + p
}

func (f *snapshotFS) record(p ...string) {
	f.mu.Lock()
	for _, q := range p {
		f.reads[q] = true
	}
	f.mu.Unlock()
}

// Reads returns the repository paths read so far.
func (f *snapshotFS) Reads() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.reads))
	for p := range f.reads {
		out = append(out, p)
	}
	return out
}

func (f *snapshotFS) Create(string) (filesys.File, error) { return nil, errReadOnly }
func (f *snapshotFS) Mkdir(string) error                  { return errReadOnly }
func (f *snapshotFS) MkdirAll(string) error               { return errReadOnly }
func (f *snapshotFS) RemoveAll(string) error              { return errReadOnly }
func (f *snapshotFS) WriteFile(string, []byte) error      { return errReadOnly }

// CleanedAbs resolves p to a link-free directory and, when p is a file, its
// name, like the on-disk file system's EvalSymlinks, but inside the tree.
func (f *snapshotFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	r, err := rel(p)
	if err != nil {
		return "", "", err
	}
	real, isDir, err := f.tree.Resolve(r)
	if err != nil {
		return "", "", err
	}
	if isDir {
		return filesys.ConfirmedDir(virt(real)), "", nil
	}
	return filesys.ConfirmedDir(virt(path.Dir(real))), path.Base(real), nil
}

// ReadFile returns a copy of the contents of the file p.
func (f *snapshotFS) ReadFile(p string) ([]byte, error) {
	r, err := rel(p)
	if err != nil {
		return nil, err
	}
	data, err := f.tree.ReadFile(r)
	if err != nil {
		return nil, err
	}
	real, _, _ := f.tree.Resolve(r)
	f.record(r, real)
	return bytes.Clone(data), nil
}

func (f *snapshotFS) Open(p string) (filesys.File, error) {
	data, err := f.ReadFile(p)
	if err != nil {
		return nil, err
	}
	r, _ := rel(p)
	real, _, _ := f.tree.Resolve(r)
	info, err := fs.Stat(f.tree.fsys, real)
	if err != nil {
		return nil, err
	}
	return &readOnlyFile{Reader: bytes.NewReader(data), info: info}, nil
}

func (f *snapshotFS) Exists(p string) bool {
	r, err := rel(p)
	if err != nil {
		return false
	}
	_, _, err = f.tree.Resolve(r)
	return err == nil
}

func (f *snapshotFS) IsDir(p string) bool {
	r, err := rel(p)
	if err != nil {
		return false
	}
	_, isDir, err := f.tree.Resolve(r)
	return err == nil && isDir
}

func (f *snapshotFS) ReadDir(p string) ([]string, error) {
	r, err := rel(p)
	if err != nil {
		return nil, err
	}
	ents, err := f.tree.ReadDir(r)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

func (f *snapshotFS) Glob(pattern string) ([]string, error) {
	r, err := rel(pattern)
	if err != nil {
		return nil, err
	}
	dir, file := path.Split(r)
	dir = path.Clean(dir)
	if strings.ContainsAny(dir, `*?[\`) {
		return nil, fmt.Errorf("glob %s: patterns in directory names are not supported", pattern)
	}
	ents, err := f.tree.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		ok, err := path.Match(file, e.Name())
		if err != nil {
			return nil, err
		}
		if ok && (strings.HasPrefix(file, ".") || !strings.HasPrefix(e.Name(), ".")) {
			out = append(out, virt(path.Join(dir, e.Name())))
		}
	}
	return out, nil
}

func (f *snapshotFS) Walk(p string, walkFn filepath.WalkFunc) error {
	r, err := rel(p)
	if err != nil {
		return walkFn(p, nil, err)
	}
	real, _, err := f.tree.Resolve(r)
	if err != nil {
		return walkFn(p, nil, err)
	}
	return fs.WalkDir(f.tree.fsys, real, func(q string, d fs.DirEntry, err error) error {
		var info fs.FileInfo
		if err == nil {
			info, err = d.Info()
		}
		return walkFn(virt(q), info, err)
	})
}

// readOnlyFile is a file opened from the snapshot.
type readOnlyFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (f *readOnlyFile) Write([]byte) (int, error)  { return 0, errReadOnly }
func (f *readOnlyFile) Close() error               { return nil }
func (f *readOnlyFile) Stat() (os.FileInfo, error) { return f.info, nil }
