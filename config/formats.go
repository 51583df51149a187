package config

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkRepoPath accepts a clean path relative to the repository root: "." for
// the root itself, otherwise no leading or trailing /, no empty, "." or ".."
// segments, no backslashes or control characters.
func checkRepoPath(s string) error {
	if s == "." {
		return nil
	}
	switch {
	case s == "":
		return errors.New("path is empty; use . for the repository root")
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("path %q contains control characters or invalid UTF-8", s)
	case strings.Contains(s, `\`):
		return fmt.Errorf("path %q contains \\; separate directories with /", s)
	case strings.HasPrefix(s, "/"):
		return fmt.Errorf("path %q must be relative to the repository root: remove the leading /", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("path %q ends with /: remove it", s)
	}
	for _, seg := range strings.Split(s, "/") {
		switch seg {
		case "":
			return fmt.Errorf("path %q has an empty segment //", s)
		case ".", "..":
			return fmt.Errorf("path %q must not contain . or .. segments", s)
		}
	}
	return nil
}

// checkObjectGlob accepts "" (matching only the empty value) or a glob.
func checkObjectGlob(s string) error {
	if s == "" {
		return nil
	}
	_, err := ParseGlob(s)
	return err
}

// checkJSONPointer accepts an RFC 6901 JSON pointer such as /spec/replicas.
func checkJSONPointer(s string) error {
	if s == "" {
		return nil
	}
	if s[0] != '/' {
		return fmt.Errorf("invalid JSON pointer %q: must start with /, like /spec/replicas", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '~' && (i+1 == len(s) || s[i+1] != '0' && s[i+1] != '1') {
			return fmt.Errorf("invalid JSON pointer %q: write ~ as ~0 and / inside a key as ~1", s)
		}
	}
	return nil
}

// checkBranchName accepts what git check-ref-format accepts under refs/heads/.
func checkBranchName(s string) error {
	bad := func(why string) error { return fmt.Errorf("invalid branch name %q: %s", s, why) }
	switch {
	case s == "":
		return bad("empty")
	case s == "@":
		return bad(`"@" alone is not a branch name`)
	case strings.HasPrefix(s, "-"):
		return bad("must not start with -")
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//"):
		return bad("empty path component")
	case strings.HasSuffix(s, "."):
		return bad("must not end with .")
	case strings.Contains(s, ".."):
		return bad("must not contain ..")
	case strings.Contains(s, "@{"):
		return bad("must not contain @{")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad(fmt.Sprintf("must not contain %q", r))
		}
	}
	for _, c := range strings.Split(s, "/") {
		if strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".lock") {
			return bad("a component starts with . or ends with .lock")
		}
	}
	return nil
}

// checkURL accepts an absolute https URL, or http to a loopback address (for
// local test doubles), without credentials, query or fragment.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("invalid URL %q: write an absolute URL like https://github.example.com/", s)
	}
	host := u.Hostname()
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	switch {
	case u.Scheme != "https" && !(u.Scheme == "http" && loopback):
		return fmt.Errorf("URL %q must use https", s)
	case u.User != nil:
		return fmt.Errorf("URL %q must not contain credentials", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("URL %q must not have a query or fragment", s)
	}
	return nil
}

// checkFilePath accepts a non-empty file system path.
func checkFilePath(s string) error {
	if s == "" || strings.ContainsRune(s, 0) {
		return errors.New("must be a file path")
	}
	return nil
}

// sshKeyTypes are the key types accepted in allowed-signers lines.
var sshKeyTypes = map[string]bool{
	"ssh-ed25519":                        true,
	"ssh-rsa":                            true,
	"ecdsa-sha2-nistp256":                true,
	"ecdsa-sha2-nistp384":                true,
	"ecdsa-sha2-nistp521":                true,
	"sk-ssh-ed25519@openssh.com":         true,
	"sk-ecdsa-sha2-nistp256@openssh.com": true,
}

// sshOptions are the options ssh-keygen accepts in allowed-signers lines.
var sshOptions = map[string]bool{
	"cert-authority": false, // takes no value
	"namespaces":     true,
	"valid-after":    true,
	"valid-before":   true,
}

// checkAllowedSigner accepts one line in ssh-keygen's ALLOWED SIGNERS format:
// principals, optional options, key type, base64 key, optional comment.
func checkAllowedSigner(line string) error {
	bad := func(why string) error { return fmt.Errorf("invalid allowed-signers line: %s", why) }
	fields, err := splitQuoted(line)
	if err != nil {
		return bad(err.Error())
	}
	if len(fields) < 3 {
		return bad(`want "principals [options] key-type base64-key [comment]", like "alice@example.com ssh-ed25519 AAAA..."`)
	}
	for _, p := range strings.Split(strings.Trim(fields[0], `"`), ",") {
		if p == "" {
			return bad("empty principal")
		}
	}
	rest := fields[1:]
	if !sshKeyTypes[rest[0]] {
		if err := checkSSHOptions(rest[0]); err != nil {
			return bad(err.Error())
		}
		rest = rest[1:]
	}
	if len(rest) < 2 {
		return bad("missing key type or key")
	}
	typ, key := rest[0], rest[1]
	if !sshKeyTypes[typ] {
		return bad(fmt.Sprintf("unsupported key type %q", typ))
	}
	blob, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(blob) < 4 {
		return bad("key is not valid base64")
	}
	n := binary.BigEndian.Uint32(blob)
	if uint64(n) > uint64(len(blob)-4) || string(blob[4:4+n]) != typ {
		return bad(fmt.Sprintf("key data is not a %s key", typ))
	}
	return nil
}

// checkSSHOptions checks a comma-separated allowed-signers option list.
func checkSSHOptions(s string) error {
	var opts []string
	var cur strings.Builder
	inQuote := false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
		case r == ',' && !inQuote:
			opts = append(opts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	opts = append(opts, cur.String())
	for _, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		takesVal, known := sshOptions[strings.ToLower(name)]
		switch {
		case !known:
			return fmt.Errorf("unknown option or key type %q", name)
		case takesVal != hasVal:
			return fmt.Errorf("option %q used wrongly", name)
		case hasVal && (len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"'):
			return fmt.Errorf("option %s needs a quoted value", name)
		}
	}
	return nil
}

// splitQuoted splits on spaces and tabs outside double quotes.
func splitQuoted(s string) ([]string, error) {
	var fields []string
	var cur strings.Builder
	inQuote, inField := false, false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			return nil, errors.New("one signer per line")
		case (r == ' ' || r == '\t') && !inQuote:
			if inField {
				fields = append(fields, cur.String())
				cur.Reset()
				inField = false
			}
			continue
		case r == '"':
			inQuote = !inQuote
		}
		cur.WriteRune(r)
		inField = true
	}
	if inQuote {
		return nil, errors.New("unterminated quote")
	}
	if inField {
		fields = append(fields, cur.String())
	}
	return fields, nil
}

// NormalizeFingerprint returns an OpenPGP fingerprint as upper-case hex
// without spaces or 0x. It accepts v4 (40 hex digits) and v5/v6 (64)
// fingerprints and refuses short key IDs, which can be forged.
func NormalizeFingerprint(s string) (string, error) {
	f := strings.ToUpper(strings.NewReplacer(" ", "", "\t", "").Replace(s))
	f = strings.TrimPrefix(f, "0X")
	for _, r := range f {
		if !('0' <= r && r <= '9' || 'A' <= r && r <= 'F') {
			return "", fmt.Errorf("invalid OpenPGP fingerprint %q: want hex digits", s)
		}
	}
	switch len(f) {
	case 40, 64:
		return f, nil
	case 8, 16:
		return "", fmt.Errorf("invalid OpenPGP fingerprint %q: this is a key ID; give the full fingerprint (40 hex digits)", s)
	}
	return "", fmt.Errorf("invalid OpenPGP fingerprint %q: want 40 or 64 hex digits", s)
}
