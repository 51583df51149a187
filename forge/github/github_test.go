package github_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/github/githubtest"
	"github.com/gitward/gitward/forge/snapshot"
	gh "github.com/google/go-github/v60/github"
	"github.com/gregjones/httpcache"
	"github.com/palantir/go-githubapp/githubapp"
)

const (
	repoName = "acme/gitops"
	baseSHA  = "1111111111111111111111111111111111111111"
	headSHA  = "2222222222222222222222222222222222222222"
)

var (
	keyOnce sync.Once
	keyPEM  string
	keyErr  error
)

// privateKey returns an RSA key for the app, generated once per test binary
// because generating one is slow.
func privateKey(t testing.TB) string {
	t.Helper()
	keyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			keyErr = err
			return
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keyPEM
}

// newForge starts a GitHub double holding installation 1 on "acme" with the
// repository acme/gitops, and returns the adapter built the way the server
// builds it, the double and the repository.
func newForge(t *testing.T) (*github.Forge, *githubtest.Server, forge.Repo) {
	t.Helper()
	srv := githubtest.New(t)
	srv.AddInstallation(1, "acme")
	srv.AddRepo(1, "acme", "gitops", "main")
	repo := forge.Repo{Host: "github.com", Owner: "acme", Name: "gitops", InstallationID: 1, DefaultBranch: "main"}
	return forgeFor(t, srv, srv.URL+"/", github.Options{}), srv, repo
}

// forgeFor builds the adapter on go-githubapp's caching ClientCreator, as
// app.NewServer does, talking to srv at apiURL. Options left zero get the
// double's app ID and a snapshot cache in a temporary folder.
func forgeFor(t testing.TB, srv *githubtest.Server, apiURL string, opts github.Options) *github.Forge {
	t.Helper()
	cfg := githubapp.Config{V3APIURL: apiURL}
	cfg.App.IntegrationID = githubtest.DefaultAppID
	cfg.App.PrivateKey = privateKey(t)
	clients, err := githubapp.NewDefaultCachingClientCreator(cfg,
		githubapp.WithClientUserAgent("gitward-test"),
		githubapp.WithClientTimeout(30*time.Second),
		githubapp.WithClientCaching(false, func() httpcache.Cache { return httpcache.NewMemoryCache() }),
	)
	if err != nil {
		t.Fatal(err)
	}
	if opts.AppID == 0 {
		opts.AppID = githubtest.DefaultAppID
	}
	if opts.Snapshots == nil {
		cache, err := snapshot.NewCache(t.TempDir(), 64<<20)
		if err != nil {
			t.Fatal(err)
		}
		opts.Snapshots = cache
	}
	return github.New(clients, opts)
}

// sha returns a distinct 40-digit commit SHA for n.
func sha(n int) string { return fmt.Sprintf("%040x", n) }

// addPR seeds pull request 7 from scale-web into main.
func addPR(srv *githubtest.Server) forge.PRRef {
	srv.AddPullRequest(repoName, githubtest.PullRequest{
		Number: 7, Title: "Scale web to 3", Body: "Please review", Author: "alice",
		BaseRef: "main", BaseSHA: baseSHA, HeadRef: "scale-web", HeadSHA: headSHA,
	})
	return forge.PRRef{Repo: forge.Repo{Host: "github.com", Owner: "acme", Name: "gitops", InstallationID: 1, DefaultBranch: "main"}, Number: 7}
}

func TestRepositories(t *testing.T) {
	ctx := context.Background()

	t.Run("lists the repositories of every installation, skipping suspended installations and archived repositories", func(t *testing.T) {
		srv := githubtest.New(t)
		srv.AddInstallation(1, "acme")
		srv.AddInstallation(2, "globex")
		srv.AddInstallation(3, "initech")
		srv.SuspendInstallation(3)
		srv.AddRepo(1, "acme", "gitops", "main")
		srv.AddRepo(1, "acme", "infra", "trunk")
		srv.AddRepo(1, "acme", "legacy", "main")
		srv.ArchiveRepo("acme/legacy")
		srv.AddRepo(2, "globex", "apps", "main")
		srv.AddRepo(3, "initech", "secret", "main")
		f := forgeFor(t, srv, srv.URL+"/", github.Options{})

		repos, err := f.Repositories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []forge.Repo{
			{Host: "github.com", Owner: "acme", Name: "gitops", InstallationID: 1, DefaultBranch: "main"},
			{Host: "github.com", Owner: "acme", Name: "infra", InstallationID: 1, DefaultBranch: "trunk"},
			{Host: "github.com", Owner: "globex", Name: "apps", InstallationID: 2, DefaultBranch: "main"},
		}
		if !reflect.DeepEqual(repos, want) {
			t.Errorf("repositories = %+v\nwant %+v", repos, want)
		}
		if got := srv.Calls("apps/create-installation-access-token"); got != 2 {
			t.Errorf("access tokens requested %d times, want 2 (none for the suspended installation)", got)
		}
	})

	t.Run("follows pagination past 100 repositories", func(t *testing.T) {
		srv := githubtest.New(t)
		srv.AddInstallation(1, "acme")
		for i := range 150 {
			srv.AddRepo(1, "acme", fmt.Sprintf("repo-%03d", i), "main")
		}
		f := forgeFor(t, srv, srv.URL+"/", github.Options{})
		repos, err := f.Repositories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(repos) != 150 || repos[0].Name != "repo-000" || repos[149].Name != "repo-149" {
			t.Errorf("got %d repositories, want repo-000 … repo-149", len(repos))
		}
		if got := srv.Calls("apps/list-repos-accessible-to-installation"); got != 2 {
			t.Errorf("listed repositories in %d requests, want 2 pages of 100", got)
		}
	})

	t.Run("follows pagination past 100 installations", func(t *testing.T) {
		srv := githubtest.New(t)
		for id := int64(1); id <= 101; id++ {
			srv.AddInstallation(id, fmt.Sprintf("org-%03d", id))
		}
		srv.AddRepo(101, "org-101", "gitops", "main")
		f := forgeFor(t, srv, srv.URL+"/", github.Options{})
		repos, err := f.Repositories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(repos) != 1 || repos[0].FullName() != "org-101/gitops" || repos[0].InstallationID != 101 {
			t.Errorf("repositories = %+v, want org-101/gitops of installation 101", repos)
		}
		if got := srv.Calls("apps/list-installations"); got != 2 {
			t.Errorf("listed installations in %d requests, want 2", got)
		}
	})

	t.Run("names the Enterprise Server host and uses its /api/v3 base", func(t *testing.T) {
		srv := githubtest.New(t, githubtest.WithWebURL("https://ghe.example.com"))
		srv.AddInstallation(1, "acme")
		srv.AddRepo(1, "acme", "gitops", "main")
		srv.AddPullRequest(repoName, githubtest.PullRequest{Number: 7, Title: "t", Author: "alice", BaseSHA: baseSHA, HeadRef: "x", HeadSHA: headSHA})
		f := forgeFor(t, srv, srv.URL+"/api/v3/", github.Options{WebURL: "https://ghe.example.com/"})
		repos, err := f.Repositories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(repos) != 1 || repos[0].Host != "ghe.example.com" || repos[0].String() != "ghe.example.com/acme/gitops" {
			t.Fatalf("repositories = %+v", repos)
		}
		pr, err := f.PullRequest(ctx, forge.PRRef{Repo: repos[0], Number: 7})
		if err != nil || pr.URL != "https://ghe.example.com/acme/gitops/pull/7" {
			t.Errorf("pull request URL = %q, %v", pr.URL, err)
		}
		for _, r := range srv.Requests() {
			if !strings.HasPrefix(r.Path, "/api/v3/") {
				t.Errorf("%s %s is not under /api/v3", r.Method, r.Path)
			}
		}
	})
}

