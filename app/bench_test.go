package app_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitward/gitward/app"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/evaluation"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
	"github.com/gitward/gitward/render"
	"github.com/rs/zerolog"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// homeOps reads the home-ops fixture repository into memory.
func homeOps(b testing.TB) map[string]string {
	b.Helper()
	root, err := githubtest.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(root, "testdata/gitops-repos/bjw-s-labs-home-ops")
	files := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return files
}

// BenchmarkWebhookToComment measures, through the GitHub double, the time
// from a signed pull_request webhook to the rendered-diff comment for a
// one-app change in the home-ops repository (516 files): installation
// token, pull request, files, check runs, two snapshot downloads (the base
// one cached after the first iteration, as for every pull request against
// one base), discovery of 124 apps, the dependency graph, two renders, the
// object diff, the comment and the check.
func BenchmarkWebhookToComment(b *testing.B) {
	gh := githubtest.New(b)
	base := homeOps(b)
	const changedFile = "kubernetes/apps/network/echo-server/app/helmrelease.yaml"
	if !strings.Contains(base[changedFile], "tag: 41") {
		b.Fatalf("fixture changed: %s has no tag: 41", changedFile)
	}
	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{CacheSize: 256 << 20})}
	h := newHarnessWith(b, gh, func(o *app.Options) {
		o.Capabilities = []evaluation.Capability{diff.New(engine)}
		o.Logger = o.Logger.Level(zerolog.InfoLevel)
	})
	logs := h.logs
	h.addRepo(7, repoName, "main")
	baseSHA := sha("home-ops-base")
	gh.SetTree(repoName, baseSHA, base)

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		head := maps.Clone(base)
		head[changedFile] = strings.Replace(base[changedFile], "tag: 41", fmt.Sprintf("tag: %d", 42+i), 1)
		headSHA := sha(fmt.Sprintf("home-ops-head-%d", i))
		gh.SetTree(repoName, headSHA, head)
		n := gh.AddPullRequest(repoName, githubtest.PullRequest{Title: "bump echo-server", Author: "alice", BaseRef: "main", BaseSHA: baseSHA, HeadRef: fmt.Sprintf("bump-%d", i), HeadSHA: headSHA})
		gh.SetFiles(repoName, n, []githubtest.File{{Filename: changedFile, Status: "modified", Additions: 1, Deletions: 1}})
		payload := fmt.Sprintf(`{"action":"synchronize","number":%d,"pull_request":{"number":%d},"repository":{"name":"clusters","owner":{"login":"octo-org"}},"installation":{"id":7}}`, n, n)
		b.StartTimer()

		if code := h.deliver("pull_request", []byte(payload)).Code; code != 202 {
			b.Fatalf("delivery: %d", code)
		}
		for len(gh.Comments(repoName, n)) == 0 {
			if strings.Contains(logs.String(), `"level":"error"`) {
				b.Fatalf("evaluation failed:\n%s", logs.String())
			}
			waitTick()
		}
	}
	b.StopTimer()
	body := gh.Comments(repoName, 1)[0].Body
	if !strings.Contains(body, "kubernetes/apps/network/echo-server/app") || !strings.Contains(body, "-              tag: 41") {
		b.Fatalf("unexpected comment:\n%s", body)
	}
}

// BenchmarkGitLabWebhookToNote is BenchmarkWebhookToComment on GitLab: from
// a merge request webhook to the rendered-diff note for a one-app change in
// home-ops, through the GitLab double — merge request, changes, statuses,
// two archive downloads (the base one cached after the first iteration),
// discovery, graph, renders, diff, the note and the status.
func BenchmarkGitLabWebhookToNote(b *testing.B) {
	srv := gitlabtest.New(b)
	srv.AddProject(glProject, gitlabtest.ProjectOptions{})
	srv.AddUser("alice")
	base := homeOps(b)
	const changedFile = "kubernetes/apps/network/echo-server/app/helmrelease.yaml"
	if !strings.Contains(base[changedFile], "tag: 41") {
		b.Fatalf("fixture changed: %s has no tag: 41", changedFile)
	}
	srv.Commit(glProject, "main", "home-ops", base)
	engine := &diff.Engine{Renderer: render.NewRenderer(render.Options{CacheSize: 256 << 20})}
	logs := &syncBuffer{}
	s, err := app.New(app.Options{
		GitLabHosts:         []app.GitLabHost{{BaseURL: srv.URL() + "/", Token: []byte(gitlabtest.Token)}},
		GitLabWebhookSecret: []byte(gitlabSecret),
		Workers:             1,
		QueueSize:           10,
		SnapshotDir:         b.TempDir(),
		SnapshotMaxBytes:    1 << 30,
		Capabilities:        []evaluation.Capability{diff.New(engine)},
		Logger:              zerolog.New(logs).Level(zerolog.InfoLevel),
	})
	if err != nil {
		b.Fatal(err)
	}
	event := gitlabPayload(b, "gitlab-org-api-client-go", "merge_request.json")

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		branch := fmt.Sprintf("bump-%d", i)
		srv.Commit(glProject, branch, "bump", map[string]string{changedFile: strings.Replace(base[changedFile], "tag: 41", fmt.Sprintf("tag: %d", 42+i), 1)})
		iid := srv.AddMergeRequest(glProject, gitlabtest.MergeRequestOptions{Source: branch, Title: "bump echo-server", Author: "alice",
			Diffs: []*gl.MergeRequestDiff{{OldPath: changedFile, NewPath: changedFile}}})
		var ev map[string]any
		if err := json.Unmarshal(event, &ev); err != nil {
			b.Fatal(err)
		}
		p := ev["project"].(map[string]any)
		p["path_with_namespace"], p["web_url"], p["default_branch"] = glProject, srv.URL()+"/"+glProject, "main"
		oa := ev["object_attributes"].(map[string]any)
		oa["iid"], oa["action"] = iid, "open"
		body, _ := json.Marshal(ev)
		b.StartTimer()

		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, gitlabRequest("Merge Request Hook", body, gitlabSecret))
		if w.Code != 202 {
			b.Fatalf("delivery: %d", w.Code)
		}
		for len(srv.Notes(glProject, iid)) == 0 {
			if strings.Contains(logs.String(), `"level":"error"`) {
				b.Fatalf("evaluation failed:\n%s", logs.String())
			}
			waitTick()
		}
	}
	b.StopTimer()
	// API calls gitward made per merge request: the double records each.
	b.ReportMetric(float64(len(srv.Requests()))/float64(b.N), "api-calls/op")
	body := srv.Notes(glProject, 1)[0].Body
	if !strings.Contains(body, "kubernetes/apps/network/echo-server/app") || !strings.Contains(body, "-              tag: 41") {
		b.Fatalf("unexpected note:\n%s", body)
	}
}
