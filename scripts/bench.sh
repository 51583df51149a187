#!/usr/bin/env bash
# The Go benchmarks, then snapshot extraction beside its reference tool:
# gitward's extractor and `tar -xzf` on the same archive, with their ratio.
# Numbers only, no thresholds: they depend on the machine and its load.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go test -run '^\$' -bench . -benchmem ./... =="
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
go test -run '^$' -bench . -benchmem ./... >"$out" 2>&1 || rc=$?
grep -v '\[no test files\]' "$out" || true
[ "$rc" -eq 0 ] || { echo "bench: go test failed (exit $rc)" >&2; exit "$rc"; }

echo
echo "== snapshot extraction: gitward beside tar -xzf, same archive =="
go run ./scripts/extractbench "$@"

# --- diff engine (render/textdiff) --------------------------------------
# gitward's line diff beside `git diff --no-index` on the same files: the
# FACTS.md cases (10k lines at 10 % and 50 % changed, 50k at 0.1 % and 10 %),
# medians, ratio gitward/git, output sizes and the lines each shows changed;
# then the changed lines of both over the fixtures' manifest pairs, in total
# and for the worst pair. Git's times include its process start.
echo
echo "== diff engine: gitward textdiff beside git diff --no-index, same files =="
go run ./render/textdiff/textdiffbench

# --- rendering (render) -------------------------------------------------
# Every buildable kustomization of the home-ops fixture (121), rendered by
# gitward in one process (discover, graph, render, GOMAXPROCS at a time, no
# cache) beside one `kustomize build DIR` process per kustomization with the
# CLI release gitward matches, sequentially and GOMAXPROCS at a time. The
# benchmark first checks that every CLI output equals gitward's, byte for
# byte. scripts/kustomize.sh builds the CLI once (about 20 s) and caches it.
echo
echo "== rendering: gitward in process beside one kustomize build process per kustomization =="
KUSTOMIZE=$(bash scripts/kustomize.sh) go test -run '^$' -bench '^Benchmark(RenderAll|KustomizeCLIAll)$' -benchtime 5x ./render/ 2>&1 |
	grep -v '^# Warning' | awk '
	/^BenchmarkRenderAll-/                { g = $3 / 1e9 }
	/^BenchmarkKustomizeCLIAll\/sequential/ { s = $3 / 1e9 }
	/^BenchmarkKustomizeCLIAll\/parallel/   { p = $3 / 1e9 }
	/^(Benchmark|ok|FAIL|---)/            { print }
	END {
		if (!g || !s || !p) { print "rendering: missing figures" > "/dev/stderr"; exit 1 }
		printf "gitward, in process:                      %6.2f s\n", g
		printf "kustomize build, one process each, 1 at a time: %6.2f s  (%.1fx gitward)\n", s, s / g
		printf "kustomize build, one process each, parallel:    %6.2f s  (%.1fx gitward)\n", p, p / g
	}'
