package github_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
	gh "github.com/google/go-github/v60/github"
)

const cutMarker = "… cut here: the full text is over GitHub's size limit"

// annotationBatches returns how many annotations each check run request
// carried, in order.
func annotationBatches(t *testing.T, srv *githubtest.Server) []int {
	t.Helper()
	var out []int
	for _, r := range srv.Requests() {
		if r.OperationID != "checks/create" && r.OperationID != "checks/update" {
			continue
		}
		var body struct {
			Output struct {
				Annotations []json.RawMessage `json:"annotations"`
			} `json:"output"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatalf("%s body: %v", r.OperationID, err)
		}
		out = append(out, len(body.Output.Annotations))
	}
	return out
}

func TestPublishCheck(t *testing.T) {
	ctx := context.Background()

	t.Run("creates a run, then updates the same run by its ID", func(t *testing.T) {
		f, srv, repo := newForge(t)
		addPR(srv)
		started := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
		run := forge.CheckRun{
			Name: "gitward/change-control", HeadSHA: headSHA, Status: forge.CheckInProgress,
			ExternalID: "base=" + baseSHA, DetailsURL: "https://gitward.example/runs/1",
			Title: "Evaluating", Summary: "Reading the pull request", StartedAt: started,
		}
		created, err := f.PublishCheck(ctx, repo, run)
		if err != nil {
			t.Fatal(err)
		}
		if created.ID == 0 || created.AppID != githubtest.DefaultAppID || created.Status != forge.CheckInProgress ||
			created.HeadSHA != headSHA || !created.StartedAt.Equal(started) || created.ExternalID != run.ExternalID {
			t.Errorf("created = %+v", created)
		}

		done := started.Add(3 * time.Minute)
		run.ID, run.Status, run.Conclusion, run.CompletedAt = created.ID, forge.CheckCompleted, forge.ConclusionFailure, done
		run.Title, run.Summary, run.Text = "1 problem", "Commit 2222222 is not signed.", "Sign your commits."
		updated, err := f.PublishCheck(ctx, repo, run)
		if err != nil {
			t.Fatal(err)
		}
		if updated.ID != created.ID || updated.Status != forge.CheckCompleted || updated.Conclusion != forge.ConclusionFailure {
			t.Errorf("updated = %+v", updated)
		}
		stored := srv.CheckRuns(repoName, headSHA)
		if len(stored) != 1 {
			t.Fatalf("stored %d runs, want 1 updated in place", len(stored))
		}
		want := githubtest.CheckRun{
			ID: created.ID, AppID: githubtest.DefaultAppID, Name: "gitward/change-control", HeadSHA: headSHA,
			Status: "completed", Conclusion: "failure", ExternalID: "base=" + baseSHA, DetailsURL: "https://gitward.example/runs/1",
			StartedAt: started, CompletedAt: done, Title: "1 problem", Summary: "Commit 2222222 is not signed.", Text: "Sign your commits.",
		}
		if !reflect.DeepEqual(stored[0], want) {
			t.Errorf("stored run =\n%+v\nwant\n%+v", stored[0], want)
		}
		if c, u := srv.Calls("checks/create"), srv.Calls("checks/update"); c != 1 || u != 1 {
			t.Errorf("create %d, update %d; want 1 each", c, u)
		}
	})

	t.Run("a run without status is completed, defaults its title and summary to its name and its completion to now", func(t *testing.T) {
		f, srv, repo := newForge(t)
		addPR(srv)
		before := time.Now().Add(-time.Second)
		if _, err := f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/diff", HeadSHA: headSHA, Conclusion: forge.ConclusionSuccess}); err != nil {
			t.Fatal(err)
		}
		got := srv.CheckRuns(repoName, headSHA)[0]
		if got.Status != "completed" || got.Conclusion != "success" || got.Title != "gitward/diff" || got.Summary != "gitward/diff" ||
			got.CompletedAt.Before(before.Truncate(time.Second)) || got.Text != "" {
			t.Errorf("stored run = %+v", got)
		}
	})

	for _, status := range []forge.CheckStatus{forge.CheckCompleted, ""} {
		t.Run(fmt.Sprintf("a run with status %q and no conclusion is refused without calling GitHub", status), func(t *testing.T) {
			f, srv, repo := newForge(t)
			addPR(srv)
			_, err := f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/diff", HeadSHA: headSHA, Status: status})
			if err == nil || !strings.Contains(err.Error(), "without a conclusion") {
				t.Errorf("err = %v, want one about the missing conclusion", err)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}

	t.Run("a run on an unknown commit is an error naming it", func(t *testing.T) {
		f, _, repo := newForge(t)
		_, err := f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/diff", HeadSHA: sha(404), Conclusion: forge.ConclusionSuccess})
		if err == nil || !strings.Contains(err.Error(), `create check run "gitward/diff" on 0000000`) {
			t.Errorf("err = %v", err)
		}
	})

	for _, tt := range []struct {
		name     string
		existing bool
		count    int
		batches  []int
	}{
		{name: "a new run with 120 annotations is created with 50 and updated twice", count: 120, batches: []int{50, 50, 20}},
		{name: "an existing run with 120 annotations is updated three times", existing: true, count: 120, batches: []int{50, 50, 20}},
		{name: "exactly 50 annotations fit in one request", count: 50, batches: []int{50}},
		{name: "51 annotations take two requests", count: 51, batches: []int{50, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, repo := newForge(t)
			addPR(srv)
			run := forge.CheckRun{Name: "gitward/diff", HeadSHA: headSHA, Conclusion: forge.ConclusionFailure, Summary: "many findings"}
			if tt.existing {
				run.ID = srv.AddCheckRun(repoName, githubtest.CheckRun{Name: "gitward/diff", HeadSHA: headSHA, Status: "in_progress"})
			}
			for i := range tt.count {
				run.Annotations = append(run.Annotations, forge.Annotation{
					Path: fmt.Sprintf("apps/a%03d.yaml", i), StartLine: i + 1, EndLine: i + 2, Level: forge.AnnotationWarning, Title: "finding", Message: fmt.Sprint(i),
				})
			}
			out, err := f.PublishCheck(ctx, repo, run)
			if err != nil {
				t.Fatal(err)
			}
			if got := annotationBatches(t, srv); !reflect.DeepEqual(got, tt.batches) {
				t.Errorf("annotations per request = %v, want %v", got, tt.batches)
			}
			stored := srv.CheckRuns(repoName, headSHA)
			if len(stored) != 1 || stored[0].ID != out.ID {
				t.Fatalf("stored runs = %+v, want the one published", stored)
			}
			if len(stored[0].Annotations) != tt.count {
				t.Fatalf("stored %d annotations, want %d", len(stored[0].Annotations), tt.count)
			}
			for i, a := range stored[0].Annotations {
				if a.Message != fmt.Sprint(i) || a.StartLine != i+1 || a.EndLine != i+2 || a.AnnotationLevel != "warning" {
					t.Fatalf("annotation %d = %+v", i, a)
				}
			}
			if stored[0].Status != "completed" || stored[0].Conclusion != "failure" || stored[0].Summary != "many findings" {
				t.Errorf("stored run = %+v", stored[0])
			}
		})
	}

	t.Run("annotations get a first line, an end line not before it, a level and a title GitHub accepts", func(t *testing.T) {
		f, srv, repo := newForge(t)
		addPR(srv)
		_, err := f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/diff", HeadSHA: headSHA, Conclusion: forge.ConclusionFailure, Annotations: []forge.Annotation{
			{Path: "a.yaml", Message: "no line"},
			{Path: "b.yaml", StartLine: 9, EndLine: 3, Level: forge.AnnotationNotice, Message: "end before start", Title: strings.Repeat("t", 300)},
		}})
		if err != nil {
			t.Fatal(err)
		}
		got := srv.CheckRuns(repoName, headSHA)[0].Annotations
		if len(got) != 2 {
			t.Fatalf("annotations = %+v", got)
		}
		if a := got[0]; a.StartLine != 1 || a.EndLine != 1 || a.AnnotationLevel != "failure" || a.Title != "" {
			t.Errorf("annotation without a line = %+v", a)
		}
		if a := got[1]; a.StartLine != 9 || a.EndLine != 9 || a.AnnotationLevel != "notice" || utf8.RuneCountInString(a.Title) != 255 {
			t.Errorf("annotation ending before it starts = start %d end %d level %s title of %d characters", a.StartLine, a.EndLine, a.AnnotationLevel, utf8.RuneCountInString(a.Title))
		}
	})

	for _, tt := range []struct {
		name    string
		summary string
		cut     bool
	}{
		{name: "a summary of exactly 65535 characters is sent whole", summary: strings.Repeat("é", 65535)},
		{name: "a summary over 65535 characters is cut with a marker and accepted", summary: strings.Repeat("é", 70000), cut: true},
		{name: "a summary over 65535 bytes but not characters is sent whole", summary: strings.Repeat("日", 30000)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, repo := newForge(t)
			addPR(srv)
			_, err := f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/diff", HeadSHA: headSHA, Conclusion: forge.ConclusionNeutral, Summary: tt.summary, Text: tt.summary})
			if err != nil {
				t.Fatal(err)
			}
			got := srv.CheckRuns(repoName, headSHA)[0]
			for field, v := range map[string]string{"summary": got.Summary, "text": got.Text} {
				n := utf8.RuneCountInString(v)
				switch {
				case !utf8.ValidString(v):
					t.Errorf("%s is not valid UTF-8 after cutting", field)
				case tt.cut && (n != github.MaxCheckOutputChars || !strings.HasSuffix(v, cutMarker) || !strings.HasPrefix(v, "éé")):
					t.Errorf("%s has %d characters and ends %q; want %d ending with the marker", field, n, v[max(0, len(v)-80):], github.MaxCheckOutputChars)
				case !tt.cut && v != tt.summary:
					t.Errorf("%s was changed (%d characters)", field, n)
				}
			}
		})
	}
}

func TestComment(t *testing.T) {
	ctx := context.Background()

	t.Run("creates, edits and deletes a comment as the app", func(t *testing.T) {
		f, srv, repo := newForge(t)
		addPR(srv)
		c, err := f.CreateComment(ctx, forge.Thread{Repo: repo, Number: 7}, "## gitward\nall good")
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || c.Body != "## gitward\nall good" || c.User.Login != "gitward[bot]" || !c.User.Bot ||
			c.URL != fmt.Sprintf("https://github.com/acme/gitops/pull/7#issuecomment-%d", c.ID) || c.CreatedAt.IsZero() {
			t.Errorf("comment = %+v", c)
		}
		if err := f.EditComment(ctx, forge.Thread{Repo: repo, Number: 7}, c.ID, "## gitward\nedited"); err != nil {
			t.Fatal(err)
		}
		if got := srv.Comments(repoName, 7); len(got) != 1 || got[0].Body != "## gitward\nedited" {
			t.Errorf("comments after edit = %+v", got)
		}
		if err := f.DeleteComment(ctx, forge.Thread{Repo: repo, Number: 7}, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := srv.Comments(repoName, 7); len(got) != 0 {
			t.Errorf("comments after delete = %+v", got)
		}
		if err := f.DeleteComment(ctx, forge.Thread{Repo: repo, Number: 7}, c.ID); err != nil {
			t.Errorf("deleting a comment already gone: %v", err)
		}
	})

	t.Run("editing a missing comment is not found", func(t *testing.T) {
		f, _, repo := newForge(t)
		if err := f.EditComment(ctx, forge.Thread{Repo: repo, Number: 7}, 424242, "x"); !errors.Is(err, forge.ErrNotFound) {
			t.Errorf("err = %v, want forge.ErrNotFound", err)
		}
	})

	t.Run("commenting on a missing pull request is not found", func(t *testing.T) {
		f, _, repo := newForge(t)
		if _, err := f.CreateComment(ctx, forge.Thread{Repo: repo, Number: 404}, "x"); !errors.Is(err, forge.ErrNotFound) {
			t.Errorf("err = %v, want forge.ErrNotFound", err)
		}
	})

	for _, tt := range []struct {
		name string
		body string
		ok   bool
	}{
		{name: "a body of exactly 65536 characters is sent", body: strings.Repeat("é", github.MaxCommentChars), ok: true},
		{name: "a body of 65537 characters is refused without calling GitHub", body: strings.Repeat("x", github.MaxCommentChars+1)},
		{name: "a body of 65537 multi-byte characters is refused without calling GitHub", body: strings.Repeat("日", github.MaxCommentChars+1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, repo := newForge(t)
			addPR(srv)
			id := srv.AddComment(repoName, 7, githubtest.Comment{User: "gitward[bot]", Body: "old"})
			_, createErr := f.CreateComment(ctx, forge.Thread{Repo: repo, Number: 7}, tt.body)
			editErr := f.EditComment(ctx, forge.Thread{Repo: repo, Number: 7}, id, tt.body)
			for op, err := range map[string]error{"CreateComment": createErr, "EditComment": editErr} {
				if tt.ok && err != nil {
					t.Errorf("%s: %v", op, err)
				}
				if !tt.ok && (err == nil || !strings.Contains(err.Error(), "over GitHub's limit of 65536")) {
					t.Errorf("%s: err = %v, want one about the limit", op, err)
				}
			}
			if !tt.ok {
				if n := len(srv.Requests()); n != 0 {
					t.Errorf("%d requests sent", n)
				}
				if got := srv.Comments(repoName, 7); len(got) != 1 || got[0].Body != "old" {
					t.Errorf("the comments changed: %d now", len(got))
				}
			}
		})
	}
}

func TestLabels(t *testing.T) {
	ctx := context.Background()

	t.Run("adds labels once each", func(t *testing.T) {
		f, srv, repo := newForge(t)
		addPR(srv)
		if err := f.AddLabels(ctx, forge.Thread{Repo: repo, Number: 7}, "gitward/breakglass", "needs-review"); err != nil {
			t.Fatal(err)
		}
		if err := f.AddLabels(ctx, forge.Thread{Repo: repo, Number: 7}, "needs-review"); err != nil {
			t.Fatal(err)
		}
		if got := srv.Labels(repoName, 7); !reflect.DeepEqual(got, []string{"gitward/breakglass", "needs-review"}) {
			t.Errorf("labels = %q", got)
		}
	})

	t.Run("labelling a missing pull request is not found", func(t *testing.T) {
		f, _, repo := newForge(t)
		if err := f.AddLabels(ctx, forge.Thread{Repo: repo, Number: 404}, "x"); !errors.Is(err, forge.ErrNotFound) {
			t.Errorf("err = %v, want forge.ErrNotFound", err)
		}
	})

	for _, label := range []string{"needs-review", "gitward/breakglass", "needs review", "50% rollout", "priority#1", "why?"} {
		t.Run(fmt.Sprintf("removes the label %q and only it", label), func(t *testing.T) {
			f, srv, repo := newForge(t)
			srv.AddPullRequest(repoName, githubtest.PullRequest{Number: 7, Title: "t", Author: "alice", BaseSHA: baseSHA, HeadRef: "x", HeadSHA: headSHA,
				Labels: []string{label, "keep", "priority", "50%", "gitward"}})
			if err := f.RemoveLabel(ctx, forge.Thread{Repo: repo, Number: 7}, label); err != nil {
				t.Fatal(err)
			}
			want := []string{"50%", "gitward", "keep", "priority"}
			if got := srv.Labels(repoName, 7); !reflect.DeepEqual(got, want) {
				t.Errorf("labels = %q, want %q", got, want)
			}
			if err := f.RemoveLabel(ctx, forge.Thread{Repo: repo, Number: 7}, label); err != nil {
				t.Errorf("removing it again: %v", err)
			}
		})
	}
}

func TestIssues(t *testing.T) {
	ctx := context.Background()
	f, srv, repo := newForge(t)
	addPR(srv)
	issue, err := f.CreateIssue(ctx, repo, forge.Issue{Title: "Post-incident review: INC-42", Body: "What happened", Labels: []string{"gitward/breakglass", "incident"}})
	if err != nil {
		t.Fatal(err)
	}
	want := forge.Issue{Number: 8, Title: "Post-incident review: INC-42", Body: "What happened", URL: "https://github.com/acme/gitops/issues/8",
		State: "open", Labels: []string{"gitward/breakglass", "incident"}}
	if !reflect.DeepEqual(issue, want) {
		t.Errorf("issue = %+v\nwant %+v", issue, want)
	}
	if err := f.CloseIssue(ctx, repo, issue.Number); err != nil {
		t.Fatal(err)
	}
	stored := srv.Issues(repoName)
	if len(stored) != 1 || stored[0].State != "closed" || stored[0].ClosedAt.IsZero() || !reflect.DeepEqual(stored[0].Labels, want.Labels) {
		t.Errorf("stored issues = %+v", stored)
	}

	long, err := f.CreateIssue(ctx, repo, forge.Issue{Title: "Drift report", Body: strings.Repeat("d", 70000)})
	if err != nil {
		t.Fatalf("an issue body over the limit: %v", err)
	}
	if n := utf8.RuneCountInString(long.Body); n != github.MaxCommentChars || !strings.HasSuffix(long.Body, cutMarker) {
		t.Errorf("long issue body has %d characters, want %d ending with the marker", n, github.MaxCommentChars)
	}
	if err := f.CloseIssue(ctx, repo, 404); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("closing a missing issue: err = %v, want forge.ErrNotFound", err)
	}
}

func TestBranchHead(t *testing.T) {
	ctx := context.Background()
	f, srv, repo := newForge(t)
	srv.SetRef(repoName, "heads/main", baseSHA)
	srv.SetRef(repoName, "heads/gitward/capture-1", headSHA)
	srv.SetRef(repoName, "tags/main-tag", sha(3))
	for _, tt := range []struct {
		name, branch, want string
	}{
		{name: "the default branch", branch: "main", want: baseSHA},
		{name: "a branch with a slash in its name", branch: "gitward/capture-1", want: headSHA},
		{name: "a missing branch is not found", branch: "nope"},
		{name: "a tag is not a branch", branch: "main-tag"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.BranchHead(ctx, repo, tt.branch)
			if tt.want == "" {
				if !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "branch "+tt.branch) {
					t.Errorf("BranchHead = %q, %v; want forge.ErrNotFound naming the branch", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("BranchHead = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// seedMain gives main a tree at baseSHA.
func seedMain(srv *githubtest.Server) map[string]string {
	files := map[string]string{
		"apps/web/deployment.yaml": "replicas: 1\n",
		"apps/web/service.yaml":    "port: 80\n",
		"README.md":                "hi\n",
	}
	srv.SetTree(repoName, baseSHA, files)
	srv.SetRef(repoName, "heads/main", baseSHA)
	return files
}

func TestCommitToBranch(t *testing.T) {
	ctx := context.Background()

	t.Run("creates a branch from Parent, then fast-forwards it from its head", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		const branch = "gitward/capture-1"
		first, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{
			Branch: branch, Parent: baseSHA, Message: "Capture break-glass change",
			Files: []forge.FileChange{
				{Path: "apps/web/deployment.yaml", Content: []byte("replicas: 5\n")},
				{Path: "apps/web/hpa.yaml", Content: []byte("maxReplicas: 9\n")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.Ref(repoName, "heads/"+branch); got != first {
			t.Errorf("branch = %s, want the new commit %s", got, first)
		}
		if c, ok := srv.GitCommit(repoName, first); !ok || !reflect.DeepEqual(c.Parents, []string{baseSHA}) || c.Message != "Capture break-glass change" {
			t.Errorf("commit = %+v", c)
		}
		want := map[string]string{
			"apps/web/deployment.yaml": "replicas: 5\n",
			"apps/web/hpa.yaml":        "maxReplicas: 9\n",
			"apps/web/service.yaml":    "port: 80\n",
			"README.md":                "hi\n",
		}
		if got := srv.Files(repoName, branch); !reflect.DeepEqual(got, want) {
			t.Errorf("files on the branch = %v\nwant %v", got, want)
		}
		if got := srv.Ref(repoName, "heads/main"); got != baseSHA {
			t.Errorf("main moved to %s", got)
		}

		head, err := f.BranchHead(ctx, repo, branch)
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{
			Branch: branch, ExpectedHead: head, Message: "Drop the service",
			Files: []forge.FileChange{{Path: "apps/web/service.yaml"}, {Path: "apps/web/empty.yaml", Content: []byte{}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.Ref(repoName, "heads/"+branch); got != second {
			t.Errorf("branch = %s, want %s", got, second)
		}
		if c, _ := srv.GitCommit(repoName, second); !reflect.DeepEqual(c.Parents, []string{first}) {
			t.Errorf("parents = %v, want [%s]", c.Parents, first)
		}
		delete(want, "apps/web/service.yaml")
		want["apps/web/empty.yaml"] = ""
		if got := srv.Files(repoName, branch); !reflect.DeepEqual(got, want) {
			t.Errorf("files after deleting one and writing an empty one = %v\nwant %v", got, want)
		}
	})

	t.Run("content that is not UTF-8 is written byte for byte", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		raw := []byte{0xff, 0xfe, 0x00, 'k', 0x80, '\n'}
		if _, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{
			Branch: "gitward/binary", Parent: baseSHA, Message: "bytes",
			Files: []forge.FileChange{{Path: "certs/ca.der", Content: raw}, {Path: "text.yaml", Content: []byte("ünïcode: ✓\n")}},
		}); err != nil {
			t.Fatal(err)
		}
		files := srv.Files(repoName, "gitward/binary")
		if got := files["certs/ca.der"]; got != string(raw) {
			t.Errorf("binary file = %q, want %q", got, raw)
		}
		if got := files["text.yaml"]; got != "ünïcode: ✓\n" {
			t.Errorf("text file = %q", got)
		}
	})

	t.Run("a stale ExpectedHead is a conflict and leaves the branch alone", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		first, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "main", ExpectedHead: baseSHA, Message: "one",
			Files: []forge.FileChange{{Path: "a.yaml", Content: []byte("a\n")}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "main", ExpectedHead: baseSHA, Message: "two",
			Files: []forge.FileChange{{Path: "b.yaml", Content: []byte("b\n")}}})
		if !errors.Is(err, forge.ErrConflict) || !strings.Contains(err.Error(), "move branch main") {
			t.Errorf("err = %v, want forge.ErrConflict naming the branch", err)
		}
		if got := srv.Ref(repoName, "heads/main"); got != first {
			t.Errorf("main = %s, want %s", got, first)
		}
	})

	t.Run("creating a branch that already exists is a conflict", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		srv.SetRef(repoName, "heads/gitward/capture-1", headSHA)
		_, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "gitward/capture-1", Parent: baseSHA, Message: "x",
			Files: []forge.FileChange{{Path: "a.yaml", Content: []byte("a\n")}}})
		if !errors.Is(err, forge.ErrConflict) || !strings.Contains(err.Error(), "create branch gitward/capture-1") {
			t.Errorf("err = %v, want forge.ErrConflict", err)
		}
		if got := srv.Ref(repoName, "heads/gitward/capture-1"); got != headSHA {
			t.Errorf("branch moved to %s", got)
		}
	})

	t.Run("an unknown parent is not found", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		_, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "x", Parent: sha(404), Message: "x"})
		if !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "parent commit 0000000") {
			t.Errorf("err = %v, want forge.ErrNotFound naming the parent", err)
		}
	})

	t.Run("no ExpectedHead and no Parent is refused without calling GitHub", func(t *testing.T) {
		f, srv, repo := newForge(t)
		if _, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "x", Message: "x"}); err == nil || !strings.Contains(err.Error(), "no parent") {
			t.Errorf("err = %v", err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})

	for _, writers := range []int{2, 8} {
		t.Run(fmt.Sprintf("of %d concurrent writers from the same head exactly one wins", writers), func(t *testing.T) {
			f, srv, repo := newForge(t)
			seedMain(srv)
			start := make(chan struct{})
			var wg sync.WaitGroup
			shas := make([]string, writers)
			errs := make([]error, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					shas[i], errs[i] = f.CommitToBranch(ctx, repo, forge.BranchCommit{
						Branch: "main", ExpectedHead: baseSHA, Message: fmt.Sprintf("writer %d", i),
						Files: []forge.FileChange{{Path: fmt.Sprintf("w%d.yaml", i), Content: []byte("x\n")}},
					})
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("writers %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, forge.ErrConflict):
					t.Errorf("writer %d: err = %v, want forge.ErrConflict", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			if got := srv.Ref(repoName, "heads/main"); got != shas[winner] {
				t.Errorf("main = %s, want the winner's %s", got, shas[winner])
			}
			files := srv.Files(repoName, "main")
			var written []string
			for p := range files {
				if strings.HasPrefix(p, "w") {
					written = append(written, p)
				}
			}
			sort.Strings(written)
			if want := []string{fmt.Sprintf("w%d.yaml", winner)}; !reflect.DeepEqual(written, want) {
				t.Errorf("files written on main = %v, want only the winner's %v", written, want)
			}
		})
	}
}

func TestPullRequestPublishing(t *testing.T) {
	ctx := context.Background()

	t.Run("finds nothing, opens a labelled pull request, finds it and updates it", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		srv.SetRef(repoName, "heads/gitward/capture-1", headSHA)
		srv.AddCommit(repoName, 0, githubtest.Commit{SHA: headSHA, Parents: []string{baseSHA}, Message: "capture"})

		if _, err := f.FindPullRequest(ctx, repo, "gitward/capture-1", "main"); !errors.Is(err, forge.ErrNotFound) {
			t.Fatalf("before opening: err = %v, want forge.ErrNotFound", err)
		}
		pr, err := f.CreatePullRequest(ctx, repo, forge.NewPullRequest{
			Title: "Post-incident: capture INC-42", Body: "Captured from the cluster.",
			Head: "gitward/capture-1", Base: "main", Labels: []string{"gitward/capture", "needs-review"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if pr.Ref.Number == 0 || pr.Ref.Repo != repo || pr.Title != "Post-incident: capture INC-42" || pr.State != forge.PROpen ||
			pr.HeadRef != "gitward/capture-1" || pr.HeadSHA != headSHA || pr.BaseRef != "main" || pr.BaseSHA != baseSHA ||
			pr.Author.Login != "gitward[bot]" || !pr.Author.Bot {
			t.Errorf("opened = %+v", pr)
		}
		if got := srv.Labels(repoName, pr.Ref.Number); !reflect.DeepEqual(got, []string{"gitward/capture", "needs-review"}) {
			t.Errorf("labels = %q", got)
		}

		found, err := f.FindPullRequest(ctx, repo, "gitward/capture-1", "main")
		if err != nil || found.Ref.Number != pr.Ref.Number {
			t.Fatalf("found = %+v, %v; want #%d", found, err, pr.Ref.Number)
		}
		if err := f.UpdatePullRequest(ctx, pr.Ref, "Post-incident: capture INC-42 (2 objects)", "Updated."); err != nil {
			t.Fatal(err)
		}
		got, err := f.PullRequest(ctx, pr.Ref)
		if err != nil || got.Title != "Post-incident: capture INC-42 (2 objects)" || got.Body != "Updated." {
			t.Errorf("after update = %+v, %v", got, err)
		}
	})

	t.Run("finds only an open pull request of this repository's branch into that base", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		srv.SetRef(repoName, "heads/release", sha(5))
		srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "closed", Author: "a", State: "closed", BaseRef: "main", BaseSHA: baseSHA, HeadRef: "capture", HeadSHA: headSHA})
		srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "other base", Author: "a", BaseRef: "release", BaseSHA: sha(5), HeadRef: "capture", HeadSHA: headSHA})
		srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "fork", Author: "m", BaseRef: "main", BaseSHA: baseSHA, HeadRef: "capture", HeadSHA: headSHA, HeadRepo: "mallory/gitops"})
		if pr, err := f.FindPullRequest(ctx, repo, "capture", "main"); !errors.Is(err, forge.ErrNotFound) {
			t.Errorf("found %+v, %v; want forge.ErrNotFound", pr, err)
		}
		want := srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "this one", Author: "a", BaseRef: "main", BaseSHA: baseSHA, HeadRef: "capture", HeadSHA: headSHA})
		if pr, err := f.FindPullRequest(ctx, repo, "capture", "main"); err != nil || pr.Ref.Number != want {
			t.Errorf("found %+v, %v; want #%d", pr, err, want)
		}
	})

	t.Run("opening a second pull request for the same branches is an error", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		srv.SetRef(repoName, "heads/capture", headSHA)
		npr := forge.NewPullRequest{Title: "t", Head: "capture", Base: "main"}
		if _, err := f.CreatePullRequest(ctx, repo, npr); err != nil {
			t.Fatal(err)
		}
		if _, err := f.CreatePullRequest(ctx, repo, npr); err == nil || !strings.Contains(err.Error(), "open pull request from capture") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("a body over the comment limit is cut with a marker", func(t *testing.T) {
		f, srv, repo := newForge(t)
		seedMain(srv)
		srv.SetRef(repoName, "heads/capture", headSHA)
		pr, err := f.CreatePullRequest(ctx, repo, forge.NewPullRequest{Title: "t", Head: "capture", Base: "main", Body: strings.Repeat("b", 70000)})
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCountInString(pr.Body); n != github.MaxCommentChars || !strings.HasSuffix(pr.Body, cutMarker) {
			t.Errorf("body has %d characters", n)
		}
		if err := f.UpdatePullRequest(ctx, pr.Ref, "t", strings.Repeat("u", 70000)); err != nil {
			t.Fatal(err)
		}
	})
}

// operation is one adapter call, for tests that run every call the same
// way.
type operation struct {
	name   string
	method string // of the request to fail
	path   string // GitHub's path template of that request
	want   string // what the error must say
	call   func(ctx context.Context, f *github.Forge, repo forge.Repo) error
}

// operations returns every adapter call, against a double seeded so that
// each would succeed.
func operations(srv *githubtest.Server) []operation {
	ref := addPR(srv)
	seedMain(srv)
	srv.SetTree(repoName, headSHA, map[string]string{".gitward.yaml": "version: 1\n"})
	srv.SetRef(repoName, "heads/capture", headSHA)
	srv.SetPermission(repoName, "bob", "write")
	srv.SetTeamMember("acme", "platform", "bob", "member", "active")
	comment := srv.AddComment(repoName, 7, githubtest.Comment{User: "gitward[bot]", Body: "old"})
	issue := srv.AddIssue(repoName, githubtest.Issue{Title: "incident", Author: "carol"})
	runID := srv.AddCheckRun(repoName, githubtest.CheckRun{Name: "gitward/diff", HeadSHA: headSHA, Status: "in_progress"})
	srv.AddPullRequest(repoName, githubtest.PullRequest{Number: 9, Title: "existing", Author: "a", BaseRef: "main", BaseSHA: baseSHA, HeadRef: "capture", HeadSHA: headSHA})
	srv.SetRef(repoName, "heads/new-pr", headSHA)
	many := make([]forge.Annotation, 60)
	for i := range many {
		many[i] = forge.Annotation{Path: "a.yaml", StartLine: 1, Message: "m"}
	}
	ignore := func(_ any, err error) error { return err }
	return []operation{
		{"Repositories lists installations", "GET", "/app/installations", "list installations",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error { return ignore(f.Repositories(ctx)) }},
		{"Repositories lists an installation's repositories", "GET", "/installation/repositories", "list repositories of installation 1",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error { return ignore(f.Repositories(ctx)) }},
		{"PullRequest", "GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "get pull request acme/gitops#7",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error { return ignore(f.PullRequest(ctx, ref)) }},
		{"OpenPullRequests", "GET", "/repos/{owner}/{repo}/pulls", "list pull requests of acme/gitops",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.OpenPullRequests(ctx, repo))
			}},
		{"Commits", "GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", "list commits of acme/gitops#7",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error { return ignore(f.Commits(ctx, ref)) }},
		{"Reviews", "GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "list reviews of acme/gitops#7",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error { return ignore(f.Reviews(ctx, ref)) }},
		{"Comments", "GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "list comments of acme/gitops#7",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error {
				return ignore(f.Comments(ctx, ref.Thread()))
			}},
		{"ChangedFiles", "GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", "list files of acme/gitops#7",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error {
				return ignore(f.ChangedFiles(ctx, ref))
			}},
		{"Permission", "GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", "permission of bob on acme/gitops",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.Permission(ctx, repo, "bob"))
			}},
		{"TeamMember", "GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", "membership of bob in team acme/platform",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.TeamMember(ctx, repo, "acme/platform", "bob"))
			}},
		{"File", "GET", "/repos/{owner}/{repo}/contents/{path}", "read .gitward.yaml at 2222222",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.File(ctx, repo, headSHA, ".gitward.yaml"))
			}},
		{"Snapshot", "GET", "/repos/{owner}/{repo}/tarball/{ref}", "archive link for acme/gitops at 2222222",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				snap, err := f.Snapshot(ctx, repo, headSHA)
				if err == nil {
					snap.Release()
				}
				return err
			}},
		{"CheckRuns", "GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", "list check runs on 2222222",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.CheckRuns(ctx, repo, headSHA))
			}},
		{"PublishCheck creating a run", "POST", "/repos/{owner}/{repo}/check-runs", `create check run "gitward/change-control" on 2222222`,
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/change-control", HeadSHA: headSHA, Conclusion: forge.ConclusionSuccess}))
			}},
		{"PublishCheck updating a run", "PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", fmt.Sprintf(`update check run "gitward/diff" (%d)`, runID),
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.PublishCheck(ctx, repo, forge.CheckRun{ID: runID, Name: "gitward/diff", HeadSHA: headSHA, Conclusion: forge.ConclusionSuccess}))
			}},
		{"PublishCheck adding annotations", "PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", `add annotations to check run "gitward/drift"`,
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.PublishCheck(ctx, repo, forge.CheckRun{Name: "gitward/drift", HeadSHA: headSHA, Conclusion: forge.ConclusionFailure, Annotations: many}))
			}},
		{"CreateComment", "POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "comment on acme/gitops#7",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.CreateComment(ctx, forge.Thread{Repo: repo, Number: 7}, "hi"))
			}},
		{"EditComment", "PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", fmt.Sprintf("edit comment %d", comment),
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return f.EditComment(ctx, forge.Thread{Repo: repo, Number: 7}, comment, "new")
			}},
		{"DeleteComment", "DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", fmt.Sprintf("delete comment %d", comment),
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return f.DeleteComment(ctx, forge.Thread{Repo: repo, Number: 7}, comment)
			}},
		{"AddLabels", "POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "label acme/gitops#7",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return f.AddLabels(ctx, forge.Thread{Repo: repo, Number: 7}, "x")
			}},
		{"RemoveLabel", "DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", `remove label "x" from acme/gitops#7`,
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return f.RemoveLabel(ctx, forge.Thread{Repo: repo, Number: 7}, "x")
			}},
		{"CreateIssue", "POST", "/repos/{owner}/{repo}/issues", `open issue "Drift"`,
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.CreateIssue(ctx, repo, forge.Issue{Title: "Drift"}))
			}},
		{"CloseIssue", "PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", fmt.Sprintf("close issue acme/gitops#%d", issue),
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return f.CloseIssue(ctx, repo, issue)
			}},
		{"BranchHead", "GET", "/repos/{owner}/{repo}/git/ref/{ref}", "read branch main",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.BranchHead(ctx, repo, "main"))
			}},
		{"CommitToBranch reading the parent", "GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", "read parent commit 1111111",
			commitTo("main", baseSHA, "")},
		{"CommitToBranch writing a binary blob", "POST", "/repos/{owner}/{repo}/git/blobs", "write certs/ca.der for main",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				_, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: "main", ExpectedHead: baseSHA, Message: "m",
					Files: []forge.FileChange{{Path: "certs/ca.der", Content: []byte{0xff}}}})
				return err
			}},
		{"CommitToBranch writing the tree", "POST", "/repos/{owner}/{repo}/git/trees", "write tree for main",
			commitTo("main", baseSHA, "")},
		{"CommitToBranch writing the commit", "POST", "/repos/{owner}/{repo}/git/commits", "write commit for main",
			commitTo("main", baseSHA, "")},
		{"CommitToBranch moving the branch", "PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", "move branch main",
			commitTo("main", baseSHA, "")},
		{"CommitToBranch creating the branch", "POST", "/repos/{owner}/{repo}/git/refs", "create branch fresh",
			commitTo("fresh", "", baseSHA)},
		{"FindPullRequest", "GET", "/repos/{owner}/{repo}/pulls", "list pull requests of acme/gitops",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.FindPullRequest(ctx, repo, "capture", "main"))
			}},
		{"CreatePullRequest", "POST", "/repos/{owner}/{repo}/pulls", "open pull request from new-pr",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.CreatePullRequest(ctx, repo, forge.NewPullRequest{Title: "t", Head: "new-pr", Base: "main", Labels: []string{"l"}}))
			}},
		{"CreatePullRequest labelling it", "POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "label acme/gitops#",
			func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
				return ignore(f.CreatePullRequest(ctx, repo, forge.NewPullRequest{Title: "t", Head: "new-pr", Base: "main", Labels: []string{"l"}}))
			}},
		{"UpdatePullRequest", "PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", "update acme/gitops#7",
			func(ctx context.Context, f *github.Forge, _ forge.Repo) error {
				return f.UpdatePullRequest(ctx, ref, "t", "b")
			}},
	}
}

