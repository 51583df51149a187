package gitlabtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// GraphQL.
//
// POST /api/graphql answers the few queries the adapter sends, recognised
// by their text with whitespace normalised; any other query fails the test,
// as an unknown REST endpoint does. Answers have GraphQL's shape: 200 with
// {"data": ...}, or {"errors": [...]} for what GitLab would refuse (a
// variable of the wrong type). An absent project, merge request or issue is
// null, as GitLab shows what the token cannot see.
//
// What it models: a note's lastEditedAt is set only when its body is
// changed (updateNote, EditNote), never by an award emoji, which moves
// updated_at only; times are given to the second, as GitLab's Time type
// (Ruby's Time#iso8601) does; authors carry the user's bot flag. Notes
// come oldest first in pages of at most 100 (fewer with
// SetGraphQLPageSize), with opaque cursors.

// The queries served, as the adapter writes them; compared after
// normaliseQuery.
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

// normaliseQuery collapses whitespace and drops it around punctuation, so
// two layouts of one query compare equal.
func normaliseQuery(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	for _, p := range []string{"{", "}", "(", ")", ":", ",", "!", "$"} {
		q = strings.ReplaceAll(q, " "+p, p)
		q = strings.ReplaceAll(q, p+" ", p)
	}
	return q
}

// SetGraphQLPageSize makes GraphQL connections answer at most n nodes a
// page (GitLab's most is 100), to exercise pagination.
func (s *Server) SetGraphQLPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graphQLPage = n
}

// FailNextGraphQL makes the next GraphQL query answer 200 with message as
// its one error and no data, as GitLab does for a query it cannot run
// (too complex, timed out).
func (s *Server) FailNextGraphQL(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.graphQLFailures = append(s.graphQLFailures, message)
}

// EditNote changes a note's body as its author would in GitLab's web UI:
// updated_at and lastEditedAt move.
func (s *Server) EditNote(full string, noteID int64, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.findNoteLocked(s.project(full), noteID)
	if n == nil {
		s.t.Fatalf("gitlabtest: no note %d in %s", noteID, full)
	}
	s.editLocked(n, body)
}

// LastEditedAt returns a note's lastEditedAt, and whether it was ever
// edited.
func (s *Server) LastEditedAt(noteID int64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.edited[noteID]
	return t, ok
}

// editLocked changes a note's body; as GitLab, only a changed body counts
// as an edit.
func (s *Server) editLocked(n *gl.Note, body string) {
	if n.Body == body {
		return
	}
	n.Body, n.UpdatedAt = body, now()
	s.edited[n.ID] = *n.UpdatedAt
}

func (s *Server) findNoteLocked(p *project, id int64) *gl.Note {
	var lists [][]*gl.Note
	for _, k := range sortedKeys(p.mrs) {
		lists = append(lists, p.mrs[k].notes)
	}
	for _, k := range sortedKeys(p.issues) {
		lists = append(lists, p.issues[k].notes)
	}
	for _, l := range lists {
		if i := slices.IndexFunc(l, func(n *gl.Note) bool { return n.ID == id }); i >= 0 {
			return l[i]
		}
	}
	return nil
}

type graphQLRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

func graphQLErrors(w http.ResponseWriter, msgs ...string) {
	errs := make([]map[string]string, 0, len(msgs))
	for _, m := range msgs {
		errs = append(errs, map[string]string{"message": m})
	}
	writeJSON(w, http.StatusOK, map[string]any{"errors": errs})
}

func (s *Server) graphQL(w http.ResponseWriter, r *http.Request, _ *project) {
	var req graphQLRequest
	if !decode(w, r, &req) {
		return
	}
	if len(s.graphQLFailures) > 0 {
		msg := s.graphQLFailures[0]
		s.graphQLFailures = s.graphQLFailures[1:]
		graphQLErrors(w, msg)
		return
	}
	q := normaliseQuery(req.Query)
	switch q {
	case normaliseQuery(mrNotesQuery), normaliseQuery(issueNotesQuery):
	default:
		s.t.Errorf("gitlabtest: unexpected GraphQL query %q", req.Query)
		graphQLErrors(w, "gitlabtest: query not in the double")
		return
	}
	path, ok := req.Variables["path"].(string)
	if !ok {
		graphQLErrors(w, "Variable $path of type ID! was provided invalid value")
		return
	}
	iidS, ok := req.Variables["iid"].(string)
	if !ok {
		graphQLErrors(w, "Variable $iid of type String! was provided invalid value")
		return
	}
	after := ""
	switch a := req.Variables["after"].(type) {
	case nil:
	case string:
		after = a
	default:
		graphQLErrors(w, "Variable $after of type String was provided invalid value")
		return
	}
	p, ok := s.projects[path]
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"project": nil}})
		return
	}
	iid, err := strconv.ParseInt(iidS, 10, 64)
	if err != nil {
		graphQLErrors(w, "Argument 'iid' on Field must be an IID")
		return
	}
	field := "mergeRequest"
	var notes []*gl.Note
	found := false
	if q == normaliseQuery(issueNotesQuery) {
		field = "issue"
		if it, ok := p.issues[iid]; ok {
			notes, found = it.notes, true
		}
	} else if m, ok := p.mrs[iid]; ok {
		notes, found = m.notes, true
	}
	if !found {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"project": map[string]any{field: nil}}})
		return
	}
	conn, msg := s.noteConnection(notes, after)
	if msg != "" {
		graphQLErrors(w, msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"project": map[string]any{field: map[string]any{"notes": conn}}}})
}

// noteConnection is one page of a NoteConnection after cursor after.
// Cursors are keyset, on the note ID, as GitLab's.
func (s *Server) noteConnection(notes []*gl.Note, after string) (map[string]any, string) {
	var since int64
	if after != "" {
		b, err := base64.StdEncoding.DecodeString(after)
		var c struct {
			ID string `json:"id"`
		}
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err == nil {
			since, err = strconv.ParseInt(c.ID, 10, 64)
		}
		if err != nil {
			return nil, "Please provide a valid cursor"
		}
	}
	sorted := slices.Clone(notes)
	slices.SortFunc(sorted, func(a, b *gl.Note) int { return int(a.ID - b.ID) })
	size := 100
	if s.graphQLPage > 0 && s.graphQLPage < size {
		size = s.graphQLPage
	}
	nodes := []map[string]any{}
	var last int64
	more := false
	for _, n := range sorted {
		if n.ID <= since {
			continue
		}
		if len(nodes) == size {
			more = true
			break
		}
		nodes = append(nodes, s.noteNode(n))
		last = n.ID
	}
	var end any
	if len(nodes) > 0 {
		end = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"id":"%d"}`, last))
	}
	return map[string]any{
		"pageInfo": map[string]any{"hasNextPage": more, "endCursor": end},
		"nodes":    nodes,
	}, ""
}

// noteNode is a Note with the fields the queries ask for. Notes people
// start in the web UI are DiscussionNotes; those posted through the API
// and system notes are Notes.
func (s *Server) noteNode(n *gl.Note) map[string]any {
	typ := "Note"
	if s.discussion[n.ID] {
		typ = "DiscussionNote"
	}
	var edited any
	if t, ok := s.edited[n.ID]; ok {
		edited = t.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	var author any
	if u := s.userByID(n.Author.ID); u != nil {
		author = map[string]any{"username": u.Username, "bot": u.Bot}
	}
	return map[string]any{"id": fmt.Sprintf("gid://gitlab/%s/%d", typ, n.ID), "lastEditedAt": edited, "author": author}
}
