package snapshot

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
)

// Stats counts what an extraction wrote.
type Stats struct {
	// Files, Dirs and Symlinks count the entries in the finished tree; Dirs
	// includes folders the archive implies but does not list.
	Files, Dirs, Symlinks int
	// Bytes is the file content written, replaced duplicates included.
	Bytes int64
}

const (
	// maxPathLen is Linux's PATH_MAX: longer names could not be read back.
	maxPathLen = 4096
	// maxTrailer bounds the padding read after the end of the tar stream to
	// verify the gzip checksum; git pads its archives to 10 KiB records.
	maxTrailer = 1 << 20
)

// Extract reads a gzip-compressed tar archive of a repository (GitHub's or
// GitLab's archive format), strips its single top-level folder and writes the
// tree into dir, which must not exist yet; its parent must.
//
// Only regular files, folders and symlinks whose targets stay inside the tree
// are written. Absolute paths, ".." components, backslashes, drive letters,
// hard links, devices and FIFOs are refused, as are entries beneath a
// symlink. File modes become 0644, or 0755 when any execute bit is set, less
// the process umask. A pax global header (GitHub puts the commit SHA there)
// is ignored. On any error, dir and everything in it is removed.
func Extract(ctx context.Context, r io.Reader, dir string, limits Limits) (Stats, error) {
	st, err := extract(ctx, r, dir, limits)
	if err != nil {
		return Stats{}, fmt.Errorf("snapshot: %w", err)
	}
	return st, nil
}

// nodeKind is what the extraction has put at a path.
type nodeKind uint8

const (
	nodeNone nodeKind = iota
	nodeDir
	nodeFile
	nodeSymlink
)

// extractor holds the state of one extraction. nodes mirrors every path it
// created, keyed by the path relative to the tree root, so that parents can
// be checked without trusting the file system and symlinks can be resolved
// once the whole tree is known.
type extractor struct {
	ctx     context.Context
	root    *os.Root
	limits  Limits
	top     string
	nodes   map[string]nodeKind
	links   map[string]string
	entries int
	stats   Stats
	buf     []byte

	// cwd is the folder cwdName ("" for none) opened for the last file, kept
	// because archives list a folder's files together: creating each file
	// there takes one system call instead of one per path component.
	cwd     *os.Root
	cwdName string
}

func extract(ctx context.Context, r io.Reader, dir string, limits Limits) (st Stats, err error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Stats{}, fmt.Errorf("read archive: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return Stats{}, err
	}
	defer func() {
		if err != nil {
			if rerr := os.RemoveAll(dir); rerr != nil {
				err = errors.Join(err, fmt.Errorf("clean up: %w", rerr))
			}
		}
	}()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Stats{}, err
	}
	defer root.Close()

	x := &extractor{
		ctx:    ctx,
		root:   root,
		limits: limits.orDefaults(),
		nodes:  make(map[string]nodeKind),
		links:  make(map[string]string),
		buf:    make([]byte, 64<<10),
	}
	defer func() {
		if x.cwd != nil {
			x.cwd.Close()
		}
	}()
	tr := tar.NewReader(zr)
	for {
		if err := ctx.Err(); err != nil {
			return Stats{}, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		var insecure error
		if errors.Is(err, tar.ErrInsecurePath) && hdr != nil {
			// Only reported under GODEBUG=tarinsecurepath=0; our own checks
			// below give the more precise message.
			insecure, err = err, nil
		}
		if err != nil {
			return Stats{}, readErr(err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return Stats{}, err
		}
		if insecure != nil {
			return Stats{}, unsafeErr("entry %q: %v", hdr.Name, insecure)
		}
	}
	if err := x.checkLinks(); err != nil {
		return Stats{}, err
	}
	// Read the rest of the gzip stream so that its checksum is verified.
	n, err := io.Copy(io.Discard, io.LimitReader(zr, maxTrailer+1))
	if err != nil {
		return Stats{}, readErr(err)
	}
	if n > maxTrailer {
		return Stats{}, fmt.Errorf("read archive: more than %s of data after the end of the tar stream", size(maxTrailer))
	}
	return x.stats, nil
}

func readErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read archive: truncated: %w", err)
	}
	return fmt.Errorf("read archive: %w", err)
}

