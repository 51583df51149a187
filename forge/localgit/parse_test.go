package localgit

import (
	"strings"
	"testing"
)

func TestParseCommitSplitsPayloadAndSignatureAsGitDoes(t *testing.T) {
	const head = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" +
		"author A <a@example.com> 1714579008 +0000\n" +
		"committer A <a@example.com> 1714579008 +0000\n"
	const sha1 = "0123456789abcdef0123456789abcdef01234567"
	const sha256 = sha1 + "0123456789abcdef01234567"
	tests := []struct {
		name, sha, object, payload, signature string
	}{
		{
			name:      "the signature header's lines are unfolded, the rest is the payload",
			sha:       sha1,
			object:    head + "gpgsig -----BEGIN SSH SIGNATURE-----\n U1NI\n \n -----END SSH SIGNATURE-----\n\nmessage\n",
			payload:   head + "\nmessage\n",
			signature: "-----BEGIN SSH SIGNATURE-----\nU1NI\n\n-----END SSH SIGNATURE-----\n",
		},
		{
			name: "a SHA-1 commit's signature is gpgsig; a gpgsig-sha256 header is left out of the payload",
			sha:  sha1,
			object: head + "gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n other\n -----END PGP SIGNATURE-----\n" +
				"gpgsig -----BEGIN PGP SIGNATURE-----\n mine\n -----END PGP SIGNATURE-----\nencoding UTF-8\n\nmessage\n",
			payload:   head + "encoding UTF-8\n\nmessage\n",
			signature: "-----BEGIN PGP SIGNATURE-----\nmine\n-----END PGP SIGNATURE-----\n",
		},
		{
			name:      "a SHA-256 commit's signature is gpgsig-sha256",
			sha:       sha256,
			object:    head + "gpgsig -----BEGIN PGP SIGNATURE-----\n other\n -----END PGP SIGNATURE-----\ngpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n mine\n -----END PGP SIGNATURE-----\n\nmessage\n",
			payload:   head + "\nmessage\n",
			signature: "-----BEGIN PGP SIGNATURE-----\nmine\n-----END PGP SIGNATURE-----\n",
		},
		{
			name:      "a message line that looks like a header stays in the payload",
			sha:       sha1,
			object:    head + "gpgsig sig\n\nmessage\ngpgsig not a header\n more\n",
			payload:   head + "\nmessage\ngpgsig not a header\n more\n",
			signature: "sig\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCommit(tc.sha, []byte(tc.object))
			if err != nil {
				t.Fatal(err)
			}
			if c.Signature.Payload != tc.payload || c.Signature.Signature != tc.signature {
				t.Errorf("payload %q\nsignature %q\nwant %q\n%q", c.Signature.Payload, c.Signature.Signature, tc.payload, tc.signature)
			}
			if !strings.HasPrefix(c.Message, "message") || c.Author.Email != "a@example.com" {
				t.Errorf("message %q, author %+v", c.Message, c.Author)
			}
		})
	}
}
