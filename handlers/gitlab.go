package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gitward/gitward/audit"
	"github.com/gitward/gitward/evaluation"
	"net/url"
	"strings"
	"time"

	"github.com/gitward/gitward/forge"
	"github.com/rs/zerolog"
)

// GitLab events gitward acts on, as X-Gitlab-Event names them.
const (
	GitLabMergeRequest     = "Merge Request Hook"
	GitLabNote             = "Note Hook"
	GitLabConfidentialNote = "Confidential Note Hook"
	GitLabPush             = "Push Hook"
	GitLabPipeline         = "Pipeline Hook"
)

// GitLab turns GitLab webhook deliveries into the same work the GitHub
// handlers do, through the forge of the instance that sent them: merge
// request events evaluate (or, on merge, write the audit record), notes
// carry comment commands, pushes to protected branches are checked for
// unreviewed commits, and a pipeline starting on a merge request's head
// evaluates it again so its statuses are in the head pipeline. Nothing here
// decides anything: it only decodes.
type GitLab struct {
	// Forges are the configured GitLab instances by host, as their
	// forge.Repo.Host says.
	Forges map[string]forge.Forge
	// Evaluator evaluates merge requests.
	Evaluator *evaluation.Evaluator
	// Merged writes audit records of merges; its own Forge is unused.
	Merged *Merged
	// Push checks pushes; its own Forge is unused.
	Push *Push
	// Comments acts on note commands; its own Forge is unused.
	Comments *IssueComment
}

// selfer is a forge that knows the account it acts as, so gitward's own
// notes are never taken for a person's.
type selfer interface {
	Self(ctx context.Context) (forge.User, error)
}

