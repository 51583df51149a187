// Package audit keeps gitward's evidence of every change that reached a
// protected branch: one versioned record per merged pull request (who
// authored, who approved which commit, signatures, check conclusions, the
// digest of what the merge renders, break-glass) and one per push that
// bypassed review, appended to a hash-chained ledger kept on a branch of
// the repository itself. Verify walks a ledger in a local clone and says
// exactly what was edited, removed, reordered or left uncovered; Export
// turns it into change-management evidence for auditors.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/gitward/gitward/report/markdown"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Schema names the record format. A reader refuses records of any other
// schema rather than guess at their meaning.
const Schema = "gitward.dev/audit/v1"

// Kind says what a record records.
type Kind string

// Record kinds.
const (
	// KindMerge is a pull request merged into a protected branch.
	KindMerge Kind = "merge"
	// KindUnreviewed is a push whose commits belong to no merged pull
	// request.
	KindUnreviewed Kind = "unreviewed"
	// KindRetroactive is the retroactive approval, in a post-incident
	// review, of a pull request merged by breaking glass. It covers the
	// merge commit again, copies the merge's pull_request and break_glass,
	// and adds the approval.
	KindRetroactive Kind = "retroactive-approval"
)

// Check names whose conclusions a merge record carries.
const (
	CheckDiff          = "gitward/diff"
	CheckDrift         = "gitward/drift"
	CheckChangeControl = "gitward/change-control"
)

// Record is one evidence record. Its canonical encoding (Encode) is what
// the ledger stores and what the next record's PrevHash hashes. It holds no
// secret values: free text comes from gitward's own check runs, which never
// carry them, and is scrubbed of anything shaped like a credential before
// it is written.
type Record struct {
	Schema string `json:"schema"`
	// Seq numbers records from 1, with no gaps.
	Seq int `json:"seq"`
	// PrevHash is Hash of the previous record's canonical encoding, or ""
	// for the first record.
	PrevHash       string    `json:"prev_hash"`
	Kind           Kind      `json:"kind"`
	RecordedAt     time.Time `json:"recorded_at"`
	GitwardVersion string    `json:"gitward_version"`
	// Repository is "host/owner/name".
	Repository string `json:"repository"`
	// Branch is the protected branch the change reached.
	Branch string `json:"branch"`
	// Covers are the first-parent commits of Branch this record accounts
	// for, oldest first: a merge's landed commits (the merge commit, or
	// the commits a squash or rebase wrote), or the unreviewed commits of
	// a push.
	Covers      []string     `json:"covers"`
	PullRequest *PullRequest `json:"pull_request"`
	Push        *Push        `json:"push"`
	// Commits are the pull request's commits, or a push's unreviewed
	// commits, oldest first.
	Commits []Commit `json:"commits"`
	// Approvals are the approvals that counted.
	Approvals     []Approval     `json:"approvals"`
	ChangeControl *ChangeControl `json:"change_control"`
	// Checks are gitward's check runs on the pull request's head.
	Checks    []Check    `json:"checks"`
	Manifests *Manifests `json:"manifests"`
	// BreakGlass is set when a responder broke glass on the pull request.
	BreakGlass *BreakGlass `json:"break_glass"`
	// DriftCapture links the pull request that captured a manual change
	// this merge brought back into git, or "".
	DriftCapture string `json:"drift_capture"`
}

