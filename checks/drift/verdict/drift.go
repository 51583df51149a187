// Package drift decides the gitward/drift check from what the live cluster
// comparison found: planned changes (what merging will do) are shown, not
// judged; out-of-band drift, a plan the cluster refuses (merging would fail
// to apply it), and clusters that cannot be asked, are judged by the
// repository's drift mode — notify makes them neutral, enforce makes them
// fail. It is pure: the live package does the cluster I/O.
package verdict

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
	"github.com/gitward/gitward/live"
	"github.com/gitward/gitward/report/markdown"
)

// CheckName is the drift check run.
const CheckName = "gitward/drift"

// App is what the cluster said about one affected app.
type App struct {
	Name, Path string
	// Cluster is the cluster the app deploys to; "" when none is mapped.
	Cluster string
	// Plan is what merging would change (the head render dry-run applied),
	// Drift how the cluster differs from the base render. Either is nil
	// when the app does not exist on that side or the cluster failed.
	Plan, Drift *live.Result
	// Err is why the cluster could not be compared: unreachable, refused,
	// not configured on this gitward, or a render that failed.
	Err error
	// Expected, when set, says why drift in this app is expected, such as
	// "expected during incident #12" for an open break-glass window on its
	// cluster or app: the drift is shown but not judged.
	Expected string
}

// Drifted reports whether the cluster differs from git for this app:
// changed or missing objects, or objects the cluster refused to show.
func (a App) Drifted() bool {
	if a.Drift == nil {
		return false
	}
	for _, o := range a.Drift.Objects {
		switch o.Action {
		case live.Changed, live.Missing, live.Failed:
			return true
		}
	}
	return false
}

// Unappliable lists the objects of the plan the cluster refused: merging
// would fail to apply them (an invalid field, a kind the cluster does not
// serve, RBAC refusing gitward), or the plan could not find out.
func (a App) Unappliable() []live.Object {
	if a.Plan == nil {
		return nil
	}
	var out []live.Object
	for _, o := range a.Plan.Objects {
		if o.Action == live.Failed {
			out = append(out, o)
		}
	}
	return out
}

// Planned counts the objects merging would create, change or prune.
func (a App) Planned() int {
	if a.Plan == nil {
		return 0
	}
	return a.Plan.Count(live.Created) + a.Plan.Count(live.Changed) + a.Plan.Count(live.Pruned)
}

// Verdict is the drift check's result.
type Verdict struct {
	Conclusion forge.Conclusion
	Title      string
	// Drifted and Failed name the apps with drift and those whose cluster
	// could not be compared; Expected the apps whose drift is expected (an
	// open break-glass window), which is not judged; Unappliable the apps
	// whose plan the cluster refused.
	Drifted, Failed, Expected, Unappliable []string
}

// Decide judges the apps under mode (config.DriftNotify or
// config.DriftEnforce).
func Decide(apps []App, mode string) Verdict {
	var v Verdict
	mapped, planned := 0, 0
	var refused []live.Object
	for _, a := range apps {
		if a.Cluster == "" && a.Err == nil {
			continue
		}
		mapped++
		planned += a.Planned()
		if u := a.Unappliable(); a.Err == nil && len(u) > 0 {
			v.Unappliable = append(v.Unappliable, a.Name)
			refused = append(refused, u...)
		}
		switch {
		case a.Err != nil:
			v.Failed = append(v.Failed, a.Name)
		case a.Drifted() && a.Expected != "":
			v.Expected = append(v.Expected, a.Name)
		case a.Drifted():
			v.Drifted = append(v.Drifted, a.Name)
		}
	}
	bad := forge.ConclusionNeutral
	if mode == config.DriftEnforce {
		bad = forge.ConclusionFailure
	}
	switch {
	case mapped == 0:
		v.Conclusion = forge.ConclusionNeutral
		v.Title = "No affected app is mapped to a cluster"
	case len(v.Failed) > 0:
		v.Conclusion = bad
		v.Title = fmt.Sprintf("%s could not be compared with the cluster", markdown.Count(len(v.Failed), "app", "apps"))
		if len(refused) > 0 {
			v.Title += fmt.Sprintf("; merging would fail to apply %s", markdown.Count(len(refused), "object", "objects"))
		}
		if len(v.Drifted) > 0 {
			v.Title += fmt.Sprintf("; %s drifted", markdown.Count(len(v.Drifted), "app", "apps"))
		}
	case len(refused) > 0:
		v.Conclusion = bad
		v.Title = fmt.Sprintf("Merging would fail to apply %s: %s", markdown.Count(len(refused), "object", "objects"), failure(refused[0]))
		if len(refused) > 1 {
			v.Title += fmt.Sprintf(", and %d more", len(refused)-1)
		}
		if len(v.Drifted) > 0 {
			v.Title += fmt.Sprintf("; %s drifted", markdown.Count(len(v.Drifted), "app", "apps"))
		}
	case len(v.Drifted) > 0:
		v.Conclusion = bad
		v.Title = fmt.Sprintf("%s drifted from git: %s", markdown.Count(len(v.Drifted), "app", "apps"), strings.Join(v.Drifted, ", "))
	case len(v.Expected) > 0:
		v.Conclusion = forge.ConclusionSuccess
		v.Title = fmt.Sprintf("Only expected drift (break-glass): %s; merging changes %s in the cluster", strings.Join(v.Expected, ", "), markdown.Count(planned, "object", "objects"))
	default:
		v.Conclusion = forge.ConclusionSuccess
		v.Title = fmt.Sprintf("No drift; merging changes %s in the cluster", markdown.Count(planned, "object", "objects"))
	}
	return v
}

// maxReason is how many characters of the cluster's reason a title quotes.
const maxReason = 160

// failure names an object the cluster refused and says briefly why, like
// "Deployment.apps web/podinfo (spec.replicas: Invalid value: -1: must be
// greater than or equal to 0)".
func failure(o live.Object) string {
	reason := "the cluster gave no reason"
	var e *live.Error
	switch {
	case errors.As(o.Err, &e):
		reason = e.Reason()
	case o.Err != nil:
		reason = o.Err.Error()
	}
	return fmt.Sprintf("%s (%s)", o.ID.Describe(), markdown.Clip(markdown.OneLine(reason), maxReason))
}
