#!/usr/bin/env bash
# Stopping under load, many times, against the release build (issue 19). Each round starts
# `switchyard serve`, loads the Overview and the Deployments page from 16 clients (every
# fourth answer abandoned mid-way), sends SIGTERM and requires a prompt, orderly exit; then a
# soak of the same load checks that the thread count stays flat and every request not
# abandoned is answered.
#   scripts/shutdown-loop.sh [ROUNDS] [SOAK_SECONDS]     # 25 rounds and 300 s by default
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
setup_build
build_site
export SWITCHYARD_BIN="$CARGO_TARGET_DIR/release/switchyard"
export SWITCHYARD_SHUTDOWN_ROUNDS="${1:-25}" SWITCHYARD_SOAK_SECS="${2:-300}"
export SWITCHYARD_TEST_POSTGRES_URL="${SWITCHYARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
exec cargo test -p server --features app/ssr --test it -- --test-threads=1 --nocapture shutdown::
