package githubtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"time"
)

// codeloadPrefix is where the double serves archives, standing in for
// codeload.github.com. It is not part of the API description, so requests
// there are logged (OperationID "codeload") but not validated.
const codeloadPrefix = "/_codeload/"

func (s *Server) codeloadURL(r *repo, sha string) string {
	return s.URL + codeloadPrefix + r.fullName() + "/legacy.tar.gz/" + sha + "?token=" + s.codeloadToken
}

// serveCodeload serves GET /_codeload/{owner}/{repo}/legacy.tar.gz/{sha}
// with the short-lived token tarball/{ref} put in the redirect.
func (s *Server) serveCodeload(w http.ResponseWriter, r *http.Request) {
	status, data := s.codeload(r)
	s.log(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), OperationID: "codeload", Status: status})
	if status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "application/x-gzip")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

func (s *Server) codeload(req *http.Request) (int, []byte) {
	if req.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, nil
	}
	parts := strings.SplitN(strings.TrimPrefix(req.URL.Path, codeloadPrefix), "/", 4)
	if len(parts) != 4 || parts[2] != "legacy.tar.gz" {
		return http.StatusNotFound, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.URL.Query().Get("token") != s.codeloadToken {
		s.report("GET %s: archive download without the token from the tarball redirect", req.URL.Path)
		return http.StatusNotFound, nil
	}
	r := s.repos[parts[0]+"/"+parts[1]]
	if r == nil {
		return http.StatusNotFound, nil
	}
	sha := parts[3]
	if raw, ok := r.tarballs[sha]; ok {
		return http.StatusOK, raw
	}
	c := r.commits[sha]
	if c == nil {
		return http.StatusNotFound, nil
	}
	data, err := tarball(r, sha, r.trees[c.tree], s.now())
	if err != nil {
		s.report("building the archive of %s at %s: %v", r.fullName(), sha, err)
		return http.StatusInternalServerError, nil
	}
	return http.StatusOK, data
}

// tarball builds the archive GitHub serves: gzip'd tar with a pax global
// header carrying the commit SHA and everything under
// "<owner>-<repo>-<short sha>/".
func tarball(r *repo, sha string, t *tree, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	short := sha
	if len(short) > 7 {
		short = short[:7]
	}
	top := r.owner + "-" + r.name + "-" + short + "/"
	if err := tw.WriteHeader(&tar.Header{
		Typeflag:   tar.TypeXGlobalHeader,
		Name:       "pax_global_header",
		PAXRecords: map[string]string{"comment": sha},
		Format:     tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o775, ModTime: mtime})
	}
	if err := dir(top); err != nil {
		return nil, err
	}
	dirs := map[string]bool{}
	for _, p := range sortedKeys(t.entries) {
		segs := strings.Split(p, "/")
		for i := 1; i < len(segs); i++ {
			d := strings.Join(segs[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				if err := dir(top + d); err != nil {
					return nil, err
				}
			}
		}
		e := t.entries[p]
		content := r.blobs[e.blob]
		h := &tar.Header{Name: top + p, ModTime: mtime, Mode: 0o664, Typeflag: tar.TypeReg, Size: int64(len(content))}
		switch e.mode {
		case "100755":
			h.Mode = 0o775
		case "120000":
			h.Typeflag, h.Linkname, h.Size, h.Mode = tar.TypeSymlink, string(content), 0, 0o777
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(content); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
