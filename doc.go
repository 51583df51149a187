// Package gitward is the root of the gitward module: a GitHub App and GitLab
// bot that enforces change control on GitOps repositories. See README.md and
// the packages below for the pieces.
package gitward
