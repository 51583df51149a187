#!/usr/bin/env bash
# Prints the path of the kustomize CLI that gitward's output must match byte
# for byte: kustomize v5.8.2, the release built on sigs.k8s.io/kustomize/api
# v0.21.2, which gitward links. The first run builds it from the Go module
# proxy (about a minute); later runs only print the cached path.
#
#   KUSTOMIZE=$(scripts/kustomize.sh) go test ./render/
set -euo pipefail

version=v5.8.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/gitward/kustomize/$version"
bin="$cache/kustomize"

if [ ! -x "$bin" ]; then
	mkdir -p "$cache"
	# Build in a temporary GOBIN and move the binary into place, so that an
	# interrupted build never leaves a half-written binary behind.
	tmp=$(mktemp -d "$cache/.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# GOFLAGS from the caller (like -mod=vendor) must not apply to this build;
	# GOTOOLCHAIN=local keeps the Go this machine has.
	GOFLAGS= GOTOOLCHAIN=local GOBIN="$tmp" \
		go install "sigs.k8s.io/kustomize/kustomize/v5@$version" >&2
	mv -f "$tmp/kustomize" "$bin"
fi
echo "$bin"
