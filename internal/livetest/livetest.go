// Package livetest starts one real kube-apiserver and etcd per test binary,
// with controller-runtime's envtest, from the binaries scripts/envtest.sh
// builds and caches. Tests that need a cluster call Cluster; a package's
// TestMain calls Main so the servers stop when the tests end. Without the
// binaries those tests skip, unless GITWARD_REQUIRE_ENVTEST is set (as in
// CI), when they fail.
package livetest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RequireEnv makes missing binaries a failure instead of a skip.
const RequireEnv = "GITWARD_REQUIRE_ENVTEST"

var (
	once  sync.Once
	env   *envtest.Environment
	admin *rest.Config
	kcfg  []byte
	err   error
)

// Main runs the tests and stops the API server if one was started.
func Main(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "livetest: stopping the test API server:", err)
		}
	}
	os.Exit(code)
}

// Assets is KUBEBUILDER_ASSETS, or scripts/envtest.sh's cache folder; ""
// when the folder lacks either binary.
func Assets() string {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "gitward", "envtest", "v1.34.4")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return ""
		}
	}
	return dir
}

func start() {
	dir := Assets()
	if dir == "" {
		err = fmt.Errorf("no kube-apiserver and etcd: run scripts/envtest.sh and set KUBEBUILDER_ASSETS to the folder it prints")
		return
	}
	no := false
	env = &envtest.Environment{BinaryAssetsDirectory: dir, UseExistingCluster: &no}
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		// envtest's 20 seconds is too short for a kube-apiserver starting
		// on a machine busy with builds and other tests.
		env.ControlPlaneStartTimeout = 2 * time.Minute
	}
	if admin, err = env.Start(); err != nil {
		err = fmt.Errorf("start kube-apiserver and etcd from %s: %w", dir, err)
		return
	}
	user, uerr := env.ControlPlane.AddUser(envtest.User{Name: "gitward-admin", Groups: []string{"system:masters"}}, nil)
	if uerr != nil {
		err = fmt.Errorf("add an admin user: %w", uerr)
		return
	}
	kcfg, err = user.KubeConfig()
}

func need(t testing.TB) {
	t.Helper()
	once.Do(start)
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s is set: %v", RequireEnv, err)
		}
		t.Skipf("no test API server: %v", err)
	}
}

// Config returns the admin client configuration of the test API server,
// starting it on first use.
func Config(t testing.TB) *rest.Config {
	need(t)
	return rest.CopyConfig(admin)
}

// Kubeconfig writes a kubeconfig for the test API server (context
// "default") into a temporary folder and returns its path.
func Kubeconfig(t testing.TB) string {
	need(t)
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, kcfg, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Env returns the running test environment, for tests that add users or
// read its kubeconfig; it starts the API server on first use.
func Env(t testing.TB) *envtest.Environment {
	need(t)
	return env
}
