package capture

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"time"
)

// overlayFS is a repository snapshot with some files replaced or added,
// for rendering a capture before anything is written. Paths are
// link-free repository paths, as render.Tree resolves them; a replaced
// file keeps being read at that path, an added one appears in its
// directory's listing.
type overlayFS struct {
	base  fs.FS
	files map[string][]byte
}

var (
	_ fs.ReadFileFS = (*overlayFS)(nil)
	_ fs.ReadDirFS  = (*overlayFS)(nil)
	_ fs.StatFS     = (*overlayFS)(nil)
	_ fs.ReadLinkFS = (*overlayFS)(nil)
)

func (o *overlayFS) Open(name string) (fs.File, error) {
	if data, ok := o.files[name]; ok {
		return &memFile{Reader: bytes.NewReader(data), info: memInfo{name: path.Base(name), size: int64(len(data))}}, nil
	}
	return o.base.Open(name)
}

func (o *overlayFS) ReadFile(name string) ([]byte, error) {
	if data, ok := o.files[name]; ok {
		return bytes.Clone(data), nil
	}
	return fs.ReadFile(o.base, name)
}

func (o *overlayFS) Stat(name string) (fs.FileInfo, error) {
	if data, ok := o.files[name]; ok {
		return memInfo{name: path.Base(name), size: int64(len(data))}, nil
	}
	return fs.Stat(o.base, name)
}

// Lstat and ReadLink pass through to the snapshot when it reads links, so
// that render.Tree checks its symlinks exactly as it does without the
// overlay; without that, no path is a link.
func (o *overlayFS) Lstat(name string) (fs.FileInfo, error) {
	if data, ok := o.files[name]; ok {
		return memInfo{name: path.Base(name), size: int64(len(data))}, nil
	}
	if rl, ok := o.base.(fs.ReadLinkFS); ok {
		return rl.Lstat(name)
	}
	return fs.Stat(o.base, name)
}

func (o *overlayFS) ReadLink(name string) (string, error) {
	if rl, ok := o.base.(fs.ReadLinkFS); ok {
		if _, replaced := o.files[name]; !replaced {
			return rl.ReadLink(name)
		}
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symbolic link")}
}

func (o *overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := fs.ReadDir(o.base, name)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, e := range ents {
		have[e.Name()] = true
	}
	for p, data := range o.files {
		if path.Dir(p) == path.Clean(name) && !have[path.Base(p)] {
			ents = append(ents, fs.FileInfoToDirEntry(memInfo{name: path.Base(p), size: int64(len(data))}))
		}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, nil
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

var _ io.Reader = (*memFile)(nil)

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
