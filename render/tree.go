package render

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
)

// ErrOutside is wrapped by errors about paths that would leave the
// repository: a ../ that climbs above its root, an absolute path, or a
// symlink that points out of the tree.
var ErrOutside = errors.New("outside the repository")

// maxLinkHops bounds symlink chains, as the kernel does, so a loop of links
// ends in an error instead of a hang.
const maxLinkHops = 40

// Tree is one repository snapshot that discovery, the dependency graph and
// renders read from. It never reads outside its root: paths are resolved
// component by component, and a symlink that leads out of the tree is an
// error naming it. A Tree caches what it has read, so it assumes the files
// do not change while it is in use, as with a snapshot at one commit. It is
// safe for concurrent use.
type Tree struct {
	fsys   fs.FS
	closer func() error

	mu       sync.Mutex
	resolved map[string]resolution
	lstats   map[string]lstatResult
	files    map[string]*fileData
}

type resolution struct {
	real string
	dir  bool
	err  error
}

type lstatResult struct {
	info fs.FileInfo
	err  error
}

type fileData struct {
	once sync.Once
	data []byte
	sum  [sha256.Size]byte
	err  error
}

// NewTree reads a repository from fsys, such as a snapshot's FS(), whose
// root is the repository root. When fsys can read links (fs.ReadLinkFS, as
// os.Root and os.DirFS can), symlinks are resolved and checked; otherwise
// fsys is trusted to have none.
func NewTree(fsys fs.FS) *Tree {
	return &Tree{
		fsys:     fsys,
		closer:   func() error { return nil },
		resolved: map[string]resolution{},
		lstats:   map[string]lstatResult{},
		files:    map[string]*fileData{},
	}
}

// OpenTree reads the repository checked out or extracted at dir, through an
// os.Root so that even a file replaced by a symlink while gitward reads it
// cannot lead out of dir. Close it when done.
func OpenTree(dir string) (*Tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	t := NewTree(root.FS())
	t.closer = root.Close
	return t, nil
}

// Close releases the tree's directory handle, if OpenTree made one.
func (t *Tree) Close() error { return t.closer() }

// FS returns the file system the tree reads, for Discover.
func (t *Tree) FS() fs.FS { return t.fsys }

// cleanRel turns a repository path (slash-separated, relative to the root;
// "" or "." is the root) into its clean form, or reports that it leaves the
// repository.
func cleanRel(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("absolute path %q: %w", p, ErrOutside)
	}
	c := path.Clean("./" + p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q leads %w", p, ErrOutside)
	}
	return c, nil
}

// lstat describes p without following a final symlink; p is clean.
func (t *Tree) lstat(p string) (fs.FileInfo, error) {
	t.mu.Lock()
	r, ok := t.lstats[p]
	t.mu.Unlock()
	if ok {
		return r.info, r.err
	}
	if p == "." {
		r.info, r.err = fs.Stat(t.fsys, ".")
	} else if rl, ok := t.fsys.(fs.ReadLinkFS); ok {
		r.info, r.err = rl.Lstat(p)
	} else {
		r.info, r.err = fs.Stat(t.fsys, p)
	}
	t.mu.Lock()
	t.lstats[p] = r
	t.mu.Unlock()
	return r.info, r.err
}

// Resolve follows every symlink in the repository path p and returns the
// path of what it names, free of links, and whether that is a directory.
// A missing file gives an error wrapping fs.ErrNotExist that names p; a link
// out of the tree gives one wrapping ErrOutside that names the link.
func (t *Tree) Resolve(p string) (real string, isDir bool, err error) {
	c, err := cleanRel(p)
	if err != nil {
		return "", false, err
	}
	t.mu.Lock()
	r, ok := t.resolved[c]
	t.mu.Unlock()
	if ok {
		return r.real, r.dir, r.err
	}
	r.real, r.dir, r.err = t.resolve(c)
	t.mu.Lock()
	t.resolved[c] = r
	t.mu.Unlock()
	return r.real, r.dir, r.err
}

func (t *Tree) resolve(p string) (string, bool, error) {
	orig := p
	hops := 0
	cur := "."
	rest := p
	if rest == "." {
		rest = ""
	}
	for {
		var part string
		part, rest, _ = strings.Cut(rest, "/")
		if part == "" {
			info, err := t.lstat(cur)
			if err != nil {
				return "", false, notExist(orig, err)
			}
			return cur, info.IsDir(), nil
		}
		next := path.Join(cur, part)
		info, err := t.lstat(next)
		if err != nil {
			return "", false, notExist(orig, err)
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			if rest != "" && !info.IsDir() {
				return "", false, &fs.PathError{Op: "open", Path: orig, Err: fmt.Errorf("%s is not a directory", next)}
			}
			cur = next
			continue
		}
		hops++
		if hops > maxLinkHops {
			return "", false, &fs.PathError{Op: "open", Path: orig, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := t.fsys.(fs.ReadLinkFS).ReadLink(next)
		if err != nil {
			return "", false, &fs.PathError{Op: "readlink", Path: next, Err: err}
		}
		if path.IsAbs(target) {
			return "", false, fmt.Errorf("symlink %s points to the absolute path %s, %w", next, target, ErrOutside)
		}
		joined := path.Join(path.Dir(next), target)
		if joined == ".." || strings.HasPrefix(joined, "../") {
			return "", false, fmt.Errorf("symlink %s -> %s leads %w", next, target, ErrOutside)
		}
		// Resolve the link's target from the top again, then what followed it.
		cur = "."
		if rest != "" {
			joined = path.Join(joined, rest)
		}
		rest = joined
		if rest == "." {
			rest = ""
		}
	}
}

// notExist turns an error from the file system into one that names the
// repository path asked for, keeping fs.ErrNotExist for errors.Is.
func notExist(p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: p, Err: pe.Err}
	}
	return &fs.PathError{Op: "open", Path: p, Err: err}
}

// ReadFile returns the contents of the repository file p, following links
// inside the tree. Contents are read once and shared: do not modify them.
func (t *Tree) ReadFile(p string) ([]byte, error) {
	real, isDir, err := t.Resolve(p)
	if err != nil {
		return nil, err
	}
	if isDir {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("is a directory")}
	}
	fd := t.file(real)
	if fd.err != nil {
		return nil, notExist(p, fd.err)
	}
	return fd.data, nil
}

// file reads the resolved, link-free path real once.
func (t *Tree) file(real string) *fileData {
	t.mu.Lock()
	fd, ok := t.files[real]
	if !ok {
		fd = &fileData{}
		t.files[real] = fd
	}
	t.mu.Unlock()
	fd.once.Do(func() {
		fd.data, fd.err = fs.ReadFile(t.fsys, real)
		if fd.err == nil {
			fd.sum = sha256.Sum256(fd.data)
		}
	})
	return fd
}

// sum returns the SHA-256 of the repository file p's contents.
func (t *Tree) sum(p string) ([sha256.Size]byte, error) {
	real, isDir, err := t.Resolve(p)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	if isDir {
		return [sha256.Size]byte{}, &fs.PathError{Op: "read", Path: p, Err: errors.New("is a directory")}
	}
	fd := t.file(real)
	return fd.sum, fd.err
}

// ReadDir lists the names in the repository directory p, sorted.
func (t *Tree) ReadDir(p string) ([]fs.DirEntry, error) {
	real, isDir, err := t.Resolve(p)
	if err != nil {
		return nil, err
	}
	if !isDir {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: errors.New("not a directory")}
	}
	ents, err := fs.ReadDir(t.fsys, real)
	if err != nil {
		return nil, notExist(p, err)
	}
	return ents, nil
}
