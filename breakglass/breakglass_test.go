package breakglass

import (
	"reflect"
	"testing"
	"time"

	"github.com/gitward/gitward/config"
	"github.com/gitward/gitward/forge"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func at(min int, login, body string) forge.Comment {
	return forge.Comment{User: forge.User{Login: login}, Body: body, CreatedAt: t0.Add(time.Duration(min) * time.Minute)}
}

func TestWindows(t *testing.T) {
	cfg := config.BreakGlass{DefaultWindow: config.Duration(time.Hour), MaxWindow: config.Duration(4 * time.Hour)}
	issue := forge.Issue{Number: 7, URL: "https://github.com/o/r/issues/7", State: "open"}
	onlyAlice := func(c forge.Comment) bool { return c.User.Login == "alice" }
	tests := []struct {
		name     string
		state    string
		comments []forge.Comment
		now      int // minutes after t0
		want     []Window
	}{
		{
			name:     "default window, open",
			comments: []forge.Comment{at(0, "alice", "/breakglass prod db failover")},
			now:      30,
			want:     []Window{{Issue: 7, URL: issue.URL, Scope: "prod", Reason: "db failover", Who: "alice", Opened: t0, Closes: t0.Add(time.Hour)}},
		},
		{
			name:     "time runs out",
			comments: []forge.Comment{at(0, "alice", "/breakglass prod db failover for 30m")},
			now:      31,
			want:     []Window{{Issue: 7, URL: issue.URL, Scope: "prod", Reason: "db failover", Who: "alice", Opened: t0, Closes: t0.Add(30 * time.Minute), Ended: t0.Add(30 * time.Minute)}},
		},
		{
			name:     "capped at max_window",
			comments: []forge.Comment{at(0, "alice", "/breakglass prod db failover for 10h")},
			now:      1,
			want:     []Window{{Issue: 7, URL: issue.URL, Scope: "prod", Reason: "db failover", Who: "alice", Opened: t0, Closes: t0.Add(4 * time.Hour)}},
		},
		{
			name: "extended while open",
			comments: []forge.Comment{
				at(0, "alice", "/breakglass prod db failover"),
				at(50, "alice", "/breakglass prod still failing over for 2h"),
			},
			now:  70,
			want: []Window{{Issue: 7, URL: issue.URL, Scope: "prod", Reason: "still failing over", Who: "alice", Opened: t0, Closes: t0.Add(170 * time.Minute)}},
		},
		{
			name: "reopened after it ran out is a new window",
			comments: []forge.Comment{
				at(0, "alice", "/breakglass prod db failover for 10m"),
				at(20, "alice", "/breakglass prod again"),
			},
			now: 30,
			want: []Window{
				{Issue: 7, URL: issue.URL, Scope: "prod", Reason: "db failover", Who: "alice", Opened: t0, Closes: t0.Add(10 * time.Minute), Ended: t0.Add(10 * time.Minute)},
				{Issue: 7, URL: issue.URL, Scope: "prod", Reason: "again", Who: "alice", Opened: t0.Add(20 * time.Minute), Closes: t0.Add(80 * time.Minute)},
			},
		},
		{
			name: "ended early",
			comments: []forge.Comment{
				at(0, "alice", "/breakglass payments rollback"),
				at(5, "alice", "/breakglass end"),
			},
			now:  10,
			want: []Window{{Issue: 7, URL: issue.URL, Scope: "payments", Reason: "rollback", Who: "alice", Opened: t0, Closes: t0.Add(time.Hour), Ended: t0.Add(5 * time.Minute), EndedBy: "alice"}},
		},
		{
			name: "unauthorised and bot comments do not count",
			comments: []forge.Comment{
				at(0, "mallory", "/breakglass prod let me in"),
				{User: forge.User{Login: "ci[bot]"}, Body: "/breakglass prod bot", CreatedAt: t0},
				at(1, "alice", "/breakglass payments rollback"),
				at(2, "mallory", "/breakglass end"),
			},
			now:  3,
			want: []Window{{Issue: 7, URL: issue.URL, Scope: "payments", Reason: "rollback", Who: "alice", Opened: t0.Add(time.Minute), Closes: t0.Add(61 * time.Minute)}},
		},
		{
			name:     "closed issue counts not",
			state:    "closed",
			comments: []forge.Comment{at(0, "alice", "/breakglass prod db failover")},
			now:      1,
		},
		{
			name:     "malformed and ordinary comments",
			comments: []forge.Comment{at(0, "alice", "/breakglass prod"), at(1, "alice", "looking into it")},
			now:      2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := issue
			if tt.state != "" {
				is.State = tt.state
			}
			got := Windows([]IssueComments{{Issue: is, Comments: tt.comments}}, cfg, t0.Add(time.Duration(tt.now)*time.Minute), onlyAlice)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Windows:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestActiveCovers(t *testing.T) {
	ws := []Window{
		{Issue: 1, Scope: "prod", Opened: t0, Closes: t0.Add(time.Hour)},
		{Issue: 2, Scope: "payments", Opened: t0, Closes: t0.Add(time.Hour), Ended: t0.Add(time.Minute)},
	}
	act := Active(ws, t0.Add(10*time.Minute))
	if len(act) != 1 || act[0].Issue != 1 {
		t.Fatalf("Active = %+v", act)
	}
	if len(Active(ws, t0.Add(time.Hour))) != 0 {
		t.Error("a window is not active at its Closes time")
	}
	for _, c := range []struct {
		app, cluster string
		want         bool
	}{{"web", "prod", true}, {"prod", "", true}, {"web", "staging", false}} {
		if got := Covers(ws[0], c.app, c.cluster); got != c.want {
			t.Errorf("Covers(%q, %q) = %v", c.app, c.cluster, got)
		}
	}
	if w, ok := Covering(ws, "payments", "x"); !ok || w.Issue != 2 {
		t.Errorf("Covering = %+v %v", w, ok)
	}
}
