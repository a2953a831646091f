#!/usr/bin/env bash
# The REST API against its own OpenAPI document (issue 17): Schemathesis generates requests
# from /api/v1/openapi.json, valid and invalid, for every operation (stateful links too), as an
# admin token (every endpoint turned on: webhooks, the Prometheus scrape), on SQLite and on PostgreSQL, with every check it has: no 5xx, every answer's
# status, content type, headers and body as documented, every request the document allows
# accepted and every one it forbids refused.
#   scripts/schemathesis.sh [EXAMPLES_PER_OPERATION] [BINARY]   # 1000 and the release build
# scripts/test.sh runs a bounded pass (100 examples per operation); the report of each run is
# left in target/schemathesis/ENGINE.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
EXAMPLES="${1:-1000}"
BIN="${2:-$CARGO_TARGET_DIR/release/switchyard}"
[ -x "$BIN" ] || die "no switchyard binary at $BIN (scripts/package.sh or build_site builds it)"
SITE="${SWITCHYARD_SITE_ROOT:-$ROOT/target/site}"
[ -f "$SITE/hash.txt" ] || die "no compiled site in $SITE (build_site)"
ensure_schemathesis
apt_install curl
POSTGRES="${SWITCHYARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  psql -q "$POSTGRES" -c 'DROP DATABASE IF EXISTS switchyard_schemathesis WITH (FORCE)' >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

run_engine() { # ENGINE DATABASE_URL
  local engine="$1" url="$2" port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  export SWITCHYARD_DATABASE_URL="$url" SWITCHYARD_ADDR="127.0.0.1:$port" \
    SWITCHYARD_SITE_ROOT="$SITE" SWITCHYARD_LOG_LEVEL=warn \
    SWITCHYARD_PROMETHEUS_TOKEN=schemathesis-scrape-token \
    SWITCHYARD_GITHUB_WEBHOOK_SECRET=schemathesis-github-secret \
    SWITCHYARD_GENERIC_WEBHOOK_SECRET=schemathesis-generic-secret
  "$BIN" migrate >/dev/null
  local token
  token="$("$BIN" token create --name schemathesis --role admin)"
  "$BIN" serve >"$WORK/$engine.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
    sleep 0.1
  done
  say "schemathesis on $engine: $EXAMPLES examples per operation"
  local report="$ROOT/target/schemathesis/$engine" status=0
  rm -rf "$report"
  # Revoking a token or a user could revoke the one the run uses, and a live stream answers
  # for as long as the client listens (server/tests/it/slow_clients.rs and the end-to-end
  # tests follow them); everything else is tried.
  schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all ${SCHEMATHESIS_EXCLUDE:+--exclude-checks "$SCHEMATHESIS_EXCLUDE"} --max-examples "$EXAMPLES" --seed "${SCHEMATHESIS_SEED:-1}" \
    --exclude-path-regex '^/v1/(tokens|users)/\{|/events$' \
    --request-timeout 10 --workers 2 --no-color \
    --report junit --report-dir "$report" || status=$?
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  if grep -q '"level":"ERROR"' "$WORK/$engine.log"; then
    grep '"level":"ERROR"' "$WORK/$engine.log" | head -20 >&2
    FAILED+=("$engine: the server logged errors")
  fi
  [ "$status" -eq 0 ] || FAILED+=("$engine: schemathesis found failures (report: $report)")
}
FAILED=()

run_engine sqlite "sqlite://$WORK/schemathesis.db"
psql -q "$POSTGRES" -c 'DROP DATABASE IF EXISTS switchyard_schemathesis WITH (FORCE)' >/dev/null
psql -q "$POSTGRES" -c 'CREATE DATABASE switchyard_schemathesis' >/dev/null
run_engine postgres "${POSTGRES%/*}/switchyard_schemathesis"
[ ${#FAILED[@]} -eq 0 ] || die "$(printf '%s; ' "${FAILED[@]}")"
say "schemathesis: no failures on either engine"
