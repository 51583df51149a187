package report

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/gitward/gitward/forge"
)

// Sticky is one logical comment gitward keeps on a pull request, such as
// the rendered diff: found again by a hidden marker, edited in place, and
// split into numbered parts when it is too long for one comment.
type Sticky struct {
	// Kind names the comment in its marker, such as "rendered-diff".
	Kind string
}

// Marker is the hidden first line of part i of n.
func (s Sticky) Marker(part, total int) string {
	return fmt.Sprintf("<!-- gitward:%s part %d of %d -->\n", s.Kind, part, total)
}

var markerRE = regexp.MustCompile(`\A<!-- gitward:([a-z0-9-]+) part (\d+) of (\d+) -->`)

// Parts returns gitward's comments of this kind among comments, by part
// number. Only bot comments count: a person who pastes the marker into a
// comment does not make it gitward's. When two comments claim one part (two
// replicas raced), the oldest wins and the others are returned as extra.
func (s Sticky) Parts(comments []forge.Comment) (parts map[int]forge.Comment, extra []forge.Comment) {
	parts = map[int]forge.Comment{}
	sorted := append([]forge.Comment(nil), comments...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, c := range sorted {
		if !c.User.Bot {
			continue
		}
		m := markerRE.FindStringSubmatch(c.Body)
		if m == nil || m[1] != s.Kind {
			continue
		}
		n, err := strconv.Atoi(m[2])
		if err != nil || n < 1 {
			continue
		}
		if _, dup := parts[n]; dup {
			extra = append(extra, c)
			continue
		}
		parts[n] = c
	}
	return parts, extra
}

// Publish makes the pull request's comments of this kind read bodies, in
// order: it edits the parts that exist (only when their text changed),
// creates the missing ones and deletes parts no longer needed. With no
// bodies, every part is deleted.
func (s Sticky) Publish(ctx context.Context, pub forge.Publisher, t forge.Thread, existing []forge.Comment, bodies []string) error {
	parts, extra := s.Parts(existing)
	var errs []error
	for i, body := range bodies {
		// The forge stores the body as the adapter sent it.
		body = forge.Inert(body)
		if c, ok := parts[i+1]; ok {
			if c.Body != body {
				if err := pub.EditComment(ctx, t, c.ID, body); err != nil {
					return fmt.Errorf("update part %d of the %s comment: %w", i+1, s.Kind, err)
				}
			}
			continue
		}
		if _, err := pub.CreateComment(ctx, t, body); err != nil {
			return fmt.Errorf("post part %d of the %s comment: %w", i+1, s.Kind, err)
		}
	}
	for n, c := range parts {
		if n > len(bodies) {
			extra = append(extra, c)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].ID < extra[j].ID })
	for _, c := range extra {
		if err := pub.DeleteComment(ctx, t, c.ID); err != nil {
			errs = append(errs, fmt.Errorf("delete an unneeded part of the %s comment: %w", s.Kind, err))
		}
	}
	return errors.Join(errs...)
}
