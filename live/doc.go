// Package live compares what git says with what a Kubernetes cluster runs.
//
// Two questions, both answered with server-side dry-run apply (field
// manager "gitward", forced, dryRun=All) so that the API server's own
// defaulting, admission and merge decide what an apply would do:
//
//   - Plan: what merging a pull request changes. Each object of the head
//     render is dry-run applied and compared with the live object: created,
//     changed (field by field), unchanged; objects of the base render that
//     the head render drops and that exist live are pruned.
//   - Drift: how the cluster already differs from git. Each object of the
//     base render is dry-run applied and compared with the live object; a
//     drifted field is attributed, from the live object's managedFields, to
//     the field manager that owns it (manager, operation, subresource, time).
//     Objects missing from the cluster are drift too.
//
// Comparing the dry-run result with the live object, rather than the render
// with the live object, is what keeps defaults out of the report: both sides
// went through the same defaulting, so a Service's clusterIP or a
// Deployment's defaulted strategy are equal on both. What remains to be
// removed is bookkeeping the server sets on every write (see normalize.go).
//
// Ignore rules from .gitward.yaml hide expected differences, by JSON pointer
// and by the field manager that owns the field, and every hidden field is
// counted against its rule.
//
// Secret values never leave this package: a Secret's drifted key is reported
// as "value differs", compared without being kept, and error messages from
// the API server are scrubbed of the Secret's values.
package live
