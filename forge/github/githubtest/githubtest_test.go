package githubtest_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/forge/github/githubtest"
	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
)

const (
	repoName = "acme/gitops"
	baseSHA  = "1111111111111111111111111111111111111111"
	headSHA  = "2222222222222222222222222222222222222222"
)

// recorder stands in for the test the double reports to, so these tests
// can assert that a violation is reported instead of failing themselves.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func (r *recorder) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// expectReport asserts that exactly one report was made and that it
// mentions every one of want.
func expectReport(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	got := rec.reported()
	if len(got) != 1 {
		t.Fatalf("reports = %d %q, want exactly one", len(got), got)
	}
	for _, w := range want {
		if !strings.Contains(got[0], w) {
			t.Errorf("report %q does not mention %q", got[0], w)
		}
	}
}

// seeded returns a double with one installation, one repository and one
// pull request, and a go-github client authenticated as the installation.
func seeded(t testing.TB) (*githubtest.Server, *gh.Client) {
	srv := githubtest.New(t)
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	srv.AddPullRequest(repoName, githubtest.PullRequest{
		Number: 7, Title: "Scale web to 3", Body: "Please review", Author: "alice",
		BaseRef: "main", BaseSHA: baseSHA, HeadRef: "scale-web", HeadSHA: headSHA,
	})
	return srv, client(t, srv)
}