func commitTo(branch, expected, parent string) func(context.Context, *github.Forge, forge.Repo) error {
	return func(ctx context.Context, f *github.Forge, repo forge.Repo) error {
		_, err := f.CommitToBranch(ctx, repo, forge.BranchCommit{Branch: branch, ExpectedHead: expected, Parent: parent, Message: "m",
			Files: []forge.FileChange{{Path: "a.yaml", Content: []byte("a\n")}}})
		return err
	}
}

// operationNames lists the names of operations, in order.
func operationNames(t *testing.T) []string {
	srv := githubtest.New(t)
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	var names []string
	for _, op := range operations(srv) {
		names = append(names, op.name)
	}
	return names
}

func TestServerErrorsNameTheOperation(t *testing.T) {
	ctx := context.Background()
	for i, name := range operationNames(t) {
		t.Run(name, func(t *testing.T) {
			f, srv, repo := newForge(t)
			op := operations(srv)[i]
			srv.FailNext(op.method, op.path, http.StatusInternalServerError, 1)
			err := op.call(ctx, f, repo)
			if err == nil {
				t.Fatal("a 500 from GitHub was not an error")
			}
			if !strings.Contains(err.Error(), "github: "+op.want) || !strings.Contains(err.Error(), "500") {
				t.Errorf("err = %q, want it to mention \"github: %s\" and the status 500", err, op.want)
			}
			if errors.Is(err, forge.ErrNotFound) || errors.Is(err, forge.ErrConflict) {
				t.Errorf("a 500 is reported as not found or a conflict: %v", err)
			}
			var failed int
			for _, r := range srv.Requests() {
				if r.Status == http.StatusInternalServerError {
					failed++
				}
			}
			if failed != 1 {
				t.Errorf("%d requests failed, want the one injected", failed)
			}
		})
	}
}

