package forge_test

import (
	"testing"

	"github.com/gitward/gitward/forge"
)

func TestCoAuthorTrailers(t *testing.T) {
	got := forge.CoAuthorTrailers("Fix\r\n\r\nCo-authored-by: Bob Builder <bob@x.example>\r\nCo-Authored-By: carol@y.example\nco-authored-by: dave\nSigned-off-by: erin <erin@z>\n")
	want := []forge.Identity{
		{Name: "Bob Builder", Email: "bob@x.example"},
		{Email: "carol@y.example"},
		{Name: "dave"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("trailer %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
