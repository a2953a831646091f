#!/usr/bin/env bash
# Crashes lose nothing (issue 17), at length, against the release build: SIGKILL at random
# moments while 8 clients record deployments with Idempotency-Key and retry until answered;
# then every acknowledged deployment must exist exactly once, with one audit entry, and the
# database must pass its integrity check. Prints the seed, kills, deployments and retries.
#   scripts/crash-loop.sh [SQLITE_KILLS] [POSTGRES_KILLS]     # 100 and 30 by default
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
setup_build
build_site
export SWITCHYARD_BIN="$CARGO_TARGET_DIR/release/switchyard"
export SWITCHYARD_TEST_POSTGRES_URL="${SWITCHYARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
test_crash() { # ENGINE KILLS
  SWITCHYARD_CRASH_KILLS="$2" cargo test -p server --features app/ssr --test it -- \
    --test-threads=1 --nocapture "crash::a_server_killed_at_random_moments_loses_no_acknowledged_deployment::$1"
}
test_crash sqlite "${1:-100}"
test_crash postgres "${2:-30}"
