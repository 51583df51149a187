package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/gitward/gitward/checks/changecontrol/policy"
	"github.com/gitward/gitward/checks/diff"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/forge/github"
	"github.com/gitward/gitward/forge/gitlab"
	"github.com/gitward/gitward/forge/localgit"
	"github.com/gitward/gitward/report/markdown"
	"github.com/gitward/gitward/signatures"
)

// Rule states in the local preview of change control.
const (
	statePass    = "pass"
	stateFail    = "fail"
	statePending = "pending"
)

// pendingReason marks the rules only the pull request can decide.
const pendingReason = "pending (decided on the pull request)"

// changeControl is the change-control verdict on what a local repository
// can decide: signatures, who wrote the change, plaintext Secrets. Reviews
// and approvals exist only on the pull request, so their rules are pending
// here rather than failing as they would on the forge before anyone
// reviews.
type changeControl struct {
	// State is fail when a rule decided here fails, pending when every
	// such rule holds, and pass when no rule waits for the pull request.
	State string      `json:"state"`
	Rules []ruleState `json:"rules"`
	// Notes say what the preview could not know and how it checked.
	Notes []string `json:"notes"`
}

// ruleState is one rule of the policy as the local preview sees it.
type ruleState struct {
	Name string `json:"name"`
	// State is pass, fail or pending.
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// failed names the rules that fail.
func (c changeControl) failed() []string {
	var out []string
	for _, r := range c.Rules {
		if r.State == stateFail {
			out = append(out, r.Name)
		}
	}
	return out
}

// markdown writes the verdict as a section to follow the rendered diff.
func (c changeControl) markdown() string {
	var b strings.Builder
	b.WriteString("## gitward · change control (local preview)\n\n| | Rule | Result |\n|:-:|---|---|\n")
	marks := map[string]string{statePass: "✅", stateFail: "❌", statePending: "⏳"}
	for _, r := range c.Rules {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", marks[r.State], markdown.Cell(r.Name), markdown.Cell(r.Reason))
	}
	for _, n := range c.Notes {
		b.WriteString("\n" + n + "\n")
	}
	return b.String()
}

// localChangeControl gathers the facts a local repository gives, as the
// change-control capability gathers them from the forge, and decides what
// can be decided without the pull request.
func localChangeControl(ctx context.Context, git *localgit.Repo, engine *diff.Engine, in *diff.Inputs) (changeControl, error) {
	cfg, base, head, changed := in.Config, in.Base, in.Head, in.Changed
	facts := policy.Facts{
		Config: cfg,
		// The pull request's author is known only on the forge.
		PR:           policy.PullRequest{BaseSHA: base.SHA, HeadSHA: head.SHA},
		ChangedFiles: forge.Paths(changed),
	}
	commits, err := git.Commits(ctx, base.SHA, head.SHA)
	if err != nil {
		return changeControl{}, err
	}
	if facts.Commits, err = localSignatures(ctx, git, cfg.Signatures, commits); err != nil {
		return changeControl{}, err
	}
	if cfg.Secrets.ForbidPlaintext {
		found, err := engine.PlaintextSecrets(ctx, in)
		if err != nil {
			return changeControl{}, fmt.Errorf("look for plaintext Secrets at head: %w", err)
		}
		for _, s := range found {
			facts.PlaintextSecrets = append(facts.PlaintextSecrets, policy.SecretFinding{File: s.File, Line: s.Line, Object: s.Object, Keys: s.Keys, Unchecked: s.Unchecked})
		}
	}
	return previewVerdict(facts), nil
}

// localLogin reads a forge's private commit address as its login, as the
// forge adapters do. A local repository does not say which forge it is
// for, so both forms are read: reading more can only exclude approvals.
func localLogin(id forge.Identity) forge.Identity {
	if id.Login == "" {
		id.Login = gitlab.NoreplyLogin(id.Email)
	}
	if id.Login == "" {
		id.Login = github.NoreplyLogin(id.Email)
	}
	return id
}

// localSignatures turns commits into the policy's form. With allowed
// signers, each signature is verified against them exactly as the server
// does, with OpenPGP keys from the user's gpg keyring; without, git
// verify-commit stands in for the forge's verdict.
func localSignatures(ctx context.Context, git *localgit.Repo, s config.Signatures, commits []forge.Commit) ([]policy.Commit, error) {
	out := make([]policy.Commit, 0, len(commits))
	for _, c := range commits {
		c.Author, c.Committer = localLogin(c.Author), localLogin(c.Committer)
		c.CoAuthors = forge.CoAuthorTrailers(c.Message)
		for i := range c.CoAuthors {
			c.CoAuthors[i] = localLogin(c.CoAuthors[i])
		}
		pc := policy.NewCommit(c, policy.SignatureVerdict{})
		if s.RequireSignedCommits {
			v, err := localSignature(ctx, git, s.AllowedSigners, c)
			if err != nil {
				return nil, err
			}
			pc.Signature = v
		}
		out = append(out, pc)
	}
	return out, nil
}

func localSignature(ctx context.Context, git *localgit.Repo, signers config.AllowedSigners, c forge.Commit) (policy.SignatureVerdict, error) {
	if signers.IsSet() {
		res := signatures.Verify(ctx, c, signers, gpgKeyring{})
		if res.Err != nil {
			return policy.SignatureVerdict{}, fmt.Errorf("verify the signature of commit %s: %w", markdown.Short(c.SHA), res.Err)
		}
		return policy.SignatureVerdict{Signed: res.Signed, Verified: res.Verified, Reason: res.Reason, Signer: res.Signer, WebCommit: res.WebCommit}, nil
	}
	if c.Signature.Signature == "" {
		return policy.SignatureVerdict{Reason: "not signed"}, nil
	}
	gv, err := git.VerifyCommit(ctx, c.SHA)
	if err != nil {
		return policy.SignatureVerdict{}, err
	}
	c.Signature.Verified, c.Signature.Reason = gv.Verified, gv.Reason
	if gv.Verified {
		c.Signature.Reason = "valid"
	}
	// The verifier adds what the server adds to the forge's verdict: it
	// recognises commits the forge made in its web interface.
	res := signatures.Verify(ctx, c, signers, nil)
	if res.Err != nil {
		return policy.SignatureVerdict{}, fmt.Errorf("verify the signature of commit %s: %w", markdown.Short(c.SHA), res.Err)
	}
	v := policy.SignatureVerdict{Signed: res.Signed, Verified: res.Verified, Reason: res.Reason, Signer: res.Signer, WebCommit: res.WebCommit}
	if !gv.Verified {
		v.Reason = gv.Reason
	}
	if v.Verified && v.Signer == "" {
		v.Signer = gv.Signer
	}
	return v, nil
}

// gpgKeyring reads the allowed signers' OpenPGP public keys from the user's
// gpg keyring (GNUPGHOME), where on the server they come from the keys
// users registered on the forge. Either way gpg accepts a signature only
// from a pinned fingerprint.
type gpgKeyring struct{}

// OpenPGPKeys exports the keys with gpg --export --armor.
func (gpgKeyring) OpenPGPKeys(ctx context.Context, fingerprints []string) ([]byte, error) {
	if len(fingerprints) == 0 {
		return nil, nil
	}
	cmd := exec.CommandContext(ctx, "gpg", append([]string{"--batch", "--no-tty", "--armor", "--export", "--"}, fingerprints...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("export the allowed signers' OpenPGP keys from your gpg keyring: %s", msg)
	}
	return out, nil
}

// previewVerdict evaluates the facts with the policy and marks the rules
// that wait for reviews as pending. An approval rule that holds with no
// review at all (none required, or no changed file it applies to) is
// decided already.
func previewVerdict(f policy.Facts) changeControl {
	v := policy.Evaluate(f)
	var c changeControl
	for _, r := range v.Rules {
		s := ruleState{Name: r.Name, State: stateFail, Reason: r.Reason}
		if r.OK {
			s.State = statePass
		}
		switch {
		case r.Name == policy.RuleChangesRequested:
			s.State, s.Reason = statePending, pendingReason+": a reviewer's request for changes blocks until it is answered"
		case (r.Name == policy.RuleApprovals || strings.HasPrefix(r.Name, policy.RuleApprovals+": ")) && !r.OK:
			s.State, s.Reason = statePending, pendingReason+": "+r.Reason
		case r.Name == policy.RuleSeparation && f.Config != nil && !f.Config.SeparationOfDuties.AllowSelfApproval:
			s.Reason = authorsReason(f)
		}
		c.Rules = append(c.Rules, s)
	}
	c.State = statePass
	for _, r := range c.Rules {
		switch {
		case r.State == stateFail:
			c.State = stateFail
		case r.State == statePending && c.State == statePass:
			c.State = statePending
		}
	}
	c.Notes = append(c.Notes, "⏳ Only the pull request can decide approvals and requests for changes: "+
		"who reviews it, with what permission and teams, on which head commit. "+
		"Its author is not known here either: on the pull request, their approval does not count.")
	if f.Config != nil && f.Config.Signatures.RequireSignedCommits {
		if f.Config.Signatures.AllowedSigners.IsSet() {
			c.Notes = append(c.Notes, "Signatures were verified against signatures.allowed_signers, as on the pull request; "+
				"OpenPGP public keys come from your gpg keyring.")
		} else {
			c.Notes = append(c.Notes, "Signatures were verified with git verify-commit (your gpg keyring and gpg.ssh.allowedSignersFile); "+
				"on the pull request, GitHub verifies them with the keys its users registered.")
		}
	}
	return c
}

// authorsReason names the people whose approvals will not count, from the
// commits' identities: a local repository links them to no forge login.
func authorsReason(f policy.Facts) string {
	sod := f.Config.SeparationOfDuties
	seen := map[string]bool{}
	var who []string
	add := func(id forge.Identity, why string) {
		key := strings.ToLower(id.Email)
		if key == "" {
			key = "name:" + id.Name
		}
		if seen[key] {
			return
		}
		seen[key] = true
		name := id.Name
		if id.Email != "" {
			name += " (" + id.Email + ", " + why + ")"
		} else {
			name += " (" + why + ")"
		}
		who = append(who, name)
	}
	for _, c := range f.Commits {
		add(c.Author, "authored "+markdown.Short(c.SHA))
		if sod.CommittersAreAuthors {
			add(c.Committer, "committed "+markdown.Short(c.SHA))
		}
	}
	others := "the pull request's author"
	if sod.CoAuthorsAreAuthors {
		others += " or anyone a Co-authored-by trailer names"
	}
	if len(who) == 0 {
		return "no commits; " + others + " cannot approve"
	}
	return "authors cannot approve: " + strings.Join(who, ", ") + "; nor can " + others
}
