package forge_test

import (
	"slices"
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestPathsListsBothSidesOfAMove(t *testing.T) {
	got := forge.Paths([]forge.ChangedFile{
		{Path: "apps/a/deploy.yaml", Status: forge.FileModified},
		{Path: "apps/b/new.yaml", PreviousPath: "apps/a/old.yaml", Status: forge.FileRenamed},
		{Path: "apps/c/copy.yaml", PreviousPath: "apps/c/orig.yaml", Status: forge.FileCopied},
	})
	want := []string{"apps/a/deploy.yaml", "apps/b/new.yaml", "apps/a/old.yaml", "apps/c/copy.yaml", "apps/c/orig.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("Paths = %q, want %q", got, want)
	}
	if got := forge.Paths(nil); got != nil {
		t.Errorf("Paths(nil) = %q, want nil", got)
	}
}
