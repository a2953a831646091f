#!/usr/bin/env bash
# Quick start: installs whatever is missing, builds, and serves Switchyard at
# http://127.0.0.1:3000 with a SQLite database under ./data/. `--demo` first fills an empty
# database with a year of demo history (`switchyard demo`; a database with data is left as it
# is). Other arguments go to `switchyard serve` (for example --config switchyard.toml).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_build
build_site
cd "$ROOT"
if [[ "${1:-}" == --demo ]]; then
  shift
  "$CARGO_TARGET_DIR/release/switchyard" demo || say "demo data not written (see above); serving what is there"
fi
exec "$CARGO_TARGET_DIR/release/switchyard" serve "$@"
