package githubtest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// authenticate checks the credentials GitHub demands: an app JWT for
// /app/... operations and a token the double issued for everything else.
// A missing or wrong credential is a bug in the caller, so it is reported
// as well as refused with 401.
func (s *Server) authenticate(c *call) (reply, bool) {
	scheme, cred, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	scheme = strings.ToLower(scheme)
	if strings.HasPrefix(c.route.Path, "/app/") {
		if scheme != "bearer" {
			return s.refuse(c, "app endpoints need an app JWT (Authorization: Bearer <jwt>)")
		}
		if msg := s.checkJWT(cred); msg != "" {
			return s.refuse(c, msg)
		}
		return reply{}, true
	}
	if scheme != "token" && scheme != "bearer" {
		return s.refuse(c, "installation endpoints need an installation token (Authorization: token <t>)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.tokens[cred]
	if !ok {
		if strings.Count(cred, ".") == 2 {
			return s.refuseLocked(c, "an app JWT cannot call installation endpoints; exchange it for an installation token first")
		}
		return s.refuseLocked(c, "the token was not issued by POST /app/installations/{installation_id}/access_tokens")
	}
	c.installation = s.installations[id]
	return reply{}, true
}

// checkJWT accepts a three-part token whose claims, when readable, name
// this app and have not expired. The signature is not verified.
func (s *Server) checkJWT(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "app endpoints need an app JWT (three dot-separated parts) in Authorization: Bearer"
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "" // opaque claims are accepted
	}
	var claims struct {
		Iss any   `json:"iss"`
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	var iss string
	switch v := claims.Iss.(type) {
	case string:
		iss = v
	case float64:
		iss = strconv.FormatInt(int64(v), 10)
	}
	if _, err := strconv.ParseInt(iss, 10, 64); err == nil && iss != strconv.FormatInt(s.cfg.appID, 10) {
		return "the JWT's issuer " + iss + " is not this app (" + strconv.FormatInt(s.cfg.appID, 10) + ")"
	}
	if claims.Exp != 0 && claims.Exp < s.now().Unix() {
		return "the JWT has expired"
	}
	return ""
}

func (s *Server) refuse(c *call, msg string) (reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refuseLocked(c, msg)
}

func (s *Server) refuseLocked(c *call, msg string) (reply, bool) {
	s.report("%s %s: %s", c.r.Method, c.r.URL.Path, msg)
	return reply{status: http.StatusUnauthorized, body: errorBody("Bad credentials"), unchecked: true}, false
}