// PullRequest is the merged pull request.
type PullRequest struct {
	Number   int       `json:"number"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Author   string    `json:"author"`
	BaseRef  string    `json:"base_ref"`
	BaseSHA  string    `json:"base_sha"`
	HeadSHA  string    `json:"head_sha"`
	MergeSHA string    `json:"merge_sha"`
	MergedAt time.Time `json:"merged_at"`
	MergedBy string    `json:"merged_by"`
}

// Push is a push whose commits bypassed review.
type Push struct {
	Ref    string `json:"ref"`
	Before string `json:"before"`
	After  string `json:"after"`
	// Pusher is the login of the account that pushed, as the forge names
	// it; PusherName and PusherEmail are what git was told.
	Pusher      string `json:"pusher"`
	PusherName  string `json:"pusher_name"`
	PusherEmail string `json:"pusher_email"`
	Forced      bool   `json:"forced"`
	// Truncated is set when the push held more commits than gitward walks;
	// the oldest were not examined.
	Truncated bool `json:"truncated"`
}

// Person is a commit's author or committer.
type Person struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	Login string    `json:"login"`
	Date  time.Time `json:"date"`
}

// Commit is one commit and its signature verdict.
type Commit struct {
	SHA       string    `json:"sha"`
	Subject   string    `json:"subject"`
	Author    Person    `json:"author"`
	Committer Person    `json:"committer"`
	Signature Signature `json:"signature"`
}

// Signature is the verdict on a commit's signature.
type Signature struct {
	Signed   bool `json:"signed"`
	Verified bool `json:"verified"`
	// Reason is the verifier's word when it did not verify.
	Reason string `json:"reason"`
	// Signer is an OpenPGP fingerprint or SSH principal, when known.
	Signer string `json:"signer"`
	// WebCommit is set for commits the forge signed in its web interface.
	WebCommit bool `json:"web_commit"`
}

// Approval is one approval that counted.
type Approval struct {
	User string `json:"user"`
	// Via is "review" or "command" (/approve).
	Via string `json:"via"`
	// ID is the review's or comment's ID.
	ID  int64     `json:"id"`
	SHA string    `json:"sha"`
	At  time.Time `json:"at"`
}

// ChangeControl is the change-control verdict at merge time.
type ChangeControl struct {
	Conclusion string `json:"conclusion"`
	Title      string `json:"title"`
	// SeparationOfDuties is the separation-of-duties rule's verdict.
	SeparationOfDuties Rule              `json:"separation_of_duties"`
	Rules              []Rule            `json:"rules"`
	Ignored            []IgnoredApproval `json:"ignored_approvals"`
	// Error says why no verdict could be reached; the other fields are
	// then empty.
	Error string `json:"error"`
}

// Rule is one change-control rule's state.
type Rule struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
}

// IgnoredApproval is an approval that did not count, and why.
type IgnoredApproval struct {
	Approval
	Reason string `json:"reason"`
}

// Check is one of gitward's check runs on the pull request's head.
type Check struct {
	Name string `json:"name"`
	// Conclusion is the run's conclusion, "pending" for a run that had not
	// completed, or "missing" when gitward published none.
	Conclusion string `json:"conclusion"`
	Title      string `json:"title"`
	Summary    string `json:"summary"`
}

// Check conclusions beyond the forge's.
const (
	ConclusionPending = "pending"
	ConclusionMissing = "missing"
)

// Manifests are the rendered manifests of the apps the change affects, at
// the merge commit.
type Manifests struct {
	SHA  string        `json:"sha"`
	Apps []RenderedApp `json:"apps"`
	// Error says why nothing could be rendered (the commit could not be
	// read, no renderer is configured).
	Error string `json:"error"`
}

// RenderedApp is one app's render.
type RenderedApp struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Cluster string `json:"cluster"`
	// Digest is "sha256:" and the hex SHA-256 of the kustomize output
	// stream, or "" when the app did not render.
	Digest string `json:"digest"`
	// Error says why the app did not render.
	Error string `json:"error"`
}

// BreakGlass is a break-glass use.
type BreakGlass struct {
	User      string    `json:"user"`
	Reason    string    `json:"reason"`
	CommentID int64     `json:"comment_id"`
	At        time.Time `json:"at"`
	// Decisive is set when change control failed and the pull request
	// could merge only because glass was broken.
	Decisive bool `json:"decisive"`
	// PostIncidentIssue links the post-incident review, once opened.
	PostIncidentIssue string `json:"post_incident_issue"`
	// RetroactiveApproval is the approval the post-incident review gave.
	RetroactiveApproval *Approval `json:"retroactive_approval"`
}

// Subject names what a record is about, for file names and lookups:
// "pr-17", or "push-" and twelve digits of the push's new head.
func (r *Record) Subject() string {
	switch {
	case r.Kind == KindMerge && r.PullRequest != nil:
		return "pr-" + strconv.Itoa(r.PullRequest.Number)
	case r.Kind == KindUnreviewed && r.Push != nil:
		return "push-" + prefix(r.Push.After, 12)
	case r.Kind == KindRetroactive && r.PullRequest != nil:
		return "retro-pr-" + strconv.Itoa(r.PullRequest.Number)
	}
	return string(r.Kind)
}

// Describe names a record in messages: "record 000042 (PR #17)".
func (r *Record) Describe() string {
	return fmt.Sprintf("record %s (%s)", SeqName(r.Seq), r.what())
}

func (r *Record) what() string {
	switch {
	case r.Kind == KindMerge && r.PullRequest != nil:
		return fmt.Sprintf("PR #%d", r.PullRequest.Number)
	case r.Kind == KindUnreviewed && r.Push != nil:
		return "unreviewed push " + markdown.Short(r.Push.After)
	case r.Kind == KindRetroactive && r.PullRequest != nil:
		return fmt.Sprintf("retroactive approval of PR #%d", r.PullRequest.Number)
	}
	return string(r.Kind)
}

// SeqName is a sequence number as the ledger spells it: six digits.
func SeqName(seq int) string { return fmt.Sprintf("%06d", seq) }

// Encode returns the record's canonical encoding: JSON with object keys
// sorted, no insignificant whitespace, no HTML escaping, times in UTC to
// the second and empty lists as []. The same record always encodes to the
// same bytes, which is what makes its hash meaningful.
func Encode(r Record) ([]byte, error) {
	r.normalise()
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.Describe(), err)
	}
	return Canonical(raw)
}

// Canonical re-encodes a JSON document canonically: object keys sorted,
// numbers as written, no insignificant whitespace, no HTML escaping.
func Canonical(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Hash is "sha256:" and the hex SHA-256 of a canonical encoding.
func Hash(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Decode reads a stored record strictly: unknown fields, another schema
// or trailing data are errors. It does not check the encoding is
// canonical; Verify does.
func Decode(data []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, err
	}
	if dec.More() {
		return r, fmt.Errorf("data after the record")
	}
	if r.Schema != Schema {
		return r, fmt.Errorf("schema is %q, want %q", r.Schema, Schema)
	}
	return r, nil
}

// Validate checks what the schema requires of a record of its kind.
func (r *Record) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if r.Schema != Schema {
		add("schema is %q, want %q", r.Schema, Schema)
	}
	if r.Seq < 1 {
		add("seq %d is not a positive number", r.Seq)
	}
	if r.Seq == 1 && r.PrevHash != "" || r.Seq > 1 && !isHash(r.PrevHash) {
		add("prev_hash %q is not the hash of the previous record", r.PrevHash)
	}
	if r.RecordedAt.IsZero() {
		add("recorded_at is missing")
	}
	if r.Repository == "" || r.Branch == "" {
		add("repository and branch are required")
	}
	if len(r.Covers) == 0 {
		add("covers no commit")
	}
	for _, c := range r.Covers {
		if !isSHA(c) {
			add("covers %q, which is not a commit SHA", c)
		}
	}
	switch r.Kind {
	case KindMerge:
		switch {
		case r.PullRequest == nil:
			add("a merge record needs pull_request")
		case r.PullRequest.Number < 1 || !isSHA(r.PullRequest.MergeSHA):
			add("pull_request needs a number and a merge_sha")
		case !slices.Contains(r.Covers, r.PullRequest.MergeSHA):
			add("covers does not include the merge commit %s", markdown.Short(r.PullRequest.MergeSHA))
		}
		if r.ChangeControl == nil {
			add("a merge record needs change_control")
		}
		if r.Push != nil {
			add("a merge record has no push")
		}
	case KindUnreviewed:
		switch {
		case r.Push == nil:
			add("an unreviewed record needs push")
		case !isSHA(r.Push.After):
			add("push.after %q is not a commit SHA", r.Push.After)
		}
		if len(r.Commits) == 0 {
			add("an unreviewed record names no commit")
		}
		if r.PullRequest != nil {
			add("an unreviewed record has no pull_request")
		}
	case KindRetroactive:
		switch {
		case r.PullRequest == nil:
			add("a retroactive-approval record needs pull_request")
		case r.PullRequest.Number < 1 || !isSHA(r.PullRequest.MergeSHA):
			add("pull_request needs a number and a merge_sha")
		case !slices.Contains(r.Covers, r.PullRequest.MergeSHA):
			add("covers does not include the merge commit %s", markdown.Short(r.PullRequest.MergeSHA))
		}
		switch {
		case r.BreakGlass == nil || r.BreakGlass.RetroactiveApproval == nil:
			add("a retroactive-approval record needs break_glass with its retroactive_approval")
		case r.BreakGlass.RetroactiveApproval.User == "" || r.BreakGlass.RetroactiveApproval.At.IsZero():
			add("retroactive_approval needs a user and a time")
		}
		if r.Push != nil {
			add("a retroactive-approval record has no push")
		}
	default:
		add("kind %q is not %q, %q or %q", r.Kind, KindMerge, KindUnreviewed, KindRetroactive)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// normalise puts times in UTC to the second and empty lists as [].
func (r *Record) normalise() {
	r.RecordedAt = utc(r.RecordedAt)
	if r.Covers == nil {
		r.Covers = []string{}
	}
	if r.Commits == nil {
		r.Commits = []Commit{}
	}
	if r.Approvals == nil {
		r.Approvals = []Approval{}
	}
	if r.Checks == nil {
		r.Checks = []Check{}
	}
	if r.PullRequest != nil {
		pr := *r.PullRequest
		pr.MergedAt = utc(pr.MergedAt)
		r.PullRequest = &pr
	}
	commits := make([]Commit, len(r.Commits))
	for i, c := range r.Commits {
		c.Author.Date, c.Committer.Date = utc(c.Author.Date), utc(c.Committer.Date)
		commits[i] = c
	}
	r.Commits = commits
	approvals := make([]Approval, len(r.Approvals))
	for i, a := range r.Approvals {
		a.At = utc(a.At)
		approvals[i] = a
	}
	r.Approvals = approvals
	if r.ChangeControl != nil {
		cc := *r.ChangeControl
		if cc.Rules == nil {
			cc.Rules = []Rule{}
		}
		ignored := make([]IgnoredApproval, len(cc.Ignored))
		for i, a := range cc.Ignored {
			a.At = utc(a.At)
			ignored[i] = a
		}
		cc.Ignored = ignored
		r.ChangeControl = &cc
	}
	if r.Manifests != nil {
		m := *r.Manifests
		if m.Apps == nil {
			m.Apps = []RenderedApp{}
		}
		r.Manifests = &m
	}
	if r.BreakGlass != nil {
		bg := *r.BreakGlass
		bg.At = utc(bg.At)
		if bg.RetroactiveApproval != nil {
			a := *bg.RetroactiveApproval
			a.At = utc(a.At)
			bg.RetroactiveApproval = &a
		}
		r.BreakGlass = &bg
	}
}

// utc is t in UTC to the second; the zero time stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}

func isHash(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	return isHex(h)
}

func isSHA(s string) bool { return (len(s) == 40 || len(s) == 64) && isHex(s) }

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// prefix is the first n characters of s.
func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
