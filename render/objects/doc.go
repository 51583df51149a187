// Package objects turns the rendered YAML streams of one app at base and
// head — the bytes `kustomize build` prints — into the per-object changes a
// reviewer sees.
//
// Objects are paired by group, kind, namespace and name, normalised (sorted
// keys, no status, Secret stringData folded into data, one YAML rendering) and
// diffed line by line. Secret values never leave this package: a Secret's
// change is reported as the keys that were added, removed or changed, SOPS
// and SealedSecret ciphertext is shown as a placeholder, and errors name
// documents, lines and keys but never values.
package objects
