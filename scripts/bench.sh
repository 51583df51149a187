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
