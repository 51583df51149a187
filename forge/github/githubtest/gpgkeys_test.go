package githubtest_test

import (
	"context"
	"net/http"
	"testing"

	gh "github.com/google/go-github/v60/github"
)

// octocatKey is an Ed25519 OpenPGP public key made for these tests with
// gpg --quick-gen-key; its fingerprint is
// 304CC4C62CA18D04A4F110EB063D3E87CBFCE193.
const octocatKey = `-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEawkHFBYJKwYBBAHaRw8BAQdAYTwfd81GcwyQUW2n3raswSBKYV4JF9GaNuW/
7IhH1HW0Hk9jdG8gQ2F0IDxvY3RvY2F0QGV4YW1wbGUuY29tPoiQBBMWCAA4FiEE
MEzExiyhjQSk8RDrBj0+h8v84ZMFAmsJBxQCGwMFCwkIBwIGFQoJCAsCBBYCAwEC
HgECF4AACgkQBj0+h8v84ZOekgD/XHtjOqzMXQSsAgW6+2XNWCn0Q49syZnY04of
A0jx6IoBALPHqyDsArPFBFgJDsX1fUvYgNQCWGxERIoREPzTy3sJ
=Ab+/
-----END PGP PUBLIC KEY BLOCK-----
`

func TestUserGPGKeys(t *testing.T) {
	srv, c := seeded(t)
	ctx := context.Background()
	for range 3 {
		srv.AddGPGKey("octocat", octocatKey)
	}
	srv.AddUser("keyless", 77)

	var keys []*gh.GPGKey
	opt := &gh.ListOptions{PerPage: 2}
	for {
		page, resp, err := c.Users.ListGPGKeys(ctx, "octocat", opt)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if len(keys) != 3 {
		t.Fatalf("listed %d keys, want 3", len(keys))
	}
	for _, k := range keys {
		if k.GetKeyID() != "063D3E87CBFCE193" || k.GetRawKey() != octocatKey || !k.GetCanSign() {
			t.Errorf("key = %s; want key ID 063D3E87CBFCE193 read from the key, and the raw key as added", gh.Stringify(k))
		}
	}

	none, _, err := c.Users.ListGPGKeys(ctx, "keyless", nil)
	if err != nil || len(none) != 0 {
		t.Errorf("keys of a user without any = %d, %v; want none", len(none), err)
	}
	_, resp, err := c.Users.ListGPGKeys(ctx, "nobody", nil)
	if err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("keys of an unknown user: err %v, want 404", err)
	}
	if got := srv.Calls("users/list-gpg-keys-for-user"); got != 4 {
		t.Errorf("Calls(users/list-gpg-keys-for-user) = %d, want 4", got)
	}
}
