// Command extractbench times gitward's snapshot extraction beside
// `tar -xzf` on the same archive, for scripts/bench.sh.
//
// The archive is the one BenchmarkExtract in forge/snapshot extracts, byte
// for byte when this was written (its repoArchive; keep the two in step): a
// GitOps-like tree of 2 KiB files, 100 to a folder with a symlink. Both
// extractors read it from the same file on disk, runs alternate
// between them, and tar's times include starting the tar process, so the
// comparison is of what a caller waits for. The Go extractor also checks
// every path, symlink and limit, which tar does not.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gitward/gitward/forge/snapshot"
)

func main() {
	files := flag.Int("files", 5000, "files in the archive")
	runs := flag.Int("runs", 5, "timed runs of each extractor")
	flag.Parse()
	if err := run(*files, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "extractbench:", err)
		os.Exit(1)
	}
}

func run(files, runs int) error {
	if files < 1 || runs < 1 {
		return fmt.Errorf("-files and -runs must be at least 1")
	}
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "gitward-extractbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	data, content, err := repoArchive(files)
	if err != nil {
		return err
	}
	archive := filepath.Join(tmp, "repo.tar.gz")
	if err := os.WriteFile(archive, data, 0o600); err != nil {
		return err
	}

	goExtract := func(dir string) error {
		f, err := os.Open(archive)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = snapshot.Extract(context.Background(), f, dir, snapshot.Limits{})
		return err
	}
	tarExtract := func(dir string) error {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		out, err := exec.Command(tarBin, "-xzf", archive, "-C", dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("tar -xzf: %v: %s", err, out)
		}
		return nil
	}

	var goTimes, tarTimes []time.Duration
	// One untimed run of each warms the page cache and the tar binary.
	for i := -1; i < runs; i++ {
		for _, x := range []struct {
			extract func(string) error
			times   *[]time.Duration
		}{{goExtract, &goTimes}, {tarExtract, &tarTimes}} {
			dir := filepath.Join(tmp, "out")
			start := time.Now()
			if err := x.extract(dir); err != nil {
				return err
			}
			took := time.Since(start)
			if i >= 0 {
				*x.times = append(*x.times, took)
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
		}
	}

	version, _ := exec.Command(tarBin, "--version").Output()
	first, _, _ := strings.Cut(string(version), "\n")
	fmt.Printf("archive: %d files, %.1f MiB of content in a %.0f KiB .tar.gz; %d runs each, alternating\n",
		files, float64(content)/(1<<20), float64(len(data))/(1<<10), runs)
	fmt.Printf("%-28s %10s %10s\n", "", "median", "fastest")
	fmt.Printf("%-28s %10s %10s  %s\n", "gitward snapshot.Extract", median(goTimes), fastest(goTimes), "(checks paths, symlinks, limits)")
	fmt.Printf("%-28s %10s %10s  %s\n", "tar -xzf", median(tarTimes), fastest(tarTimes), "("+first+", process start included)")
	fmt.Printf("ratio (median gitward / median tar): %.2fx\n", float64(median(goTimes))/float64(median(tarTimes)))
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}

func fastest(ds []time.Duration) time.Duration {
	return slices.Min(ds).Round(10 * time.Microsecond)
}

// repoArchive builds a GitHub-style archive of n files of about 2 KiB, 100
// to a folder with a symlink beside them, in the order git archive writes
// (each folder's entries together), and returns it with the number of
// content bytes it holds.
func repoArchive(n int) ([]byte, int64, error) {
	const top = "owner-repo-1a2b3c4/"
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	var total int64
	add := func(h *tar.Header, body string) error {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write([]byte(body))
		total += int64(len(body))
		return err
	}
	dir := func(name string) error {
		return add(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}, "")
	}
	file := func(name, body string) error {
		return add(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))}, body)
	}
	err := add(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "1a2b3c4d"}}, "")
	if err == nil {
		err = dir(top)
	}
	if err == nil {
		err = file(top+"README.md", "demo\n")
	}
	body := strings.Repeat("apiVersion: apps/v1\nkind: Deployment\n", 56)
	for i := 0; i < n && err == nil; i++ {
		d := fmt.Sprintf("%sclusters/c%d/apps/a%d/", top, i/100%7, i/100)
		if i%100 == 0 {
			if err = dir(d); err != nil {
				break
			}
			err = add(&tar.Header{Typeflag: tar.TypeSymlink, Name: d + "base", Linkname: "../../../../README.md", Mode: 0o777}, "")
			if err != nil {
				break
			}
		}
		err = file(fmt.Sprintf("%sf%d.yaml", d, i), body)
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	return buf.Bytes(), total, err
}
