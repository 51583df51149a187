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
# medians, ratio gitward/git, output sizes and whether both changed the same
# lines. Git's times include its process start.
echo
echo "== diff engine: gitward textdiff beside git diff --no-index, same files =="
go run ./render/textdiff/textdiffbench
