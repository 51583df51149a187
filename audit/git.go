package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// Clone reads a ledger and a protected branch from a local clone with the
// real git binary, as an auditor would: nothing is taken on gitward's word.
type Clone struct {
	// Dir is the clone's work tree or git directory.
	Dir string
}

// ErrNoBranch reports a branch the clone does not have, locally or as a
// remote-tracking branch of origin.
var ErrNoBranch = errors.New("no such branch")

// git runs git in the clone with settings pinned, so user configuration
// (pagers, quoting, root commits in logs) cannot change what is read.
func (c Clone) git(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	full := append([]string{"-C", c.Dir, "-c", "core.quotePath=false", "-c", "log.showRoot=true", "-c", "log.showSignature=false"}, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Env = append(cmd.Environ(), "GIT_PAGER=cat", "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s in %s: %s", args[0], c.Dir, msg)
	}
	return out, nil
}

// Resolve finds a branch as a local branch or, in a fresh clone, as
// origin's remote-tracking branch, and returns the ref and its commit.
func (c Clone) Resolve(ctx context.Context, branch string) (ref, sha string, err error) {
	if strings.HasPrefix(branch, "-") {
		return "", "", fmt.Errorf("branch %q must not start with '-'", branch)
	}
	for _, ref := range []string{"refs/heads/" + branch, "refs/remotes/origin/" + branch} {
		out, err := c.git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
		if err == nil {
			return ref, strings.TrimSpace(string(out)), nil
		}
	}
	if _, err := c.git(ctx, nil, "rev-parse", "--git-dir"); err != nil {
		return "", "", err
	}
	return "", "", fmt.Errorf("%w %s in %s, locally or as origin/%s (git fetch origin %s:%s fetches it)", ErrNoBranch, branch, c.Dir, branch, branch, branch)
}