// entry writes one archive entry.
func (x *extractor) entry(hdr *tar.Header, data io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	rel, err := x.relPath(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(rel, hdr.Name)
	case tar.TypeReg, '\x00', tar.TypeGNUSparse:
		return x.file(rel, hdr, data)
	case tar.TypeSymlink:
		return x.symlink(rel, hdr.Name, hdr.Linkname)
	case tar.TypeLink:
		return unsafeErr("hard link %q -> %q: hard links are not supported", hdr.Name, hdr.Linkname)
	case tar.TypeChar:
		return unsafeErr("entry %q: character devices are not allowed", hdr.Name)
	case tar.TypeBlock:
		return unsafeErr("entry %q: block devices are not allowed", hdr.Name)
	case tar.TypeFifo:
		return unsafeErr("entry %q: named pipes (FIFOs) are not allowed", hdr.Name)
	default:
		return unsafeErr("entry %q: unsupported entry type %q", hdr.Name, hdr.Typeflag)
	}
}

// relPath checks an entry name and returns it relative to the tree root,
// that is without the top-level folder; "" is the top-level folder itself.
func (x *extractor) relPath(name string) (string, error) {
	if err := checkPath(name); err != nil {
		return "", unsafeErr("entry %q: %v", name, err)
	}
	var parts []string
	for p := range strings.SplitSeq(name, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "", unsafeErr("entry %q: names no file", name)
	}
	if x.top == "" {
		x.top = parts[0]
	} else if parts[0] != x.top {
		return "", unsafeErr("entry %q is outside the top-level folder %q: an archive must hold exactly one", name, x.top)
	}
	return strings.Join(parts[1:], "/"), nil
}

// checkPath refuses names that could leave the tree on any platform, or
// that could not be written back.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case len(p) > maxPathLen:
		return fmt.Errorf("path longer than %d bytes", maxPathLen)
	case strings.ContainsRune(p, 0):
		return errors.New("path contains a NUL byte")
	case strings.ContainsRune(p, '\\'):
		return errors.New("path contains a backslash")
	case hasDrive(p):
		return errors.New("path starts with a drive letter")
	case strings.HasPrefix(p, "/"):
		return errors.New("absolute path")
	}
	for c := range strings.SplitSeq(p, "/") {
		if c == ".." {
			return errors.New(`path contains ".."`)
		}
	}
	return nil
}

// hasDrive reports whether p starts like a Windows drive path ("C:").
func hasDrive(p string) bool {
	return len(p) >= 2 && p[1] == ':' && 'a' <= p[0]|0x20 && p[0]|0x20 <= 'z'
}

// notInTop reports an entry that is the top-level folder but not a folder.
func notInTop(name string) error {
	return unsafeErr("entry %q is not inside a top-level folder", name)
}

// count charges one more file, folder or symlink against MaxFiles.
func (x *extractor) count() error {
	x.entries++
	if x.entries > x.limits.MaxFiles {
		return limitErr("archive exceeds the limit of %d files and folders", x.limits.MaxFiles)
	}
	return nil
}

