#!/usr/bin/env bash
# Server-rendering throughput (issue 10): wrk (2 threads, 16 connections, the same signed-in
# session cookie on every route) against the release build on a fresh SQLite database (or
# PostgreSQL) holding 100 deployments. Prints requests/s and p50/p99 latency per route, and
# each page's throughput as a share of /api/v1/health's, measured in the same run.
#   scripts/bench-pages.sh [--postgres URL] [--seconds N]
# Timings are printed, never asserted.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

database="" seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) database="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) die "unknown argument $1 (see the comment at the top of this script)" ;;
  esac
done

setup_build
apt_install wrk curl
build_site

work="$(mktemp -d)"
if [ -n "$database" ]; then
  name="switchyard_bench_$$"
  psql -q "$database" -c "CREATE DATABASE $name" >/dev/null
  url="${database%/*}/$name"
else
  url="sqlite://$work/switchyard.db"
fi
bin="$CARGO_TARGET_DIR/release/switchyard"
export SWITCHYARD_DATABASE_URL="$url" SWITCHYARD_SITE_ROOT="$ROOT/target/site" \
  SWITCHYARD_LOG_LEVEL=warn SWITCHYARD_ADDR=127.0.0.1:3917
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "$database" ] && psql -q "$database" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench-pages-password" | "$bin" user create --username bench --role admin >/dev/null
token="$("$bin" token create --name bench --role admin)"
"$bin" serve 2>"$work/server.log" &
server=$!
base="http://$SWITCHYARD_ADDR"
for _ in $(seq 1 100); do curl -fs "$base/api/v1/health" >/dev/null && break; sleep 0.1; done

api() { curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
api -X POST "$base/api/v1/services" -d '{"name": "parts", "description": "The parts API"}'
api -X POST "$base/api/v1/services/parts/environments" \
  -d '{"name": "staging", "tier": "staging", "strategy": "rolling"}'
api -X POST "$base/api/v1/services/parts/environments" -d '{"name": "production", "tier": "production",
  "strategy": "blue_green", "slots": {"blue": {"upstream": "http://127.0.0.1:9", "health_url": "http://127.0.0.1:9/h"},
  "green": {"upstream": "http://127.0.0.1:9", "health_url": "http://127.0.0.1:9/h"}}}'
for n in $(seq 1 100); do
  env=$([ $((n % 2)) -eq 0 ] && echo staging || echo production)
  api -X POST "$base/api/v1/deployments" \
    -d "{\"service\": \"parts\", \"environment\": \"$env\", \"version\": \"1.0.$n\", \"status\": \"succeeded\"}"
done
cookie="$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username": "bench", "password": "bench-pages-password"}' "$base/api/v1/session" \
  | awk -F': ' 'tolower($1) == "set-cookie" {split($2, c, ";"); print c[1]}')"
[ -n "$cookie" ] || die "could not log in"

echo "engine: $([ -n "$database" ] && echo PostgreSQL || echo SQLite); wrk -t2 -c16 -d${seconds}s, signed in; $(nproc) cores"
printf '%-28s %10s %9s %9s %8s\n' route "req/s" p50 p99 "of health"
health_rate=""
for route in /api/v1/health / /deployments /api/v1/deployments /services/parts/environments/production; do
  out="$(wrk -t2 -c16 -d"${seconds}s" --latency -H "Cookie: $cookie" "$base$route")"
  rate="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  [ -z "$health_rate" ] && health_rate="$rate"
  share="$(awk -v r="$rate" -v h="$health_rate" 'BEGIN {printf "%.1f%%", 100 * r / h}')"
  printf '%-28s %10s %9s %9s %8s%s\n' "$route" "$rate" "$p50" "$p99" "$share" "${errors:+ ($errors non-2xx)}"
done
