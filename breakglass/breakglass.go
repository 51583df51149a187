// Package breakglass derives break-glass windows for manual cluster changes
// from incident issues. A responder writes
//
//	/breakglass <cluster-or-app> <reason> [for DURATION]
//
// on an issue (the incident ticket); drift in that cluster or app is then
// expected, linked to the issue, until the window closes: its time runs out
// or someone writes "/breakglass end". The forge is the record: windows are
// read from the comments of open issues carrying the break-glass label, and
// nothing else is stored. The package is pure; who may open a window is
// decided by the caller.
package breakglass

import (
	"sort"
	"strings"
	"time"

	"github.com/gitward/gitward/commands"
	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

// IssueComments is an incident issue with its comments.
type IssueComments struct {
	Issue    forge.Issue
	Comments []forge.Comment
}

// Window is one break-glass window on one issue for one scope.
type Window struct {
	// Issue and URL name the incident issue.
	Issue int
	URL   string
	// Scope is the cluster or app name the window covers.
	Scope  string
	Reason string
	// Who opened the window, or last extended it.
	Who string
	// Opened is when the window was opened; Closes when its time runs out,
	// counted from the latest command that opened or extended it.
	Opened, Closes time.Time
	// Ended is when the window closed: by "/breakglass end", or at Closes
	// once that has passed. Zero while it is open.
	Ended time.Time
	// EndedBy is the login that wrote "/breakglass end"; "" when time ran
	// out or the window is open.
	EndedBy string
}

// Open reports whether the window is open at now.
func (w Window) Open(now time.Time) bool {
	return !now.Before(w.Opened) && (w.Ended.IsZero() || now.Before(w.Ended)) && now.Before(w.Closes)
}

// Length returns the duration a command asks for under cfg: the default
// window when it names none, capped at the maximum; capped reports whether
// the cap applied.
func Length(asked time.Duration, cfg config.BreakGlass) (d time.Duration, capped bool) {
	d = asked
	if d <= 0 {
		d = time.Duration(cfg.DefaultWindow)
	}
	if max := time.Duration(cfg.MaxWindow); max > 0 && d > max {
		return max, true
	}
	return d, false
}

// Windows reads the windows of issues at now. Only open issues count, and
// only comments for which authorised returns true (the caller checks who
// wrote them, such as with changecontrol.MayBreakGlass); comments by bots
// never count. On each issue, in the order written, "/breakglass <scope>
// ..." opens a window for the scope or, while one is open, extends it from
// that moment; "/breakglass end" closes every open window of the issue.
// Windows are returned by issue, then in the order they opened.
func Windows(issues []IssueComments, cfg config.BreakGlass, now time.Time, authorised func(forge.Comment) bool) []Window {
	var out []Window
	for _, ic := range issues {
		if ic.Issue.State != "" && !strings.EqualFold(ic.Issue.State, "open") {
			continue
		}
		comments := append([]forge.Comment(nil), ic.Comments...)
		sort.SliceStable(comments, func(i, j int) bool { return comments[i].CreatedAt.Before(comments[j].CreatedAt) })
		var ws []Window
		open := map[string]int{} // scope → index into ws while open
		expire := func(at time.Time) {
			for scope, i := range open {
				if !at.Before(ws[i].Closes) {
					ws[i].Ended = ws[i].Closes
					delete(open, scope)
				}
			}
		}
		for _, c := range comments {
			if c.User.Bot || strings.HasSuffix(c.User.Login, "[bot]") || c.CreatedAt.After(now) {
				continue
			}
			for _, cmd := range commands.Parse(c.Body, commands.OnIssue) {
				if cmd.Name != commands.BreakGlass || cmd.Err != nil {
					continue
				}
				if authorised != nil && !authorised(c) {
					break
				}
				expire(c.CreatedAt)
				args := cmd.BreakGlass
				if args.End {
					for scope, i := range open {
						ws[i].Ended, ws[i].EndedBy = c.CreatedAt, c.User.Login
						delete(open, scope)
					}
					continue
				}
				d, _ := Length(args.Window, cfg)
				if i, ok := open[args.Scope]; ok {
					ws[i].Closes, ws[i].Who, ws[i].Reason = c.CreatedAt.Add(d), c.User.Login, args.Reason
					continue
				}
				open[args.Scope] = len(ws)
				ws = append(ws, Window{
					Issue: ic.Issue.Number, URL: ic.Issue.URL,
					Scope: args.Scope, Reason: args.Reason, Who: c.User.Login,
					Opened: c.CreatedAt, Closes: c.CreatedAt.Add(d),
				})
			}
		}
		expire(now)
		out = append(out, ws...)
	}
	return out
}

// Active returns the windows open at now.
func Active(windows []Window, now time.Time) []Window {
	var out []Window
	for _, w := range windows {
		if w.Open(now) {
			out = append(out, w)
		}
	}
	return out
}

// Covers reports whether the window's scope is the app or its cluster.
func Covers(w Window, app, cluster string) bool {
	return w.Scope != "" && (w.Scope == app || w.Scope == cluster)
}

// Covering returns the first of windows that covers the app, and whether
// there is one.
func Covering(windows []Window, app, cluster string) (Window, bool) {
	for _, w := range windows {
		if Covers(w, app, cluster) {
			return w, true
		}
	}
	return Window{}, false
}
