package policy

import (
	"testing"
)

const allowedSigners = `
signatures:
  allowed_signers:
    ssh:
      - alice@corp.example,*@sre.corp.example,!mallory@sre.corp.example namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILT/R0loCm6e0oApYYehzb39ePV02IVUH+8iMIWOKQu8 alice laptop
    openpgp:
      - "4F3D 8C1A 7E52 90B6 1D2C  A0E7 3B9F 66C4 D1E8 2A57"
`

func TestSignedCommits(t *testing.T) {
	t.Run("every commit signed and verified holds", func(t *testing.T) {
		f := facts(t, "")
		assertHolds(t, f, "signed commits", "2 commits signed and verified")
	})
	t.Run("an unsigned commit fails", func(t *testing.T) {
		f := facts(t, "")
		f.Commits[0].Signature = SignatureVerdict{Reason: "unsigned"}
		v := assertFails(t, f, "signed commits", "commit 3f2a1c9 is not signed")
		if v.Title != "0 of 1 approval; 1 of 2 commits not properly signed; no plaintext secrets" {
			t.Errorf("title %q", v.Title)
		}
	})
	t.Run("a signature that does not verify fails, with the verifier's reason", func(t *testing.T) {
		f := facts(t, "")
		f.Commits[1].Signature = SignatureVerdict{Signed: true, Reason: "unknown_key"}
		assertFails(t, f, "signed commits", "commit 9be01d2 has a signature that does not verify (unknown_key)")
	})
	t.Run("every failing commit is listed in order", func(t *testing.T) {
		f := facts(t, "")
		f.Commits[0].Signature = SignatureVerdict{}
		f.Commits[1].Signature = SignatureVerdict{Signed: true}
		assertFails(t, f, "signed commits", "2 of 2 commits fail: 3f2a1c9 is not signed; 9be01d2 has a signature that does not verify")
	})
	t.Run("a web commit fails unless allow_web_commits", func(t *testing.T) {
		f := facts(t, "")
		f.Commits[1].Signature = SignatureVerdict{Signed: true, Verified: true, WebCommit: true}
		assertFails(t, f, "signed commits", "commit 9be01d2 was made in the web interface and signed by the forge's key (signatures.allow_web_commits is off)")
	})
	t.Run("a web commit counts with allow_web_commits", func(t *testing.T) {
		f := facts(t, "signatures: {allow_web_commits: true}")
		f.Commits[1].Signature = SignatureVerdict{Signed: true, Verified: true, WebCommit: true}
		assertHolds(t, f, "signed commits", "2 commits signed and verified (1 made in the web interface, signed by the forge)")
	})
	t.Run("an unverified web commit fails even with allow_web_commits", func(t *testing.T) {
		f := facts(t, "signatures: {allow_web_commits: true}")
		f.Commits[1].Signature = SignatureVerdict{Signed: true, WebCommit: true, Reason: "invalid"}
		assertFails(t, f, "signed commits", "commit 9be01d2 has a signature that does not verify (invalid)")
	})
	t.Run("with require_signed_commits off nothing is checked", func(t *testing.T) {
		f := facts(t, "signatures: {require_signed_commits: false}")
		f.Commits[0].Signature = SignatureVerdict{}
		assertHolds(t, f, "signed commits", "not required (signatures.require_signed_commits is off)")
	})
	t.Run("a pull request without commits fails: there is nothing to vouch for", func(t *testing.T) {
		f := facts(t, "")
		f.Commits = nil
		assertFails(t, f, "signed commits", "the pull request has no commits to check")
	})
}

func TestAllowedSigners(t *testing.T) {
	tests := []struct {
		name   string
		signer string
		reason string // "" when the rule holds
	}{
		{"an OpenPGP fingerprint on the list", "4F3D8C1A7E5290B61D2CA0E73B9F66C4D1E82A57", ""},
		{"a fingerprint in lower case with spaces", "4f3d 8c1a 7e52 90b6 1d2c a0e7 3b9f 66c4 d1e8 2a57", ""},
		{"an SSH principal on the list", "alice@corp.example", ""},
		{"an SSH principal matching a wildcard", "bob@sre.corp.example", ""},
		{"an SSH principal a negated pattern refuses", "mallory@sre.corp.example",
			"commit 3f2a1c9 is signed by mallory@sre.corp.example, who is not an allowed signer"},
		{"a fingerprint not on the list", "0000000000000000000000000000000000000000",
			"commit 3f2a1c9 is signed by 0000000000000000000000000000000000000000, who is not an allowed signer"},
		{"a principal not on the list", "eve@corp.example",
			"commit 3f2a1c9 is signed by eve@corp.example, who is not an allowed signer"},
		{"an unknown signer", "", "commit 3f2a1c9 is signed by no allowed signer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts(t, allowedSigners)
			f.Commits[0].Signature.Signer = tt.signer
			f.Commits[1].Signature.Signer = "alice@corp.example"
			if tt.reason == "" {
				assertHolds(t, f, "signed commits", "2 commits signed and verified, by allowed signers")
			} else {
				assertFails(t, f, "signed commits", tt.reason)
			}
		})
	}
	t.Run("a web commit needs no allowed signer when web commits are allowed", func(t *testing.T) {
		f := facts(t, allowedSigners+"  allow_web_commits: true\n")
		f.Commits[0].Signature = SignatureVerdict{Signed: true, Verified: true, WebCommit: true}
		f.Commits[1].Signature.Signer = "alice@corp.example"
		assertHolds(t, f, "signed commits", "2 commits signed and verified, by allowed signers (1 made in the web interface, signed by the forge)")
	})
}

func TestWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*@corp.example", "x@corp.example", true},
		{"*@corp.example", "x@corp.example.evil", false},
		{"**a", "bba", true},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := wildcard(tt.pattern, tt.s); got != tt.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
