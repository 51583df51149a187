package render

import (
	"regexp"
	"strings"

	"github.com/gitward/gitward/config"
)

// schemeRE matches a URL scheme such as https:// or oci://.
var schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://`)

// scpUserRE matches the user@ of an scp-style git address (git@host:org/repo).
var scpUserRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize would fetch the entry p of a
// kustomization from the network rather than read it from the repository:
// an http(s) file, or a git repository (ssh://, https://, http://, file://,
// user@host:path, github.com/org/repo, optionally behind git::). Any other
// scheme:// is treated as remote too, so gitward fails closed on forms a
// later kustomize may learn to fetch.
func isRemote(p string) bool {
	s := p
	if len(s) >= 5 && strings.EqualFold(s[:5], "git::") {
		s = s[5:]
	}
	if schemeRE.MatchString(s) || scpUserRE.MatchString(s) {
		return true
	}
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:")
}

// remoteName is the form of a remote entry that allowlist globs match: host
// and path, without git::, scheme, user, query or the .git suffix, with
// scp's host:path and kustomize's repo//subdir written as plain slashes:
// "git@github.com:acme/platform.git//deploy?ref=v1" gives
// "github.com/acme/platform/deploy".
func remoteName(p string) string {
	s := p
	if len(s) >= 5 && strings.EqualFold(s[:5], "git::") {
		s = s[5:]
	}
	scp := false
	if m := schemeRE.FindString(s); m != "" {
		s = s[len(m):]
	} else {
		scp = true
	}
	s, _, _ = strings.Cut(s, "?")
	s, _, _ = strings.Cut(s, "#")
	if m := scpUserRE.FindString(s); m != "" {
		s = s[len(m):]
	} else if at := strings.Index(s, "@"); at >= 0 && at < strings.IndexByte(s+"/", '/') {
		s = s[at+1:] // user:password@host
	}
	if scp {
		if colon := strings.IndexByte(s, ':'); colon >= 0 && colon < strings.IndexByte(s+"/", '/') {
			s = s[:colon] + "/" + s[colon+1:]
		}
	}
	segs := strings.Split(s, "/")
	out := segs[:0]
	for i, seg := range segs {
		if seg == "" || seg == "." {
			continue
		}
		if i > 0 {
			seg = strings.TrimSuffix(seg, ".git")
		}
		out = append(out, seg)
	}
	if len(out) > 0 {
		out[0] = strings.ToLower(out[0])
		if h, _, ok := strings.Cut(out[0], ":"); ok && !scp {
			out[0] = h // drop a port
		}
	}
	return strings.Join(out, "/")
}

// remoteError explains why the remote entry p of file:line does not render.
// An allowlisted remote still does not: gitward reads only the snapshot.
func remoteError(p, file string, line int, allowed []config.Glob) *Error {
	name := remoteName(p)
	if config.MatchAny(allowed, name) {
		return errorf(ErrRemote, file, line,
			"remote base %s is allowlisted in the server configuration, but gitward renders only from the repository snapshot and does not fetch remote bases yet; vendor it into the repository", p)
	}
	return errorf(ErrRemote, file, line,
		"remote base %s is not allowed: gitward renders only what is in the repository; vendor it into the repository, or ask the gitward operator to allowlist %s", p, name)
}