// gitlabEvent holds the fields of GitLab merge request, note and push
// payloads that gitward reads. Like the GitHub envelope, only these are
// decoded, so an odd value elsewhere cannot make a delivery unreadable.
type gitlabEvent struct {
	ObjectKind string `json:"object_kind"`
	User       *struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	} `json:"user"`
	// Push payloads name the pusher at the top level.
	UserUsername string `json:"user_username"`
	UserName     string `json:"user_name"`
	UserEmail    string `json:"user_email"`
	Project      *struct {
		PathWithNamespace string `json:"path_with_namespace"`
		WebURL            string `json:"web_url"`
		DefaultBranch     string `json:"default_branch"`
	} `json:"project"`
	ObjectAttributes *struct {
		ID           int64  `json:"id"`
		IID          int64  `json:"iid"`
		Action       string `json:"action"`
		Note         string `json:"note"`
		NoteableType string `json:"noteable_type"`
		AuthorID     int64  `json:"author_id"`
		CreatedAt    string `json:"created_at"`
		UpdatedAt    string `json:"updated_at"`
		Oldrev       string `json:"oldrev"`
		// Pipeline events. Source is a string there but the source
		// project (an object) in merge request events.
		SHA    string          `json:"sha"`
		Ref    string          `json:"ref"`
		Status string          `json:"status"`
		Source json.RawMessage `json:"source"`
	} `json:"object_attributes"`
	Changes      map[string]json.RawMessage `json:"changes"`
	MergeRequest *struct {
		IID int64 `json:"iid"`
	} `json:"merge_request"`
	Issue *struct {
		IID         int64  `json:"iid"`
		Description string `json:"description"`
	} `json:"issue"`
	Ref    string `json:"ref"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Handle acts on one GitLab delivery of type event. Events gitward does
// not act on are ignored.
func (h *GitLab) Handle(ctx context.Context, event string, payload []byte) error {
	var ev gitlabEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("decode %s payload: %w", event, err)
	}
	if ev.Project == nil || ev.Project.PathWithNamespace == "" {
		return fmt.Errorf("%s payload has no project.path_with_namespace", event)
	}
	f, repo, err := h.repo(ev)
	if err != nil {
		return fmt.Errorf("%s payload: %w", event, err)
	}
	ctx = zerolog.Ctx(ctx).With().Str("forge", "gitlab").Str("project", repo.String()).Logger().WithContext(ctx)
	switch event {
	case GitLabMergeRequest:
		return h.mergeRequest(ctx, f, repo, event, ev)
	case GitLabNote, GitLabConfidentialNote:
		return h.note(ctx, f, repo, event, ev)
	case GitLabPush:
		return h.push(ctx, f, repo, ev)
	case GitLabPipeline:
		return h.pipeline(ctx, f, repo, event, ev)
	}
	zerolog.Ctx(ctx).Debug().Str("event_type", event).Msg("GitLab event needs no action")
	return nil
}

// repo finds the instance a payload's project lives on, by the host of its
// web URL, and names the project.
func (h *GitLab) repo(ev gitlabEvent) (forge.Forge, forge.Repo, error) {
	u, err := url.Parse(ev.Project.WebURL)
	if err != nil || u.Host == "" {
		return nil, forge.Repo{}, fmt.Errorf("project.web_url %q is not a URL", ev.Project.WebURL)
	}
	f, ok := h.Forges[u.Host]
	if !ok {
		return nil, forge.Repo{}, fmt.Errorf("project %s is on %s, which is not a configured GitLab host", ev.Project.PathWithNamespace, u.Host)
	}
	full := ev.Project.PathWithNamespace
	i := strings.LastIndex(full, "/")
	if i <= 0 || i == len(full)-1 {
		return nil, forge.Repo{}, fmt.Errorf("project.path_with_namespace %q is not namespace/project", full)
	}
	return f, forge.Repo{Host: u.Host, Owner: full[:i], Name: full[i+1:], DefaultBranch: ev.Project.DefaultBranch}, nil
}

// mergeRequest evaluates on the actions that can change a verdict, and
// records a merge.
func (h *GitLab) mergeRequest(ctx context.Context, f forge.Forge, repo forge.Repo, event string, ev gitlabEvent) error {
	log := zerolog.Ctx(ctx)
	oa := ev.ObjectAttributes
	if oa == nil || oa.IID == 0 {
		return fmt.Errorf("%s payload has no object_attributes.iid", event)
	}
	ref := forge.PRRef{Repo: repo, Number: int(oa.IID)}
	ctx = log.With().Int("merge_request", ref.Number).Logger().WithContext(ctx)
	switch oa.Action {
	case "open", "reopen", "approved", "unapproved", "approval", "unapproval":
	case "update":
		// New commits (oldrev), a new target branch, or leaving draft can
		// change the verdict; a new title or label cannot.
		_, retargeted := ev.Changes["target_branch"]
		if oa.Oldrev == "" && !retargeted && !leftDraft(ev.Changes) {
			zerolog.Ctx(ctx).Debug().Msg("Merge request update needs no evaluation")
			return nil
		}
	case "merge":
		by := ""
		if ev.User != nil {
			by = ev.User.Username
		}
		return h.Merged.Recorder.Record(ctx, f, ref, parseGitLabTime(oa.UpdatedAt), by)
	default:
		zerolog.Ctx(ctx).Debug().Str("action", oa.Action).Msg("Merge request action needs no evaluation")
		return nil
	}
	return h.Evaluator.Evaluate(ctx, f, ref)
}

// leftDraft reports whether an update took a merge request out of draft.
func leftDraft(changes map[string]json.RawMessage) bool {
	for _, key := range []string{"draft", "work_in_progress"} {
		raw, ok := changes[key]
		if !ok {
			continue
		}
		var c struct {
			Previous bool `json:"previous"`
			Current  bool `json:"current"`
		}
		if json.Unmarshal(raw, &c) == nil && c.Previous && !c.Current {
			return true
		}
	}
	return false
}

// note hands a note on a merge request or issue to the comment handler.
// GitLab sends no event when a note is deleted, and no earlier text when
// one is edited; the resync loop and the evaluation's re-read of every
// note cover both.
func (h *GitLab) note(ctx context.Context, f forge.Forge, repo forge.Repo, event string, ev gitlabEvent) error {
	log := zerolog.Ctx(ctx)
	oa := ev.ObjectAttributes
	if oa == nil || oa.ID == 0 || ev.User == nil {
		return fmt.Errorf("%s payload has no object_attributes.id or user", event)
	}
	n := Note{
		Comment: forge.Comment{
			ID: oa.ID, Body: oa.Note,
			User:      forge.User{Login: ev.User.Username, ID: ev.User.ID},
			CreatedAt: parseGitLabTime(oa.CreatedAt), UpdatedAt: parseGitLabTime(oa.UpdatedAt),
		},
		Sender: forge.User{Login: ev.User.Username, ID: ev.User.ID},
	}
	switch oa.Action {
	case "", "create":
		n.Action = NoteCreated
	case "update":
		n.Action = NoteEdited
	default:
		log.Debug().Str("action", oa.Action).Msg("Note action needs no action")
		return nil
	}
	switch oa.NoteableType {
	case "MergeRequest":
		if ev.MergeRequest == nil || ev.MergeRequest.IID == 0 {
			return fmt.Errorf("%s payload on a merge request has no merge_request.iid", event)
		}
		n.Thread = forge.Thread{Repo: repo, Number: int(ev.MergeRequest.IID)}
	case "Issue":
		if ev.Issue == nil || ev.Issue.IID == 0 {
			return fmt.Errorf("%s payload on an issue has no issue.iid", event)
		}
		n.Thread = forge.IssueThread(repo, int(ev.Issue.IID))
		n.IssueBody = ev.Issue.Description
	default:
		log.Debug().Str("noteable_type", oa.NoteableType).Msg("Note on neither a merge request nor an issue")
		return nil
	}
	if s, ok := f.(selfer); ok {
		me, err := s.Self(ctx)
		if err != nil {
			return fmt.Errorf("%s: who gitward is on %s: %w", event, repo.Host, err)
		}
		if strings.EqualFold(me.Login, n.Comment.User.Login) {
			n.Comment.User.Bot, n.Sender.Bot = true, true
		}
	}
	return h.Comments.Act(ctx, f, n)
}

// push checks a push to a branch for commits that no merged merge request
// brought.
func (h *GitLab) push(ctx context.Context, f forge.Forge, repo forge.Repo, ev gitlabEvent) error {
	log := zerolog.Ctx(ctx)
	branch, isBranch := strings.CutPrefix(ev.Ref, "refs/heads/")
	switch {
	case !isBranch:
		log.Debug().Str("ref", ev.Ref).Msg("Push to a ref that is not a branch; nothing to check")
		return nil
	case ev.After == "" || ev.After == audit.ZeroSHA:
		log.Debug().Str("ref", ev.Ref).Msg("Branch deleted; nothing to check")
		return nil
	}
	// GitLab does not say whether a push was forced; walking from after
	// back to before finds the same commits either way.
	p := audit.Pushed{Branch: branch, Ref: ev.Ref, Before: ev.Before, After: ev.After, Pusher: ev.UserUsername, PusherName: ev.UserName, PusherEmail: ev.UserEmail}
	return h.Push.Pushes.Check(ctx, f, repo, p)
}

// pipelineStarting are the statuses of a pipeline that has just started or
// waits to.
var pipelineStarting = map[string]bool{
	"created": true, "pending": true, "waiting_for_resource": true, "preparing": true, "manual": true, "scheduled": true,
}

// knownHeadPipeline is a forge that remembers the head pipeline of a
// commit, and can be told of a newer one (the GitLab adapter).
type knownHeadPipeline interface {
	KnownHeadPipeline(repo forge.Repo, sha string) int64
	UseHeadPipeline(repo forge.Repo, sha string, id int64)
}

// pipeline evaluates the open merge requests whose head a new pipeline
// runs on. gitward's statuses must be in a merge request's head pipeline
// for "Pipelines must succeed" to see them; a pipeline CI starts after
// gitward evaluated (or a merge request pipeline beside a branch one) has
// none, and evaluating again puts them there. Pipelines of source
// "external" are the ones commit statuses make, gitward's own among them,
// and finished pipelines need nothing.
func (h *GitLab) pipeline(ctx context.Context, f forge.Forge, repo forge.Repo, event string, ev gitlabEvent) error {
	log := zerolog.Ctx(ctx)
	oa := ev.ObjectAttributes
	if oa == nil || oa.SHA == "" {
		return fmt.Errorf("%s payload has no object_attributes.sha", event)
	}
	var source string
	_ = json.Unmarshal(oa.Source, &source)
	switch {
	case source == "external":
		log.Debug().Msg("Pipeline of commit statuses; nothing to do")
		return nil
	case !pipelineStarting[oa.Status]:
		// "running" is left out on purpose: a status gitward sets in a
		// finished pipeline runs it again, and evaluating on that would
		// set statuses again, for ever.
		log.Debug().Str("status", oa.Status).Msg("Pipeline is not starting; nothing to do")
		return nil
	}
	if k, ok := f.(knownHeadPipeline); ok && oa.ID != 0 && k.KnownHeadPipeline(repo, oa.SHA) == oa.ID {
		log.Debug().Int64("pipeline", oa.ID).Msg("gitward already evaluated with this head pipeline")
		return nil
	}
	// The merge requests whose head pipeline this is: the one a merge
	// request pipeline names, or the open ones whose source branch it runs
	// on (not a tag's pipeline of the same commit).
	var refs []forge.PRRef
	if ev.MergeRequest != nil && ev.MergeRequest.IID != 0 {
		refs = append(refs, forge.PRRef{Repo: repo, Number: int(ev.MergeRequest.IID)})
	} else {
		prs, err := f.PullRequestsForCommit(ctx, repo, oa.SHA)
		if err != nil {
			return fmt.Errorf("%s: merge requests of %s: %w", event, oa.SHA, err)
		}
		for _, pr := range prs {
			if pr.State == forge.PROpen && (pr.HeadSHA == "" || pr.HeadSHA == oa.SHA) && pr.HeadRef == oa.Ref {
				refs = append(refs, pr.Ref)
			}
		}
	}
	if k, ok := f.(knownHeadPipeline); ok && len(refs) > 0 && oa.ID != 0 {
		// GitLab names the new pipeline as the merge request's head a
		// moment later; the statuses go into it now.
		k.UseHeadPipeline(repo, oa.SHA, oa.ID)
	}
	var errs []error
	for _, ref := range refs {
		// The evaluation reads the merge request again and evaluates only
		// its current head.
		if err := h.Evaluator.Evaluate(ctx, f, ref); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// parseGitLabTime reads the timestamps GitLab writes into webhooks, which
// come as "2006-01-02 15:04:05 UTC", with a numeric zone, or in RFC 3339;
// zero when none fits.
func parseGitLabTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700", "2006-01-02T15:04:05.000-07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
