package app_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestAppManifestAsksForExactlyWhatGitwardUses pins the GitHub App
// manifest's permissions and events: widening them is a security change
// that must be made deliberately, here and in app.yml's comments.
func TestAppManifestAsksForExactlyWhatGitwardUses(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name           string            `yaml:"name"`
		Public         bool              `yaml:"public"`
		HookAttributes map[string]any    `yaml:"hook_attributes"`
		Permissions    map[string]string `yaml:"default_permissions"`
		Events         []string          `yaml:"default_events"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	wantPerms := map[string]string{
		"checks":        "write",
		"pull_requests": "write",
		"contents":      "write",
		"issues":        "write",
		"members":       "read",
		"metadata":      "read",
	}
	if !reflect.DeepEqual(m.Permissions, wantPerms) {
		t.Errorf("permissions = %v, want %v", m.Permissions, wantPerms)
	}
	sort.Strings(m.Events)
	wantEvents := []string{"check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review", "push"}
	if !reflect.DeepEqual(m.Events, wantEvents) {
		t.Errorf("events = %v, want %v", m.Events, wantEvents)
	}
	if m.Public {
		t.Error("the app must not be public: each organisation registers its own")
	}
	if m.HookAttributes["url"] == nil {
		t.Error("the manifest has no webhook URL")
	}
}
