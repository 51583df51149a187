package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge/localgit"
	"github.com/gitward/gitward/forge/snapshot"
	"github.com/gitward/gitward/render"
)

// localRepo reads a repository on disk for the CLI: its working tree, or
// any commit through git archive and the same safe extraction the server
// uses for forge snapshots.
type localRepo struct {
	dir   string
	git   *localgit.Repo
	tmp   string
	snaps []*snapshot.Snapshot
}

// openLocal prepares dir for reading; close it when done.
func openLocal(dir string) (*localRepo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("repository %s is not a directory", dir)
	}
	return &localRepo{dir: abs}, nil
}

// commit returns the tree of rev and its SHA.
func (l *localRepo) commit(ctx context.Context, rev string) (fs.FS, string, error) {
	if l.git == nil {
		tmp, err := os.MkdirTemp("", "gitward-snapshots-")
		if err != nil {
			return nil, "", err
		}
		l.tmp = tmp
		cache, err := snapshot.NewCache(tmp, 1<<40)
		if err != nil {
			return nil, "", err
		}
		l.git = &localgit.Repo{Dir: l.dir, Snapshots: cache}
	}
	sha, err := l.git.Resolve(ctx, rev)
	if err != nil {
		return nil, "", err
	}
	snap, err := l.git.Snapshot(ctx, sha)
	if err != nil {
		return nil, "", err
	}
	l.snaps = append(l.snaps, snap)
	return snap.FS(), sha, nil
}

// worktree returns the files as they are on disk, read through an os.Root
// so nothing outside the repository can be reached.
func (l *localRepo) worktree() (fs.FS, error) {
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, err
	}
	return root.FS(), nil
}

func (l *localRepo) close() {
	for _, s := range l.snaps {
		s.Release()
	}
	if l.tmp != "" {
		_ = os.RemoveAll(l.tmp)
	}
}

// repoPolicy reads .gitward.yaml from a tree: the secure defaults when it is
// absent, an error naming every problem's line when it is invalid.
func repoPolicy(tree fs.FS) (*config.Repo, error) {
	data, err := fs.ReadFile(tree, config.RepoFile)
	if errors.Is(err, fs.ErrNotExist) {
		return config.DefaultRepo(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", config.RepoFile, err)
	}
	cfg, err := config.ParseRepo(config.RepoFile, data)
	if err != nil {
		return nil, fmt.Errorf("invalid %s:\n%w", config.RepoFile, err)
	}
	return cfg, nil
}

// appsAt is a tree with its policy and apps, for the commands that render a
// repository at one revision.
type appsAt struct {
	tree   fs.FS
	policy *config.Repo
	apps   []render.App
}

// loadApps reads the repository at rev (the working tree when rev is ""),
// its policy, and its apps: those the paths name, or every app gitward
// discovers when there are none.
func (l *localRepo) loadApps(ctx context.Context, rev string, paths []string) (appsAt, error) {
	var a appsAt
	var err error
	if rev != "" {
		a.tree, _, err = l.commit(ctx, rev)
	} else {
		a.tree, err = l.worktree()
	}
	if err != nil {
		return a, err
	}
	if a.policy, err = repoPolicy(a.tree); err != nil {
		return a, err
	}
	if a.apps, err = render.Discover(a.tree, a.policy); err != nil {
		return a, err
	}
	if len(paths) > 0 {
		a.apps, err = pickApps(l.dir, a.apps, paths)
	}
	return a, err
}
