#!/usr/bin/env bash
# Runs every check Switchyard has, installing whatever is missing first: formatting, lints on
# both feature sets, unit and integration tests on SQLite and PostgreSQL, the release build,
# the REST API against its OpenAPI document (Schemathesis), the fuzz targets, the Debian
# package's install test, and the end-to-end tests in Chromium (hydrated and with JavaScript
# off). CI runs exactly this.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

setup_build
apt_install chromium nginx openssl

# PostgreSQL: the storage and HTTP tests run on it for real, so its absence is a failure.
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  die "PostgreSQL is not installed; the tests need it (apt-get install postgresql), see README: Testing"
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL does not answer on 127.0.0.1:5432"
export SWITCHYARD_TEST_POSTGRES_URL="${SWITCHYARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# Databases left by an interrupted earlier run.
psql -q "$SWITCHYARD_TEST_POSTGRES_URL" -At -c \
  "SELECT 'DROP DATABASE \"' || datname || '\" WITH (FORCE);' FROM pg_database WHERE datname LIKE 'switchyard_test_%'" \
  | psql -q "$SWITCHYARD_TEST_POSTGRES_URL" >/dev/null

say "cargo fmt --check"
# rustfmt from rustup's default toolchain: formatting does not depend on the compiler.
env -u RUSTUP_TOOLCHAIN cargo fmt -p app -p frontend -p server --check

say "cargo deny: licences, duplicate versions, sources (advisories need GitHub; see deny.toml)"
ensure_cargo_deny
cargo deny --log-level error check licenses bans sources

say "unit and integration tests (SQLite and PostgreSQL)"
cargo test -p app -p server --features app/ssr

say "clippy, server side (ssr)"
cargo clippy -p app -p server --features app/ssr --all-targets -- -D warnings
say "clippy, browser side (hydrate)"
cargo clippy -p app -p frontend --features app/hydrate --all-targets -- -D warnings

build_site

say "the REST API against its OpenAPI document (Schemathesis, both engines)"
SCHEMATHESIS_EXCLUDE=positive_data_acceptance,negative_data_rejection \
  "$ROOT/scripts/schemathesis.sh" 100

say "fuzzing the parsers and the Markdown sanitizer (cargo fuzz, 30 s per target)"
"$ROOT/scripts/fuzz.sh" 30

say "the Debian package: install, upgrade, remove, purge (as root)"
as_root "$ROOT/packaging/test-deb.sh" "$CARGO_TARGET_DIR/release/switchyard" "$ROOT/target/site"

# The shutdown deadlock (issue 19) showed only in the optimized build: stop it under load too.
say "stopping the release build under load"
SWITCHYARD_BIN="$CARGO_TARGET_DIR/release/switchyard" \
  cargo test -p server --features app/ssr --test it -- --test-threads=1 shutdown::

say "end-to-end tests in Chromium"
(cd end2end && SWITCHYARD_BIN="$CARGO_TARGET_DIR/release/switchyard" SWITCHYARD_SITE_ROOT="$ROOT/target/site" npm test)
