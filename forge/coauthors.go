package forge

import "strings"

// CoAuthorTrailers reads the Co-authored-by trailers of a commit message,
// in order, as identities without logins: which account each names is for
// the forge adapter to say. Any line of the message counts, not only the
// final trailer block: reading more trailers can only exclude more
// approvals.
func CoAuthorTrailers(message string) []Identity {
	var out []Identity
	for _, line := range strings.Split(strings.ReplaceAll(message, "\r", "\n"), "\n") {
		line = strings.TrimSpace(line)
		const key = "co-authored-by:"
		if len(line) < len(key) || !strings.EqualFold(line[:len(key)], key) {
			continue
		}
		v := strings.TrimSpace(line[len(key):])
		var id Identity
		if lt := strings.IndexByte(v, '<'); lt >= 0 {
			id.Name = strings.TrimSpace(v[:lt])
			id.Email = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v[lt+1:]), ">"))
		} else if strings.Contains(v, "@") {
			id.Email = v
		} else {
			id.Name = v
		}
		out = append(out, id)
	}
	return out
}
