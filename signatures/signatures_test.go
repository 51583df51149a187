package signatures_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/signatures"
)

// want is what a test expects of a Result; Reason must contain each of
// reason.
type want struct {
	signed, verified, web bool
	format                signatures.Format
	signer                string
	reason                []string
}

func check(t *testing.T, c forge.Commit, got signatures.Result, w want) {
	t.Helper()
	t.Logf("reason: %s", got.Reason)
	if got.Signed != w.signed || got.Verified != w.verified || got.WebCommit != w.web || got.Format != w.format || got.Signer != w.signer {
		t.Errorf("got Signed %v, Verified %v, WebCommit %v, Format %q, Signer %q; want %v, %v, %v, %q, %q\nreason: %s",
			got.Signed, got.Verified, got.WebCommit, got.Format, got.Signer,
			w.signed, w.verified, w.web, w.format, w.signer, got.Reason)
	}
	for _, r := range w.reason {
		if !strings.Contains(got.Reason, r) {
			t.Errorf("reason %q does not say %q", got.Reason, r)
		}
	}
	if got.Err != nil {
		t.Errorf("Err = %v, want none", got.Err)
	}
	leaksSignature(t, c, got.Reason)
}

// leaksSignature fails when a reason quotes any line of the signature.
func leaksSignature(t *testing.T, c forge.Commit, reason string) {
	t.Helper()
	for _, l := range strings.Split(c.Signature.Signature, "\n") {
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") && strings.Contains(reason, l) {
			t.Errorf("reason %q quotes the signature", reason)
		}
	}
}

// modify returns c with its payload or signature changed.
func modify(c forge.Commit, f func(*forge.Signature)) forge.Commit {
	f(&c.Signature)
	return c
}

func tamper(s *forge.Signature) { s.Payload = strings.Replace(s.Payload, "Add ", "Remove ", 1) }

