package policy

import (
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestMayBreakGlass(t *testing.T) {
	const responders = "break_glass: {responders: {users: [carol], teams: [sre-oncall]}}"
	oncall := map[string]map[string]bool{"sre-oncall": {"Dave": true}}
	tests := []struct {
		name   string
		config string
		user   forge.User
		perm   forge.Permission
		err    string
	}{
		{"a responder named by login may", responders, forge.User{Login: "Carol"}, forge.PermissionWrite, ""},
		{"a member of a responder team may", responders, forge.User{Login: "dave"}, forge.PermissionAdmin, ""},
		{"anyone else may not, and is told who may", responders, forge.User{Login: "bob"}, forge.PermissionWrite,
			"@bob is not a break-glass responder; @carol or team sre-oncall may break glass (break_glass.responders in .gitward.yaml)"},
		{"a responder without write permission may not", responders, forge.User{Login: "carol"}, forge.PermissionTriage,
			"@carol has triage permission on this repository; breaking glass needs write permission"},
		{"a bot may not", responders, forge.User{Login: "carol", Bot: true}, forge.PermissionAdmin,
			"bots cannot break glass"},
		{"nobody may when no responders are configured", "", forge.User{Login: "carol"}, forge.PermissionAdmin,
			"break-glass is off in this repository: .gitward.yaml names no break_glass.responders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := MayBreakGlass(repo(t, tt.config), tt.user, tt.perm, oncall)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("got %q, want %q", got, tt.err)
			}
		})
	}
	t.Run("nobody may when the configuration could not be read", func(t *testing.T) {
		if MayBreakGlass(nil, forge.User{Login: "carol"}, forge.PermissionAdmin, nil) == nil {
			t.Error("allowed without a configuration")
		}
	})
}