// parents makes sure every parent of rel is a real folder — never a symlink
// or a file — creating the missing ones. Every folder in nodes has all its
// parents in nodes too, so the walk stops at the nearest one that exists.
func (x *extractor) parents(rel, name string) error {
	var missing []string
	for d := path.Dir(rel); d != "."; d = path.Dir(d) {
		k := x.nodes[d]
		if k == nodeDir {
			break
		}
		switch k {
		case nodeSymlink:
			return unsafeErr("entry %q: parent %q is a symlink; nothing may be written through one", name, d)
		case nodeFile:
			return unsafeErr("entry %q: parent %q is a file", name, d)
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := x.mkdir(missing[i], name); err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) mkdir(rel, name string) error {
	if err := x.count(); err != nil {
		return err
	}
	if err := x.root.Mkdir(rel, 0o755); err != nil {
		return fmt.Errorf("entry %q: %w", name, err)
	}
	x.nodes[rel] = nodeDir
	x.stats.Dirs++
	return nil
}

func (x *extractor) dir(rel, name string) error {
	if rel == "" {
		return nil
	}
	switch x.nodes[rel] {
	case nodeDir:
		return nil
	case nodeFile, nodeSymlink:
		return unsafeErr("entry %q: a folder cannot replace an earlier file or symlink", name)
	}
	if err := x.parents(rel, name); err != nil {
		return err
	}
	return x.mkdir(rel, name)
}

// replace makes room for a file or symlink at rel: a later entry replaces an
// earlier file or symlink of the same name, but never a folder.
func (x *extractor) replace(rel, name string) error {
	switch x.nodes[rel] {
	case nodeNone:
		return x.count()
	case nodeDir:
		return unsafeErr("entry %q: a file or symlink cannot replace an earlier folder", name)
	case nodeFile:
		x.stats.Files--
	case nodeSymlink:
		x.stats.Symlinks--
		delete(x.links, rel)
	}
	delete(x.nodes, rel)
	if err := x.root.Remove(rel); err != nil {
		return fmt.Errorf("entry %q: %w", name, err)
	}
	return nil
}

func (x *extractor) file(rel string, hdr *tar.Header, data io.Reader) error {
	name := hdr.Name
	if rel == "" {
		return notInTop(name)
	}
	// Fail fast on what the header claims; the copy below enforces the
	// limits again on the bytes that actually arrive.
	if hdr.Size > x.limits.MaxFileBytes {
		return x.fileTooLarge(rel)
	}
	if hdr.Size > x.limits.MaxBytes-x.stats.Bytes {
		return x.tooLarge()
	}
	if err := x.parents(rel, name); err != nil {
		return err
	}
	if err := x.replace(rel, name); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	// O_EXCL with os.Root never follows a symlink, so even a file system
	// that disagrees with nodes cannot redirect the write.
	d, err := x.folder(path.Dir(rel))
	if err != nil {
		return fmt.Errorf("entry %q: %w", name, err)
	}
	f, err := d.OpenFile(path.Base(rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("entry %q: %w", name, err)
	}
	x.nodes[rel] = nodeFile
	x.stats.Files++
	err = x.copy(f, data, rel)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("entry %q: %w", name, cerr)
	}
	return err
}

// folder returns a Root for the folder dir, which parents has checked.
func (x *extractor) folder(dir string) (*os.Root, error) {
	if dir == "." {
		return x.root, nil
	}
	if x.cwd != nil && x.cwdName == dir {
		return x.cwd, nil
	}
	r, err := x.root.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if x.cwd != nil {
		x.cwd.Close()
	}
	x.cwd, x.cwdName = r, dir
	return r, nil
}

func (x *extractor) fileTooLarge(rel string) error {
	return limitErr("file %q is larger than the %s limit", rel, size(x.limits.MaxFileBytes))
}

func (x *extractor) tooLarge() error {
	return limitErr("archive exceeds the limit of %s uncompressed", size(x.limits.MaxBytes))
}

// copy writes one file's content, counting the bytes that arrive against
// both size limits and stopping as soon as the context is done.
func (x *extractor) copy(w io.Writer, r io.Reader, rel string) error {
	left := x.limits.MaxFileBytes
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		n, rerr := r.Read(x.buf)
		if n > 0 {
			left -= int64(n)
			x.stats.Bytes += int64(n)
			if left < 0 {
				return x.fileTooLarge(rel)
			}
			if x.stats.Bytes > x.limits.MaxBytes {
				return x.tooLarge()
			}
			if _, err := w.Write(x.buf[:n]); err != nil {
				return fmt.Errorf("write %q: %w", rel, err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return readErr(rerr)
		}
	}
}

func (x *extractor) symlink(rel, name, target string) error {
	if rel == "" {
		return notInTop(name)
	}
	if err := checkTarget(rel, target); err != nil {
		return unsafeErr("symlink %q -> %q: %v", name, target, err)
	}
	if err := x.parents(rel, name); err != nil {
		return err
	}
	if err := x.replace(rel, name); err != nil {
		return err
	}
	if err := x.root.Symlink(target, rel); err != nil {
		return fmt.Errorf("entry %q: %w", name, err)
	}
	x.nodes[rel] = nodeSymlink
	x.links[rel] = target
	x.stats.Symlinks++
	return nil
}

// checkTarget refuses a symlink target that is absolute or that leaves the
// tree when read relative to the link's folder, without looking at other
// links; checkLinks does that once the tree is complete.
func checkTarget(rel, target string) error {
	switch {
	case target == "":
		return errors.New("empty target")
	case strings.ContainsRune(target, 0):
		return errors.New("target contains a NUL byte")
	case strings.ContainsRune(target, '\\'):
		return errors.New("target contains a backslash")
	case hasDrive(target):
		return errors.New("target starts with a drive letter")
	case strings.HasPrefix(target, "/"):
		return errors.New("absolute target leaves the tree")
	}
	if j := path.Join(path.Dir(rel), target); j == ".." || strings.HasPrefix(j, "../") {
		return errors.New("target leaves the tree")
	}
	return nil
}

// linkState is the outcome of resolving a path inside the tree.
type linkState uint8

const (
	inside  linkState = iota // resolves to a place inside the tree
	broken                   // cannot be resolved (loop, or a file used as a folder): harmless
	escapes                  // leaves the tree
	pending                  // being resolved: meeting it again is a loop
)

type resolved struct {
	state linkState
	path  string
}

// checkLinks resolves every symlink the way the kernel would, following
// links through links, so that a chain such as "r -> ." and "e -> r/.."
// (lexically inside, really the tree's parent) is caught.
func (x *extractor) checkLinks() error {
	memo := make(map[string]resolved, len(x.links))
	names := make([]string, 0, len(x.links))
	for rel := range x.links {
		names = append(names, rel)
	}
	slices.Sort(names)
	for _, rel := range names {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		if x.resolveLink(rel, memo).state == escapes {
			return unsafeErr("symlink %q -> %q: target leaves the tree through another symlink", x.top+"/"+rel, x.links[rel])
		}
	}
	return nil
}

// resolveLink returns where the symlink at rel leads.
func (x *extractor) resolveLink(rel string, memo map[string]resolved) resolved {
	if r, ok := memo[rel]; ok {
		if r.state == pending {
			return resolved{state: broken}
		}
		return r
	}
	memo[rel] = resolved{state: pending}
	target := x.links[rel]
	var r resolved
	if strings.HasPrefix(target, "/") {
		r = resolved{state: escapes}
	} else {
		dir := path.Dir(rel)
		if dir == "." {
			dir = ""
		}
		r = x.walk(dir, target, memo)
	}
	memo[rel] = r
	return r
}

// walk resolves target starting in folder dir ("" is the root). A component
// that does not exist is walked lexically, which can only be stricter than
// the kernel, which would stop there.
func (x *extractor) walk(dir, target string, memo map[string]resolved) resolved {
	cur := dir
	comps := strings.Split(target, "/")
	for i, c := range comps {
		switch c {
		case "", ".":
			continue
		case "..":
			if cur == "" {
				return resolved{state: escapes}
			}
			cur = parentOf(cur)
			continue
		}
		next := c
		if cur != "" {
			next = cur + "/" + c
		}
		switch x.nodes[next] {
		case nodeSymlink:
			r := x.resolveLink(next, memo)
			if r.state != inside {
				return r
			}
			cur = r.path
		case nodeFile:
			if i < len(comps)-1 {
				return resolved{state: broken}
			}
			cur = next
		default:
			cur = next
		}
	}
	return resolved{state: inside, path: cur}
}

func parentOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
