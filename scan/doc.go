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
// close.
package scan
