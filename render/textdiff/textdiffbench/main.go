// Command textdiffbench times gitward's diff engine (render/textdiff) beside
// `git diff --no-index` on the same pairs of files, for scripts/bench.sh.
//
// The inputs are the cases of FACTS.md's "Diff engines on large inputs": N
// YAML-like lines shaped like a large CRD, a fraction of them changed,
// generated deterministically. Both sides start from the files on disk and
// produce the whole unified diff; git's times include starting the git
// process, so the comparison is of what a caller waits for. Runs alternate
// between the two. It also counts the lines each shows changed.
//
// Then it counts changed lines over the manifest corpus (real manifest
// pairs from the repository's fixtures, see internal/corpus): in total,
// and the worst pair's ratio to git.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gitward/gitward/render/textdiff"
	"github.com/gitward/gitward/render/textdiff/internal/corpus"
	"github.com/gitward/gitward/render/textdiff/internal/gitdiff"
	"github.com/gitward/gitward/render/textdiff/internal/yamlgen"
)

var cases = []struct {
	lines int
	frac  float64
}{
	{10000, 0.10},
	{10000, 0.50},
	{50000, 0.001},
	{50000, 0.10},
}

func main() {
	runs := flag.Int("runs", 15, "timed runs of each engine per case")
	keep := flag.String("keep", "", "write the input pairs to this folder and keep them (default: a temporary folder)")
	flag.Parse()
	if err := run(*runs, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "textdiffbench:", err)
		os.Exit(1)
	}
}

func run(runs int, keep string) error {
	if runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "gitward-textdiffbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	git, err := gitdiff.New(home)
	if err != nil {
		return err
	}
	version, err := exec.Command(git.Bin, "--version").Output()
	if err != nil {
		return fmt.Errorf("git --version: %v", err)
	}
	fmt.Printf("%d runs each, alternating; medians. gitward: read both files, textdiff.Diff, String.\n", runs)
	fmt.Printf("git: `git diff --no-index` (%s), process start included.\n", strings.TrimSpace(string(version)))
	fmt.Printf("%-18s %10s %10s %8s %12s %12s %16s\n", "case", "gitward", "git", "ratio", "gitward out", "git out", "changed lines")
	for _, c := range cases {
		name := fmt.Sprintf("%dk lines %g%%", c.lines/1000, c.frac*100)
		a, b := yamlgen.Pair(c.lines, c.frac, 1)
		stem := fmt.Sprintf("%dk-%g", c.lines/1000, c.frac*100)
		pa, pb := filepath.Join(dir, stem+".a.yaml"), filepath.Join(dir, stem+".b.yaml")
		if err := os.WriteFile(pa, []byte(a), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(pb, []byte(b), 0o644); err != nil {
			return err
		}

		var ours, theirs string
		gitward := func() error {
			da, err := os.ReadFile(pa)
			if err != nil {
				return err
			}
			db, err := os.ReadFile(pb)
			if err != nil {
				return err
			}
			ours = textdiff.Diff(pa, pb, string(da), string(db), textdiff.DefaultContext).String()
			return nil
		}
		gitDiff := func() error {
			var out bytes.Buffer
			cmd := git.Command(pa, pb)
			cmd.Stdout = &out
			if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != 1 {
				return fmt.Errorf("git diff --no-index: %v", err)
			}
			theirs = out.String()
			return nil
		}
		var ourTimes, gitTimes []time.Duration
		// One untimed run of each warms caches.
		for i := -1; i < runs; i++ {
			for _, x := range []struct {
				do    func() error
				times *[]time.Duration
			}{{gitward, &ourTimes}, {gitDiff, &gitTimes}} {
				start := time.Now()
				if err := x.do(); err != nil {
					return err
				}
				if took := time.Since(start); i >= 0 {
					*x.times = append(*x.times, took)
				}
			}
		}
		o, g, err := changedLines(ours, theirs)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		om, gm := median(ourTimes), median(gitTimes)
		fmt.Printf("%-18s %10s %10s %7.2fx %9.0f KB %9.0f KB %16s\n", name, om, gm,
			float64(om)/float64(gm), float64(len(ours))/1000, float64(len(theirs))/1000, fmt.Sprintf("%d / %d", o, g))
	}
	fmt.Println("ratio: gitward time / git time (below 1: gitward is faster); changed lines: gitward / git.")
	return manifests(git, dir)
}

// changedLines counts the lines two unified diffs show removed or added.
func changedLines(ours, theirs string) (o, g int, err error) {
	oc, err := gitdiff.ParseChanged(ours)
	if err != nil {
		return 0, 0, fmt.Errorf("reading gitward's diff: %v", err)
	}
	gc, err := gitdiff.ParseChanged(theirs)
	if err != nil {
		return 0, 0, fmt.Errorf("reading git's diff: %v", err)
	}
	return len(oc.Old) + len(oc.New), len(gc.Old) + len(gc.New), nil
}

// manifests diffs every pair of the manifest corpus both ways and prints
// the changed lines in total and the pair where gitward shows the most
// more than git.
func manifests(git *gitdiff.Git, dir string) error {
	pairs, err := corpus.Manifests(".")
	if err != nil {
		return err
	}
	pa, pb := filepath.Join(dir, "corpus.a"), filepath.Join(dir, "corpus.b")
	var ours, theirs, same int
	worst, worstName := 0.0, ""
	for _, p := range pairs {
		if err := os.WriteFile(pa, []byte(p.A), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(pb, []byte(p.B), 0o644); err != nil {
			return err
		}
		gd, err := git.Diff(pa, pb)
		if err != nil {
			return err
		}
		o, g, err := changedLines(textdiff.Diff(pa, pb, p.A, p.B, textdiff.DefaultContext).String(), gd)
		if err != nil {
			return fmt.Errorf("%s: %v", p.Name, err)
		}
		ours, theirs = ours+o, theirs+g
		if o == g {
			same++
		}
		if g > 0 && float64(o)/float64(g) > worst {
			worst, worstName = float64(o)/float64(g), fmt.Sprintf("%s (%d / %d)", p.Name, o, g)
		}
	}
	fmt.Printf("\nmanifest corpus: %d pairs (%d with as many changed lines as git); changed lines %d, git %d (%+.2f%%)\n",
		len(pairs), same, ours, theirs, 100*(float64(ours)/float64(max(theirs, 1))-1))
	fmt.Printf("worst pair: %.2fx, %s\n", worst, worstName)
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}
