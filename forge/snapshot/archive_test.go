package snapshot_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"strconv"
	"testing"
)

// top is the folder GitHub puts every entry of a tarball under.
const top = "owner-repo-1a2b3c4/"

// ent is one archive entry to write.
type ent struct {
	hdr  tar.Header
	body string
}

func file(name, body string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))}, body: body}
}

func exe(name, body string) ent {
	e := file(name, body)
	e.hdr.Mode = 0o755
	return e
}

func dir(name string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}}
}

func link(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func hardlink(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

func special(name string, typ byte) ent {
	return ent{hdr: tar.Header{Typeflag: typ, Name: name, Mode: 0o644, Devmajor: 1, Devminor: 3}}
}

// globalHeader is the pax global header GitHub writes first, carrying the
// commit SHA.
func globalHeader(sha string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": sha}}}
}

// tarball writes entries as an uncompressed tar stream.
func tarball(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("write header %q: %v", h.Name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("write %q: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// archive writes entries as a gzip'd tarball, like GitHub's archive endpoint.
func archive(t testing.TB, ents ...ent) []byte {
	t.Helper()
	return gz(t, tarball(t, ents...))
}

// sparseBomb returns a gzip'd tarball whose file "big" takes one byte in the
// archive and one 512-byte header claiming a one-byte file, but expands to
// realSize bytes through a PAX sparse map. archive/tar cannot write sparse
// files, so the PAX header is patched in by hand.
func sparseBomb(t testing.TB, realSize int64) []byte {
	t.Helper()
	recs := paxRecord("GNU.sparse.size", strconv.FormatInt(realSize, 10)) +
		paxRecord("GNU.sparse.numblocks", "1") +
		paxRecord("GNU.sparse.map", "0,1")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top, Mode: 0o755, Format: tar.FormatUSTAR}))
	at := buf.Len()
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "PaxHeaders/big", Mode: 0o644, Size: int64(len(recs)), Format: tar.FormatUSTAR}))
	_, err := tw.Write([]byte(recs))
	must(err)
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + "big", Mode: 0o644, Size: 1, Format: tar.FormatUSTAR}))
	_, err = tw.Write([]byte("A"))
	must(err)
	must(tw.Close())

	b := buf.Bytes()
	hdr := b[at : at+512]
	hdr[156] = tar.TypeXHeader
	copy(hdr[148:156], "        ")
	var sum int
	for _, c := range hdr {
		sum += int(c)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return gz(t, b)
}

// paxRecord formats one PAX extended header record: "<len> key=value\n",
// where len counts the whole record, itself included.
func paxRecord(k, v string) string {
	n := len(k) + len(v) + 3
	n += len(strconv.Itoa(n))
	rec := fmt.Sprintf("%d %s=%s\n", n, k, v)
	if len(rec) != n {
		rec = fmt.Sprintf("%d %s=%s\n", len(rec), k, v)
	}
	return rec
}
