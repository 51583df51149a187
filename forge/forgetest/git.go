package forgetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
)

// The commit graph: commits made on a parent's tree, and the answers a
// forge derives from the graph (a pull request's commits and changed
// files, the tree at a commit as an archive).

// write makes commit c on parent, a root commit when parent is "", and
// returns its SHA. It runs with f.mu held.
func (f *Fake) write(rp *repo, parent string, c Commit) (string, error) {
	files := map[string]string{}
	var parents []string
	if parent != "" {
		if rp.commits[parent] == nil {
			return "", fmt.Errorf("forgetest: commit %s in %s: %w", markdown.Short(parent), rp.info.FullName(), forge.ErrNotFound)
		}
		files, parents = rp.files(parent), []string{parent}
	}
	maps.Copy(files, c.Files)
	for _, p := range c.Remove {
		delete(files, p)
	}
	now := f.stamp()
	for _, id := range []*forge.Identity{&c.Author, &c.Committer} {
		if id.Date.IsZero() {
			id.Date = now
		}
		id.Date = id.Date.UTC().Truncate(time.Second)
	}
	if c.Signature.Reason == "" && c.Signature.Verified {
		c.Signature.Reason = "valid"
	}
	return f.store(rp, forge.Commit{Message: c.Message, Author: c.Author, Committer: c.Committer, Parents: parents, Signature: c.Signature}, files), nil
}

// store keeps a commit of files under a SHA hashed from its content and
// the fake's count of commits, so no two commits share one. It runs with
// f.mu held.
func (f *Fake) store(rp *repo, c forge.Commit, files map[string]string) string {
	f.commits++
	h := sha1.New()
	fmt.Fprintf(h, "commit %d\nparents %q\n%q\n", f.commits, c.Parents, c.Message)
	for _, p := range sortedKeys(files) {
		fmt.Fprintf(h, "%q %q\n", p, files[p])
	}
	c.SHA = hex.EncodeToString(h.Sum(nil))
	if c.Signature.Reason == "" {
		c.Signature.Reason = "unsigned"
	}
	rp.commits[c.SHA] = &commit{Commit: c, files: files}
	return c.SHA
}

// files returns a copy of the tree at sha; empty when sha is unknown.
func (rp *repo) files(sha string) map[string]string {
	if c := rp.commits[sha]; c != nil {
		return maps.Clone(c.files)
	}
	return map[string]string{}
}

// resolve turns a SHA or a branch name into a commit SHA, as the forges
// read a ref.
func (rp *repo) resolve(ref string) (string, bool) {
	if rp.commits[ref] != nil {
		return ref, true
	}
	sha, ok := rp.branches[strings.TrimPrefix(ref, "refs/heads/")]
	return sha, ok
}

// ancestors returns sha and every commit reachable from it.
func (rp *repo) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	for queue := []string{sha}; len(queue) > 0; queue = queue[1:] {
		cur := queue[0]
		if seen[cur] || rp.commits[cur] == nil {
			continue
		}
		seen[cur] = true
		queue = append(queue, rp.commits[cur].Parents...)
	}
	return seen
}

// mergeBase returns the nearest commit reachable from both base and head,
// or "" when their histories are unrelated.
func (rp *repo) mergeBase(base, head string) string {
	inBase := rp.ancestors(base)
	seen := map[string]bool{}
	for queue := []string{head}; len(queue) > 0; queue = queue[1:] {
		cur := queue[0]
		if inBase[cur] {
			return cur
		}
		if seen[cur] || rp.commits[cur] == nil {
			continue
		}
		seen[cur] = true
		queue = append(queue, rp.commits[cur].Parents...)
	}
	return ""
}

// between returns the commits reachable from head but not from base,
// parents before children: a pull request's commits.
func (rp *repo) between(base, head string) []string {
	done := rp.ancestors(base)
	var out []string
	var visit func(sha string)
	visit = func(sha string) {
		if done[sha] || rp.commits[sha] == nil {
			return
		}
		done[sha] = true
		for _, p := range rp.commits[sha].Parents {
			visit(p)
		}
		out = append(out, sha)
	}
	visit(head)
	return out
}

// changes returns the files head changes since it parted from base, by
// path, as a pull request's changed files. Line counts are not kept.
func (rp *repo) changes(base, head string) []forge.ChangedFile {
	before, after := rp.files(rp.mergeBase(base, head)), rp.files(head)
	var out []forge.ChangedFile
	for _, p := range sortedKeys(union(before, after)) {
		old, had := before[p]
		now, has := after[p]
		switch {
		case !had:
			out = append(out, forge.ChangedFile{Path: p, Status: forge.FileAdded})
		case !has:
			out = append(out, forge.ChangedFile{Path: p, Status: forge.FileRemoved})
		case old != now:
			out = append(out, forge.ChangedFile{Path: p, Status: forge.FileModified})
		}
	}
	return out
}

func union(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// linked returns a copy of c as the forge reports it: each identity
// without a login, co-authors named by trailers included, linked to the
// account LinkEmail gave its e-mail. It runs with f.mu held.
func (f *Fake) linked(c forge.Commit) forge.Commit {
	c.Parents = slices.Clone(c.Parents)
	c.CoAuthors = forge.CoAuthorTrailers(c.Message)
	for _, id := range append([]*forge.Identity{&c.Author, &c.Committer}, pointers(c.CoAuthors)...) {
		if id.Login == "" {
			id.Login = f.emails[strings.ToLower(strings.TrimSpace(id.Email))]
		}
	}
	return c
}

func pointers(ids []forge.Identity) []*forge.Identity {
	out := make([]*forge.Identity, len(ids))
	for i := range ids {
		out[i] = &ids[i]
	}
	return out
}

// tarball archives files as the forges serve a commit: a gzip'd tar with
// everything under one top-level folder.
func tarball(top string, files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o755}); err != nil {
		return nil, err
	}
	for _, p := range sortedKeys(files) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + p, Mode: 0o644, Size: int64(len(files[p]))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(files[p])); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func isSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
