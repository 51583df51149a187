package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
)

// result is what one gitward command line did.
type result struct {
	code           int
	stdout, stderr string
}

// gitward runs one command line in-process with env as its only GITWARD_*
// variables, so tests do not depend on the environment they run in.
func gitward(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, lookup(env), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// lookup reads variables from env, like os.LookupEnv.
func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// lockedBuffer is a bytes.Buffer safe to write from the server's goroutines
// while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineWith returns the first line of out that starts with prefix and holds
// every one of parts, and whether there is one.
func lineWith(out, prefix string, parts ...string) (string, bool) {
next:
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		return line, true
	}
	return "", false
}

func TestVersionPrintsTheVersion(t *testing.T) {
	t.Parallel()
	r := gitward(t, nil, "version")
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	version, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "gitward ")
	if !ok || version == "" {
		t.Errorf("stdout = %q, want \"gitward VERSION\"", r.stdout)
	}
}

func TestCommandLineMistakesExitTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"an unknown command", []string{"deploy"}, `unknown command "deploy" for "gitward"`},
		{"an unknown config subcommand", []string{"config", "valdate", "x.yaml"}, `unknown command "valdate" for "gitward config"`},
		{"an unknown flag", []string{"version", "--verbose"}, "unknown flag: --verbose"},
		{"an unknown flag of serve", []string{"serve", "--conf", "x.yaml"}, "unknown flag: --conf"},
		{"validate without a file", []string{"config", "validate"}, "accepts 1 arg(s), received 0"},
		{"validate with two files", []string{"config", "validate", "a.yaml", "b.yaml"}, "accepts 1 arg(s), received 2"},
		{"serve with an argument", []string{"serve", "gitward.yaml"}, `unknown command "gitward.yaml"`},
		{"a flag without its value", []string{"serve", "--config"}, "flag needs an argument: --config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gitward(t, nil, tt.args...)
			if r.code != 2 {
				t.Errorf("exit code = %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.want)
			}
			if !strings.HasPrefix(r.stderr, "gitward: ") {
				t.Errorf("stderr = %q, want it to start with \"gitward: \"", r.stderr)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"--help"}, {"help", "serve"}, {"config"}} {
		t.Run(strings.Join(append([]string{"gitward"}, args...), " "), func(t *testing.T) {
			t.Parallel()
			r := gitward(t, nil, args...)
			if r.code != 0 {
				t.Errorf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "Usage:") {
				t.Errorf("stdout = %q, want usage", r.stdout)
			}
		})
	}
}
