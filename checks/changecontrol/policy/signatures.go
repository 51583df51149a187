package policy

import (
	"fmt"
	"strings"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/report/markdown"
)

// commitNote is one commit's signature state, for the summary.
type commitNote struct {
	sha string
	ok  bool
	say string
}

// signatures is the signed-commits rule.
func (e *evaluation) signatures() rule {
	res := rule{RuleResult: RuleResult{Name: RuleSignedCommits}}
	s := e.cfg.Signatures
	if !s.RequireSignedCommits {
		res.OK = true
		res.Reason = "not required (signatures.require_signed_commits is off)"
		return res
	}
	if len(e.f.Commits) == 0 {
		res.Reason = "the pull request has no commits to check"
		res.title = "no commits"
		return res
	}
	var bad []string
	web := 0
	for _, c := range e.f.Commits {
		sha := markdown.Short(c.SHA)
		why := signatureProblem(c.Signature, s)
		e.commitNotes = append(e.commitNotes, commitNote{sha: sha, ok: why == "", say: signatureSays(c.Signature, why)})
		if why != "" {
			bad = append(bad, sha+" "+why)
			continue
		}
		if c.Signature.WebCommit {
			web++
		}
	}
	n := len(e.f.Commits)
	if len(bad) == 0 {
		res.OK = true
		res.title = "commits signed"
		res.Reason = markdown.Count(n, "commit", "commits") + " signed and verified"
		if s.AllowedSigners.IsSet() {
			res.Reason += ", by allowed signers"
		}
		if web > 0 {
			res.Reason += fmt.Sprintf(" (%d made in the web interface, signed by the forge)", web)
		}
		return res
	}
	res.title = fmt.Sprintf("%d of %s not properly signed", len(bad), markdown.Count(n, "commit", "commits"))
	if len(bad) == 1 {
		res.Reason = "commit " + bad[0]
	} else {
		res.Reason = fmt.Sprintf("%d of %d commits fail: %s", len(bad), n, strings.Join(bad, "; "))
	}
	return res
}

// signatureProblem says what is wrong with a commit's signature, or "".
func signatureProblem(v SignatureVerdict, s config.Signatures) string {
	switch {
	case v.WebCommit && !s.AllowWebCommits:
		return "was made in the web interface and signed by the forge's key (signatures.allow_web_commits is off)"
	case !v.Signed:
		return "is not signed"
	case !v.Verified:
		if r := markdown.OneLine(v.Reason); r != "" {
			return fmt.Sprintf("has a signature that does not verify (%s)", markdown.Clip(r, 60))
		}
		return "has a signature that does not verify"
	case v.WebCommit:
		return ""
	case s.AllowedSigners.IsSet() && v.Signer == "":
		return "is signed by no allowed signer"
	case s.AllowedSigners.IsSet() && !allowedSigner(s.AllowedSigners, v.Signer):
		return fmt.Sprintf("is signed by %s, who is not an allowed signer", markdown.Clip(markdown.OneLine(v.Signer), 80))
	}
	return ""
}

// signatureSays describes a commit's signature for the summary.
func signatureSays(v SignatureVerdict, problem string) string {
	if problem != "" {
		return problem
	}
	switch {
	case v.WebCommit:
		return "made in the web interface, signed by the forge"
	case v.Signer != "":
		return "signed by " + markdown.Clip(markdown.OneLine(v.Signer), 80)
	}
	return "signed and verified"
}

// allowedSigner reports whether signer, an OpenPGP fingerprint or an SSH
// principal, is on the list.
func allowedSigner(list config.AllowedSigners, signer string) bool {
	if fp, err := config.NormalizeFingerprint(signer); err == nil {
		for _, f := range list.Fingerprints() {
			if f == fp {
				return true
			}
		}
	}
	for _, line := range list.SSH {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if principalsMatch(strings.Trim(fields[0], `"`), signer) {
			return true
		}
	}
	return false
}

// principalsMatch matches a principal against the comma-separated patterns
// of an allowed-signers line, as ssh does: * and ? are wildcards, and a
// pattern starting with ! that matches refuses the principal.
func principalsMatch(patterns, principal string) bool {
	matched := false
	for _, p := range strings.Split(patterns, ",") {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if wildcard(p, principal) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

// wildcard matches s against a pattern of literal characters, * (any run)
// and ? (any one character).
func wildcard(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	// Iterative matching with backtracking to the last star.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && (pr[pi] == '?' || pr[pi] == sr[si]):
			pi++
			si++
		case pi < len(pr) && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}
