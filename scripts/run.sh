#!/usr/bin/env bash
# Quick start: installs whatever is missing, builds, and serves Switchyard at
# http://127.0.0.1:3000 with a SQLite database under ./data/. Arguments go to
# `switchyard serve` (for example --config switchyard.toml).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_build
build_site
cd "$ROOT"
exec "$CARGO_TARGET_DIR/release/switchyard" serve "$@"
