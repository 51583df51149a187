#!/usr/bin/env bash
# Prints the folder holding kube-apiserver and etcd for controller-runtime's
# envtest, building them from their Go module sources the first time:
#
#   KUBEBUILDER_ASSETS=$(scripts/envtest.sh) go test ./live/
#
# The usual envtest binaries come from a download site; these come from the Go
# module proxy instead. kube-apiserver is built from k8s.io/kubernetes, whose
# module zip lacks the staging/ modules its go.mod points at, so the build
# uses a writable copy whose staging requirements name their published
# releases. etcd gets the same treatment for its sibling-folder replaces.
# The first run takes about five minutes on two cores; later runs only print
# the cached folder. Binaries are built in a temporary folder and moved into
# place, so an interrupted run leaves nothing half-written, and a lock keeps
# two runs from building at once.
set -euo pipefail

k8s_version=v1.34.4     # kube-apiserver; the staging modules are v0.34.4
staging_version=v0.34.4
etcd_version=v3.6.16    # what Kubernetes 1.34 is tested with

cache="${XDG_CACHE_HOME:-$HOME/.cache}/gitward/envtest/$k8s_version"

ready() { [ -x "$cache/kube-apiserver" ] && [ -x "$cache/etcd" ]; }

if ready; then
	echo "$cache"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if ready; then # another run built them while this one waited
	echo "$cache"
	exit 0
fi
# Leftovers of runs that were killed outright; the lock says none is running.
for old in "$cache"/.build.*; do
	[ -e "$old" ] || continue
	chmod -R u+w "$old" 2>/dev/null || true
	rm -rf "$old"
done

tmp=$(mktemp -d "$cache/.build.XXXXXX")
cleanup() { chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The caller's GOFLAGS (like -mod=vendor) and go.work must not apply here;
# GOTOOLCHAIN=local keeps the Go this machine has. -mod=mod lets the copies
# resolve the requirements rewritten below.
export GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off
unset GOOS GOARCH CGO_ENABLED

# moddir prints the module cache folder of module@version, downloading it.
moddir() {
	(cd "$tmp" && go mod download -json "$1") | jq -er 'if .Error then error(.Error) else .Dir end'
}

# writable_copy copies module@version to folder $2, without go.work, and
# drops every replace directive of its go.mod.
writable_copy() {
	local src
	src=$(moddir "$1")
	cp -R "$src" "$2"
	chmod -R u+w "$2"
	rm -f "$2/go.work" "$2/go.work.sum"
	local drops
	drops=$(cd "$2" && go mod edit -json | jq -r '.Replace // [] | .[] |
		"-dropreplace=" + .Old.Path + (if .Old.Version then "@" + .Old.Version else "" end)')
	if [ -n "$drops" ]; then
		# shellcheck disable=SC2086 # one flag per line, no spaces inside
		(cd "$2" && go mod edit $drops)
	fi
}

build_etcd() {
	local start=$SECONDS
	echo "building etcd $etcd_version from go.etcd.io/etcd/server/v3 ..." >&2
	writable_copy "go.etcd.io/etcd/server/v3@$etcd_version" "$tmp/etcd-src"
	(cd "$tmp/etcd-src" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" .)
	mv -f "$tmp/etcd" "$cache/etcd"
	echo "etcd built in $((SECONDS - start)) s" >&2
}

build_kube_apiserver() {
	local start=$SECONDS
	echo "building kube-apiserver $k8s_version from k8s.io/kubernetes ..." >&2
	writable_copy "k8s.io/kubernetes@$k8s_version" "$tmp/kubernetes-src"
	# The staging modules are required as v0.0.0 and were replaced by
	# ./staging/src/k8s.io/<x>; name their releases instead. Pseudo-versions
	# such as k8s.io/utils v0.0.0-2025... are real releases and stay.
	local reqs
	reqs=$(cd "$tmp/kubernetes-src" && go mod edit -json | jq -r --arg v "$staging_version" '
		.Require // [] | .[] | select(.Version == "v0.0.0") | "-require=" + .Path + "@" + $v')
	# shellcheck disable=SC2086
	(cd "$tmp/kubernetes-src" && go mod edit $reqs)
	local pkg=k8s.io/component-base/version
	local ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1"
	ldflags+=" -X $pkg.gitMinor=$(echo "$k8s_version" | cut -d. -f2) -X $pkg.gitTreeState=clean"
	(cd "$tmp/kubernetes-src" && go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" ./cmd/kube-apiserver)
	mv -f "$tmp/kube-apiserver" "$cache/kube-apiserver"
	echo "kube-apiserver built in $((SECONDS - start)) s" >&2
}

[ -x "$cache/etcd" ] || build_etcd
[ -x "$cache/kube-apiserver" ] || build_kube_apiserver
echo "$cache"
