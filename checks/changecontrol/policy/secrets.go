package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// secretNote is one finding, for the summary.
type secretNote struct {
	SecretFinding
	exempt bool
}

// secrets is the plaintext-secrets rule, with an annotation per finding
// that fails it.
func (e *evaluation) secrets() (rule, []forge.Annotation) {
	res := rule{RuleResult: RuleResult{Name: RulePlaintextSecrets}}
	policy := e.cfg.Secrets
	if !policy.ForbidPlaintext {
		res.OK = true
		res.Reason = "not enforced (secrets.forbid_plaintext is off)"
		return res, nil
	}
	findings := append([]SecretFinding(nil), e.f.PlaintextSecrets...)
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Object < b.Object
	})
	var bad, unchecked []string
	var annotations []forge.Annotation
	exempt := 0
	for _, s := range findings {
		s.Keys = append([]string(nil), s.Keys...)
		sort.Strings(s.Keys)
		n := secretNote{SecretFinding: s, exempt: policy.Exempt(s.File)}
		e.secretNotes = append(e.secretNotes, n)
		if n.exempt {
			exempt++
			continue
		}
		line := max(s.Line, 1)
		if s.Unchecked {
			unchecked = append(unchecked, fmt.Sprintf("%s at %s", s.Object, location(s)))
			annotations = append(annotations, forge.Annotation{
				Path: s.File, StartLine: line, EndLine: line, Level: forge.AnnotationFailure,
				Title:   "Not checked for plaintext Secrets",
				Message: fmt.Sprintf("%s, so this rule cannot pass until it can be checked.", markdown.Clip(s.Object, 500)),
			})
			continue
		}
		bad = append(bad, fmt.Sprintf("%s at %s", s.Object, location(s)))
		annotations = append(annotations, forge.Annotation{
			Path: s.File, StartLine: line, EndLine: line, Level: forge.AnnotationFailure,
			Title: "Plaintext " + s.Object,
			Message: fmt.Sprintf("%s carries plaintext data (%s). Encrypt it with SOPS or a SealedSecret, "+
				"or fetch it with an ExternalSecret; secrets.allowed_paths in .gitward.yaml can exempt this file.",
				s.Object, keyList(s.Keys)),
		})
	}
	exemptNote := ""
	if exempt > 0 {
		exemptNote = fmt.Sprintf("; %s exempt by secrets.allowed_paths", markdown.Count(exempt, "Secret", "Secrets"))
	}
	if len(bad) == 0 && len(unchecked) == 0 {
		res.OK = true
		res.title = "no plaintext secrets"
		res.Reason = "no plaintext secrets" + exemptNote
		return res, nil
	}
	var titles, reasons []string
	if len(bad) > 0 {
		t := markdown.Count(len(bad), "plaintext Secret", "plaintext Secrets")
		titles, reasons = append(titles, t), append(reasons, t+": "+strings.Join(bad, "; "))
	}
	if len(unchecked) > 0 {
		t := markdown.Count(len(unchecked), "app", "apps") + " not checked for plaintext Secrets"
		titles, reasons = append(titles, t), append(reasons, t+": "+strings.Join(unchecked, "; "))
	}
	res.title = strings.Join(titles, ", ")
	res.Reason = strings.Join(reasons, "; ") + exemptNote
	return res, annotations
}

// location is "file:line", or the file alone when the line is unknown.
func location(s SecretFinding) string {
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// keyList names a Secret's keys, never its values.
func keyList(keys []string) string {
	switch len(keys) {
	case 0:
		return "no keys named"
	case 1:
		return "key " + keys[0]
	}
	return "keys " + strings.Join(keys, ", ")
}
