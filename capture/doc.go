// Package capture writes what a cluster runs back into the git sources it
// drifted from: the changes people make by hand during an incident come
// back as file changes a pull request can carry, so that git stays the
// complete record of what runs.
//
// Plan takes one app, its render and its drift (live.Drift), and for each
// drifted object writes its drifted fields, and nothing else, back:
//
//   - in place, into the YAML document that declares the object, when no
//     other app reads that file: the value at the field's JSON pointer is
//     set (or removed) with yaml.v3 node editing, and only the lines around
//     the edit change, so comments, key order and layout stay;
//   - as an images: or replicas: entry of the app's own kustomization, when
//     the object's source is a base other apps share and the change is
//     exactly an image (name, tag or digest) or a replica count;
//   - otherwise as a strategic-merge patch file added to the app's own
//     directory (gitward-capture-<kind>-<name>.yaml) and listed under the
//     kustomization's patches:.
//
// A file is shared when the dependency graph (render.Graph) says another
// app's render reads it; capture never writes one, nor adds a file another
// app looks for. Only drifted fields are written: live.Drift already leaves
// out status, the server's bookkeeping and defaults (both sides are
// defaulted by the same dry-run), and fields hidden by ignore rules.
// Secret values are never written: a drifted Secret value is refused, and
// a file holding Secret values is never edited in place, since the diff of
// the edit would show them as context.
//
// Every route is verified before it is kept, by rendering the changed tree
// in memory: the captured objects, dry-run against the cluster again, must
// show no drift, and no other object of the app, nor any other field of a
// captured one, may render differently. A route that fails is followed by
// the next; when none holds, the object is refused with the reasons.
package capture
