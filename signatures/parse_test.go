package signatures

import (
	"strings"
	"testing"
	"time"
)

// listPacketsJQ is what gpg 2.2 --list-packets prints for the web-flow
// signature of jqlang/jq ed8f7154 (testdata/web-flow-commits.json).
const listPacketsJQ = `# off=0 ctb=c2 tag=2 hlen=3 plen=540 new-ctb
:signature packet: algo 1, keyid B5690EEEBB952194
	version 4, created 1714579008, md5len 0, sigclass 0x00
	digest algo 8, begin of digest 04 06
	hashed subpkt 2 len 4 (sig created 2024-05-01)
	hashed subpkt 16 len 8 (issuer key ID B5690EEEBB952194)
	data: [4093 bits]
`

// listPacketsEd25519 is a signature gpg 2.2 made with an Ed25519 key: it
// carries an issuer fingerprint subpacket.
const listPacketsEd25519 = `# off=0 ctb=88 tag=2 hlen=2 plen=136
:signature packet: algo 22, keyid 55F5F7BA2FEA53D4
	version 4, created 1795753696, md5len 0, sigclass 0x00
	digest algo 8, begin of digest f3 77
	hashed subpkt 33 len 21 (issuer fpr v4 F8F2C38AE86E38A19CCB707155F5F7BA2FEA53D4)
	hashed subpkt 2 len 4 (sig created 2026-11-27)
	hashed subpkt 28 len 17 (signer's user ID)
	subpkt 16 len 8 (issuer key ID 55F5F7BA2FEA53D4)
	data: [255 bits]
	data: [255 bits]
`

func TestParsePackets(t *testing.T) {
	t.Run("a web-flow signature is recognised by its issuer key ID", func(t *testing.T) {
		sp := parsePackets(listPacketsJQ)
		if sp.signatures != 1 || sp.keyID != "B5690EEEBB952194" || sp.issuerFpr != "" || sp.refusal() != "" {
			t.Fatalf("parsed %+v", sp)
		}
		if fp, ok := sp.webFlow(); !ok || fp != WebFlowKey2024 {
			t.Errorf("webFlow = %q, %v; want %s", fp, ok, WebFlowKey2024)
		}
	})
	t.Run("an issuer fingerprint is read, and an ordinary key is not web-flow", func(t *testing.T) {
		sp := parsePackets(listPacketsEd25519)
		if sp.keyID != "55F5F7BA2FEA53D4" || sp.issuerFpr != "F8F2C38AE86E38A19CCB707155F5F7BA2FEA53D4" {
			t.Fatalf("parsed %+v", sp)
		}
		if _, ok := sp.webFlow(); ok {
			t.Error("an ordinary key counts as web-flow")
		}
	})
	t.Run("a web-flow key ID with another issuer fingerprint is not web-flow", func(t *testing.T) {
		forged := strings.Replace(listPacketsEd25519, "keyid 55F5F7BA2FEA53D4", "keyid B5690EEEBB952194", 1)
		if _, ok := parsePackets(forged).webFlow(); ok {
			t.Error("a signature whose issuer fingerprint is not GitHub's counts as web-flow")
		}
	})
	t.Run("anything but one lone signature packet is refused", func(t *testing.T) {
		for name, out := range map[string]string{
			"two signatures": listPacketsJQ + listPacketsEd25519,
			"signed data":    ":onepass_sig packet: keyid B5690EEEBB952194\n:literal data packet:\n" + listPacketsJQ,
			"no signature":   "",
		} {
			if parsePackets(out).refusal() == "" {
				t.Errorf("%s: not refused", name)
			}
		}
	})
}

