package githubtest

// GitHub sends a webhook as soon as an event happens, but its API can show
// the change a moment later: a review or a push may be missing from the
// first reads that follow its webhook. Later models that lag without
// clocks: the change is applied after a given number of further API
// requests, or when the test calls Settle.

type lagged struct {
	after int
	apply func()
}

// Later applies change (calls to AddReview, AddCommit, AddPullRequest, ...)
// once the double has answered `after` more API requests; until then the
// API does not show it. A test delivers the change's webhook right away to
// see how gitward copes with reading what GitHub shows before it.
func (s *Server) Later(after int, change func()) {
	if after <= 0 {
		change()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lagged = append(s.lagged, &lagged{after: after, apply: change})
}

// Settle applies every change Later still holds, oldest first.
func (s *Server) Settle() {
	s.mu.Lock()
	due := s.lagged
	s.lagged = nil
	s.mu.Unlock()
	for _, l := range due {
		l.apply()
	}
}

// Pending reports how many changes Later still holds.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lagged)
}

// countDown counts one answered request against the held changes and
// applies those that are due, outside the lock they take themselves.
func (s *Server) countDown() {
	s.mu.Lock()
	var due []*lagged
	kept := s.lagged[:0]
	for _, l := range s.lagged {
		l.after--
		if l.after <= 0 {
			due = append(due, l)
		} else {
			kept = append(kept, l)
		}
	}
	s.lagged = kept
	s.mu.Unlock()
	for _, l := range due {
		l.apply()
	}
}
