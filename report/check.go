package report

import (
	"fmt"
	"strings"

	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/report/markdown"
)

// DiffCheckName is the check run that says whether every affected app
// renders.
const DiffCheckName = "gitward/diff"

// DiffCheck fills the gitward/diff verdict into run: success when every
// affected app renders at head (a render failure at base alone is reported
// but does not block: the change may be the fix), failure with annotations
// on the failing files otherwise.
func DiffCheck(run forge.CheckRun, d RenderedDiff) forge.CheckRun {
	run.Status = forge.CheckCompleted
	var failedHead, failedBase []AppDiff
	objs, added, removed := 0, 0, 0
	for _, a := range d.Apps {
		switch {
		case a.Failed() && a.FailedAt == "head":
			failedHead = append(failedHead, a)
		case a.Failed():
			failedBase = append(failedBase, a)
		case a.Diff != nil:
			objs += len(a.Diff.Objects)
			added += a.Diff.LinesAdded
			removed += a.Diff.LinesRemoved
		}
	}
	var b strings.Builder
	switch {
	case len(failedHead) > 0:
		run.Conclusion = forge.ConclusionFailure
		run.Title = fmt.Sprintf("%d of %s %s not render at head", len(failedHead), markdown.Count(len(d.Apps), "affected app", "affected apps"), verb(len(failedHead), "does", "do"))
	case len(d.Apps) == 0:
		run.Conclusion = forge.ConclusionSuccess
		run.Title = "No app is affected by this change"
	default:
		run.Conclusion = forge.ConclusionSuccess
		run.Title = fmt.Sprintf("%s render; %s change (+%d −%d lines)", markdown.Count(len(d.Apps), "affected app", "affected apps"), markdown.Count(objs, "object", "objects"), added, removed)
	}
	fmt.Fprintf(&b, "Rendered base `%s` and head `%s` in-process with kustomize (plugins and exec off, files only from the repository).\n\n", markdown.Short(d.BaseSHA), markdown.Short(d.HeadSHA))
	for _, group := range []struct {
		title string
		apps  []AppDiff
	}{{"Failed to render at head", failedHead}, {"Failed to render at base (not blocking: this change may fix it)", failedBase}} {
		if len(group.apps) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s\n\n", group.title)
		for _, a := range group.apps {
			fmt.Fprintf(&b, "**%s** (%s)\n\n%s", htmlEscape(a.Name), markdown.Code(a.Path), fence("text", a.Failure))
			if a.FailedAt == "head" {
				file, line := a.FailureFile, a.FailureLine
				if file == "" {
					file = strings.TrimSuffix(a.Path, "/") + "/kustomization.yaml"
				}
				run.Annotations = append(run.Annotations, forge.Annotation{
					Path: file, StartLine: line, EndLine: line, Level: forge.AnnotationFailure,
					Title:   "gitward cannot render " + a.Name,
					Message: a.Failure,
				})
			}
		}
	}
	if len(d.Apps) > 0 {
		b.WriteString("| App | Objects changed | Lines |\n|---|---:|---|\n")
		for _, a := range d.Apps {
			switch {
			case a.Failed():
				fmt.Fprintf(&b, "| %s | render failed at %s | |\n", markdown.Code(a.Name), a.FailedAt)
			case a.Diff == nil:
				fmt.Fprintf(&b, "| %s | 0 | |\n", markdown.Code(a.Name))
			default:
				fmt.Fprintf(&b, "| %s | %d | +%d −%d |\n", markdown.Code(a.Name), len(a.Diff.Objects), a.Diff.LinesAdded, a.Diff.LinesRemoved)
			}
		}
		b.WriteString("\nThe object diffs are in the pull request's rendered-diff comment.\n")
	}
	run.Summary = b.String()
	return run
}