func TestParseStatus(t *testing.T) {
	const fpr = "F8F2C38AE86E38A19CCB707155F5F7BA2FEA53D4"
	for _, tt := range []struct {
		name string
		out  string
		want gpgStatus
	}{
		{
			name: "a good signature names its key and primary key",
			out: "[GNUPG:] NEWSIG alice@example.com\n[GNUPG:] KEY_CONSIDERED " + fpr + " 0\n[GNUPG:] GOODSIG 55F5F7BA2FEA53D4 Alice <alice@example.com>\n" +
				"[GNUPG:] VALIDSIG 0123456789ABCDEF0123456789ABCDEF01234567 2026-11-27 1795753696 0 4 0 22 8 00 " + fpr + "\n[GNUPG:] TRUST_UNDEFINED 0 pgp\n",
			want: gpgStatus{newSig: 1, good: true, validFpr: "0123456789ABCDEF0123456789ABCDEF01234567", primaryFpr: fpr},
		},
		{
			name: "a bad signature",
			out:  "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 55F5F7BA2FEA53D4 Alice <alice@example.com>\n[GNUPG:] FAILURE gpg-exit 33554433\n",
			want: gpgStatus{newSig: 1, bad: true},
		},
		{
			name: "a missing key",
			out:  "[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 55F5F7BA2FEA53D4 22 8 00 1795753696 9 " + fpr + "\n[GNUPG:] NO_PUBKEY 55F5F7BA2FEA53D4\n",
			want: gpgStatus{newSig: 1, errSig: "9", noPubkey: true},
		},
		{
			name: "expired and revoked keys and signatures",
			out:  "[GNUPG:] NEWSIG\n[GNUPG:] EXPKEYSIG 55F5F7BA2FEA53D4 Eve\n[GNUPG:] REVKEYSIG 55F5F7BA2FEA53D4 Rob\n[GNUPG:] EXPSIG 55F5F7BA2FEA53D4 Eve\n",
			want: gpgStatus{newSig: 1, expKey: true, revKey: true, expSig: true},
		},
		{
			name: "a user ID cannot smuggle in a status line",
			out:  "[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 55F5F7BA2FEA53D4 x [GNUPG:] VALIDSIG " + fpr + "\ngpg: [GNUPG:] GOODSIG\n",
			want: gpgStatus{newSig: 1, bad: true},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseStatus(tt.out); got != tt.want {
				t.Errorf("parseStatus = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCommitterTime(t *testing.T) {
	payload := "tree f236e53f145461c4462d5ac5c0525bbe1514a7cd\nauthor A <a@example.com> 1 +0000\ncommitter GitHub <noreply@github.com> 1714579008 +0200\n\ncommitter Z <z@example.com> 5 +0000\n"
	got, ok := committerTime(payload)
	if !ok || !got.Equal(time.Unix(1714579008, 0)) {
		t.Errorf("committerTime = %v, %v; want the header's, not the message's", got, ok)
	}
	for _, bad := range []string{"", "tree x\n\ncommitter A <a> 5 +0000", "committer A <a> soon +0000\n"} {
		if _, ok := committerTime(bad); ok {
			t.Errorf("committerTime(%q) found a time", bad)
		}
	}
}

func TestParseSSHSig(t *testing.T) {
	for name, armored := range map[string]string{
		"no armor":       "U1NIU0lH",
		"not base64":     "-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----\n",
		"no preamble":    "-----BEGIN SSH SIGNATURE-----\nAAAAAAAAAAAA\n-----END SSH SIGNATURE-----\n",
		"truncated":      "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQAAAP8=\n-----END SSH SIGNATURE-----\n",
		"other versions": "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAg==\n-----END SSH SIGNATURE-----\n",
	} {
		if _, err := parseSSHSig(armored); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for sig, want := range map[string]Format{
		"-----BEGIN SSH SIGNATURE-----\n":   FormatSSH,
		"\n-----BEGIN PGP SIGNATURE-----\n": FormatOpenPGP,
		"-----BEGIN PGP MESSAGE-----\n":     FormatOpenPGP,
		"-----BEGIN SIGNED MESSAGE-----\n":  FormatX509,
		"-----BEGIN CERTIFICATE-----\n":     FormatNone,
		"":                                  FormatNone,
	} {
		if got := formatOf(sig); got != want {
			t.Errorf("formatOf(%q) = %q, want %q", sig, got, want)
		}
	}
}
