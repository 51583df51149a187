package app_test

import (
	"strings"
	"testing"

	"github.com/gitward/gitward/forge/gitlab/gitlabtest"
)

// TestGitLabCoAuthorByPrivateAddressCannotApprove: a Co-authored-by
// trailer naming bob by his GitLab private commit address
// ("ID-username@users.noreply.HOST") makes bob an author: his approval on
// GitLab does not count, and his /gitward approve is refused at once
// with the reason.
func TestGitLabCoAuthorByPrivateAddressCannotApprove(t *testing.T) {
	h := newGLHarness(t, gitlabtest.ProjectOptions{})
	iid, head := h.openMR("pair", map[string]string{
		"apps/podinfo/configmap.yaml": strings.Replace(glBase["apps/podinfo/configmap.yaml"], "blue", "teal", 1),
	}, true)
	second := h.gl.Push(glProject, iid, "Pair on the colour\n\nCo-authored-by: Robert Tables <1005-bob@users.noreply.gitlab.example.com>",
		map[string]string{"apps/podinfo/extra.txt": "x"})
	h.gl.Sign(glProject, second, "verified")
	h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "update", func(oa map[string]any) { oa["oldrev"] = head }))

	h.gl.Approve(glProject, iid, "bob")
	h.deliver("Merge Request Hook", h.mergeRequestEvent(iid, "approved", nil))
	if state, desc := h.status(second, "gitward/change-control"); state != "failed" || !strings.Contains(desc, "0 of 1") {
		t.Errorf("after the co-author's approval: %s %q, want failed with 0 of 1", state, desc)
	}
	cmd := h.note(iid, "bob", "/gitward approve")
	if got := h.gl.Awards(cmd); len(got) != 1 || got[0] != "confused" {
		t.Errorf("awards on the co-author's /approve = %v, want confused", got)
	}
	want := "@bob is named as a co-author of commit " + second[:7] + "; an author's approval does not count"
	found := false
	for _, n := range h.gl.Notes(glProject, iid) {
		found = found || strings.Contains(n.Body, want)
	}
	if !found {
		t.Errorf("no reply says %q", want)
	}
}