func TestSSHSignatures(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	alice := "alice@example.com " + f.aliceSSH.pub
	signers := config.AllowedSigners{SSH: []string{alice}}

	// Alice's key, signing the payload in the "file" namespace rather
	// than git's.
	other, err := run(f.root, []byte(f.commits["ssh-alice"].Signature.Payload), nil, "ssh-keygen", "-q", "-Y", "sign", "-f", f.aliceSSH.path, "-n", "file")
	if err != nil {
		t.Fatal(err)
	}
	inFile := modify(f.commits["ssh-alice"], func(s *forge.Signature) { s.Signature = other })

	tests := []struct {
		name    string
		commit  forge.Commit
		signers []string
		want    want
	}{
		{
			name: "a signature by an allowed signer verifies", commit: f.commits["ssh-alice"], signers: []string{alice},
			want: want{signed: true, verified: true, format: "ssh", signer: "alice@example.com",
				reason: []string{"signed by SSH key " + f.aliceSSH.fpr + " of alice@example.com, allowed by allowed_signers"}},
		},
		{
			name: "a signature by a key not in allowed_signers is refused", commit: f.commits["ssh-mallory"], signers: []string{alice},
			want: want{signed: true, format: "ssh",
				reason: []string{"signed by SSH key " + f.mallorySSH.fpr + " of alice@example.com, not in allowed_signers"}},
		},
		{
			name: "a commit changed after signing is refused", commit: modify(f.commits["ssh-alice"], tamper), signers: []string{alice},
			want: want{signed: true, format: "ssh", reason: []string{"does not verify over the commit", "incorrect signature"}},
		},
		{
			name: "a signature made for another namespace than git's is refused", commit: inFile, signers: []string{alice},
			want: want{signed: true, format: "ssh", reason: []string{`for the namespace "file", not "git"`}},
		},
		{
			name: "a key whose allowed_signers entry expired before the commit is refused", commit: f.commits["ssh-alice"],
			signers: []string{`alice@example.com valid-before="20200101" ` + f.aliceSSH.pub},
			want:    want{signed: true, format: "ssh", reason: []string{"allowed_signers lists but does not accept at the commit time", "key has expired"}},
		},
		{
			name: "a key whose allowed_signers entry is not valid yet is refused", commit: f.commits["ssh-alice"],
			signers: []string{`alice@example.com valid-after="20990101" ` + f.aliceSSH.pub},
			want:    want{signed: true, format: "ssh", reason: []string{"does not accept at the commit time", "not yet valid"}},
		},
		{
			name: "validity is judged at the committer time, as git does", commit: f.commits["ssh-alice-2019"],
			signers: []string{`alice@example.com valid-before="20200101" ` + f.aliceSSH.pub},
			want:    want{signed: true, verified: true, format: "ssh", signer: "alice@example.com"},
		},
		{
			name: "the matching principal is the signer among several entries", commit: f.commits["ssh-mallory"],
			signers: []string{alice, "mallory@example.com " + f.mallorySSH.pub},
			want:    want{signed: true, verified: true, format: "ssh", signer: "mallory@example.com"},
		},
		{
			name: "an allowed_signers entry restricted to other namespaces does not sign commits", commit: f.commits["ssh-alice"],
			signers: []string{`alice@example.com namespaces="file" ` + f.aliceSSH.pub},
			want:    want{signed: true, format: "ssh", reason: []string{"does not verify over the commit"}},
		},
		{
			name: "with only OpenPGP signers allowed, an SSH signature is refused", commit: f.commits["ssh-alice"],
			want: want{signed: true, format: "ssh", reason: []string{"allowed_signers lists no SSH signers"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := config.AllowedSigners{SSH: tt.signers}
			if len(tt.signers) == 0 {
				s.OpenPGP = []string{f.alice.fpr}
			}
			check(t, tt.commit, signatures.Verify(ctx, tt.commit, s, nil), tt.want)
		})
	}
	_ = signers
}

func TestOpenPGPSignatures(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	allowed := config.AllowedSigners{OpenPGP: []string{f.alice.fpr, f.carol.fpr, f.eve.fpr, f.rob.fpr}}
	// The keyring holds Mallory's key too, so her refusal rests on the
	// fingerprint, not on a missing key.
	everyone := signatures.StaticKeys(f.alice.armored + f.mallory.armored + f.carol.armored + f.eve.armored + f.rob.armored)

	// Two signatures in one armored block: Alice's and Mallory's.
	twoSigs := func() forge.Commit {
		var bin []byte
		for _, name := range []string{"gpg-alice", "gpg-mallory"} {
			out, err := run(f.root, []byte(f.commits[name].Signature.Signature), nil, "gpg", "--batch", "--dearmor")
			if err != nil {
				t.Fatal(err)
			}
			bin = append(bin, out...)
		}
		armored, err := run(f.root, bin, nil, "gpg", "--batch", "--enarmor")
		if err != nil {
			t.Fatal(err)
		}
		armored = strings.ReplaceAll(armored, "PGP ARMORED FILE", "PGP SIGNATURE")
		return modify(f.commits["gpg-alice"], func(s *forge.Signature) { s.Signature = armored })
	}()

	tests := []struct {
		name    string
		commit  forge.Commit
		signers config.AllowedSigners
		keys    signatures.KeySource
		want    want
	}{
		{
			name: "a signature by an allowed fingerprint verifies", commit: f.commits["gpg-alice"], signers: allowed, keys: everyone,
			want: want{signed: true, verified: true, format: "openpgp", signer: f.alice.fpr,
				reason: []string{"OpenPGP signature by key 0x" + f.alice.signID + " verifies, fingerprint " + f.alice.fpr + " is allowed"}},
		},
		{
			name: "a key whose user ID claims an allowed person is refused by its fingerprint", commit: f.commits["gpg-mallory"], signers: allowed, keys: everyone,
			want: want{signed: true, format: "openpgp", signer: f.mallory.fpr,
				reason: []string{"fingerprint " + f.mallory.fpr + " is not among the allowed OpenPGP fingerprints"}},
		},
		{
			name: "a key that no key source supplies is an unknown signer", commit: f.commits["gpg-mallory"], signers: allowed, keys: signatures.StaticKeys(f.alice.armored),
			want: want{signed: true, format: "openpgp",
				reason: []string{"signed by OpenPGP key 0x" + f.mallory.signID + " of alice@example.com, not among the allowed OpenPGP fingerprints"}},
		},
		{
			name: "an allowed signer whose public key no source supplies cannot be checked", commit: f.commits["gpg-alice"], signers: allowed,
			want: want{signed: true, format: "openpgp", reason: []string{"matches an allowed OpenPGP fingerprint, but its public key could not be found"}},
		},
		{
			name: "a commit changed after signing is refused", commit: modify(f.commits["gpg-alice"], tamper), signers: allowed, keys: everyone,
			want: want{signed: true, format: "openpgp", reason: []string{"signature does not verify over the commit"}},
		},
		{
			name: "a signing subkey counts for its primary key's fingerprint", commit: f.commits["gpg-carol"], signers: allowed, keys: everyone,
			want: want{signed: true, verified: true, format: "openpgp", signer: f.carol.fpr,
				reason: []string{"by key 0x" + f.carol.signID + " verifies, fingerprint " + f.carol.fpr + " is allowed"}},
		},
		{
			name: "a signature by a key that has since expired is refused", commit: f.commits["gpg-eve-2020"], signers: allowed, keys: everyone,
			want: want{signed: true, format: "openpgp", reason: []string{"signed by OpenPGP key 0x" + f.eve.signID + ", which has expired"}},
		},
		{
			name: "a signature by a key revoked since is refused", commit: f.commits["gpg-rob"], signers: allowed, keys: everyone,
			want: want{signed: true, format: "openpgp", reason: []string{"signed by OpenPGP key 0x" + f.rob.signID + ", which has been revoked"}},
		},
		{
			name: "a block of two signatures is refused", commit: twoSigs, signers: allowed, keys: everyone,
			want: want{signed: true, format: "openpgp", reason: []string{"holds 2 signatures; gitward accepts exactly one"}},
		},
		{
			name: "with only SSH signers allowed, an OpenPGP signature is refused", commit: f.commits["gpg-alice"],
			signers: config.AllowedSigners{SSH: []string{"alice@example.com " + f.aliceSSH.pub}}, keys: everyone,
			want: want{signed: true, format: "openpgp", reason: []string{"allowed_signers lists no OpenPGP fingerprints"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.commit, signatures.Verify(ctx, tt.commit, tt.signers, tt.keys), tt.want)
		})
	}

	t.Run("fingerprints are matched however the configuration spaces them", func(t *testing.T) {
		spaced := strings.ToLower(f.alice.fpr[:20]) + " " + f.alice.fpr[20:]
		got := signatures.Verify(ctx, f.commits["gpg-alice"], config.AllowedSigners{OpenPGP: []string{spaced}}, everyone)
		if !got.Verified || got.Signer != f.alice.fpr {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("a key source that fails leaves the commit unverified with the error", func(t *testing.T) {
		boom := errors.New("forge unavailable")
		got := signatures.Verify(ctx, f.commits["gpg-alice"], allowed, failingKeys{boom})
		if got.Verified || !errors.Is(got.Err, boom) || !strings.Contains(got.Reason, "could not check the signature") {
			t.Errorf("got %+v", got)
		}
	})
}

type failingKeys struct{ err error }

func (k failingKeys) OpenPGPKeys(context.Context, []string) ([]byte, error) { return nil, k.err }

func TestUnsignedAndUnsupported(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	allowed := config.AllowedSigners{SSH: []string{"alice@example.com " + f.aliceSSH.pub}, OpenPGP: []string{f.alice.fpr}}
	smime := modify(f.commits["unsigned"], func(s *forge.Signature) {
		s.Signature = "-----BEGIN SIGNED MESSAGE-----\nMIAGCSqGSIb3DQEHAqCAMIACAQExDTALBglghkgBZQMEAgEwgAYJKoZIhvcNAQcB\n-----END SIGNED MESSAGE-----\n"
	})
	for _, tt := range []struct {
		name    string
		commit  forge.Commit
		signers config.AllowedSigners
		want    want
	}{
		{name: "an unsigned commit is not signed", commit: f.commits["unsigned"], signers: allowed,
			want: want{reason: []string{"not signed"}}},
		{name: "an unsigned commit is not signed, whatever the forge says", commit: modify(f.commits["unsigned"], func(s *forge.Signature) { s.Verified = true }),
			want: want{reason: []string{"not signed"}}},
		{name: "a verdict-only forge's unsigned commit is not signed", commit: modify(f.commits["unsigned"], func(s *forge.Signature) { s.VerdictOnly, s.Reason = true, "unsigned" }),
			want: want{reason: []string{"not signed"}}},
		{name: "a verdict-only forge's verified commit is verified by its verdict", commit: modify(f.commits["unsigned"], func(s *forge.Signature) { s.VerdictOnly, s.Verified, s.Reason = true, true, "verified" }),
			want: want{signed: true, verified: true, reason: []string{"the forge verified the signature (verified)"}}},
		{name: "a verdict-only forge's unverified commit is signed but not verified", commit: modify(f.commits["unsigned"], func(s *forge.Signature) { s.VerdictOnly, s.Reason = true, "unverified_key" }),
			want: want{signed: true, reason: []string{"the forge did not verify the signature (unverified_key)"}}},
		{name: "a verdict-only forge's commit cannot meet allowed signers", commit: modify(f.commits["unsigned"], func(s *forge.Signature) { s.VerdictOnly, s.Verified, s.Reason = true, true, "verified" }), signers: allowed,
			want: want{signed: true, reason: []string{"cannot check it against the allowed signers"}}},
		{name: "an S/MIME signature is not supported against allowed signers", commit: smime, signers: allowed,
			want: want{signed: true, format: "x509", reason: []string{"not supported; use SSH or OpenPGP"}}},
		{name: "a signature of an unknown kind is refused", commit: modify(f.commits["unsigned"], func(s *forge.Signature) { s.Signature = "hello" }), signers: allowed,
			want: want{signed: true, reason: []string{"of a kind gitward does not know"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.commit, signatures.Verify(ctx, tt.commit, tt.signers, nil), tt.want)
		})
	}
}

func TestForgeVerdictWithoutAllowedSigners(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	verified := func(c forge.Commit, ok bool, reason string) forge.Commit {
		return modify(c, func(s *forge.Signature) { s.Verified, s.Reason = ok, reason })
	}
	for _, tt := range []struct {
		name   string
		commit forge.Commit
		want   want
	}{
		{name: "an SSH signature the forge verified is verified", commit: verified(f.commits["ssh-mallory"], true, "valid"),
			want: want{signed: true, verified: true, format: "ssh", reason: []string{"the forge verified the signature (valid)"}}},
		{name: "an OpenPGP signature the forge verified is verified and not a web commit", commit: verified(f.commits["gpg-mallory"], true, "valid"),
			want: want{signed: true, verified: true, format: "openpgp", reason: []string{"the forge verified the signature (valid)"}}},
		{name: "a signature the forge did not verify is not verified", commit: verified(f.commits["gpg-alice"], false, "unknown_key"),
			want: want{signed: true, format: "openpgp", reason: []string{"the forge did not verify the signature (unknown_key)"}}},
		{name: "a tampered commit the forge somehow verified is still the forge's call", commit: verified(modify(f.commits["ssh-alice"], tamper), true, "valid"),
			want: want{signed: true, verified: true, format: "ssh"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.commit, signatures.Verify(ctx, tt.commit, config.AllowedSigners{}, nil), tt.want)
		})
	}
}

// webFlowCommits reads the recorded GitHub web-flow commits (see
// testdata/README.md).
func webFlowCommits(t *testing.T) map[string]forge.Commit {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "web-flow-commits.json"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []struct {
		KeyID        string `json:"key_id"`
		Verification struct {
			Verified  bool   `json:"verified"`
			Reason    string `json:"reason"`
			Signature string `json:"signature"`
			Payload   string `json:"payload"`
		} `json:"verification"`
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		t.Fatal(err)
	}
	out := map[string]forge.Commit{}
	for _, r := range recs {
		v := r.Verification
		out[r.KeyID] = forge.Commit{
			Committer: forge.Identity{Name: "GitHub", Email: "noreply@github.com", Login: "web-flow"},
			Signature: forge.Signature{Verified: v.Verified, Reason: v.Reason, Signature: v.Signature, Payload: v.Payload},
		}
	}
	return out
}

func TestWebFlowCommits(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	recorded := webFlowCommits(t)
	alice := config.AllowedSigners{OpenPGP: []string{f.alice.fpr}}
	unverified := func(c forge.Commit) forge.Commit {
		return modify(c, func(s *forge.Signature) { s.Verified, s.Reason = false, "bad_email" })
	}

	for _, key := range []struct{ id, fpr string }{{"B5690EEEBB952194", signatures.WebFlowKey2024}, {"4AEE18F83AFDEB23", signatures.WebFlowKey2017}} {
		c, ok := recorded[key.id]
		if !ok {
			t.Fatalf("no recorded commit signed by %s", key.id)
		}
		t.Run("GitHub's key "+key.id+" without allowed signers: a verified web commit", func(t *testing.T) {
			got := signatures.Verify(ctx, c, config.AllowedSigners{}, nil)
			check(t, c, got, want{signed: true, verified: true, web: true, format: "openpgp", signer: key.fpr,
				reason: []string{"made in GitHub's web interface", "web-flow key 0x" + key.id, "(valid)"}})
			if got.Counts(false) || !got.Counts(true) {
				t.Errorf("Counts(false) = %v, Counts(true) = %v; a web commit counts only when allowed", got.Counts(false), got.Counts(true))
			}
		})
		t.Run("GitHub's key "+key.id+" with allowed signers that do not list it: a web commit, as GitHub verified it", func(t *testing.T) {
			check(t, c, signatures.Verify(ctx, c, alice, signatures.StaticKeys(f.alice.armored)),
				want{signed: true, verified: true, web: true, format: "openpgp", signer: key.fpr, reason: []string{"made in GitHub's web interface"}})
		})
		t.Run("GitHub's key "+key.id+" named by a signature the forge did not verify: not a web commit", func(t *testing.T) {
			c := unverified(c)
			check(t, c, signatures.Verify(ctx, c, config.AllowedSigners{}, nil),
				want{signed: true, format: "openpgp", reason: []string{"the forge did not verify the signature (bad_email)"}})
			check(t, c, signatures.Verify(ctx, c, alice, nil),
				want{signed: true, format: "openpgp", reason: []string{"names GitHub's web-flow key 0x" + key.id + ", but the forge did not verify it (bad_email)"}})
		})
	}
	t.Run("a pinned web-flow fingerprint is checked by gitward itself, which needs GitHub's public key", func(t *testing.T) {
		c := recorded["B5690EEEBB952194"]
		got := signatures.Verify(ctx, c, config.AllowedSigners{OpenPGP: []string{signatures.WebFlowKey2024}}, nil)
		check(t, c, got, want{signed: true, format: "openpgp", reason: []string{"matches an allowed OpenPGP fingerprint, but its public key could not be found"}})
	})
}

func TestForgeKeys(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	lister := &fakeLister{keys: map[string][]forge.GPGKey{
		// GitHub reports key IDs only. Alice also registered Mallory's
		// key, which no allowed fingerprint names.
		"alice": {{KeyID: f.alice.signID, Armored: f.alice.armored}, {KeyID: f.mallory.signID, Armored: f.mallory.armored}},
		"carol": {{KeyID: f.carol.fpr[24:], Armored: f.carol.armored}},
	}}
	repo := forge.Repo{Owner: "acme", Name: "gitops", InstallationID: 1}

	t.Run("only keys of the allowed fingerprints are handed over", func(t *testing.T) {
		keys := signatures.NewForgeKeys(lister, repo, "alice", "carol", "", "alice", "nobody")
		got, err := keys.OpenPGPKeys(ctx, []string{f.alice.fpr})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(got), f.alice.armored) || strings.Contains(string(got), f.mallory.armored) || strings.Contains(string(got), f.carol.armored) {
			t.Errorf("keys handed over:\n%s", got)
		}
		c := f.commits["gpg-alice"]
		check(t, c, signatures.Verify(ctx, c, config.AllowedSigners{OpenPGP: []string{f.alice.fpr, f.carol.fpr}}, keys),
			want{signed: true, verified: true, format: "openpgp", signer: f.alice.fpr})
		c = f.commits["gpg-carol"]
		check(t, c, signatures.Verify(ctx, c, config.AllowedSigners{OpenPGP: []string{f.alice.fpr, f.carol.fpr}}, keys),
			want{signed: true, verified: true, format: "openpgp", signer: f.carol.fpr})
		if got := lister.calls(); got != 3 {
			t.Errorf("listed keys %d times, want once for each of alice, carol and nobody", got)
		}
	})
	t.Run("asking for a web-flow fingerprint reads the web-flow account too", func(t *testing.T) {
		lister.reset()
		keys := signatures.NewForgeKeys(lister, repo, "alice")
		if _, err := keys.OpenPGPKeys(ctx, []string{signatures.WebFlowKey2024}); err != nil {
			t.Fatal(err)
		}
		if !lister.asked("web-flow") {
			t.Errorf("the web-flow account was not read")
		}
	})
	t.Run("a forge error is an error, not an empty keyring", func(t *testing.T) {
		keys := signatures.NewForgeKeys(&fakeLister{err: errors.New("rate limited")}, repo, "alice")
		if _, err := keys.OpenPGPKeys(ctx, []string{f.alice.fpr}); err == nil || !strings.Contains(err.Error(), "OpenPGP keys of alice: rate limited") {
			t.Errorf("err = %v", err)
		}
	})
}

type fakeLister struct {
	mu     sync.Mutex
	keys   map[string][]forge.GPGKey
	err    error
	logins []string
}

func (l *fakeLister) UserGPGKeys(_ context.Context, _ forge.Repo, login string) ([]forge.GPGKey, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logins = append(l.logins, login)
	if l.err != nil {
		return nil, l.err
	}
	keys, ok := l.keys[login]
	if !ok {
		return nil, forge.ErrNotFound
	}
	return keys, nil
}

func (l *fakeLister) calls() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.logins) }

