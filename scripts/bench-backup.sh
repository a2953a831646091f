#!/usr/bin/env bash
# Backup and restore of a 1,000,000-deployment database (README: Benchmarks, Backups): fills a
# fresh database through SQL, then times `switchyard backup`, `restore --verify-only` and
# `restore` into an empty database, then `export` and `import` into an empty database of the
# other engine, with the release binary. Timings are printed, never asserted.
#   scripts/bench-backup.sh                      # SQLite (imports into PostgreSQL)
#   scripts/bench-backup.sh --postgres postgres://postgres@127.0.0.1:5432/postgres
#   ROWS=100000 scripts/bench-backup.sh          # fewer rows
# PostgreSQL: the server at --postgres, or SWITCHYARD_TEST_POSTGRES_URL, or the local one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
rows=${ROWS:-1000000}
postgres=""
server=${SWITCHYARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
if [[ "${1:-}" == --postgres ]]; then
  postgres=${2:?"--postgres needs the URL of a server where databases may be created"}
  server=$postgres
fi
setup_build
build_site
apt_install sqlite3 postgresql-client
bin="$CARGO_TARGET_DIR/release/switchyard"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Rows spread over a year, as the metrics benchmark's history is.
fill_sql() {
  local series=$1 # SQL yielding n = 1..rows
  cat <<SQL
INSERT INTO services (name, created_at) VALUES ('parts', 0);
INSERT INTO environments (service_id, name, tier, strategy, created_at) VALUES (1, 'production', 'production', 'rolling', 0);
INSERT INTO deployments (service_id, environment_id, version, strategy, started_at, finished_at, status,
  recorded_by_kind, recorded_by, source, notes, created_at)
SELECT 1, 1, 'v' || n, 'rolling', 1733000000000 + CAST(n AS BIGINT) * 31536, 1733000000000 + CAST(n AS BIGINT) * 31536 + 60000,
  CASE WHEN n % 10 = 0 THEN 'failed' ELSE 'succeeded' END, 'token', 'bench', 'api',
  'deployed by the pipeline, build ' || n, 1733000000000 + CAST(n AS BIGINT) * 31536
FROM $series;
SQL
}

base=${server%/*}
suffix=$$
drop_databases() {
  for name in backup restore import; do
    psql -q "$server" -c "DROP DATABASE IF EXISTS switchyard_bench_${name}_$suffix WITH (FORCE)"
  done
}
trap 'drop_databases; rm -rf "$work"' EXIT
if [[ -z "$postgres" ]]; then
  source_url="sqlite://$work/source.db"
  target_url="sqlite://$work/restored.db"
  other_url="$base/switchyard_bench_import_$suffix"
  SWITCHYARD_DATABASE_URL=$source_url "$bin" migrate
  { echo "BEGIN;"; fill_sql "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $rows) SELECT n FROM s)"; echo "COMMIT;"; } \
    | sqlite3 "$work/source.db"
else
  source_url="$base/switchyard_bench_backup_$suffix"
  target_url="$base/switchyard_bench_restore_$suffix"
  other_url="sqlite://$work/imported.db"
  SWITCHYARD_DATABASE_URL=$source_url "$bin" migrate
  fill_sql "generate_series(1, $rows) AS n" | psql -q -v ON_ERROR_STOP=1 "$source_url"
fi

timed() {
  local label=$1
  shift
  local start=$EPOCHREALTIME
  "$@"
  awk -v label="$label" -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%-28s %6.1f s\n", label, e - s }'
}
timed "backup" env SWITCHYARD_DATABASE_URL="$source_url" "$bin" backup --to "$work/backups"
file=$(ls "$work"/backups/switchyard-*.json)
ls -l "$work"/backups
timed "restore --verify-only" env SWITCHYARD_DATABASE_URL="$target_url" "$bin" restore "$file" --verify-only
timed "restore" env SWITCHYARD_DATABASE_URL="$target_url" "$bin" restore "$file" | tail -2
timed "export" env SWITCHYARD_DATABASE_URL="$source_url" "$bin" export "$work/history.jsonl.gz"
ls -l "$work/history.jsonl.gz"
timed "import (other engine)" env SWITCHYARD_DATABASE_URL="$other_url" "$bin" import "$work/history.jsonl.gz" | tail -1
