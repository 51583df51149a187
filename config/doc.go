// Package config loads gitward's two configurations and checks them strictly.
//
// The server configuration (Server, LoadServer) says how one gitward process
// runs: where it listens, how it reaches GitHub, GitLab and clusters, and the
// limits it keeps. It comes from a YAML file plus GITWARD_* environment
// variables (see EnvVars); secret values come only from files or the
// environment and never print.
//
// The repository configuration (Repo, ParseRepo) is the .gitward.yaml file a
// GitOps repository keeps at its root, always read at a pull request's base
// SHA. It sets the change-control policy: apps and their clusters, approvals,
// separation of duties, signatures, the secrets rule, drift mode and ignore
// rules, break-glass responders and the audit branch. A repository without the
// file gets DefaultRepo, whose every default is the secure one.
//
// Both are parsed strictly: an unknown key, a wrong type, a bad glob or
// duration, a duplicate key or name is an error that names the file, line,
// column and key path, like
//
//	.gitward.yaml:7:5: approvals.rules[0].paths[1]: invalid glob "clusters/[prod": missing closing ]
//
// All problems found are returned together as Errors, sorted by line.
// RepoSchema and ServerSchema give the same rules as JSON Schema for editors.
package config
