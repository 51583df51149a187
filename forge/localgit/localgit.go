// Package localgit reads a git repository on disk with the real git binary:
// commits by revision, the files changed between two commits, the commits of
// a change with their signatures as a forge presents them, git's own verdict
// on a signature, and snapshots of a commit's tree made exactly as a forge
// makes them (a tar.gz archive, extracted by forge/snapshot with the same
// safety checks). It lets the gitward CLI preview a change locally with the
// engine the server uses.
package localgit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/snapshot"
)

// Repo is a local git repository.
type Repo struct {
	// Dir is the repository's work tree or git directory.
	Dir string
	// Snapshots caches extracted trees; required for Snapshot.
	Snapshots *snapshot.Cache
	// Limits bound each snapshot.
	Limits snapshot.Limits
}

// git runs a git command in the repository and returns its standard output.
func (r *Repo) git(ctx context.Context, args ...string) ([]byte, error) {
	return r.gitInput(ctx, nil, args...)
}

// gitInput is git with stdin as the command's standard input.
func (r *Repo) gitInput(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := r.command(ctx, args...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return out, nil
}

// command prepares a git command in the repository. The environment pins
// git's behaviour so user configuration (pagers, external diff tools, rename
// limits) cannot change the result.
func (r *Repo) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", r.Dir, "-c", "core.quotePath=false"}, args...)...)
	cmd.Env = append(cmd.Environ(), "GIT_PAGER=cat", "GIT_EXTERNAL_DIFF=", "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	return cmd
}

// Resolve returns the commit SHA a revision names.
func (r *Repo) Resolve(ctx context.Context, rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("revision %q must not start with '-'", rev)
	}
	out, err := r.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("resolve %q in %s: not a commit: %w", rev, r.Dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// ChangedFiles lists the files that differ between two commits, with
// renames detected as GitHub does, in forge.ChangedFile form.
func (r *Repo) ChangedFiles(ctx context.Context, base, head string) ([]forge.ChangedFile, error) {
	out, err := r.git(ctx, "diff", "--no-color", "--no-ext-diff", "--name-status", "-z", "-M", base, head, "--")
	if err != nil {
		return nil, err
	}
	fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	var files []forge.ChangedFile
	for i := 0; i < len(fields); {
		status := fields[i]
		if status == "" {
			break
		}
		i++
		need := 1
		if status[0] == 'R' || status[0] == 'C' {
			need = 2
		}
		if i+need > len(fields) {
			return nil, fmt.Errorf("git diff --name-status: truncated output after %q", status)
		}
		f := forge.ChangedFile{Path: fields[i+need-1]}
		switch status[0] {
		case 'A':
			f.Status = forge.FileAdded
		case 'D':
			f.Status = forge.FileRemoved
		case 'R':
			f.Status, f.PreviousPath = forge.FileRenamed, fields[i]
		case 'C':
			f.Status, f.PreviousPath = forge.FileCopied, fields[i]
		case 'M':
			f.Status = forge.FileModified
		default:
			f.Status = forge.FileChanged
		}
		files = append(files, f)
		i += need
	}
	return files, nil
}

// Snapshot returns the tree of a commit, archived by git and extracted with
// forge/snapshot's checks into the cache.
func (r *Repo) Snapshot(ctx context.Context, sha string) (*snapshot.Snapshot, error) {
	if r.Snapshots == nil {
		return nil, errors.New("localgit: no snapshot cache configured")
	}
	return r.Snapshots.Get(ctx, "local:"+sha, func(ctx context.Context) (io.ReadCloser, error) {
		cmd := exec.CommandContext(ctx, "git", "-C", r.Dir, "archive", "--format=tar.gz", "--prefix=tree/", sha)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("git archive: %w", err)
		}
		return &waitCloser{r: bufio.NewReader(out), cmd: cmd, stderr: &stderr}, nil
	}, r.Limits)
}

// waitCloser reads git archive's output and reports git's own failure at
// the end of the stream.
type waitCloser struct {
	r      io.Reader
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   bool
}

func (w *waitCloser) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err == io.EOF && !w.done {
		w.done = true
		if werr := w.cmd.Wait(); werr != nil {
			return n, fmt.Errorf("git archive: %s", strings.TrimSpace(w.stderr.String()))
		}
	}
	return n, err
}

func (w *waitCloser) Close() error {
	if !w.done {
		w.done = true
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
	}
	return nil
}
