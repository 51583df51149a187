package commands

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gitward/gitward/report/markdown"
)

// BreakGlassArgs are the arguments of /breakglass. What they allow, and who
// may use them, is the break-glass policy's to decide.
//
// On a pull request the whole text after the command is the reason:
//
//	/breakglass payments are down, rolling back
//
// On an issue the first word names the cluster or app whose manual changes
// are expected, the rest is the reason, and a final "for DURATION" asks for
// a window of that length (a Go duration such as 2h or 30m; the repository
// configuration bounds it):
//
//	/breakglass prod database failover for 2h
//
// "/breakglass end", in either place, ends the open window early.
type BreakGlassArgs struct {
	// End is set by "/breakglass end".
	End bool
	// Scope is the cluster or app, on an issue.
	Scope string
	// Reason says why; it is never empty unless End is set.
	Reason string
	// Window is the duration asked for with "for DURATION"; 0 means the
	// configured default.
	Window time.Duration
}

// scopeRE is the shape of cluster and app names in .gitward.yaml.
var scopeRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`)

// unitWords are the words that show a window written in English, like
// "for 2 hours", which is refused with a hint rather than read as a reason.
var unitWords = map[string]bool{
	"s": true, "sec": true, "secs": true, "second": true, "seconds": true,
	"m": true, "min": true, "mins": true, "minute": true, "minutes": true,
	"h": true, "hr": true, "hrs": true, "hour": true, "hours": true,
	"d": true, "day": true, "days": true,
}

func breakGlassArgs(args string, where Place) (BreakGlassArgs, error) {
	if args == "end" {
		return BreakGlassArgs{End: true}, nil
	}
	if where == OnPullRequest {
		if args == "" {
			return BreakGlassArgs{}, fmt.Errorf("`/breakglass` needs a reason, such as `/breakglass payments are down, rolling back`")
		}
		return BreakGlassArgs{Reason: args}, nil
	}

	const form = "`/breakglass <cluster-or-app> <reason> [for 2h]`"
	scope, rest := cutWord(args)
	if scope == "" {
		return BreakGlassArgs{}, fmt.Errorf("`/breakglass` on an issue needs a cluster or app and a reason: %s", form)
	}
	if !scopeRE.MatchString(scope) {
		return BreakGlassArgs{}, fmt.Errorf("%q is not a cluster or app name (lower-case letters, digits, '-', '.' and '_'); write %s", markdown.Clip(scope, maxQuote), form)
	}
	words := strings.Fields(rest)
	var window time.Duration
	n := len(words)
	switch {
	case n >= 2 && words[n-2] == "for" && startsWithDigit(words[n-1]):
		d, err := time.ParseDuration(words[n-1])
		if err != nil || d <= 0 {
			return BreakGlassArgs{}, fmt.Errorf("`for %s` is not a duration: write a positive Go duration such as `for 2h` or `for 30m`", markdown.Clip(words[n-1], maxQuote))
		}
		window = d
		words = words[:n-2]
	case n >= 3 && words[n-3] == "for" && startsWithDigit(words[n-2]) && unitWords[strings.ToLower(words[n-1])]:
		return BreakGlassArgs{}, fmt.Errorf("write the window as a Go duration such as `for 2h` or `for 30m`, not `for %s %s`", markdown.Clip(words[n-2], maxQuote), markdown.Clip(words[n-1], maxQuote))
	}
	if len(words) == 0 {
		return BreakGlassArgs{}, fmt.Errorf("`/breakglass %s` needs a reason after the cluster or app: %s", scope, form)
	}
	return BreakGlassArgs{Scope: scope, Reason: strings.Join(words, " "), Window: window}, nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }
