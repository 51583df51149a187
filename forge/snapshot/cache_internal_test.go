package snapshot

import (
	"strings"
	"testing"
)

func TestFolderName(t *testing.T) {
	tests := []struct{ key, prefix string }{
		{"github.com/owner/repo@1a2b3c4d", "github.com_owner_repo_1a2b3c4d-"},
		{"../../etc/passwd", "_.._etc_passwd-"},
		{".tmp-x", "tmp-x-"},
		{"", "snapshot-"},
	}
	for _, tt := range tests {
		got := folderName(tt.key)
		if !strings.HasPrefix(got, tt.prefix) || !entryName.MatchString(got) {
			t.Errorf("folderName(%q) = %q, want prefix %q matching %v", tt.key, got, tt.prefix, entryName)
		}
	}
	if folderName("a/b") == folderName("a_b") {
		t.Error("keys that sanitise alike share a folder")
	}
}
