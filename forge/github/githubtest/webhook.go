package githubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// Payload returns a real webhook payload from octokit's examples in
// testdata/github/webhooks/<event>/<file>, for example
// Payload(t, "pull_request", "opened.payload.json").
func Payload(t testing.TB, event, file string) []byte {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "testdata", "github", "webhooks", event, file))
	if err != nil {
		t.Fatalf("githubtest: webhook payload: %v", err)
	}
	return data
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for payload:
// "sha256=" and the hex HMAC-SHA256 of the body under the webhook secret.
func Sign(payload []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(payload)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// SignedRequest builds the POST GitHub would deliver to url: the payload
// with X-GitHub-Event, a fresh X-GitHub-Delivery, X-Hub-Signature-256 and
// a JSON content type. Pass a wrong secret to build a forged delivery.
func SignedRequest(t testing.TB, url, event string, payload []byte, secret string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("githubtest: webhook request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/githubtest")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", DeliveryID())
	req.Header.Set("X-Hub-Signature-256", Sign(payload, secret))
	return req
}

// DeliveryID returns a random delivery ID shaped like GitHub's (a UUID).
func DeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
