package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"io/fs"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/render"
)

// Digest is "sha256:" and the hex SHA-256 of a kustomize output stream.
// Anyone can check a record's digest by running kustomize build on the
// app at the merge commit and hashing what it prints.
func Digest(stream []byte) string {
	sum := sha256.Sum256(stream)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// RenderManifests renders, at one commit, the apps that the changed paths
// affect and digests each app's output. An app that does not render is
// recorded with the reason; the error is non-nil only when the tree could
// not be read at all or ctx ended.
func RenderManifests(ctx context.Context, r *render.Renderer, cfg *config.Repo, sha string, fsys fs.FS, changed []string) (Manifests, error) {
	out := Manifests{SHA: sha}
	if r == nil {
		return out, fmt.Errorf("no renderer is configured")
	}
	apps, err := render.Discover(fsys, cfg)
	if err != nil {
		return out, fmt.Errorf("find apps at %s: %w", markdown.Short(sha), err)
	}
	tree := render.NewTree(fsys)
	defer tree.Close()
	g := render.BuildGraph(tree, apps)
	for _, app := range g.Affected(changed) {
		res, err := r.Render(ctx, g, app)
		if err != nil {
			return out, err
		}
		ra := RenderedApp{Name: app.Name, Path: app.Path, Cluster: app.Cluster}
		if res.Err != nil {
			ra.Error = res.Err.Error()
		} else {
			ra.Digest = Digest(res.YAML)
		}
		out.Apps = append(out.Apps, ra)
	}
	sortedApps(out.Apps)
	return out, nil
}
