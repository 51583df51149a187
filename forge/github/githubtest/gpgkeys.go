package githubtest

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// gpgKey is an OpenPGP public key a user registered, as GitHub keeps it.
type gpgKey struct {
	id      int64
	keyID   string // primary key ID, upper-case hex
	raw     string // the armored key as uploaded
	public  []byte // the primary key packet's body
	created time.Time
}

// AddGPGKey registers an ASCII-armored OpenPGP public key for login, as a
// user does under Settings → SSH and GPG keys. The double reads the primary
// key's ID from the key itself, as GitHub does; a key it cannot read fails
// the test.
func (s *Server) AddGPGKey(login, armored string) {
	s.t.Helper()
	body, err := primaryKeyPacket(armored)
	if err != nil {
		s.t.Fatalf("githubtest: AddGPGKey(%q): %v", login, err)
	}
	keyID, err := openPGPKeyID(body)
	if err != nil {
		s.t.Fatalf("githubtest: AddGPGKey(%q): %v", login, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userID(login)
	s.nextID++
	s.gpgKeys[login] = append(s.gpgKeys[login], &gpgKey{
		id: s.nextID, keyID: keyID, raw: armored, public: body, created: s.now(),
	})
}

func listUserGPGKeys(s *Server, c *call) reply {
	login := c.params["username"]
	if _, known := s.users[login]; !known {
		return notFound()
	}
	items := []any{}
	for _, k := range s.gpgKeys[login] {
		items = append(items, obj{
			"id":                  k.id,
			"name":                nil,
			"primary_key_id":      nil,
			"key_id":              k.keyID,
			"public_key":          base64.StdEncoding.EncodeToString(k.public),
			"raw_key":             k.raw,
			"emails":              []any{},
			"subkeys":             []any{},
			"can_sign":            true,
			"can_encrypt_comms":   false,
			"can_encrypt_storage": false,
			"can_certify":         true,
			"created_at":          timestamp(k.created),
			"expires_at":          nil,
			"revoked":             false,
		})
	}
	page, header := s.paginate(c, items)
	return reply{status: http.StatusOK, body: page, header: header}
}

// primaryKeyPacket returns the body of the first packet of an armored
// OpenPGP public key, which must be a public-key packet (tag 6).
func primaryKeyPacket(armored string) ([]byte, error) {
	data, err := dearmor(armored, "PGP PUBLIC KEY BLOCK")
	if err != nil {
		return nil, err
	}
	if len(data) < 2 || data[0]&0x80 == 0 {
		return nil, errors.New("not an OpenPGP packet")
	}
	var tag int
	var n int
	hdr := data[0]
	rest := data[1:]
	if hdr&0x40 != 0 { // new format
		tag = int(hdr & 0x3f)
		switch {
		case rest[0] < 192:
			n, rest = int(rest[0]), rest[1:]
		case rest[0] < 224 && len(rest) >= 2:
			n, rest = (int(rest[0])-192)<<8+int(rest[1])+192, rest[2:]
		case rest[0] == 255 && len(rest) >= 5:
			n, rest = int(binary.BigEndian.Uint32(rest[1:5])), rest[5:]
		default:
			return nil, errors.New("unsupported packet length")
		}
	} else { // old format
		tag = int(hdr>>2) & 0x0f
		switch hdr & 3 {
		case 0:
			n, rest = int(rest[0]), rest[1:]
		case 1:
			if len(rest) < 2 {
				return nil, errors.New("truncated packet")
			}
			n, rest = int(binary.BigEndian.Uint16(rest)), rest[2:]
		case 2:
			if len(rest) < 4 {
				return nil, errors.New("truncated packet")
			}
			n, rest = int(binary.BigEndian.Uint32(rest)), rest[4:]
		default:
			return nil, errors.New("unsupported packet length")
		}
	}
	if tag != 6 {
		return nil, fmt.Errorf("first packet has tag %d, want a public key (6)", tag)
	}
	if n > len(rest) || n < 1 {
		return nil, errors.New("truncated packet")
	}
	return rest[:n], nil
}

// openPGPKeyID computes the key ID of a version 4 or 6 public-key packet
// body (RFC 9580, section 5.5.4).
func openPGPKeyID(body []byte) (string, error) {
	switch body[0] {
	case 4:
		h := sha1.New()
		h.Write([]byte{0x99, byte(len(body) >> 8), byte(len(body))})
		h.Write(body)
		fp := h.Sum(nil)
		return strings.ToUpper(hex.EncodeToString(fp[12:])), nil
	case 6:
		h := sha256.New()
		h.Write([]byte{0x9b})
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(body))))
		h.Write(body)
		fp := h.Sum(nil)
		return strings.ToUpper(hex.EncodeToString(fp[:8])), nil
	}
	return "", fmt.Errorf("OpenPGP key version %d is not supported", body[0])
}

// dearmor decodes an ASCII-armored block of the given type, ignoring armor
// headers and the CRC line.
func dearmor(armored, kind string) ([]byte, error) {
	begin, end := "-----BEGIN "+kind+"-----", "-----END "+kind+"-----"
	sc := bufio.NewScanner(strings.NewReader(armored))
	var b64 bytes.Buffer
	state := 0 // 0 before BEGIN, 1 headers, 2 body, 3 done
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch state {
		case 0:
			if line == begin {
				state = 1
			}
		case 1:
			if line == "" {
				state = 2
			} else if !strings.Contains(line, ": ") {
				state = 2
				b64.WriteString(line)
			}
		case 2:
			switch {
			case line == end:
				state = 3
			case strings.HasPrefix(line, "="):
			default:
				b64.WriteString(line)
			}
		}
		if state == 3 {
			break
		}
	}
	if state != 3 {
		return nil, fmt.Errorf("no %q armor", kind)
	}
	return base64.StdEncoding.DecodeString(b64.String())
}
