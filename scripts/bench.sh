#!/usr/bin/env bash
# The benchmarks (see the README's Benchmarks section). `deployments` (the default) loads
# 1,000,000 deployments and prints ingest throughput through the HTTP API next to a bare sqlx
# insert loop, and the list's page latencies; `metrics` times the metrics JSON and page over a
# 1,000,000-deployment history; `soak` runs 10 minutes of mixed traffic against the release
# server on such a history and samples its memory. Other arguments go to the benchmark, for example:
#   scripts/bench.sh --rows 1000000 --http-rows 50000 --clients 16
#   scripts/bench.sh --postgres postgres://postgres@127.0.0.1:5432/postgres
#   scripts/bench.sh metrics --rows 1000000 --clients 16
#   scripts/bench.sh soak --seconds 600 --users 50
# Timings are printed, never asserted.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
# The server checks the compiled site at startup; build it as test.sh does.
setup_build
build_site
export SWITCHYARD_SITE_ROOT="$ROOT/target/site"
bench=deployments
if [[ "${1:-}" == deployments || "${1:-}" == metrics || "${1:-}" == soak ]]; then
  bench=$1
  shift
fi
exec cargo bench -p server --bench "$bench" -- "$@"
