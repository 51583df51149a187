#!/usr/bin/env bash
# gitward on bundled examples, with no GitHub App and no cluster:
#   0. `gitward preview` of a change in the example repository
#      (examples/demo): the comment gitward posts on the pull request, and
#      the change-control rules it can decide locally (exit code 1: the
#      demo's commits are unsigned and it has a plaintext Secret);
#   2. a broken policy fails with file:line:col and exit code 2;
#   3. `gitward config schema` prints the policy's JSON Schema for editors;
#   4. `gitward serve` takes a real GitHub webhook on 127.0.0.1: a bad
#      signature gets 401, a good one 202, then SIGTERM stops it with exit 0.
# GitHub's API URLs point at 127.0.0.1:9, where nothing listens, so nothing
# leaves this machine. Needs bash, curl and openssl; `make demo` builds
# bin/gitward first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
gitward=${GITWARD:-$root/bin/gitward}

for tool in curl openssl git; do
  command -v "$tool" >/dev/null 2>&1 || { echo "demo: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
[ -x "$gitward" ] || { echo "demo: $gitward is missing; run make build" >&2; exit 1; }

tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then bold=$'\e[1m' dim=$'\e[2m' off=$'\e[0m'; else bold= dim= off=; fi
section() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$off"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }

# show runs a gitward command line, printing it, its output and its exit
# code, and sets $rc to that code.
show() {
  printf '%s$ gitward %s%s\n' "$dim" "$*" "$off"
  rc=0
  "$gitward" "$@" 2>&1 || rc=$?
  printf '%s(exit code %d)%s\n' "$dim" "$rc" "$off"
}

# ---------------------------------------------------------------------------
section "0. The rendered diff gitward posts on a pull request"
# A throwaway repository: examples/demo/base is the base commit, and
# examples/demo/head, copied over it, is the change.
demo="$tmp/demo-repo"
mkdir -p "$demo"
cp -R examples/demo/base/. "$demo/"
dgit() { git -C "$demo" -c user.name=demo -c user.email=demo@example.com -c commit.gpgsign=false "$@"; }
dgit init -q -b main
dgit add -A
dgit commit -qm "base: podinfo on staging and prod, a Grafana dashboard"
cp -R examples/demo/head/. "$demo/"
dgit add -A
dgit commit -qm "Raise podinfo's requests, rotate the database password, tune two dashboard panels"
show preview --repo "$demo" --base HEAD~1 --head HEAD
# Every app renders, but the demo's commits are unsigned and its database
# Secret is plaintext: the change-control rules decided locally fail, so
# preview exits 1, as gitward/change-control would fail on the pull request.
[ "$rc" -eq 1 ] || fail "gitward preview should exit 1 on the demo change (unsigned commits, a plaintext Secret), not $rc"
echo "${dim}(exit code 1 is expected: the demo's commits are unsigned and its database Secret is plaintext;"
echo " approvals show as pending, since only the pull request decides them)${off}"
preview=$("$gitward" preview --repo "$demo" --base HEAD~1 --head HEAD 2>&1 || true)
for want in "| ❌ | signed commits |" "| ❌ | plaintext secrets |" "| ⏳ | approvals |"; do
  grep -qF -- "$want" <<<"$preview" || fail "the change-control preview lacks \"$want\""
done
for value in demo-only-hunter2 demo-only-rotated-hunter3 demo-only-new-value; do
  if grep -qF -- "$value" <<<"$preview"; then
    fail "a secret value ($value) reached the preview"
  fi
done
echo "${dim}(checked: none of the demo Secret's values appear in the output)${off}"

# ---------------------------------------------------------------------------
section "1. The bundled example policy is valid"
show config validate config/testdata/example.gitward.yaml
[ "$rc" -eq 0 ] || fail "the example policy should be valid"

# ---------------------------------------------------------------------------
section "2. A broken policy: every problem with file:line:col, exit code 2"
mkdir -p "$tmp/repo"
cat >"$tmp/repo/.gitward.yaml" <<'EOF'
version: 1
approvals:
  required: two
  rules:
    - name: prod-needs-sre
      paths: ["clusters/prod/[**"]
      teams: [sre]
drift:
  mode: strict
signatures:
  require_signed_comits: false
EOF
cat -n "$tmp/repo/.gitward.yaml"
cd "$tmp/repo"
show config validate .gitward.yaml
cd "$root"
[ "$rc" -eq 2 ] || fail "a broken policy should exit 2, not $rc"

# ---------------------------------------------------------------------------
section "3. The policy's JSON Schema, for editors (first lines)"
schema=$("$gitward" config schema)
printf '%s$ gitward config schema%s\n' "$dim" "$off"
sed -n '1,10p' <<<"$schema"
printf '%s... %d lines in all; gitward config schema --server has the server config%s\n' \
  "$dim" "$(wc -l <<<"$schema")" "$off"

# ---------------------------------------------------------------------------
section "4. A live webhook round trip, no GitHub needed"
openssl genrsa -out "$tmp/private-key.pem" 2048 2>/dev/null
openssl rand -hex 32 >"$tmp/webhook-secret"
cat >"$tmp/gitward.yaml" <<'EOF'
server:
  address: 127.0.0.1:0          # the kernel picks a free port
  shutdown_grace_period: 5s
github:
  app_id: 1
  private_key_file: private-key.pem   # a fresh RSA key from openssl genrsa
  webhook_secret_file: webhook-secret # 32 random bytes from openssl rand
snapshots:
  dir: snapshots
EOF
cat "$tmp/gitward.yaml"
echo "GITWARD_GITHUB_V3_API_URL=http://127.0.0.1:9/ GITWARD_RESYNC_INTERVAL=0 (nothing listens there; no resync timer)"
GITWARD_GITHUB_V3_API_URL=http://127.0.0.1:9/ \
GITWARD_GITHUB_V4_API_URL=http://127.0.0.1:9/graphql \
GITWARD_RESYNC_INTERVAL=0 \
  "$gitward" serve --config "$tmp/gitward.yaml" 2>"$tmp/server.log" &
server=$!

addr=
for _ in $(seq 100); do
  addr=$(sed -n 's/.*"address":"\([^"]*\)".*"message":"gitward is serving".*/\1/p' "$tmp/server.log")
  [ -n "$addr" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/server.log" >&2; fail "gitward serve exited early"; }
  sleep 0.1
done
[ -n "$addr" ] || { cat "$tmp/server.log" >&2; fail "gitward serve did not start within 10s"; }
base=http://$addr
echo "gitward serve is listening on $addr (pid $server)"

payload=testdata/github/webhooks/pull_request/opened.payload.json
# deliver posts the payload as GitHub does, signed with the given secret.
deliver() {
  local sig code
  sig=$(openssl dgst -sha256 -hmac "$1" <"$payload" | sed 's/^.*= //')
  code=$(curl -sS -o "$tmp/body" -w '%{http_code}' -X POST "$base/api/github/hook" \
    -H 'Content-Type: application/json' -H 'X-GitHub-Event: pull_request' \
    -H "X-GitHub-Delivery: $(openssl rand -hex 16)" -H "X-Hub-Signature-256: sha256=$sig" \
    --data-binary "@$payload")
  printf 'HTTP %s %s\n' "$code" "$(tr -d '\n' <"$tmp/body")"
  [ "$code" = "$2" ] || fail "expected HTTP $2"
}
echo
echo "POST /api/github/hook  $payload signed with a wrong secret:"
deliver "not-the-secret" 401
echo "POST /api/github/hook  the same payload signed with the webhook secret:"
deliver "$(cat "$tmp/webhook-secret")" 202

echo
for path in /healthz /readyz; do
  printf 'GET %-8s -> %s' "$path" "$(curl -sS -w ' (HTTP %{http_code})' "$base$path" | tr -d '\n')"
  echo
done
echo "GET /metrics (deliveries):"
curl -sS "$base/metrics" | grep '^gitward_webhook_deliveries_total' | sed 's/^/  /'

echo
echo "kill -TERM $server"
kill -TERM "$server"
rc=0
for _ in $(seq 100); do
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$server" 2>/dev/null && fail "gitward serve did not stop within 10s of SIGTERM"
wait "$server" || rc=$?
server=
echo "The server's log (level and message; payloads and secrets are never logged):"
sed -E \
  -e 's/.*"level":"([a-z]+)".*"error":"(([^"\\]|\\.)*)".*"message":"(([^"\\]|\\.)*)".*/  \1\t\4: \2/; t' \
  -e 's/.*"level":"([a-z]+)".*"message":"(([^"\\]|\\.)*)".*/  \1\t\2/' "$tmp/server.log"
echo "(The signed event was queued; evaluating it needs GitHub, which is not there.)"
printf '%sgitward serve exited with code %d%s\n' "$bold" "$rc" "$off"
[ "$rc" -eq 0 ] || fail "gitward serve should exit 0 on SIGTERM"
if grep -qF -e "$(cat "$tmp/webhook-secret")" -e "PRIVATE KEY" "$tmp/server.log"; then
  fail "the server log holds a secret"
fi
