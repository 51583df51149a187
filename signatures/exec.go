package signatures

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitward/gitward/report/markdown"
)

// Output kept from one tool run; more is dropped.
const (
	maxStdout = 1 << 20
	maxStderr = 16 << 10
)

// workdir is one verification's private folder (mode 0700).
type workdir struct{ path string }

func (v *Verifier) newWorkdir() (*workdir, error) {
	dir, err := os.MkdirTemp(v.TempDir, "gitward-signature-")
	if err != nil {
		return nil, fmt.Errorf("make a temporary folder: %w", err)
	}
	return &workdir{path: dir}, nil
}

func (w *workdir) remove() { _ = os.RemoveAll(w.path) }

// write stores data in a file of the folder and returns its path.
func (w *workdir) write(name string, data []byte) (string, error) {
	p := filepath.Join(w.path, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return p, nil
}

// hide drops the folder's path from tool messages, which name the files
// they read ("allowed_signers:1: key has expired").
func (w *workdir) hide(s string) string {
	return strings.ReplaceAll(s, w.path+string(filepath.Separator), "")
}

// run is one finished tool run.
type run struct {
	stdout, stderr string
	exit           int
}

// run executes name in the folder with a minimal environment, stdin as its
// input. A non-zero exit is reported in the run, not as an error; errors
// are failures to run the tool at all, or running out of time.
func (w *workdir) run(ctx context.Context, stdin []byte, env []string, name string, args ...string) (run, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = w.path
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.path,
		"LC_ALL=C",
		// Times in allowed_signers without a Z suffix are read as UTC.
		"TZ=UTC",
	}, env...)
	cmd.Stdin = bytes.NewReader(stdin)
	stdout := &capped{max: maxStdout}
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	out := run{stdout: stdout.String(), stderr: w.hide(stderr.String())}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return out, fmt.Errorf("%s: %w", filepath.Base(name), ctxErr)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		out.exit = exitErr.ExitCode()
	default:
		return out, fmt.Errorf("run %s: %w", filepath.Base(name), err)
	}
	return out, nil
}

// capped is a buffer that keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// lastLine returns the last non-empty line of a tool's messages, trimmed
// to a length fit for a reason.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return markdown.Clip(strings.TrimSpace(lines[len(lines)-1]), 200)
}

func mkdirPrivate(path string) error {
	if err := os.Mkdir(path, 0o700); err != nil {
		return fmt.Errorf("make a private folder: %w", err)
	}
	return nil
}