func (l *fakeLister) reset() { l.mu.Lock(); defer l.mu.Unlock(); l.logins = nil }

func (l *fakeLister) asked(login string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.logins {
		if x == login {
			return true
		}
	}
	return false
}

func TestConcurrentVerificationsLeaveNothingBehind(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	tmp := t.TempDir()
	v := &signatures.Verifier{TempDir: tmp}
	signers := config.AllowedSigners{SSH: []string{"alice@example.com " + f.aliceSSH.pub}, OpenPGP: []string{f.alice.fpr}}
	keys := signatures.StaticKeys(f.alice.armored + f.mallory.armored)
	names := []string{"ssh-alice", "ssh-mallory", "gpg-alice", "gpg-mallory", "unsigned"}
	wantVerified := map[string]bool{"ssh-alice": true, "gpg-alice": true}

	var wg sync.WaitGroup
	for i := range 20 {
		name := names[i%len(names)]
		wg.Go(func() {
			got := v.Verify(ctx, f.commits[name], signers, keys)
			if got.Verified != wantVerified[name] || got.Err != nil {
				t.Errorf("%s: got %+v", name, got)
			}
		})
	}
	wg.Wait()
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d temporary folders left behind", len(left))
	}
}

func TestFailuresToCheck(t *testing.T) {
	f := need(t)
	ctx := context.Background()
	signers := config.AllowedSigners{SSH: []string{"alice@example.com " + f.aliceSSH.pub}, OpenPGP: []string{f.alice.fpr}}
	keys := signatures.StaticKeys(f.alice.armored)

	t.Run("a verification that runs out of time is not verified and says so", func(t *testing.T) {
		v := &signatures.Verifier{Timeout: time.Nanosecond}
		for _, name := range []string{"ssh-alice", "gpg-alice"} {
			got := v.Verify(ctx, f.commits[name], signers, keys)
			if got.Verified || !errors.Is(got.Err, context.DeadlineExceeded) || !strings.Contains(got.Reason, "could not check the signature in time") {
				t.Errorf("%s: got %+v", name, got)
			}
		}
	})
	t.Run("a missing tool is an error, not a refusal", func(t *testing.T) {
		v := &signatures.Verifier{GPG: "/nonexistent/gpg", SSHKeygen: "/nonexistent/ssh-keygen"}
		for _, name := range []string{"ssh-alice", "gpg-alice"} {
			got := v.Verify(ctx, f.commits[name], signers, keys)
			if got.Verified || got.Err == nil || !got.Signed {
				t.Errorf("%s: got %+v", name, got)
			}
		}
		// Without allowed signers gpg is still needed, to tell web
		// commits apart: failing to run it must not leave a commit
		// verified.
		c := modify(f.commits["gpg-alice"], func(s *forge.Signature) { s.Verified = true })
		if got := v.Verify(ctx, c, config.AllowedSigners{}, nil); got.Verified || got.Err == nil {
			t.Errorf("forge verdict without gpg: got %+v", got)
		}
	})
	t.Run("a cancelled context is an error", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		got := signatures.Verify(cctx, f.commits["gpg-alice"], signers, keys)
		if got.Verified || !errors.Is(got.Err, context.Canceled) {
			t.Errorf("got %+v", got)
		}
	})
}