func TestRateLimitExhausted(t *testing.T) {
	ctx := context.Background()
	names := operationNames(t)
	for _, warm := range []bool{false, true} {
		for i, name := range names {
			name += " before any token"
			if warm {
				name = names[i] + " with a cached token"
			}
			t.Run(name, func(t *testing.T) {
				f, srv, repo := newForge(t)
				op := operations(srv)[i]
				if warm {
					if _, err := f.BranchHead(ctx, repo, "main"); err != nil {
						t.Fatal(err)
					}
				}
				srv.SetRateLimitRemaining(0)
				var err error
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("panic: %v", p)
						}
					}()
					err = op.call(ctx, f, repo)
				}()
				if err == nil {
					t.Fatal("an exhausted rate limit was not an error")
				}
				// Without a token the refusal comes from ghinstallation, which
				// reports only the status of the token exchange.
				var rateErr *gh.RateLimitError
				if warm && !errors.As(err, &rateErr) {
					t.Errorf("err = %q, want it to wrap go-github's *RateLimitError", err)
				}
			})
		}
	}
}

func TestReactAcknowledgesACommand(t *testing.T) {
	f, gh, repo := newForge(t)
	n := gh.AddPullRequest("acme/gitops", githubtest.PullRequest{Author: "alice", BaseSHA: strings.Repeat("1", 40), HeadRef: "x", HeadSHA: strings.Repeat("2", 40)})
	id := gh.AddComment("acme/gitops", n, githubtest.Comment{User: "bob", Body: "/approve"})
	for _, content := range []string{"+1", "+1", "confused"} {
		if err := f.React(t.Context(), forge.Thread{Repo: repo, Number: 7}, id, content); err != nil {
			t.Fatal(err)
		}
	}
	got := gh.Reactions("acme/gitops", id)
	if len(got) < 2 || got[0] != "+1" {
		t.Errorf("reactions = %v", got)
	}
	if err := f.React(t.Context(), forge.Thread{Repo: repo, Number: 7}, 999999, "+1"); err == nil {
		t.Error("reacting to a missing comment succeeded")
	}
}