func TestPullRequest(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	updated := created.Add(2 * time.Hour)
	tests := []struct {
		name string
		seed githubtest.PullRequest
		want forge.PullRequest
	}{
		{
			name: "an open pull request from a branch of the repository",
			seed: githubtest.PullRequest{
				Number: 7, Title: "Scale web to 3", Body: "Please review", Author: "alice", Draft: true,
				BaseRef: "main", BaseSHA: baseSHA, HeadRef: "scale-web", HeadSHA: headSHA,
				Labels: []string{"apps/web", "needs-review"}, CreatedAt: created, UpdatedAt: updated,
			},
			want: forge.PullRequest{
				Title: "Scale web to 3", Body: "Please review", URL: "https://github.com/acme/gitops/pull/7",
				Author: forge.User{Login: "alice"}, State: forge.PROpen, Draft: true,
				BaseRef: "main", BaseSHA: baseSHA, HeadRef: "scale-web", HeadSHA: headSHA, HeadRepo: "acme/gitops",
				Labels: []string{"apps/web", "needs-review"}, CreatedAt: created, UpdatedAt: updated,
			},
		},
		{
			name: "a merged pull request carries its merge commit",
			seed: githubtest.PullRequest{
				Number: 7, Title: "Merged", Author: "alice", State: "closed", Merged: true, MergeCommitSHA: sha(99),
				BaseSHA: baseSHA, HeadRef: "done", HeadSHA: headSHA, CreatedAt: created, UpdatedAt: updated, ClosedAt: updated,
			},
			want: forge.PullRequest{
				Title: "Merged", URL: "https://github.com/acme/gitops/pull/7", Author: forge.User{Login: "alice"},
				State: forge.PRClosed, Merged: true, MergeSHA: sha(99), MergedAt: updated,
				BaseRef: "main", BaseSHA: baseSHA, HeadRef: "done", HeadSHA: headSHA, HeadRepo: "acme/gitops",
				CreatedAt: created, UpdatedAt: updated,
			},
		},
		{
			name: "a closed pull request that was not merged has no merge commit",
			seed: githubtest.PullRequest{
				Number: 7, Title: "Abandoned", Author: "alice", State: "closed", MergeCommitSHA: sha(98),
				BaseSHA: baseSHA, HeadRef: "nope", HeadSHA: headSHA, CreatedAt: created, UpdatedAt: updated, ClosedAt: updated,
			},
			want: forge.PullRequest{
				Title: "Abandoned", URL: "https://github.com/acme/gitops/pull/7", Author: forge.User{Login: "alice"},
				State: forge.PRClosed, BaseRef: "main", BaseSHA: baseSHA, HeadRef: "nope", HeadSHA: headSHA, HeadRepo: "acme/gitops",
				CreatedAt: created, UpdatedAt: updated,
			},
		},
		{
			name: "a pull request from a fork names the fork as its head repository",
			seed: githubtest.PullRequest{
				Number: 7, Title: "From a fork", Author: "mallory",
				BaseSHA: baseSHA, HeadRef: "main", HeadSHA: headSHA, HeadRepo: "mallory/gitops", CreatedAt: created, UpdatedAt: created,
			},
			want: forge.PullRequest{
				Title: "From a fork", URL: "https://github.com/acme/gitops/pull/7", Author: forge.User{Login: "mallory"},
				State: forge.PROpen, BaseRef: "main", BaseSHA: baseSHA, HeadRef: "main", HeadSHA: headSHA, HeadRepo: "mallory/gitops",
				CreatedAt: created, UpdatedAt: created,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, repo := newForge(t)
			srv.AddPullRequest(repoName, tt.seed)
			ref := forge.PRRef{Repo: repo, Number: 7}
			got, err := f.PullRequest(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Ref = ref
			want.Author.ID = srv.UserID(tt.seed.Author)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("pull request =\n%+v\nwant\n%+v", *got, want)
			}
		})
	}

	t.Run("a missing pull request is not found", func(t *testing.T) {
		f, _, repo := newForge(t)
		_, err := f.PullRequest(ctx, forge.PRRef{Repo: repo, Number: 404})
		if !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "acme/gitops#404") {
			t.Errorf("err = %v, want forge.ErrNotFound naming acme/gitops#404", err)
		}
	})

	t.Run("a repository without an installation is refused before calling GitHub", func(t *testing.T) {
		f, srv, repo := newForge(t)
		repo.InstallationID = 0
		if _, err := f.PullRequest(ctx, forge.PRRef{Repo: repo, Number: 7}); err == nil || !strings.Contains(err.Error(), "no installation ID") {
			t.Errorf("err = %v, want one about the missing installation ID", err)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
}

func TestConvertWebhookPayloads(t *testing.T) {
	created := time.Date(2019, 5, 15, 15, 20, 33, 0, time.UTC)
	tests := []struct {
		file   string
		name   string
		state  forge.PRState
		body   string
		update time.Time
	}{
		{file: "opened.payload.json", name: "an opened pull request", state: forge.PROpen,
			body: "This is a pretty simple change that we need to pull into master.", update: created},
		{file: "opened.with-null-body.json", name: "a pull request with a null body has an empty one", state: forge.PROpen, update: created},
		{file: "closed.payload.json", name: "a closed, unmerged pull request has no merge commit although GitHub sends one", state: forge.PRClosed,
			body: "This is a pretty simple change that we need to pull into master.", update: created.Add(45 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev gh.PullRequestEvent
			if err := json.Unmarshal(githubtest.Payload(t, "pull_request", tt.file), &ev); err != nil {
				t.Fatal(err)
			}
			f := github.New(nil, github.Options{})
			repo := f.RepoFromEvent(ev.GetInstallation().GetID(), ev.GetRepo())
			wantRepo := forge.Repo{Host: "github.com", Owner: "Codertocat", Name: "Hello-World", InstallationID: 1, DefaultBranch: "master"}
			if repo != wantRepo {
				t.Errorf("repo = %+v, want %+v", repo, wantRepo)
			}
			got := github.ConvertPullRequest(repo, ev.GetPullRequest())
			want := forge.PullRequest{
				Ref: forge.PRRef{Repo: wantRepo, Number: 2}, Title: "Update the README with new information.", Body: tt.body,
				URL: "https://github.com/Codertocat/Hello-World/pull/2", Author: forge.User{Login: "Codertocat", ID: 21031067},
				State: tt.state, BaseRef: "master", BaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
				HeadRef: "changes", HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", HeadRepo: "Codertocat/Hello-World",
				Labels: []string{"bug"}, CreatedAt: created, UpdatedAt: tt.update,
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("pull request =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestOpenPullRequests(t *testing.T) {
	f, srv, repo := newForge(t)
	for i := range 120 {
		srv.AddPullRequest(repoName, githubtest.PullRequest{Title: fmt.Sprintf("pr %d", i), Author: "alice", BaseSHA: baseSHA, HeadRef: fmt.Sprintf("b%d", i), HeadSHA: headSHA})
	}
	srv.AddPullRequest(repoName, githubtest.PullRequest{Title: "closed", State: "closed", Author: "alice", BaseSHA: baseSHA, HeadRef: "old", HeadSHA: headSHA})
	prs, err := f.OpenPullRequests(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, pr := range prs {
		if pr.State != forge.PROpen || pr.Ref.Repo != repo {
			t.Errorf("pull request %d: state %s, repo %+v", pr.Ref.Number, pr.State, pr.Ref.Repo)
		}
		seen[pr.Ref.Number] = true
	}
	if len(prs) != 120 || len(seen) != 120 {
		t.Errorf("got %d open pull requests (%d distinct), want 120", len(prs), len(seen))
	}
	if got := srv.Calls("pulls/list"); got != 2 {
		t.Errorf("listed in %d requests, want 2", got)
	}
}

func TestCommits(t *testing.T) {
	ctx := context.Background()
	when := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("maps identities, parents and signature verdicts", func(t *testing.T) {
		f, srv, _ := newForge(t)
		ref := addPR(srv)
		seeds := []githubtest.Commit{
			{
				SHA:       sha(1),
				Author:    githubtest.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: when},
				Committer: githubtest.Identity{Name: "GitHub", Email: "noreply@github.com", Login: "web-flow", Date: when.Add(time.Minute)},
				Message:   "Scale web to 3\n\nSigned-off-by: Alice",
				Verified:  true, Signature: "-----BEGIN SSH SIGNATURE-----\nabc\n-----END SSH SIGNATURE-----\n", Payload: "tree 4b825dc\nauthor Alice",
			},
			{
				SHA:       sha(2),
				Author:    githubtest.Identity{Name: "Mallory", Email: "mallory@evil.example", Date: when},
				Committer: githubtest.Identity{Name: "Mallory", Email: "mallory@evil.example", Date: when},
				Message:   "Sneak in a change",
			},
			{
				SHA:       sha(3),
				Author:    githubtest.Identity{Name: "Bob", Email: "bob@example.com", Login: "bob", Date: when},
				Committer: githubtest.Identity{Name: "Bob", Email: "bob@example.com", Login: "bob", Date: when},
				Message:   "Signed with a key GitHub does not know",
				Reason:    "unknown_key", Signature: "-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n", Payload: "tree 4b825dc\nauthor Bob",
			},
		}
		for _, c := range seeds {
			srv.AddCommit(repoName, 7, c)
		}
		got, err := f.Commits(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		want := []forge.Commit{
			{
				SHA: sha(1), Message: "Scale web to 3\n\nSigned-off-by: Alice",
				Author:    forge.Identity{Name: "Alice", Email: "alice@example.com", Login: "alice", Date: when},
				Committer: forge.Identity{Name: "GitHub", Email: "noreply@github.com", Login: "web-flow", Date: when.Add(time.Minute)},
				Parents:   []string{baseSHA},
				Signature: forge.Signature{Verified: true, Reason: "valid", Signature: seeds[0].Signature, Payload: seeds[0].Payload},
			},
			{
				SHA: sha(2), Message: "Sneak in a change",
				Author:    forge.Identity{Name: "Mallory", Email: "mallory@evil.example", Date: when},
				Committer: forge.Identity{Name: "Mallory", Email: "mallory@evil.example", Date: when},
				Parents:   []string{sha(1)},
				Signature: forge.Signature{Reason: "unsigned"},
			},
			{
				SHA: sha(3), Message: "Signed with a key GitHub does not know",
				Author:    forge.Identity{Name: "Bob", Email: "bob@example.com", Login: "bob", Date: when},
				Committer: forge.Identity{Name: "Bob", Email: "bob@example.com", Login: "bob", Date: when},
				Parents:   []string{sha(2)},
				Signature: forge.Signature{Reason: "unknown_key", Signature: seeds[2].Signature, Payload: seeds[2].Payload},
			},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("commits =\n%+v\nwant\n%+v", got, want)
		}
	})

	for _, tt := range []struct {
		name    string
		commits int
		pages   int
		wantErr string
	}{
		{name: "reads 120 commits across two pages, oldest first", commits: 120, pages: 2},
		{name: "reads 249 commits completely", commits: 249, pages: 3},
		{name: "reads 250 commits, GitHub's listing limit, when the pull request has no more", commits: 250, pages: 3},
		{name: "refuses 251 commits, of which GitHub lists 250, rather than check them partially", commits: 251, pages: 3, wantErr: "has 251 commits, and GitHub lists only the first 250"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, _ := newForge(t)
			ref := addPR(srv)
			for i := range tt.commits {
				srv.AddCommit(repoName, 7, githubtest.Commit{SHA: sha(i + 1), Message: fmt.Sprint(i)})
			}
			got, err := f.Commits(ctx, ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tt.commits {
					t.Fatalf("got %d commits, want %d", len(got), tt.commits)
				}
				for i, c := range got {
					if c.SHA != sha(i+1) {
						t.Fatalf("commit %d is %s, want %s", i, c.SHA, sha(i+1))
					}
				}
			}
			if calls := srv.Calls("pulls/list-commits"); calls != tt.pages {
				t.Errorf("listed in %d requests, want %d", calls, tt.pages)
			}
		})
	}
}

func TestReviews(t *testing.T) {
	ctx := context.Background()
	when := time.Date(2025, 3, 2, 8, 30, 0, 0, time.UTC)

	t.Run("maps state, commit and submission time", func(t *testing.T) {
		f, srv, _ := newForge(t)
		ref := addPR(srv)
		id1 := srv.AddReview(repoName, 7, githubtest.Review{User: "bob", State: "APPROVED", Body: "LGTM", CommitID: headSHA, SubmittedAt: when})
		id2 := srv.AddReview(repoName, 7, githubtest.Review{User: "carol", State: "CHANGES_REQUESTED", Body: "no", CommitID: baseSHA, SubmittedAt: when.Add(time.Hour)})
		id3 := srv.AddReview(repoName, 7, githubtest.Review{User: "dave", State: "DISMISSED", CommitID: headSHA, SubmittedAt: when.Add(2 * time.Hour)})
		got, err := f.Reviews(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		want := []forge.Review{
			{ID: id1, User: forge.User{Login: "bob", ID: srv.UserID("bob")}, State: forge.ReviewApproved, Body: "LGTM", CommitSHA: headSHA, SubmittedAt: when},
			{ID: id2, User: forge.User{Login: "carol", ID: srv.UserID("carol")}, State: forge.ReviewChangesRequested, Body: "no", CommitSHA: baseSHA, SubmittedAt: when.Add(time.Hour)},
			{ID: id3, User: forge.User{Login: "dave", ID: srv.UserID("dave")}, State: forge.ReviewDismissed, CommitSHA: headSHA, SubmittedAt: when.Add(2 * time.Hour)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("reviews =\n%+v\nwant\n%+v", got, want)
		}
	})

	t.Run("reads 130 reviews across two pages in submission order", func(t *testing.T) {
		f, srv, _ := newForge(t)
		ref := addPR(srv)
		for i := range 130 {
			srv.AddReview(repoName, 7, githubtest.Review{User: fmt.Sprintf("u%d", i), State: "COMMENTED", CommitID: headSHA, SubmittedAt: when.Add(time.Duration(i) * time.Minute)})
		}
		got, err := f.Reviews(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 130 || got[0].User.Login != "u0" || got[129].User.Login != "u129" {
			t.Errorf("got %d reviews", len(got))
		}
		if calls := srv.Calls("pulls/list-reviews"); calls != 2 {
			t.Errorf("listed in %d requests, want 2", calls)
		}
	})
}

func TestComments(t *testing.T) {
	ctx := context.Background()
	when := time.Date(2025, 3, 2, 10, 0, 0, 0, time.UTC)

	t.Run("maps author, body, link and times, and recognises bots", func(t *testing.T) {
		f, srv, _ := newForge(t)
		ref := addPR(srv)
		id1 := srv.AddComment(repoName, 7, githubtest.Comment{User: "carol", Body: "/breakglass INC-42", CreatedAt: when, UpdatedAt: when.Add(time.Minute)})
		id2 := srv.AddComment(repoName, 7, githubtest.Comment{User: "gitward[bot]", Body: "## gitward", CreatedAt: when.Add(time.Hour)})
		srv.AddComment(repoName, 8, githubtest.Comment{User: "carol", Body: "elsewhere"})
		got, err := f.Comments(ctx, ref.Thread())
		if err != nil {
			t.Fatal(err)
		}
		want := []forge.Comment{
			{ID: id1, User: forge.User{Login: "carol", ID: srv.UserID("carol")}, Body: "/breakglass INC-42",
				URL: fmt.Sprintf("https://github.com/acme/gitops/pull/7#issuecomment-%d", id1), CreatedAt: when, UpdatedAt: when.Add(time.Minute), Edited: true},
			{ID: id2, User: forge.User{Login: "gitward[bot]", ID: srv.UserID("gitward[bot]"), Bot: true}, Body: "## gitward",
				URL: fmt.Sprintf("https://github.com/acme/gitops/pull/7#issuecomment-%d", id2), CreatedAt: when.Add(time.Hour), UpdatedAt: when.Add(time.Hour)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("comments =\n%+v\nwant\n%+v", got, want)
		}
	})

	t.Run("reads 205 comments across three pages, oldest first", func(t *testing.T) {
		f, srv, _ := newForge(t)
		ref := addPR(srv)
		for i := range 205 {
			srv.AddComment(repoName, 7, githubtest.Comment{User: "carol", Body: fmt.Sprint(i)})
		}
		got, err := f.Comments(ctx, ref.Thread())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 205 || got[0].Body != "0" || got[204].Body != "204" {
			t.Errorf("got %d comments", len(got))
		}
		if calls := srv.Calls("issues/list-comments"); calls != 3 {
			t.Errorf("listed in %d requests, want 3", calls)
		}
	})
}

func TestChangedFiles(t *testing.T) {
	ctx := context.Background()

	t.Run("maps statuses, line counts and the previous path of a rename", func(t *testing.T) {
		f, srv, _ := newForge(t)
		ref := addPR(srv)
		srv.SetFiles(repoName, 7, []githubtest.File{
			{Filename: "apps/web/deployment.yaml", Status: "modified", Additions: 1, Deletions: 1, Patch: "@@ -1 +1 @@"},
			{Filename: "apps/web/new.yaml", Status: "renamed", PreviousFilename: "apps/web/old.yaml"},
			{Filename: "apps/api/service.yaml", Status: "added", Additions: 12},
			{Filename: "apps/db/secret.yaml", Status: "removed", Deletions: 7},
		})
		got, err := f.ChangedFiles(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		want := []forge.ChangedFile{
			{Path: "apps/web/deployment.yaml", Status: forge.FileModified, Additions: 1, Deletions: 1},
			{Path: "apps/web/new.yaml", PreviousPath: "apps/web/old.yaml", Status: forge.FileRenamed},
			{Path: "apps/api/service.yaml", Status: forge.FileAdded, Additions: 12},
			{Path: "apps/db/secret.yaml", Status: forge.FileRemoved, Deletions: 7},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("files =\n%+v\nwant\n%+v", got, want)
		}
	})

	for _, tt := range []struct {
		name    string
		files   int
		pages   int
		wantErr string
	}{
		{name: "reads 250 files across three pages", files: 250, pages: 3},
		{name: "reads 3000 files, GitHub's listing limit, when the pull request changes no more", files: 3000, pages: 30},
		{name: "refuses 3001 files, of which GitHub lists 3000, rather than evaluate them partially", files: 3001, pages: 30, wantErr: "has 3001 changed files, and GitHub lists only the first 3000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, _ := newForge(t)
			ref := addPR(srv)
			files := make([]githubtest.File, tt.files)
			for i := range files {
				files[i] = githubtest.File{Filename: fmt.Sprintf("apps/f%04d.yaml", i), Status: "added", Additions: 1}
			}
			srv.SetFiles(repoName, 7, files)
			got, err := f.ChangedFiles(ctx, ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if len(got) != tt.files || got[tt.files-1].Path != files[tt.files-1].Filename {
				t.Errorf("got %d files, want %d", len(got), tt.files)
			}
			if calls := srv.Calls("pulls/list-files"); calls != tt.pages {
				t.Errorf("listed in %d requests, want %d", calls, tt.pages)
			}
		})
	}
}

func TestPermission(t *testing.T) {
	ctx := context.Background()
	const path = "/repos/{owner}/{repo}/collaborators/{username}/permission"
	tests := []struct {
		name    string
		role    string // SetPermission; "" seeds nothing
		status  int    // FailNext status; 0 for none
		want    forge.Permission
		wantErr bool
	}{
		{name: "an admin is admin", role: "admin", want: forge.PermissionAdmin},
		{name: "a maintainer is maintain, not just write", role: "maintain", want: forge.PermissionMaintain},
		{name: "a writer is write", role: "write", want: forge.PermissionWrite},
		{name: "a triager is triage, not just read", role: "triage", want: forge.PermissionTriage},
		{name: "a reader is read", role: "read", want: forge.PermissionRead},
		{name: "a user without a role has none", want: forge.PermissionNone},
		{name: "a user GitHub does not know as a collaborator (404) has none, without an error", status: 404, want: forge.PermissionNone},
		{name: "a server error is an error, not none", role: "admin", status: 500, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, repo := newForge(t)
			if tt.role != "" {
				srv.SetPermission(repoName, "bob", tt.role)
			}
			if tt.status != 0 {
				srv.FailNext("GET", path, tt.status, 1)
			}
			got, err := f.Permission(ctx, repo, "bob")
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "permission of bob on acme/gitops") {
					t.Errorf("err = %v, want one naming the user and repository", err)
				}
				if errors.Is(err, forge.ErrNotFound) {
					t.Errorf("a %d is reported as not found: %v", tt.status, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Permission = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestTeamMember(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		state   string // SetTeamMember state; "" seeds nothing
		team    string
		status  int
		want    bool
		wantErr bool
	}{
		{name: "an active member is a member", state: "active", team: "acme/platform", want: true},
		{name: "a team without an org is looked up in the repository owner's org", state: "active", team: "platform", want: true},
		{name: "a pending invitation is not membership", state: "pending", team: "acme/platform"},
		{name: "a non-member (404) is not a member, without an error", team: "acme/platform"},
		{name: "a member of a team in another org is not one here", state: "active", team: "globex/platform"},
		{name: "a server error is an error", state: "active", team: "acme/platform", status: 500, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv, repo := newForge(t)
			if tt.state != "" {
				srv.SetTeamMember("acme", "platform", "bob", "member", tt.state)
			}
			if tt.status != 0 {
				srv.FailNext("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", tt.status, 1)
			}
			got, err := f.TeamMember(ctx, repo, tt.team, "bob")
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "membership of bob in team acme/platform") {
					t.Errorf("err = %v, want one naming the user and team", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("TeamMember = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestFile(t *testing.T) {
	ctx := context.Background()
	f, srv, repo := newForge(t)
	srv.SetTreeEntries(repoName, headSHA, []githubtest.TreeEntry{
		{Path: ".gitward.yaml", Content: "version: 1\n"},
		{Path: "apps/web/deployment.yaml", Content: strings.Repeat("replicas: 3\n", 100)},
		{Path: "apps/web/link.yaml", Content: "deployment.yaml", Mode: "120000"},
		{Path: "apps/web/#odd name?.yaml", Content: "odd\n"},
	})
	srv.SetTree(repoName, baseSHA, map[string]string{".gitward.yaml": "version: 0\n"})

	tests := []struct {
		name     string
		sha      string
		path     string
		want     string
		notFound bool
		errText  string
	}{
		{name: "reads a file at the head commit", sha: headSHA, path: ".gitward.yaml", want: "version: 1\n"},
		{name: "reads the same path at the base commit", sha: baseSHA, path: ".gitward.yaml", want: "version: 0\n"},
		{name: "reads a file whose base64 spans many lines", sha: headSHA, path: "apps/web/deployment.yaml", want: strings.Repeat("replicas: 3\n", 100)},
		{name: "escapes a path with URL metacharacters", sha: headSHA, path: "apps/web/#odd name?.yaml", want: "odd\n"},
		{name: "a missing file is not found", sha: baseSHA, path: "apps/web/deployment.yaml", notFound: true, errText: "apps/web/deployment.yaml at 1111111"},
		{name: "an unknown commit is not found", sha: sha(77), path: ".gitward.yaml", notFound: true},
		{name: "a directory is an error", sha: headSHA, path: "apps/web", errText: "apps/web at 2222222: is a directory"},
		{name: "a symlink is an error", sha: headSHA, path: "apps/web/link.yaml", errText: "is a symlink, not a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.File(ctx, repo, tt.sha, tt.path)
			if tt.notFound != errors.Is(err, forge.ErrNotFound) {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v (err %v)", !tt.notFound, tt.notFound, err)
			}
			if tt.errText != "" || tt.notFound {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("err = %v, want one mentioning %q", err, tt.errText)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("File = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// targz builds a gzip'd tar archive of the given entries; a name ending in
// "/" is a folder.
func targz(t *testing.T, entries map[string]string, order ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range order {
		h := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(entries[name]))}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(entries[name])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{
		".gitward.yaml":                    "version: 1\n",
		"apps/web/kustomization.yaml":      "resources: [deployment.yaml]\n",
		"apps/web/deployment.yaml":         "replicas: 3\n",
		"clusters/prod/kustomization.yaml": "resources: [../../apps/web]\n",
	}

	t.Run("downloads the archive once per commit and serves the second request from the cache", func(t *testing.T) {
		f, srv, repo := newForge(t)
		srv.SetTree(repoName, headSHA, files)
		for i := range 2 {
			snap, err := f.Snapshot(ctx, repo, headSHA)
			if err != nil {
				t.Fatalf("snapshot %d: %v", i+1, err)
			}
			for p, want := range files {
				got, err := os.ReadFile(filepath.Join(snap.Dir, filepath.FromSlash(p)))
				if err != nil || string(got) != want {
					t.Errorf("snapshot %d: %s = %q, %v; want %q", i+1, p, got, err, want)
				}
			}
			if snap.Stats.Files != len(files) {
				t.Errorf("snapshot %d: %d files, want %d", i+1, snap.Stats.Files, len(files))
			}
			snap.Release()
		}
		if a, c := srv.Calls("repos/download-tarball-archive"), srv.Calls("codeload"); a != 1 || c != 1 {
			t.Errorf("archive link requested %d times and downloaded %d times, want once each", a, c)
		}
	})

	t.Run("a different commit is downloaded on its own", func(t *testing.T) {
		f, srv, repo := newForge(t)
		srv.SetTree(repoName, headSHA, files)
		srv.SetTree(repoName, baseSHA, map[string]string{".gitward.yaml": "version: 0\n"})
		for _, s := range []string{headSHA, baseSHA, headSHA, baseSHA} {
			snap, err := f.Snapshot(ctx, repo, s)
			if err != nil {
				t.Fatal(err)
			}
			snap.Release()
		}
		if c := srv.Calls("codeload"); c != 2 {
			t.Errorf("downloaded %d times, want 2", c)
		}
	})

	t.Run("concurrent requests for one commit share one download", func(t *testing.T) {
		f, srv, repo := newForge(t)
		srv.SetTree(repoName, headSHA, files)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				snap, err := f.Snapshot(ctx, repo, headSHA)
				if err != nil {
					t.Error(err)
					return
				}
				defer snap.Release()
				if _, err := os.Stat(filepath.Join(snap.Dir, ".gitward.yaml")); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if c := srv.Calls("codeload"); c != 1 {
			t.Errorf("downloaded %d times, want 1", c)
		}
	})

	t.Run("an archive entry escaping the tree is refused, named, and nothing is cached", func(t *testing.T) {
		cache, err := snapshot.NewCache(t.TempDir(), 64<<20)
		if err != nil {
			t.Fatal(err)
		}
		srv := githubtest.New(t)
		srv.AddInstallation(1, "acme")
		srv.AddRepo(1, "acme", "gitops", "main")
		f := forgeFor(t, srv, srv.URL+"/", github.Options{Snapshots: cache})
		repo := forge.Repo{Host: "github.com", Owner: "acme", Name: "gitops", InstallationID: 1}
		evil := "acme-gitops-2222222/../../escape.yaml"
		srv.SetTarball(repoName, headSHA, targz(t, map[string]string{evil: "pwned\n"}, "acme-gitops-2222222/", evil))
		for i := range 2 {
			snap, err := f.Snapshot(ctx, repo, headSHA)
			if err == nil {
				snap.Release()
				t.Fatalf("attempt %d: a hostile archive was accepted", i+1)
			}
			if !errors.Is(err, snapshot.ErrUnsafe) || !strings.Contains(err.Error(), evil) {
				t.Errorf("attempt %d: err = %v, want snapshot.ErrUnsafe naming %q", i+1, err, evil)
			}
		}
		if trees, _ := cache.Usage(); trees != 0 {
			t.Errorf("the cache holds %d trees after a refused archive", trees)
		}
		if c := srv.Calls("codeload"); c != 2 {
			t.Errorf("downloaded %d times, want 2: a refused archive must not be cached", c)
		}
	})

	t.Run("an archive over the limits is refused", func(t *testing.T) {
		srv := githubtest.New(t)
		srv.AddInstallation(1, "acme")
		srv.AddRepo(1, "acme", "gitops", "main")
		f := forgeFor(t, srv, srv.URL+"/", github.Options{Limits: snapshot.Limits{MaxFiles: 3}})
		srv.SetTree(repoName, headSHA, files)
		_, err := f.Snapshot(ctx, forge.Repo{Owner: "acme", Name: "gitops", InstallationID: 1}, headSHA)
		if !errors.Is(err, snapshot.ErrLimit) {
			t.Errorf("err = %v, want snapshot.ErrLimit", err)
		}
	})

	t.Run("an unknown commit is not found", func(t *testing.T) {
		f, _, repo := newForge(t)
		_, err := f.Snapshot(ctx, repo, sha(404))
		if !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "archive link for acme/gitops at 0000000") {
			t.Errorf("err = %v, want forge.ErrNotFound naming the commit", err)
		}
	})

	for _, ref := range []string{"main", "2222222", strings.Repeat("A", 40), headSHA + "0", "refs/heads/main"} {
		t.Run(fmt.Sprintf("the ref %q is refused because it is not a commit SHA", ref), func(t *testing.T) {
			f, srv, repo := newForge(t)
			srv.SetTree(repoName, headSHA, files)
			_, err := f.Snapshot(ctx, repo, ref)
			if err == nil || !strings.Contains(err.Error(), "not a commit SHA") {
				t.Errorf("err = %v, want one saying it is not a commit SHA", err)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}

	t.Run("a released snapshot may be evicted, one in use may not", func(t *testing.T) {
		cache, err := snapshot.NewCache(t.TempDir(), 1) // every tree is over budget
		if err != nil {
			t.Fatal(err)
		}
		srv := githubtest.New(t)
		srv.AddInstallation(1, "acme")
		srv.AddRepo(1, "acme", "gitops", "main")
		srv.SetTree(repoName, headSHA, files)
		f := forgeFor(t, srv, srv.URL+"/", github.Options{Snapshots: cache})
		snap, err := f.Snapshot(ctx, forge.Repo{Owner: "acme", Name: "gitops", InstallationID: 1}, headSHA)
		if err != nil {
			t.Fatal(err)
		}
		if trees, _ := cache.Usage(); trees != 1 {
			t.Errorf("in use: the cache holds %d trees, want 1", trees)
		}
		if _, err := os.Stat(filepath.Join(snap.Dir, ".gitward.yaml")); err != nil {
			t.Errorf("in use: %v", err)
		}
		snap.Release()
		snap.Release() // a second release does nothing
		if trees, _ := cache.Usage(); trees != 0 {
			t.Errorf("released: the cache holds %d trees, want 0", trees)
		}
		if _, err := os.Stat(snap.Dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("released: the tree is still on disk (%v)", err)
		}
	})

	t.Run("without a snapshot cache it is an error", func(t *testing.T) {
		srv := githubtest.New(t)
		cfg := githubapp.Config{V3APIURL: srv.URL + "/"}
		cfg.App.IntegrationID = githubtest.DefaultAppID
		cfg.App.PrivateKey = privateKey(t)
		clients, err := githubapp.NewDefaultCachingClientCreator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f := github.New(clients, github.Options{AppID: githubtest.DefaultAppID})
		if _, err := f.Snapshot(ctx, forge.Repo{Owner: "acme", Name: "gitops", InstallationID: 1}, headSHA); err == nil || !strings.Contains(err.Error(), "no snapshot cache") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestCheckRuns(t *testing.T) {
	ctx := context.Background()

	t.Run("returns only this app's runs on the commit", func(t *testing.T) {
		f, srv, repo := newForge(t)
		done := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
		mine := srv.AddCheckRun(repoName, githubtest.CheckRun{
			Name: "gitward/change-control", HeadSHA: headSHA, Conclusion: "failure", ExternalID: "base=" + baseSHA,
			Title: "1 problem", Summary: "unsigned", Text: "details", DetailsURL: "https://gitward.example/runs/1",
			StartedAt: done.Add(-time.Minute), CompletedAt: done,
		})
		srv.AddCheckRun(repoName, githubtest.CheckRun{AppID: 99, Name: "gitward/change-control", HeadSHA: headSHA, Conclusion: "success", Title: "forged", Summary: "forged"})
		srv.AddCheckRun(repoName, githubtest.CheckRun{AppID: 98, Name: "ci/build", HeadSHA: headSHA, Conclusion: "success"})
		srv.AddCheckRun(repoName, githubtest.CheckRun{Name: "gitward/diff", HeadSHA: baseSHA, Conclusion: "success"})

		got, err := f.CheckRuns(ctx, repo, headSHA)
		if err != nil {
			t.Fatal(err)
		}
		want := []forge.CheckRun{{
			ID: mine, Name: "gitward/change-control", HeadSHA: headSHA, AppID: githubtest.DefaultAppID,
			Status: forge.CheckCompleted, Conclusion: forge.ConclusionFailure, ExternalID: "base=" + baseSHA,
			Title: "1 problem", Summary: "unsigned", Text: "details", DetailsURL: "https://gitward.example/runs/1",
			StartedAt: done.Add(-time.Minute), CompletedAt: done,
		}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("check runs =\n%+v\nwant\n%+v", got, want)
		}
	})

	t.Run("a commit without runs has none", func(t *testing.T) {
		f, _, repo := newForge(t)
		got, err := f.CheckRuns(ctx, repo, sha(5))
		if err != nil || len(got) != 0 {
			t.Errorf("CheckRuns = %+v, %v", got, err)
		}
	})

	t.Run("reads 105 runs across two pages", func(t *testing.T) {
		f, srv, repo := newForge(t)
		for i := range 105 {
			srv.AddCheckRun(repoName, githubtest.CheckRun{Name: fmt.Sprintf("gitward/run-%d", i), HeadSHA: headSHA})
		}
		got, err := f.CheckRuns(ctx, repo, headSHA)
		if err != nil || len(got) != 105 {
			t.Errorf("got %d runs, %v; want 105", len(got), err)
		}
		if calls := srv.Calls("checks/list-for-ref"); calls != 2 {
			t.Errorf("listed in %d requests, want 2", calls)
		}
	})
}

// octocatKey is an Ed25519 OpenPGP public key made for these tests with
// gpg --quick-gen-key; its key ID is 063D3E87CBFCE193.
const octocatKey = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEawkHFBYJKwYBBAHaRw8BAQdAYTwfd81GcwyQUW2n3raswSBKYV4JF9GaNuW/
7IhH1HW0Hk9jdG8gQ2F0IDxvY3RvY2F0QGV4YW1wbGUuY29tPoiQBBMWCAA4FiEE
MEzExiyhjQSk8RDrBj0+h8v84ZMFAmsJBxQCGwMFCwkIBwIGFQoJCAsCBBYCAwEC
HgECF4AACgkQBj0+h8v84ZOekgD/XHtjOqzMXQSsAgW6+2XNWCn0Q49syZnY04of
A0jx6IoBALPHqyDsArPFBFgJDsX1fUvYgNQCWGxERIoREPzTy3sJ
=Ab+/
-----END PGP PUBLIC KEY BLOCK-----
`

func TestUserGPGKeys(t *testing.T) {
	ctx := context.Background()
	t.Run("every page of a user's keys, with the raw key and its ID", func(t *testing.T) {
		f, srv, repo := newForge(t)
		for range 101 {
			srv.AddGPGKey("octocat", octocatKey)
		}
		keys, err := f.UserGPGKeys(ctx, repo, "octocat")
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 101 {
			t.Fatalf("got %d keys, want 101", len(keys))
		}
		want := forge.GPGKey{KeyID: "063D3E87CBFCE193", Armored: octocatKey}
		if keys[100] != want {
			t.Errorf("key = %+v, want %+v", keys[100], want)
		}
		if calls := srv.Calls("users/list-gpg-keys-for-user"); calls != 2 {
			t.Errorf("listed in %d requests, want 2", calls)
		}
	})
	t.Run("a user without keys has none", func(t *testing.T) {
		f, srv, repo := newForge(t)
		srv.AddUser("keyless", 77)
		keys, err := f.UserGPGKeys(ctx, repo, "keyless")
		if err != nil || len(keys) != 0 {
			t.Errorf("UserGPGKeys = %v, %v; want none", keys, err)
		}
	})
	t.Run("an unknown user is not found", func(t *testing.T) {
		f, _, repo := newForge(t)
		_, err := f.UserGPGKeys(ctx, repo, "nobody")
		if !errors.Is(err, forge.ErrNotFound) || !strings.Contains(err.Error(), "GPG keys of nobody") {
			t.Errorf("err = %v, want forge.ErrNotFound naming the user", err)
		}
	})
	t.Run("a login that would change the request path is refused before sending", func(t *testing.T) {
		f, srv, repo := newForge(t)
		for _, login := range []string{"", "..", "octocat/../../repos/acme/gitops", "a?b", "a b"} {
			if _, err := f.UserGPGKeys(ctx, repo, login); err == nil {
				t.Errorf("UserGPGKeys(%q) succeeded", login)
			}
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
}
