// Package snapshot turns a repository archive at a commit into a tree on
// disk that rendering can read without ever reaching outside it.
//
// Extract unpacks a GitHub or GitLab tarball safely: nothing is written
// outside the target folder, no symlink leads out of the tree, and size and
// file-count limits stop archive bombs. Cache keeps extracted trees by key
// (repository and commit SHA) within a disk budget, downloads each once even
// when many callers ask at the same time, and survives restarts.
package snapshot
