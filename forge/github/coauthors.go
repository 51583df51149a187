package github

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/gitward/gitward/forge"
	"github.com/shurcooL/githubv4"
)

// noreplyRE matches GitHub's private commit e-mail addresses:
// "ID+login@users.noreply.HOST", or "login@users.noreply.HOST" for
// accounts older than July 2017.
var noreplyRE = regexp.MustCompile(`(?i)^(?:[0-9]+\+)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)@users\.noreply\.[a-z0-9.-]+$`)

// NoreplyLogin is the login a GitHub private address names, or "".
// Anyone can write any address into a commit, so this can only name more
// authors, and more authors can only take approvals away.
func NoreplyLogin(email string) string {
	if m := noreplyRE.FindStringSubmatch(strings.TrimSpace(email)); m != nil {
		return m[1]
	}
	return ""
}

// maxAuthors is how many authors of one commit gitward reads: GitHub's
// page limit. A commit crediting more fails closed.
const maxAuthors = 100

// coAuthorsQuery reads, for each commit of a pull request, the accounts
// GitHub credits as its authors (GraphQL Commit.authors): the commit's
// author and each Co-authored-by trailer whose e-mail GitHub links to an
// account. That link is GitHub's, not the trailer's text: a trailer
// "Carol <c@home.example>" is @carol-w when carol-w verified that address.
type coAuthorsQuery struct {
	Repository *struct {
		PullRequest *struct {
			Commits struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   githubv4.String
				}
				Nodes []struct {
					Commit struct {
						OID     string `graphql:"oid"`
						Authors struct {
							TotalCount int
							Nodes      []struct {
								Name  string
								Email string
								User  *struct{ Login string }
							}
						} `graphql:"authors(first: 100)"`
					}
				}
			} `graphql:"commits(first: 100, after: $cursor)"`
		} `graphql:"pullRequest(number: $number)"`
	} `graphql:"repository(owner: $owner, name: $name)"`
}

// resolveIdentities links the identities of a pull request's commits to
// GitHub accounts where the REST listing did not: each Co-authored-by
// trailer to the account GitHub credits for its e-mail, and any identity
// left unlinked whose address is a GitHub private address to the login it
// names. It asks GitHub only when a commit names co-authors.
func (f *Forge) resolveIdentities(ctx context.Context, ref forge.PRRef, commits []forge.Commit) error {
	named := false
	for i := range commits {
		commits[i].CoAuthors = forge.CoAuthorTrailers(commits[i].Message)
		named = named || len(commits[i].CoAuthors) > 0
	}
	if named {
		linked, err := f.commitAuthors(ctx, ref)
		if err != nil {
			return err
		}
		for i := range commits {
			c := &commits[i]
			byEmail, ok := linked[strings.ToLower(c.SHA)]
			if !ok && len(c.CoAuthors) > 0 {
				return fmt.Errorf("github: GitHub's GraphQL API does not list commit %s of %s, so its co-authors cannot be linked to accounts", c.SHA, ref)
			}
			for j := range c.CoAuthors {
				c.CoAuthors[j].Login = byEmail[strings.ToLower(strings.TrimSpace(c.CoAuthors[j].Email))]
			}
		}
	}
	for i := range commits {
		c := &commits[i]
		for _, id := range append([]*forge.Identity{&c.Author, &c.Committer}, pointers(c.CoAuthors)...) {
			if id.Login == "" {
				id.Login = NoreplyLogin(id.Email)
			}
		}
	}
	return nil
}

func pointers(ids []forge.Identity) []*forge.Identity {
	out := make([]*forge.Identity, len(ids))
	for i := range ids {
		out[i] = &ids[i]
	}
	return out
}

// commitAuthors asks GitHub's GraphQL API which account each author
// e-mail of each commit of the pull request is linked to: commit SHA →
// lower-case e-mail → login. E-mails linked to no account are left out.
func (f *Forge) commitAuthors(ctx context.Context, ref forge.PRRef) (map[string]map[string]string, error) {
	if ref.Repo.InstallationID == 0 {
		return nil, fmt.Errorf("github: repository %s has no installation ID", ref.Repo.FullName())
	}
	client, err := f.clients.NewInstallationV4Client(ref.Repo.InstallationID)
	if err != nil {
		return nil, fmt.Errorf("github: GraphQL client for installation %d: %w", ref.Repo.InstallationID, err)
	}
	vars := map[string]any{
		"owner":  githubv4.String(ref.Repo.Owner),
		"name":   githubv4.String(ref.Repo.Name),
		"number": githubv4.Int(ref.Number),
		"cursor": (*githubv4.String)(nil),
	}
	out := map[string]map[string]string{}
	for {
		var q coAuthorsQuery
		if err := client.Query(ctx, &q, vars); err != nil {
			return nil, fmt.Errorf("github: read the commit authors of %s (GraphQL): %w", ref, err)
		}
		if q.Repository == nil || q.Repository.PullRequest == nil {
			return nil, fmt.Errorf("github: read the commit authors of %s (GraphQL): %w", ref, forge.ErrNotFound)
		}
		cs := q.Repository.PullRequest.Commits
		for _, n := range cs.Nodes {
			a := n.Commit.Authors
			if a.TotalCount > len(a.Nodes) || a.TotalCount > maxAuthors {
				return nil, fmt.Errorf("github: commit %s of %s credits %d authors; gitward reads at most %d, so its co-authors cannot all be known",
					n.Commit.OID, ref, a.TotalCount, maxAuthors)
			}
			byEmail := map[string]string{}
			for _, actor := range a.Nodes {
				if actor.User != nil && actor.User.Login != "" && actor.Email != "" {
					byEmail[strings.ToLower(strings.TrimSpace(actor.Email))] = actor.User.Login
				}
			}
			out[strings.ToLower(n.Commit.OID)] = byEmail
		}
		if !cs.PageInfo.HasNextPage {
			break
		}
		cursor := cs.PageInfo.EndCursor
		vars["cursor"] = &cursor
	}
	return out, nil
}
