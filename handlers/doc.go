// Package handlers holds one file per webhook event, GitHub's and (in
// gitlab.go) GitLab's. Each decodes its payload into forge-neutral calls
// and hands them over: pull requests, reviews and reruns to the
// evaluation, merges and pushes to the audit, comments to the command
// answers, break-glass windows and post-incident reviews. Decoding is all
// a handler decides; the rules live in the packages it calls.
package handlers
