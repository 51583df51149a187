package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	gl "gitlab.com/gitlab-org/api/client-go"
)

// GitLab's REST notes API says when a note was created and last updated,
// but not whether it was edited: awarding an emoji, resolving a thread and
// other non-edits move updated_at too, and gitward awards an emoji on every
// command it reads. Nor does it say whether the author is a bot. GitLab's
// GraphQL API says both (Note.lastEditedAt, UserCore.bot), so Comments
// asks it for every note it listed.

// graphQLPath is the path of the instance's GraphQL endpoint, beside the
// REST API: "/api/graphql" for an instance at the host's root,
// "/gitlab/api/graphql" for one under a relative URL root. client-go's own
// GraphQL client always posts to "/api/graphql", which misses the latter.
func graphQLPath(api *url.URL) string {
	p := strings.TrimSuffix(api.Path, "/")
	p = strings.TrimSuffix(p, "/api/v4")
	return p + "/api/graphql"
}

// graphQL posts one query and decodes its data into out. Any error GitLab
// reports, even beside partial data, fails the call: the callers use
// what GraphQL says to decide what counts, and never guess.
func (f *Forge) graphQL(ctx context.Context, what, query string, vars map[string]any, out any) error {
	req, err := f.c.NewRequest(http.MethodPost, "", gl.GraphQLQuery{Query: query, Variables: vars}, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return fmt.Errorf("gitlab: %s: GraphQL request: %w", what, err)
	}
	req.URL.Path, req.URL.RawPath = graphQLPath(f.c.BaseURL()), ""
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	// Not wrap: a 404 here means no GraphQL endpoint, not an absent
	// object, and must not read as forge.ErrNotFound.
	if _, err := f.c.Do(req, &resp); err != nil {
		return fmt.Errorf("gitlab: %s: GraphQL: %w", what, err)
	}
	if len(resp.Errors) > 0 {
		msgs := make([]string, 0, len(resp.Errors))
		for _, e := range resp.Errors {
			msgs = append(msgs, e.Message)
		}
		return fmt.Errorf("gitlab: %s: GraphQL: %s", what, strings.Join(msgs, "; "))
	}
	if len(resp.Data) == 0 || string(resp.Data) == "null" {
		return fmt.Errorf("gitlab: %s: GraphQL answered no data", what)
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		return fmt.Errorf("gitlab: %s: GraphQL data: %w", what, err)
	}
	return nil
}

// The notes of a merge request or an issue, 100 a page (GitLab's most).
// $iid is a String in GitLab's schema.
const (
	mrNotesQuery = `query($path: ID!, $iid: String!, $after: String) {
  project(fullPath: $path) {
    mergeRequest(iid: $iid) {
      notes(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id lastEditedAt author { username bot } }
      }
    }
  }
}`
	issueNotesQuery = `query($path: ID!, $iid: String!, $after: String) {
  project(fullPath: $path) {
    issue(iid: $iid) {
      notes(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id lastEditedAt author { username bot } }
      }
    }
  }
}`
)

type gqlNoteConnection struct {
	PageInfo struct {
		HasNextPage bool    `json:"hasNextPage"`
		EndCursor   *string `json:"endCursor"`
	} `json:"pageInfo"`
	Nodes []struct {
		ID           string     `json:"id"`
		LastEditedAt *time.Time `json:"lastEditedAt"`
		Author       *gqlUser   `json:"author"`
	} `json:"nodes"`
}

type gqlUser struct {
	Username string `json:"username"`
	Bot      bool   `json:"bot"`
}

type gqlNotable struct {
	Notes *gqlNoteConnection `json:"notes"`
}

// noteMeta is what GraphQL says about one note.
type noteMeta struct {
	lastEditedAt *time.Time
	author       *gqlUser // nil when GitLab has none to show
}

// noteMetas returns what GraphQL says about every note of a merge request
// or issue, by note ID, following every page.
func (f *Forge) noteMetas(ctx context.Context, t forge.Thread) (map[int64]noteMeta, error) {
	query, field := mrNotesQuery, "merge request"
	if t.Issue {
		query, field = issueNotesQuery, "issue"
	}
	what := "notes of " + threadName(t)
	out := map[int64]noteMeta{}
	var after any // null on the first page
	for {
		var data struct {
			Project *struct {
				MergeRequest *gqlNotable `json:"mergeRequest"`
				Issue        *gqlNotable `json:"issue"`
			} `json:"project"`
		}
		vars := map[string]any{"path": pid(t.Repo), "iid": strconv.Itoa(t.Number), "after": after}
		if err := f.graphQL(ctx, what, query, vars, &data); err != nil {
			return nil, err
		}
		if data.Project == nil {
			return nil, fmt.Errorf("gitlab: %s: GraphQL shows no project %s", what, pid(t.Repo))
		}
		notable := data.Project.MergeRequest
		if t.Issue {
			notable = data.Project.Issue
		}
		if notable == nil || notable.Notes == nil {
			return nil, fmt.Errorf("gitlab: %s: GraphQL shows no such %s", what, field)
		}
		conn := notable.Notes
		for _, n := range conn.Nodes {
			id, err := globalIDNumber(n.ID)
			if err != nil {
				return nil, fmt.Errorf("gitlab: %s: %w", what, err)
			}
			out[id] = noteMeta{lastEditedAt: n.LastEditedAt, author: n.Author}
		}
		if !conn.PageInfo.HasNextPage {
			return out, nil
		}
		if conn.PageInfo.EndCursor == nil || *conn.PageInfo.EndCursor == "" || *conn.PageInfo.EndCursor == after {
			return nil, fmt.Errorf("gitlab: %s: GraphQL says there is a next page but gives no new cursor", what)
		}
		after = *conn.PageInfo.EndCursor
	}
}

// globalIDNumber is the number at the end of a GraphQL global ID, such as
// 123 in "gid://gitlab/Note/123" or "gid://gitlab/DiscussionNote/123".
func globalIDNumber(gid string) (int64, error) {
	i := strings.LastIndex(gid, "/")
	if !strings.HasPrefix(gid, "gid://gitlab/") || i < 0 {
		return 0, fmt.Errorf("GraphQL ID %q is not a GitLab global ID", gid)
	}
	n, err := strconv.ParseInt(gid[i+1:], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("GraphQL ID %q does not end in a number", gid)
	}
	return n, nil
}

// edited reports whether a note was edited after it was created. GitLab
// writes last_edited_at only when a note's body changes, and counts a note
// edited when it is later than created_at; but GraphQL gives times to the
// second while REST gives created_at to the millisecond. A lastEditedAt in
// the very second the note was created cannot be told apart from an edit,
// and counts as one: an edited command does not count, so the doubt takes
// a command away rather than letting one through.
func edited(lastEditedAt *time.Time, createdAt time.Time) bool {
	if lastEditedAt == nil {
		return false
	}
	return !lastEditedAt.Before(createdAt.Truncate(time.Second))
}
