package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"

	"github.com/palantir/go-githubapp/githubapp"
)

var (
	keyOnce sync.Once
	keyPEM  []byte
	keyErr  error
)

// PrivateKey returns a PEM-encoded RSA key for the GitHub App, made once per
// test binary (making one takes a noticeable fraction of a second). The
// double accepts any JWT signed for its app, so any key will do.
func PrivateKey(t testing.TB) []byte {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			keyErr = err
			return
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	if keyErr != nil {
		t.Fatalf("githubtest: generate a private key: %v", keyErr)
	}
	return keyPEM
}

// ClientCreator returns go-githubapp's caching ClientCreator for the
// double's app, as gitward makes it in production: app JWTs from
// PrivateKey, installation tokens from the double.
func (s *Server) ClientCreator(t testing.TB, opts ...githubapp.ClientOption) githubapp.ClientCreator {
	t.Helper()
	cfg := githubapp.Config{V3APIURL: s.URL + "/", V4APIURL: s.URL + "/graphql"}
	cfg.App.IntegrationID = s.cfg.appID
	cfg.App.PrivateKey = string(PrivateKey(t))
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg, opts...)
	if err != nil {
		t.Fatalf("githubtest: client creator: %v", err)
	}
	return cc
}
