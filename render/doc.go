// Package render turns a repository snapshot into the YAML stream
// `kustomize build` prints for each app, and says which apps a change
// affects.
//
// The pieces, in the order a pull request uses them:
//
//   - Discover finds the apps: every kustomization root, or the apps
//     .gitward.yaml lists.
//   - BuildGraph reads the kustomization of every app and of every base and
//     component it uses, and records every file each render reads. Graph.Affected
//     and Plan answer which apps a change affects, on the base and head
//     commits; Graph.Files lists an app's inputs.
//   - Renderer.Render runs kustomize (sigs.k8s.io/kustomize/api, in process)
//     for one app and returns the raw YAML stream; other packages parse it.
//
// # Output identity
//
// Render prints exactly what `kustomize build DIR` of kustomize
// KustomizeCLIVersion prints with no flags: the same krusty options (legacy
// resource order, load restrictions RootOnly, only built-in plugins, no Helm),
// and the managed-by label, which kustomize derives from the program it is
// linked into, set to the CLI's value. The tests compare every kustomization
// of the fixture repositories with the CLI byte for byte.
//
// # What a render may read (DESIGN.md principle 6: render nothing that executes)
//
// Kustomize sees the snapshot as a read-only file system rooted at /repo and
// nothing else (snapshotFS over a Tree). Every path is resolved component by
// component inside the tree: a ../ that climbs above the root, an absolute
// path and a symlink pointing out of the tree (or to an absolute path) are
// errors naming the path or the link, wrapping ErrOutside. An os.Root under
// the Tree refuses the same again. Paths in messages are written from the
// repository root, never as the snapshot's place on disk, so cached errors
// are the same for every commit.
//
// On top of that boundary kustomize keeps its own default load restriction,
// RootOnly, exactly as the CLI does: a file (patch, generator input, ...)
// must be under the directory of the kustomization naming it, while bases
// and components (directories) may be anywhere in the repository, such as
// ../../base. A restriction relative to the repository root alone would
// accept kustomizations the CLI rejects and break output identity; the
// snapshot boundary is what keeps files outside the repository unreadable.
//
// Before kustomize runs, the graph refuses, with file and line:
//
//   - remote bases and files (git URLs in any of kustomize's forms, http(s)
//     files, any scheme://), because kustomize would clone with the git
//     binary or fetch over HTTP. A remote matching the server's
//     render.allowed_remote_bases globs is refused too, with a message saying
//     it is allowlisted but gitward renders only from the snapshot and does
//     not fetch remote bases yet: vendor it. The allowlist check is in place
//     for when fetching into the snapshot is implemented;
//   - paths that leave the repository, absolute paths, escaping symlinks;
//   - generator, transformer and validator configurations that are not
//     kustomize built-ins (exec, Go and KRM-function plugins), helmCharts,
//     helmGlobals and the built-in Helm generator. Kustomize itself runs
//     with plugins, exec, functions and Helm off as a second guard;
//   - kustomizations kustomize cannot read (invalid YAML, unknown fields,
//     more than one kustomization file in a directory, empty ones).
//
// # Limits
//
// Each render runs in its own goroutine within Options.Concurrency slots. A
// render that takes longer than Options.TimeLimit is reported as ErrTimeLimit
// and abandoned: kustomize cannot be interrupted, so the goroutine finishes
// in the background and keeps its slot until then, which bounds the CPU
// abandoned renders use. Output over Options.MaxOutputSize is ErrOutputLimit
// (checked once kustomize has built it). A panic inside kustomize is
// recovered as ErrPanic. Kustomization files' deprecation warnings are
// returned in Result.Warnings (kustomize also prints them on stderr).
//
// # Cache
//
// Renders are cached by a hash of the app's directory, the kustomize
// version and the path, link target and SHA-256 of every file the graph says
// the app reads (a file it looked for and did not find counts as missing),
// so an app whose inputs did not change between two commits renders once.
// Deterministic errors are cached too; renders over the time limit are not.
// When kustomize reads a file the graph did not predict, the render is not
// cached. The cache is bounded in bytes (render.cache_size; 0 turns it off),
// least recently used first out, and concurrent renders of one key run
// kustomize once. Renders of different apps share no work beyond the Tree's
// file cache: an unchanged base is rendered again inside each overlay.
//
// # Process-wide state
//
// Kustomize keeps the OpenAPI schema in a global. Apps whose kustomizations
// set openapi render alone and reset it before and after; all others render
// concurrently with the built-in schema.
package render
