#!/usr/bin/env bash
# The exports benchmark (see the README's Benchmarks section): 1,000,000 deployments written
# straight into a SQLite file by `sqlite3` (two services, one every 150 s over 4.75 years,
# every tenth failed), then the release server on it, timed with curl from outside:
# the CSV export of everything and of one year, the Prometheus scrape, and the metrics JSON
# of a 90-day window next to the same aggregate in `sqlite3`; the server's peak RSS at the end.
# Usage: scripts/bench-exports.sh [BINARY]   (default: the release build in the target folder)
# Timings are printed, never asserted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=${1:-$CARGO_TARGET_DIR/release/switchyard}
[[ -x $bin ]] || die "no server at $bin: run scripts/test.sh or build_site first"
command -v sqlite3 >/dev/null || apt_install sqlite3
dir=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
export SWITCHYARD_DATABASE_URL="sqlite://$dir/bench.db" SWITCHYARD_ADDR=127.0.0.1:3998 \
  SWITCHYARD_SITE_ROOT="$ROOT/target/site" SWITCHYARD_LOG_LEVEL=warn \
  SWITCHYARD_PROMETHEUS_TOKEN=bench-prometheus-token
"$bin" migrate >/dev/null
# The newest deployment starts at `end` (2025-12-06); the 90-day window ends there.
end=1765000000000
started=$(date +%s%N)
sqlite3 "$dir/bench.db" "
INSERT INTO services (name, created_at) VALUES ('parts', 0), ('web', 0);
INSERT INTO environments (service_id, name, tier, strategy, created_at)
  VALUES (1, 'production', 'production', 'rolling', 0), (2, 'production', 'production', 'rolling', 0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
INSERT INTO deployments (service_id, environment_id, version, commit_sha, commit_at, strategy,
  started_at, finished_at, status, recorded_by_kind, recorded_by, source, created_at)
SELECT 1 + i % 2, 1 + i % 2, '1.' || i || '.0', printf('%040x', i),
  $end - (1000000 - i) * 150000 - 3600000, 'rolling', $end - (1000000 - i) * 150000,
  $end - (1000000 - i) * 150000 + 300000,
  CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END, 'token', 'ci', 'api', 0 FROM n;"
echo "filled 1,000,000 deployments in $((($(date +%s%N) - started) / 1000000)) ms"
token=$("$bin" token create --name bench --role viewer 2>/dev/null | grep -o 'sy_[a-z_]*[0-9a-f]\{64\}' | head -1)
"$bin" serve &
server=$!
until curl -sf -o /dev/null http://127.0.0.1:3998/api/v1/health; do sleep 0.2; done
base=http://127.0.0.1:3998/api/v1
get() { curl -s -o "$dir/out" -w "%{time_total} s, %{size_download} B" -H "Authorization: Bearer $1" "$2"; }
echo "idle RSS $(awk '/VmRSS/ {print $2 / 1024 " MB"}' "/proc/$server/status")"
for run in 1 2; do echo "CSV, all deployments (run $run): $(get "$token" "$base/deployments.csv"), $(($(wc -l <"$dir/out") - 1)) rows"; done
year="finished_from=2024-12-06T00:00:00Z&finished_to=2025-12-06T00:00:00Z&tier=production"
echo "CSV, one year: $(get "$token" "$base/deployments.csv?$year"), $(($(wc -l <"$dir/out") - 1)) rows"
for run in 1 2 3; do echo "Prometheus scrape (run $run): $(get bench-prometheus-token "$base/prometheus")"; done
window="from=2025-09-07T00:00:00Z&to=2025-12-06T00:00:00Z"
for run in $(seq 20); do curl -s -o /dev/null -w "%{time_total}\n" -H "Authorization: Bearer $token" "$base/metrics?$window"; done |
  sort -n | awk '{t[NR] = $1} END {print "metrics JSON, 90-day window: p50 " t[10] " s, p95 " t[19] " s"}'
facts=$(sed -n '/pub const DEPLOYMENTS/,/";/p' "$ROOT/app/src/backend/metrics/store.rs" |
  sed -e '1s/.*= "//' -e 's/\\$//' -e 's/";$//' | tr -s ' \n' ' ')
aggregate="SELECT COUNT(*), SUM(status = 'succeeded'), SUM(fixes_incident), MIN(cause_started), MIN(cause_resolved), SUM(next_success IS NOT NULL), SUM(commit_at IS NOT NULL), SUM(finished_at - started_at) FROM ($facts 1757203200000 AND d.finished_at < 1764979200000 AND d.environment_id IN (1, 2)) AS facts"
for run in 1 2 3 4 5; do printf '.timer on\n%s;\n' "$aggregate" | sqlite3 "$dir/bench.db" | awk '/real/ {print $4}'; done |
  sort -n | awk '{t[NR] = $1} END {print "the same aggregate in sqlite3: median " t[3] " s"}'
echo "peak RSS $(awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$server/status")"
