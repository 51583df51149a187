package githubtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// AddSSHSigningKey registers an SSH public key ("ssh-ed25519 AAAA...") as
// a signing key of login, as a user does under Settings → SSH and GPG keys.
// Commits pushed through Actor.Push with an SSH signature are then verified
// against the committer's signing keys with the real ssh-keygen, as GitHub
// verifies them: "valid" when a key of the committer's account made the
// signature, "unknown_key" otherwise. OpenPGP signatures pushed that way
// are reported "unknown_key" (the double keeps no OpenPGP verification).
func (s *Server) AddSSHSigningKey(login, publicKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userID(login)
	if s.sshKeys == nil {
		s.sshKeys = map[string][]string{}
	}
	s.sshKeys[login] = append(s.sshKeys[login], strings.TrimSpace(publicKey))
}

// verifySignature returns GitHub's verification verdict and reason for a
// signature over payload by the account committer. It runs with s.mu held.
func (s *Server) verifySignature(committer, payload, signature string) (bool, string) {
	switch {
	case strings.HasPrefix(signature, "-----BEGIN SSH SIGNATURE-----"):
	case strings.HasPrefix(signature, "-----BEGIN PGP SIGNATURE-----"):
		return false, "unknown_key"
	default:
		return false, "unknown_signature_type"
	}
	if committer == "" {
		return false, "no_user"
	}
	keys := s.sshKeys[committer]
	if len(keys) == 0 {
		return false, "unknown_key"
	}
	ok, err := sshVerify(committer, keys, payload, signature)
	if err != nil {
		s.report("githubtest: verify SSH signature: %v", err)
		return false, "gpgverify_error"
	}
	if !ok {
		return false, "unknown_key"
	}
	return true, "valid"
}

// sshVerify checks signature over payload with ssh-keygen -Y verify
// against keys as principal's.
func sshVerify(principal string, keys []string, payload, signature string) (bool, error) {
	dir, err := os.MkdirTemp("", "githubtest-ssh-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	var allowed strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&allowed, "%s namespaces=\"git\" %s\n", principal, k)
	}
	allowedPath, sigPath := filepath.Join(dir, "allowed_signers"), filepath.Join(dir, "sig")
	if err := os.WriteFile(allowedPath, []byte(allowed.String()), 0o600); err != nil {
		return false, err
	}
	if err := os.WriteFile(sigPath, []byte(signature), 0o600); err != nil {
		return false, err
	}
	cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", allowedPath, "-I", principal, "-n", "git", "-s", sigPath)
	cmd.Stdin = strings.NewReader(payload)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, isExit := err.(*exec.ExitError); isExit {
			return false, nil
		}
		return false, fmt.Errorf("ssh-keygen: %w: %s", err, out)
	}
	return true, nil
}
