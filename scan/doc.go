// Package scan is gitward's scheduled drift scan: on an interval it reads
// each repository's default branch at its head, compares every app mapped
// to a cluster with what that cluster runs, and proposes what drifted back
// into git as a drift-capture pull request (package capture writes the
// change).
//
// There is at most one open capture pull request per app, on the fixed
// branch gitward/drift-capture/<app>, labelled drift-capture. A later scan
// updates it in place: a new commit only when the captured files differ
// from what the branch holds, a body edit only when the body differs, so
// drift that does not change makes no churn. An app whose capture fails
// (its cluster unreachable, its render broken) is not retried before an
// exponential backoff, kept in memory, has passed. When the drift goes
// away, an open capture pull request is left as it is, for people to
// close; one closed without merging while the drift lasts is proposed
// again by the next scan, from the same branch. Objects capture refuses
// (deleted by hand, Secret values) are listed in the body; when nothing
// else drifted, there is no pull request for them (the gitward/drift
// check of pull requests reports them).
//
// The branch is made from the default branch's head when first written,
// then updated in place: when the default branch moves on, the captured
// files are written afresh from its new head, but the branch is not
// rebased.
package scan
