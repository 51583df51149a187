package drift

import (
	"fmt"
	"time"

	"github.com/gitward/gitward/breakglass"
	"github.com/gitward/gitward/checks/drift/verdict"
)

// MarkExpected sets Expected on the apps an active window covers, by app
// name or cluster; "#N" links the incident issue where the forge renders
// Markdown.
func MarkExpected(apps []verdict.App, windows []breakglass.Window, now time.Time) {
	active := breakglass.Active(windows, now)
	for i := range apps {
		if w, ok := breakglass.Covering(active, apps[i].Name, apps[i].Cluster); ok {
			apps[i].Expected = fmt.Sprintf("expected during incident #%d", w.Issue)
		}
	}
}