// DefaultBranch is the branch origin/HEAD names, or "main".
func (c Clone) DefaultBranch(ctx context.Context) string {
	out, err := c.git(ctx, nil, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
	if err != nil {
		return "main"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "refs/remotes/origin/")
}

// FirstParents lists the first-parent commits of ref, oldest first; with
// since, only those after it.
func (c Clone) FirstParents(ctx context.Context, ref, since string) ([]string, error) {
	rng := ref
	if since != "" {
		if strings.HasPrefix(since, "-") {
			return nil, fmt.Errorf("revision %q must not start with '-'", since)
		}
		if _, err := c.git(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", since+"^{commit}"); err != nil {
			return nil, fmt.Errorf("--since %s is not a commit in %s", since, c.Dir)
		}
		rng = since + ".." + ref
	}
	out, err := c.git(ctx, nil, "rev-list", "--first-parent", "--reverse", rng, "--")
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// LedgerCommits reads a ledger branch: its first-parent commits, oldest
// first, each with its parents, message, changes and the content of the
// files it added or changed.
func (c Clone) LedgerCommits(ctx context.Context, ref string) ([]LedgerCommit, error) {
	out, err := c.git(ctx, nil, "log", "--first-parent", "--reverse", "--no-renames", "--diff-merges=first-parent",
		"--raw", "-z", "--no-abbrev", "--format=%x1e%H %P", ref, "--")
	if err != nil {
		return nil, err
	}
	var commits []LedgerCommit
	blobs := map[string]string{} // "commit\x00path" → blob
	for _, chunk := range bytes.Split(out, []byte{0x1e}) {
		if len(bytes.TrimSpace(chunk)) == 0 {
			continue
		}
		header, rest, _ := bytes.Cut(chunk, []byte{0})
		ids := strings.Fields(string(header))
		if len(ids) == 0 {
			return nil, fmt.Errorf("git log: unexpected output %q", header)
		}
		lc := LedgerCommit{SHA: ids[0], Parents: ids[1:], Files: map[string][]byte{}}
		fields := strings.Split(strings.TrimLeft(string(rest), "\n"), "\x00")
		for i := 0; i+1 < len(fields); i += 2 {
			meta := strings.Fields(strings.TrimPrefix(fields[i], ":"))
			if len(meta) < 5 {
				return nil, fmt.Errorf("git log: unexpected change %q in %s", fields[i], lc.SHA)
			}
			ch := PathChange{Status: meta[4][:1], Path: fields[i+1]}
			lc.Changes = append(lc.Changes, ch)
			if ch.Status != "D" {
				blobs[lc.SHA+"\x00"+ch.Path] = meta[3]
			}
		}
		commits = append(commits, lc)
	}
	// One git cat-file process reads every message and file.
	var want []string
	for _, lc := range commits {
		want = append(want, lc.SHA)
		for _, ch := range lc.Changes {
			if b, ok := blobs[lc.SHA+"\x00"+ch.Path]; ok {
				want = append(want, b)
			}
		}
	}
	objects, err := c.catFile(ctx, want)
	if err != nil {
		return nil, err
	}
	for i := range commits {
		lc := &commits[i]
		_, msg, _ := bytes.Cut(objects[lc.SHA], []byte("\n\n"))
		lc.Message = string(msg)
		for _, ch := range lc.Changes {
			if b, ok := blobs[lc.SHA+"\x00"+ch.Path]; ok {
				lc.Files[ch.Path] = objects[b]
			}
		}
	}
	return commits, nil
}

// catFile reads objects by ID with one git cat-file --batch.
func (c Clone) catFile(ctx context.Context, ids []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if len(ids) == 0 {
		return out, nil
	}
	var in bytes.Buffer
	for _, id := range ids {
		in.WriteString(id + "\n")
	}
	raw, err := c.git(ctx, &in, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	rd := bufio.NewReader(bytes.NewReader(raw))
	for _, id := range ids {
		header, err := rd.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			return nil, fmt.Errorf("git cat-file: object %s: %s", id, strings.TrimSpace(header))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("git cat-file: object %s: bad size %q", id, f[2])
		}
		data := make([]byte, size+1)
		if _, err := io.ReadFull(rd, data); err != nil {
			return nil, fmt.Errorf("git cat-file: object %s: %w", id, err)
		}
		out[id] = data[:size]
	}
	return out, nil
}

// VerifyOptions say what Verify reads.
type VerifyOptions struct {
	// Ledger is the ledger branch; "" means DefaultBranch.
	Ledger string
	// Branch is the protected branch whose first-parent commits must be
	// covered; "" means origin's default branch, else main.
	Branch string
	// Since, when set, is a revision of Branch: only the commits after it
	// are checked for coverage. Otherwise the check begins at the oldest
	// commit a record covers.
	Since string
}

// Report is what Verify found.
type Report struct {
	Verification
	// Ledger and Branch are the branches read; Commits is how many
	// first-parent commits of Branch were checked for coverage.
	Ledger, Branch string
	Commits        int
	// Coverage are the commits of Branch no record covers.
	Coverage []Finding
}

// Intact reports whether nothing was found.
func (r *Report) Intact() bool { return len(r.Findings) == 0 && len(r.Coverage) == 0 }

// All returns the ledger's findings, then the coverage findings.
func (r *Report) All() []Finding {
	return append(append([]Finding(nil), r.Findings...), r.Coverage...)
}

// Verify reads the ledger and the protected branch from the clone and
// verifies both. An error means they could not be read; what is wrong
// with them is in the report.
func (c Clone) Verify(ctx context.Context, o VerifyOptions) (*Report, error) {
	if o.Ledger == "" {
		o.Ledger = DefaultBranch
	}
	if o.Branch == "" {
		o.Branch = c.DefaultBranch(ctx)
	}
	ledgerRef, _, err := c.Resolve(ctx, o.Ledger)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	branchRef, _, err := c.Resolve(ctx, o.Branch)
	if err != nil {
		return nil, err
	}
	commits, err := c.LedgerCommits(ctx, ledgerRef)
	if err != nil {
		return nil, err
	}
	first, err := c.FirstParents(ctx, branchRef, o.Since)
	if err != nil {
		return nil, err
	}
	rep := &Report{Verification: VerifyLedger(commits), Ledger: o.Ledger, Branch: o.Branch}
	rep.Coverage, rep.Commits = Coverage(rep.Records, o.Branch, first, o.Since != "")
	return rep, nil
}
