#!/usr/bin/env bash
# Builds the release and Switchyard's Debian package: target/debian/switchyard_VERSION_ARCH.deb.
# Install it with `dpkg -i` (README: Install on a server).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_build
build_site
"$ROOT/packaging/build-deb.sh" "$CARGO_TARGET_DIR/release/switchyard" "$ROOT/target/site" "$ROOT/target/debian" "$@"
