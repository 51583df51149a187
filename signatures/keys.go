package signatures

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gitward/gitward/forge"
)

// KeySource supplies the OpenPGP public keys of allowed signers.
//
// Where a key comes from does not matter for security: a signature is
// accepted only when gpg reports that it verifies and that its primary key
// fingerprint is one the repository pinned in allowed_signers. A source
// that hands over the wrong key, or someone else's, can only make a good
// signature fail, never make a bad one pass.
type KeySource interface {
	// OpenPGPKeys returns ASCII-armored public keys (any number, one
	// after another) among which are those with these primary key
	// fingerprints, upper-case hex without spaces. Keys it cannot find are
	// simply missing; an error means the source could not be read.
	OpenPGPKeys(ctx context.Context, fingerprints []string) (armored []byte, err error)
}

// StaticKeys is a KeySource that always returns the same armored keys: a
// keyring exported with gpg --armor --export, for tests and the CLI.
type StaticKeys []byte

// OpenPGPKeys returns the keys.
func (k StaticKeys) OpenPGPKeys(context.Context, []string) ([]byte, error) { return k, nil }

// GPGKeyLister lists a forge user's OpenPGP public keys; forge.Reader is
// one.
type GPGKeyLister interface {
	UserGPGKeys(ctx context.Context, repo forge.Repo, login string) ([]forge.GPGKey, error)
}

// ForgeKeys is a KeySource that reads the public keys forge users
// registered: those of the logins it was made with (typically the authors
// and committers of a pull request's commits), and GitHub's web-flow
// account when a web-flow fingerprint is asked for. It keeps each login's
// keys for its lifetime, so make one per evaluation. It is safe for
// concurrent use.
type ForgeKeys struct {
	forge  GPGKeyLister
	repo   forge.Repo
	logins []string

	mu    sync.Mutex
	cache map[string][]forge.GPGKey
}

// NewForgeKeys returns a KeySource reading the keys of logins through f,
// with repo's credentials. Empty and repeated logins are ignored.
func NewForgeKeys(f GPGKeyLister, repo forge.Repo, logins ...string) *ForgeKeys {
	var uniq []string
	for _, l := range logins {
		if l != "" && !slices.Contains(uniq, l) {
			uniq = append(uniq, l)
		}
	}
	return &ForgeKeys{forge: f, repo: repo, logins: uniq, cache: map[string][]forge.GPGKey{}}
}

// OpenPGPKeys returns the keys of the logins whose primary key matches one
// of the fingerprints: by fingerprint when the forge reports one, else by
// key ID (GitHub reports only that; gpg then checks the full fingerprint).
// A login the forge does not know has no keys.
func (k *ForgeKeys) OpenPGPKeys(ctx context.Context, fingerprints []string) ([]byte, error) {
	wantFpr := map[string]bool{}
	wantID := map[string]bool{}
	logins := k.logins
	for _, fp := range fingerprints {
		fp = strings.ToUpper(fp)
		wantFpr[fp] = true
		wantID[keyIDOf(fp)] = true
		if webFlowSet[fp] && !slices.Contains(logins, WebFlowLogin) {
			logins = append(slices.Clip(logins), WebFlowLogin)
		}
	}
	var out bytes.Buffer
	for _, login := range logins {
		keys, err := k.userKeys(ctx, login)
		if err != nil {
			return nil, err
		}
		for _, key := range keys {
			match := wantID[strings.ToUpper(key.KeyID)]
			if key.Fingerprint != "" {
				match = wantFpr[strings.ToUpper(key.Fingerprint)]
			}
			if match && key.Armored != "" {
				out.WriteString(key.Armored)
				out.WriteString("\n")
			}
		}
	}
	return out.Bytes(), nil
}

func (k *ForgeKeys) userKeys(ctx context.Context, login string) ([]forge.GPGKey, error) {
	k.mu.Lock()
	keys, cached := k.cache[login]
	k.mu.Unlock()
	if cached {
		return keys, nil
	}
	keys, err := k.forge.UserGPGKeys(ctx, k.repo, login)
	if errors.Is(err, forge.ErrNotFound) {
		keys, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("OpenPGP keys of %s: %w", login, err)
	}
	k.mu.Lock()
	k.cache[login] = keys
	k.mu.Unlock()
	return keys, nil
}