func client(t testing.TB, srv *githubtest.Server) *gh.Client {
	c, err := gh.NewClient(nil).WithAuthToken(srv.InstallationToken(1)).WithEnterpriseURLs(srv.URL+"/", srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSpecLoadsOnce(t *testing.T) {
	githubtest.New(t)
	d := githubtest.SpecLoadTime()
	if d <= 0 {
		t.Fatal("the description was not loaded")
	}
	t.Logf("GitHub's trimmed description parsed in %v", d)
}

func TestPullRequestFacts(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	when := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv.AddCommit(repoName, 7, githubtest.Commit{
		SHA:       headSHA,
		Author:    githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: when},
		Committer: githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: when},
		Message:   "Scale web to 3",
		Verified:  true, Signature: "-----BEGIN SSH SIGNATURE-----\n...", Payload: "tree ...",
	})
	srv.AddReview(repoName, 7, githubtest.Review{User: "bob", State: "APPROVED", CommitID: headSHA})
	srv.AddComment(repoName, 7, githubtest.Comment{User: "carol", Body: "/breakglass"})
	srv.SetFiles(repoName, 7, []githubtest.File{
		{Filename: "apps/web/deployment.yaml", Status: "modified", Additions: 1, Deletions: 1, Patch: "@@ -1 +1 @@"},
		{Filename: "apps/web/new.yaml", Status: "renamed", PreviousFilename: "apps/web/old.yaml"},
	})
	srv.SetPermission(repoName, "bob", "maintain")
	srv.SetTeamMember("acme", "platform", "bob", "member", "active")

	pr, _, err := c.PullRequests.Get(ctx, "acme", "gitops", 7)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetTitle() != "Scale web to 3" || pr.GetUser().GetLogin() != "alice" || pr.GetHead().GetSHA() != headSHA ||
		pr.GetBase().GetRef() != "main" || pr.GetState() != "open" || pr.GetHTMLURL() != "https://github.com/acme/gitops/pull/7" {
		t.Errorf("pull request = %s", gh.Stringify(pr))
	}

	commits, _, err := c.PullRequests.ListCommits(ctx, "acme", "gitops", 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 1 {
		t.Fatalf("commits = %d, want 1", len(commits))
	}
	v := commits[0].GetCommit().GetVerification()
	if commits[0].GetSHA() != headSHA || !v.GetVerified() || v.GetReason() != "valid" ||
		commits[0].GetAuthor().GetLogin() != "alice" || !commits[0].GetCommit().GetAuthor().GetDate().Time.Equal(when) ||
		len(commits[0].Parents) != 1 || commits[0].Parents[0].GetSHA() != baseSHA {
		t.Errorf("commit = %s", gh.Stringify(commits[0]))
	}

	reviews, _, err := c.PullRequests.ListReviews(ctx, "acme", "gitops", 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(reviews) != 1 || reviews[0].GetState() != "APPROVED" || reviews[0].GetUser().GetLogin() != "bob" || reviews[0].GetCommitID() != headSHA {
		t.Errorf("reviews = %s", gh.Stringify(reviews))
	}

	comments, _, err := c.Issues.ListComments(ctx, "acme", "gitops", 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(comments) != 1 || comments[0].GetBody() != "/breakglass" || comments[0].GetUser().GetLogin() != "carol" {
		t.Errorf("comments = %s", gh.Stringify(comments))
	}

	files, _, err := c.PullRequests.ListFiles(ctx, "acme", "gitops", 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[1].GetPreviousFilename() != "apps/web/old.yaml" || files[0].GetPatch() == "" {
		t.Errorf("files = %s", gh.Stringify(files))
	}

	perm, _, err := c.Repositories.GetPermissionLevel(ctx, "acme", "gitops", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if perm.GetPermission() != "write" || perm.GetUser().GetRoleName() != "maintain" {
		t.Errorf("permission = %s", gh.Stringify(perm))
	}
	none, _, err := c.Repositories.GetPermissionLevel(ctx, "acme", "gitops", "mallory")
	if err != nil || none.GetPermission() != "none" {
		t.Errorf("permission of a stranger = %s, %v", gh.Stringify(none), err)
	}

	m, _, err := c.Teams.GetTeamMembershipBySlug(ctx, "acme", "platform", "bob")
	if err != nil || m.GetState() != "active" {
		t.Errorf("membership = %s, %v", gh.Stringify(m), err)
	}
	_, resp, err := c.Teams.GetTeamMembershipBySlug(ctx, "acme", "platform", "mallory")
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("membership of a non-member: err %v, want 404", err)
	}

	repo, _, err := c.Repositories.Get(ctx, "acme", "gitops")
	if err != nil || repo.GetDefaultBranch() != "main" || repo.GetOwner().GetLogin() != "acme" {
		t.Errorf("repository = %s, %v", gh.Stringify(repo), err)
	}
	fork := srv.AddPullRequest(repoName, githubtest.PullRequest{
		Title: "From a fork", Author: "mallory", BaseSHA: baseSHA, HeadRef: "main", HeadSHA: headSHA, HeadRepo: "mallory/gitops",
	})
	fpr, _, err := c.PullRequests.Get(ctx, "acme", "gitops", fork)
	if err != nil || fpr.GetHead().GetRepo().GetFullName() != "mallory/gitops" || !fpr.GetHead().GetRepo().GetFork() {
		t.Errorf("pull request from a fork = %s, %v", gh.Stringify(fpr.GetHead()), err)
	}
	if got := srv.Calls("pulls/get"); got != 2 {
		t.Errorf("Calls(pulls/get) = %d, want 2", got)
	}
}

func TestPublishing(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()

	run, _, err := c.Checks.CreateCheckRun(ctx, "acme", "gitops", gh.CreateCheckRunOptions{
		Name: "gitward/change-control", HeadSHA: headSHA, Status: gh.String("in_progress"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if run.GetApp().GetID() != githubtest.DefaultAppID || run.GetStatus() != "in_progress" || len(run.PullRequests) != 1 {
		t.Errorf("created check run = %s", gh.Stringify(run))
	}
	_, _, err = c.Checks.UpdateCheckRun(ctx, "acme", "gitops", run.GetID(), gh.UpdateCheckRunOptions{
		Name:       "gitward/change-control",
		Conclusion: gh.String("failure"),
		Output: &gh.CheckRunOutput{
			Title: gh.String("1 problem"), Summary: gh.String("Commit 2222222 is not signed."),
			Annotations: []*gh.CheckRunAnnotation{{Path: gh.String("apps/web/deployment.yaml"), StartLine: gh.Int(3), EndLine: gh.Int(3), AnnotationLevel: gh.String("failure"), Message: gh.String("unsigned")}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	runs := srv.CheckRuns(repoName, headSHA)
	if len(runs) != 1 || runs[0].Status != "completed" || runs[0].Conclusion != "failure" || runs[0].CompletedAt.IsZero() ||
		runs[0].Summary != "Commit 2222222 is not signed." || len(runs[0].Annotations) != 1 {
		t.Errorf("stored check runs = %+v", runs)
	}
	listed, _, err := c.Checks.ListCheckRunsForRef(ctx, "acme", "gitops", headSHA, &gh.ListCheckRunsOptions{AppID: gh.Int64(githubtest.DefaultAppID), Filter: gh.String("all")})
	if err != nil || listed.GetTotal() != 1 || listed.CheckRuns[0].GetConclusion() != "failure" {
		t.Errorf("listed check runs = %s, %v", gh.Stringify(listed), err)
	}

	comment, _, err := c.Issues.CreateComment(ctx, "acme", "gitops", 7, &gh.IssueComment{Body: gh.String("## gitward\nall good")})
	if err != nil {
		t.Fatal(err)
	}
	if comment.GetUser().GetLogin() != "gitward[bot]" || comment.GetUser().GetType() != "Bot" {
		t.Errorf("comment author = %s", gh.Stringify(comment.GetUser()))
	}
	if _, _, err := c.Issues.EditComment(ctx, "acme", "gitops", comment.GetID(), &gh.IssueComment{Body: gh.String("edited")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Reactions.CreateIssueCommentReaction(ctx, "acme", "gitops", comment.GetID(), "eyes"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Comments(repoName, 7); len(got) != 1 || got[0].Body != "edited" {
		t.Errorf("comments = %+v", got)
	}
	if got := srv.Reactions(repoName, comment.GetID()); len(got) != 1 || got[0] != "eyes" {
		t.Errorf("reactions = %v", got)
	}
	if _, err := c.Issues.DeleteComment(ctx, "acme", "gitops", comment.GetID()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Comments(repoName, 7); len(got) != 0 {
		t.Errorf("comments after delete = %+v", got)
	}
	_, body, err := c.Issues.CreateComment(ctx, "acme", "gitops", 7, &gh.IssueComment{Body: gh.String(strings.Repeat("x", 65537))})
	if err == nil || body.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a comment over 65536 characters: err %v, want 422", err)
	}

	if _, _, err := c.Issues.AddLabelsToIssue(ctx, "acme", "gitops", 7, []string{"gitward/breakglass", "needs-review"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Issues.RemoveLabelForIssue(ctx, "acme", "gitops", 7, "needs-review"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Labels(repoName, 7); len(got) != 1 || got[0] != "gitward/breakglass" {
		t.Errorf("labels = %v", got)
	}

	issue, _, err := c.Issues.Create(ctx, "acme", "gitops", &gh.IssueRequest{Title: gh.String("Drift in prod"), Body: gh.String("details"), Labels: &[]string{"drift"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Issues.Edit(ctx, "acme", "gitops", issue.GetNumber(), &gh.IssueRequest{State: gh.String("closed")}); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Issues.Get(ctx, "acme", "gitops", issue.GetNumber())
	if err != nil || got.GetState() != "closed" || got.GetNumber() != 8 || len(got.Labels) != 1 {
		t.Errorf("issue = %s, %v", gh.Stringify(got), err)
	}
	if issues := srv.Issues(repoName); len(issues) != 1 || issues[0].Title != "Drift in prod" {
		t.Errorf("stored issues = %+v", issues)
	}
}

func TestBranchesCommitsAndPullRequests(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	srv.SetTree(repoName, baseSHA, map[string]string{"apps/web/deployment.yaml": "replicas: 1\n", "README.md": "hi\n"})

	ref, _, err := c.Git.GetRef(ctx, "acme", "gitops", "refs/heads/main")
	if err != nil || ref.GetObject().GetSHA() != baseSHA {
		t.Fatalf("main = %s, %v", gh.Stringify(ref), err)
	}
	blob, _, err := c.Git.CreateBlob(ctx, "acme", "gitops", &gh.Blob{Content: gh.String("replicas: 3\n"), Encoding: gh.String("utf-8")})
	if err != nil {
		t.Fatal(err)
	}
	tree, _, err := c.Git.CreateTree(ctx, "acme", "gitops", "", []*gh.TreeEntry{
		{Path: gh.String("apps/web/deployment.yaml"), Mode: gh.String("100644"), Type: gh.String("blob"), SHA: blob.SHA},
		{Path: gh.String("README.md"), Mode: gh.String("100644"), Type: gh.String("blob"), Content: gh.String("hi\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	commit, _, err := c.Git.CreateCommit(ctx, "acme", "gitops", &gh.Commit{
		Message: gh.String("Capture break-glass change"), Tree: tree, Parents: []*gh.Commit{{SHA: gh.String(baseSHA)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !commit.GetVerification().GetVerified() {
		t.Errorf("an app's commit without author is signed by GitHub: %s", gh.Stringify(commit.GetVerification()))
	}
	if _, _, err := c.Git.CreateRef(ctx, "acme", "gitops", &gh.Reference{Ref: gh.String("refs/heads/capture"), Object: &gh.GitObject{SHA: commit.SHA}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Git.CreateRef(ctx, "acme", "gitops", &gh.Reference{Ref: gh.String("refs/heads/capture"), Object: &gh.GitObject{SHA: commit.SHA}}); err == nil {
		t.Error("creating an existing ref succeeded")
	}
	got, _, err := c.Git.GetCommit(ctx, "acme", "gitops", commit.GetSHA())
	if err != nil || got.GetTree().GetSHA() != tree.GetSHA() || got.Parents[0].GetSHA() != baseSHA {
		t.Errorf("commit = %s, %v", gh.Stringify(got), err)
	}
	rc, _, err := c.Repositories.GetCommit(ctx, "acme", "gitops", commit.GetSHA(), nil)
	if err != nil || len(rc.Files) != 1 || rc.Files[0].GetFilename() != "apps/web/deployment.yaml" {
		t.Errorf("repository commit = %s, %v", gh.Stringify(rc), err)
	}
	if files := srv.Files(repoName, "capture"); files["apps/web/deployment.yaml"] != "replicas: 3\n" {
		t.Errorf("files on capture = %v", files)
	}

	pr, _, err := c.PullRequests.Create(ctx, "acme", "gitops", &gh.NewPullRequest{Title: gh.String("Post-incident: capture"), Head: gh.String("capture"), Base: gh.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetNumber() != 8 || pr.GetCommits() != 1 || pr.GetUser().GetLogin() != "gitward[bot]" {
		t.Errorf("created pull request = %s", gh.Stringify(pr))
	}
	if _, _, err := c.PullRequests.Create(ctx, "acme", "gitops", &gh.NewPullRequest{Title: gh.String("again"), Head: gh.String("capture"), Base: gh.String("main")}); err == nil {
		t.Error("a second pull request for the same head and base was accepted")
	}
	if _, _, err := c.PullRequests.Edit(ctx, "acme", "gitops", pr.GetNumber(), &gh.PullRequest{State: gh.String("closed")}); err != nil {
		t.Fatal(err)
	}
	if prs := srv.PullRequests(repoName); len(prs) != 2 || prs[1].State != "closed" {
		t.Errorf("pull requests = %+v", prs)
	}
}

func TestRefUpdatesAreCompareAndSwap(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	srv.AddCommit(repoName, 0, githubtest.Commit{SHA: "3333333333333333333333333333333333333333", Parents: []string{baseSHA}})
	srv.AddCommit(repoName, 0, githubtest.Commit{SHA: "4444444444444444444444444444444444444444", Parents: []string{"9999999999999999999999999999999999999999"}})
	update := func(sha string, force bool) (*gh.Response, error) {
		_, resp, err := c.Git.UpdateRef(ctx, "acme", "gitops", &gh.Reference{Ref: gh.String("refs/heads/main"), Object: &gh.GitObject{SHA: gh.String(sha)}}, force)
		return resp, err
	}

	resp, err := update("4444444444444444444444444444444444444444", false)
	var ghErr *gh.ErrorResponse
	if !errors.As(err, &ghErr) || resp.StatusCode != http.StatusUnprocessableEntity || ghErr.Message != "Update is not a fast forward" {
		t.Fatalf("non-fast-forward update: err %v, want 422 Update is not a fast forward", err)
	}
	if got := srv.Ref(repoName, "heads/main"); got != baseSHA {
		t.Errorf("main moved to %s after a rejected update", got)
	}
	if _, err := update("3333333333333333333333333333333333333333", false); err != nil {
		t.Errorf("fast-forward update: %v", err)
	}
	if _, err := update("4444444444444444444444444444444444444444", true); err != nil {
		t.Errorf("forced update: %v", err)
	}
	if got := srv.Ref(repoName, "heads/main"); got != "4444444444444444444444444444444444444444" {
		t.Errorf("main = %s after a forced update", got)
	}
}

func TestContentsAndTarball(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	srv.SetTreeEntries(repoName, headSHA, []githubtest.TreeEntry{
		{Path: ".gitward.yaml", Content: "version: 1\n"},
		{Path: "apps/web/kustomization.yaml", Content: "resources: [deployment.yaml]\n"},
		{Path: "apps/web/deployment.yaml", Content: strings.Repeat("x", 200)},
		{Path: "apps/web/link.yaml", Content: "deployment.yaml", Mode: "120000"},
		{Path: "bin/render", Content: "#!/bin/sh\n", Mode: "100755"},
	})

	file, dir, _, err := c.Repositories.GetContents(ctx, "acme", "gitops", ".gitward.yaml", &gh.RepositoryContentGetOptions{Ref: headSHA})
	if err != nil || dir != nil {
		t.Fatalf("GetContents: %v", err)
	}
	if got, _ := file.GetContent(); got != "version: 1\n" {
		t.Errorf("content = %q", got)
	}
	file, _, _, err = c.Repositories.GetContents(ctx, "acme", "gitops", "apps/web/deployment.yaml", &gh.RepositoryContentGetOptions{Ref: "scale-web"})
	if got, _ := file.GetContent(); err != nil || got != strings.Repeat("x", 200) {
		t.Errorf("content by branch = %q, %v", got, err)
	}
	_, dir, _, err = c.Repositories.GetContents(ctx, "acme", "gitops", "apps/web", &gh.RepositoryContentGetOptions{Ref: headSHA})
	if err != nil || len(dir) != 3 {
		t.Errorf("directory = %s, %v", gh.Stringify(dir), err)
	}
	_, _, resp, err := c.Repositories.GetContents(ctx, "acme", "gitops", ".gitward.yaml", &gh.RepositoryContentGetOptions{Ref: baseSHA})
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("absent file: err %v, want 404", err)
	}

	link, _, err := c.Repositories.GetArchiveLink(ctx, "acme", "gitops", gh.Tarball, &gh.RepositoryContentGetOptions{Ref: headSHA}, 0)
	if err != nil {
		t.Fatal(err)
	}
	entries := download(t, link.String())
	top := "acme-gitops-2222222/"
	for name, want := range map[string]string{
		top:                                 "dir",
		top + ".gitward.yaml":               "file version: 1\n",
		top + "apps/":                       "dir",
		top + "apps/web/link.yaml":          "symlink deployment.yaml",
		top + "bin/render":                  "file #!/bin/sh\n",
		top + "apps/web/kustomization.yaml": "file resources: [deployment.yaml]\n",
	} {
		if entries[name] != want {
			t.Errorf("archive entry %q = %q, want %q", name, entries[name], want)
		}
	}

	srv.SetTarball(repoName, "5555555555555555555555555555555555555555", []byte("not a tarball"))
	link, _, err = c.Repositories.GetArchiveLink(ctx, "acme", "gitops", gh.Tarball, &gh.RepositoryContentGetOptions{Ref: "5555555555555555555555555555555555555555"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp2, err := http.Get(link.String())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if string(raw) != "not a tarball" {
		t.Errorf("raw tarball = %q", raw)
	}
	if srv.Calls("codeload") != 2 || srv.Calls("repos/download-tarball-archive") != 2 {
		t.Errorf("calls: %+v", srv.Requests())
	}
}

// download fetches an archive and describes its entries: "dir",
// "file <content>" or "symlink <target>".
func download(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET archive: %s", resp.Status)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			out[h.Name] = "dir"
		case tar.TypeSymlink:
			out[h.Name] = "symlink " + h.Linkname
		case tar.TypeReg:
			data, _ := io.ReadAll(tr)
			out[h.Name] = "file " + string(data)
		}
	}
}

func TestPagination(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	for i := 0; i < 74; i++ {
		srv.AddPullRequest(repoName, githubtest.PullRequest{Title: fmt.Sprintf("pr %d", i), Author: "alice", HeadRef: fmt.Sprintf("b%d", i), HeadSHA: headSHA, BaseSHA: baseSHA})
	}
	srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "closed", State: "closed", Author: "alice", BaseSHA: baseSHA})

	opt := &gh.PullRequestListOptions{State: "open", ListOptions: gh.ListOptions{PerPage: 30}}
	seen := map[int]bool{}
	pages := 0
	for {
		page, resp, err := c.PullRequests.List(ctx, "acme", "gitops", opt)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, pr := range page {
			seen[pr.GetNumber()] = true
		}
		if pages == 1 && (resp.LastPage != 3 || !strings.Contains(resp.Header.Get("Link"), `rel="next"`)) {
			t.Errorf("first page: last %d, Link %q", resp.LastPage, resp.Header.Get("Link"))
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if pages != 3 || len(seen) != 75 {
		t.Errorf("pages = %d, open pull requests = %d, want 3 and 75", pages, len(seen))
	}

	one, _, err := c.PullRequests.List(ctx, "acme", "gitops", &gh.PullRequestListOptions{State: "open", Head: "acme:scale-web"})
	if err != nil || len(one) != 1 || one[0].GetNumber() != 7 {
		t.Errorf("filtered by head = %d pull requests, %v", len(one), err)
	}
	closed, _, err := c.PullRequests.List(ctx, "acme", "gitops", &gh.PullRequestListOptions{State: "closed"})
	if err != nil || len(closed) != 1 {
		t.Errorf("closed pull requests = %d, %v", len(closed), err)
	}
}

func TestInvalidRequestsAreReported(t *testing.T) {
	rec := &recorder{TB: t}
	srv := githubtest.New(rec)
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	srv.SetRef(repoName, "heads/main", baseSHA)
	c := client(t, srv)
	ctx := context.Background()

	t.Run("a bad enum value", func(t *testing.T) {
		rec.errors = nil
		_, resp, err := c.Checks.CreateCheckRun(ctx, "acme", "gitops", gh.CreateCheckRunOptions{Name: "gitward/diff", HeadSHA: baseSHA, Status: gh.String("done")})
		if err == nil || resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("err %v, want 422", err)
		}
		expectReport(t, rec, "POST", "/repos/acme/gitops/check-runs", "checks/create", "status")
	})
	t.Run("a missing required field", func(t *testing.T) {
		rec.errors = nil
		req, _ := c.NewRequest("POST", "repos/acme/gitops/check-runs", map[string]string{"head_sha": baseSHA})
		if _, err := c.Do(ctx, req, nil); err == nil {
			t.Error("the request succeeded")
		}
		expectReport(t, rec, "checks/create", "name")
	})
	t.Run("an endpoint GitHub's description does not have", func(t *testing.T) {
		rec.errors = nil
		req, _ := c.NewRequest("GET", "repos/acme/gitops/no-such-thing", nil)
		_, err := c.Do(ctx, req, nil)
		var ghErr *gh.ErrorResponse
		if !errors.As(err, &ghErr) || ghErr.Response.StatusCode != http.StatusNotFound {
			t.Errorf("err %v, want 404", err)
		}
		expectReport(t, rec, "GET", "/repos/acme/gitops/no-such-thing", "no operation")
	})
	t.Run("an operation the trimmed description does not keep", func(t *testing.T) {
		rec.errors = nil
		_, _, err := c.Repositories.ListBranches(ctx, "acme", "gitops", nil)
		if err == nil {
			t.Error("the request succeeded")
		}
		expectReport(t, rec, "/repos/acme/gitops/branches")
	})
	t.Run("a request without an installation token", func(t *testing.T) {
		rec.errors = nil
		anon, _ := gh.NewClient(nil).WithEnterpriseURLs(srv.URL+"/", srv.URL+"/")
		_, resp, err := anon.PullRequests.List(ctx, "acme", "gitops", nil)
		if err == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("err %v, want 401", err)
		}
		expectReport(t, rec, "installation token")
	})
	t.Run("an app JWT on an installation endpoint", func(t *testing.T) {
		rec.errors = nil
		jwt, _ := gh.NewClient(nil).WithAuthToken(srv.AppJWT()).WithEnterpriseURLs(srv.URL+"/", srv.URL+"/")
		if _, _, err := jwt.PullRequests.List(ctx, "acme", "gitops", nil); err == nil {
			t.Error("the request succeeded")
		}
		expectReport(t, rec, "app JWT")
	})
	t.Run("an installation token on an app endpoint", func(t *testing.T) {
		rec.errors = nil
		if _, _, err := c.Apps.ListInstallations(ctx, nil); err == nil {
			t.Error("the request succeeded")
		}
		expectReport(t, rec, "/app/installations", "JWT")
	})
	t.Run("valid requests are not reported", func(t *testing.T) {
		rec.errors = nil
		if _, _, err := c.Checks.CreateCheckRun(ctx, "acme", "gitops", gh.CreateCheckRunOptions{Name: "gitward/diff", HeadSHA: baseSHA}); err != nil {
			t.Fatal(err)
		}
		if got := rec.reported(); len(got) != 0 {
			t.Errorf("reports = %q", got)
		}
	})
}

func TestFaultsAndRateLimits(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()

	srv.FailNext("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", http.StatusBadGateway, 2)
	for i := 0; i < 2; i++ {
		if _, resp, err := c.PullRequests.Get(ctx, "acme", "gitops", 7); err == nil || resp.StatusCode != http.StatusBadGateway {
			t.Errorf("attempt %d: err %v, want 502", i+1, err)
		}
	}
	if _, _, err := c.PullRequests.Get(ctx, "acme", "gitops", 7); err != nil {
		t.Errorf("third attempt: %v", err)
	}
	srv.FailNext("*", "/repos/acme/*/pulls/7/files", http.StatusForbidden, 1)
	if _, resp, err := c.PullRequests.ListFiles(ctx, "acme", "gitops", 7, nil); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("glob fault: err %v, want 403", err)
	}

	_, resp, err := c.PullRequests.Get(ctx, "acme", "gitops", 7)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rate.Limit != githubtest.DefaultRateLimit || resp.Rate.Remaining != srv.RateLimitRemaining() || resp.Header.Get("X-RateLimit-Resource") != "core" {
		t.Errorf("rate = %+v, headers %v", resp.Rate, resp.Header)
	}
	srv.SetRateLimitRemaining(0)
	_, _, err = c.PullRequests.Get(ctx, "acme", "gitops", 7)
	var rateErr *gh.RateLimitError
	if !errors.As(err, &rateErr) {
		t.Errorf("err = %v, want a rate limit error", err)
	}
	limits, _, err := c.RateLimit.Get(ctx)
	if err != nil || limits.GetCore().Remaining != 0 {
		t.Errorf("rate limits = %s, %v", gh.Stringify(limits), err)
	}
}

func TestLatency(t *testing.T) {
	srv := githubtest.New(t, githubtest.WithLatency(200*time.Millisecond))
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	c := client(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := c.Repositories.Get(ctx, "acme", "gitops"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline", err)
	}
}

// TestGoGitHubAppClients drives the double the way gitward's adapter
// does: go-githubapp's ClientCreator signs a JWT with the app key,
// exchanges it for an installation token, then calls the API with it.
func TestGoGitHubAppClients(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddInstallation(1, "acme")
	srv.AddInstallation(2, "globex")
	srv.SuspendInstallation(2)
	srv.AddRepo(1, "acme", "gitops", "main")
	srv.AddRepo(1, "acme", "infra", "main")

	cc, err := githubapp.NewDefaultCachingClientCreator(githubapp.Config{
		V3APIURL: srv.URL,
		App: struct {
			IntegrationID int64  `yaml:"integration_id" json:"integrationId"`
			WebhookSecret string `yaml:"webhook_secret" json:"webhookSecret"`
			PrivateKey    string `yaml:"private_key" json:"privateKey"`
		}{IntegrationID: githubtest.DefaultAppID, PrivateKey: privateKey(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, err := cc.NewAppClient()
	if err != nil {
		t.Fatal(err)
	}
	installs, _, err := app.Apps.ListInstallations(ctx, nil)
	if err != nil || len(installs) != 2 || installs[1].SuspendedAt == nil {
		t.Fatalf("installations = %s, %v", gh.Stringify(installs), err)
	}
	inst, err := cc.NewInstallationClient(1)
	if err != nil {
		t.Fatal(err)
	}
	repos, _, err := inst.Apps.ListRepos(ctx, &gh.ListOptions{PerPage: 1})
	if err != nil || repos.GetTotalCount() != 2 || len(repos.Repositories) != 1 {
		t.Errorf("repositories = %s, %v", gh.Stringify(repos), err)
	}
	if _, _, err := inst.Repositories.Get(ctx, "acme", "gitops"); err != nil {
		t.Error(err)
	}
	if got := srv.Calls("apps/create-installation-access-token"); got != 1 {
		t.Errorf("access tokens requested %d times, want 1 (ghinstallation caches it)", got)
	}
}

var (
	keyOnce sync.Once
	keyPEM  string
)

func privateKey(t *testing.T) string {
	keyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	})
	return keyPEM
}

func TestWebhookHelpers(t *testing.T) {
	payload := githubtest.Payload(t, "pull_request", "opened.payload.json")
	if !strings.Contains(string(payload), `"action": "opened"`) && !strings.Contains(string(payload), `"action":"opened"`) {
		t.Errorf("payload does not look like pull_request.opened: %.80s", payload)
	}
	// The example from GitHub's documentation on validating deliveries.
	if got := githubtest.Sign([]byte("Hello, World!"), "It's a Secret to Everybody"); got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Errorf("Sign = %s", got)
	}
	req := githubtest.SignedRequest(t, "http://gitward.test/api/github/hook", "pull_request", payload, "s3cret")
	if req.Method != http.MethodPost || req.Header.Get("X-GitHub-Event") != "pull_request" ||
		req.Header.Get("X-Hub-Signature-256") != githubtest.Sign(payload, "s3cret") ||
		len(req.Header.Get("X-GitHub-Delivery")) != 36 || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", req.Header)
	}
	body, _ := io.ReadAll(req.Body)
	if string(body) != string(payload) {
		t.Error("the request body is not the payload")
	}
}

func TestConcurrentCallers(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.Issues.CreateComment(ctx, "acme", "gitops", 7, &gh.IssueComment{Body: gh.String("hi")}); err != nil {
				t.Error(err)
			}
			if _, _, err := c.PullRequests.Get(ctx, "acme", "gitops", 7); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := len(srv.Comments(repoName, 7)); got != 16 {
		t.Errorf("comments = %d, want 16", got)
	}
}

func TestSeededCheckRunsAndArchivedRepos(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	srv.ArchiveRepo(repoName)
	repo, _, err := c.Repositories.Get(ctx, "acme", "gitops")
	if err != nil || !repo.GetArchived() {
		t.Errorf("archived repository = %s, %v", gh.Stringify(repo), err)
	}

	other := srv.AddCheckRun(repoName, githubtest.CheckRun{AppID: 99, Name: "ci/build", HeadSHA: headSHA, Conclusion: "success"})
	mine := srv.AddCheckRun(repoName, githubtest.CheckRun{Name: "gitward/diff", HeadSHA: headSHA})
	all, _, err := c.Checks.ListCheckRunsForRef(ctx, "acme", "gitops", headSHA, nil)
	if err != nil || all.GetTotal() != 2 {
		t.Fatalf("check runs = %s, %v", gh.Stringify(all), err)
	}
	for _, run := range all.CheckRuns {
		switch run.GetID() {
		case other:
			if run.GetApp().GetID() != 99 || run.GetStatus() != "completed" || run.GetConclusion() != "success" {
				t.Errorf("another app's run = %s", gh.Stringify(run))
			}
		case mine:
			if run.GetApp().GetID() != githubtest.DefaultAppID || run.GetStatus() != "queued" {
				t.Errorf("the app's own run = %s", gh.Stringify(run))
			}
		}
	}
	ours, _, err := c.Checks.ListCheckRunsForRef(ctx, "acme", "gitops", headSHA, &gh.ListCheckRunsOptions{AppID: gh.Int64(githubtest.DefaultAppID)})
	if err != nil || ours.GetTotal() != 1 || ours.CheckRuns[0].GetID() != mine {
		t.Errorf("runs filtered by app = %s, %v", gh.Stringify(ours), err)
	}
}
