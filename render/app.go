package render

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/gitward/gitward/config"
)

// KustomizationFileNames are the names kustomize looks for in a directory,
// in its order. A directory with more than one does not build.
var KustomizationFileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// App is one kustomization root that gitward renders, diffs and checks.
type App struct {
	// Name identifies the app in reports: the configured name, else Path.
	Name string
	// Path is the directory holding the kustomization, relative to the
	// repository root; "." is the root itself.
	Path string
	// Cluster is the cluster the app deploys to, from .gitward.yaml; "" if none.
	Cluster string
	// Namespace is given to the app's namespaced objects that set none when
	// they are compared with a cluster. Rendering does not apply it: the
	// rendered YAML stays exactly what kustomize build prints.
	Namespace string
}

// Discover returns the apps of the repository in fsys, sorted by path.
//
// When cfg lists apps, those are the apps, and one whose directory holds no kustomization at this commit is left out (it
// has not been added yet, or was deleted: Plan renders it on the other side
// only). Otherwise every directory holding a kustomization file is an app,
// named after its path, unless a discovery.exclude glob matches the
// directory's path. Directories named .git are not searched; symlinked
// directories are not followed. cfg may be nil.
func Discover(fsys fs.FS, cfg *config.Repo) ([]App, error) {
	if cfg == nil {
		cfg = config.DefaultRepo()
	}
	var apps []App
	if len(cfg.Apps) > 0 {
		for _, a := range cfg.Apps {
			p, err := cleanRel(a.Path)
			if err != nil {
				return nil, fmt.Errorf("app %s: %w", a.Name, err)
			}
			ok, err := hasKustomization(fsys, p)
			if err != nil {
				return nil, fmt.Errorf("app %s: %w", a.Name, err)
			}
			if !ok {
				continue
			}
			apps = append(apps, App{Name: a.Name, Path: p, Cluster: cfg.ClusterFor(a), Namespace: a.Namespace})
		}
	} else {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			if config.MatchAny(cfg.Discovery.Exclude, p) {
				return nil
			}
			ok, err := hasKustomization(fsys, p)
			if err != nil || !ok {
				return err
			}
			apps = append(apps, App{Name: p, Path: p, Cluster: cfg.ClusterFor(config.App{Path: p})})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("discover apps: %w", err)
		}
	}
	sort.SliceStable(apps, func(i, j int) bool { return apps[i].Path < apps[j].Path })
	return apps, nil
}

// hasKustomization reports whether the directory dir holds a kustomization
// file. A name that exists but cannot be read, such as a symlink leading out
// of the tree, counts: rendering the app explains what is wrong with it.
func hasKustomization(fsys fs.FS, dir string) (bool, error) {
	for _, name := range KustomizationFileNames {
		info, err := fs.Stat(fsys, path.Join(dir, name))
		switch {
		case err == nil:
			if !info.IsDir() {
				return true, nil
			}
		case errors.Is(err, fs.ErrNotExist), isNotDir(err):
		default:
			return true, nil
		}
	}
	return false, nil
}

// isNotDir reports whether err says a path component is not a directory,
// which for our purposes means the file does not exist.
func isNotDir(err error) bool {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Err != nil && pe.Err.Error() == "not a directory"
}
