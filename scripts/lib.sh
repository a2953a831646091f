# Shared by scripts/run.sh and scripts/test.sh: puts every tool Switchyard builds with in
# place, installing only what is missing, so both commands work on a fresh Debian machine and
# cost seconds on a prepared one. Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.11"
# cargo-leptos 0.3.11 needs this rustc to compile (its own dependencies' MSRV).
CARGO_LEPTOS_MIN_RUSTC="1.96"
DEBIAN_RUST_PACKAGES="rustc-web cargo-web rust-web-src lld-22 rust-web-clippy rustfmt-web"

# One target directory for every clone and for CI: dependencies compile once per machine.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchyard/target}"
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Extra arguments for `cargo leptos build`; the Debian toolchain adds -Zbuild-std.
LEPTOS_BUILD_ARGS=()

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

APT_UPDATED=""
# Installs the Debian packages given that are not installed yet.
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -q >/dev/null; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

version_at_least() { # version_at_least HAVE NEED
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

rustc_version() { rustc --version | awk '{print $2}'; }

use_debian_toolchain() {
  apt_install $DEBIAN_RUST_PACKAGES
  rustup toolchain list | grep -q '^debian' || rustup toolchain link debian /usr
  export RUSTUP_TOOLCHAIN=debian
}

# Prefers rustup's toolchain with the wasm32 target; where rustup cannot add the target
# (no access to its servers), falls back to Debian's rustc-web, which builds the WASM
# standard library from source. SWITCHYARD_TOOLCHAIN=rustup|debian forces a choice.
choose_toolchain() {
  command -v rustup >/dev/null || die "rustup is required: see https://rustup.rs"
  local choice="${SWITCHYARD_TOOLCHAIN:-auto}" why="SWITCHYARD_TOOLCHAIN=${SWITCHYARD_TOOLCHAIN:-}"
  if [ "$choice" = auto ]; then
    why="rustup cannot add wasm32-unknown-unknown here"
    if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
      || timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
      choice=rustup
    else
      choice=debian
    fi
  fi
  case "$choice" in
    rustup)
      say "toolchain: rustup's $(rustc --version) with wasm32-unknown-unknown"
      ;;
    debian)
      use_debian_toolchain
      export RUSTC_BOOTSTRAP=1
      LEPTOS_BUILD_ARGS=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
      say "toolchain: Debian's $(rustc --version) ($why); WASM std built from source"
      ;;
    *) die "SWITCHYARD_TOOLCHAIN must be rustup or debian, not $choice" ;;
  esac
}

# cargo install, outside the shared target directory, with the given toolchain.
cargo_install() {
  local toolchain="$1"; shift
  env -u CARGO_TARGET_DIR RUSTUP_TOOLCHAIN="$toolchain" cargo install "$@"
}

ensure_wasm_bindgen() {
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' "$ROOT/Cargo.lock")"
  [ -n "$want" ] || die "cannot find wasm-bindgen in Cargo.lock"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    say "installing wasm-bindgen-cli $want (it must match the wasm-bindgen crate exactly)"
    cargo_install "${RUSTUP_TOOLCHAIN:-}" wasm-bindgen-cli --version "$want"
  fi
}

ensure_cargo_leptos() {
  if [ "$(cargo-leptos --version 2>/dev/null | awk '{print $2}')" = "$CARGO_LEPTOS_VERSION" ]; then
    return 0
  fi
  local toolchain="${RUSTUP_TOOLCHAIN:-}"
  if ! version_at_least "$(rustc_version)" "$CARGO_LEPTOS_MIN_RUSTC"; then
    say "cargo-leptos needs rustc >= $CARGO_LEPTOS_MIN_RUSTC; compiling it with Debian's rustc-web"
    apt_install $DEBIAN_RUST_PACKAGES
    rustup toolchain list | grep -q '^debian' || rustup toolchain link debian /usr
    toolchain=debian
  fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once; about 23 minutes on 2 cores)"
  # Its release profile asks for fat LTO, one codegen unit and opt-level 3: 40+ minutes here.
  # It only orchestrates cargo, wasm-bindgen and wasm-opt, so a cheap build loses nothing.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo_install "$toolchain" cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
}

CARGO_DENY_VERSION="0.20.2"

# cargo-deny checks licences, duplicate versions and sources (deny.toml).
ensure_cargo_deny() {
  if [ "$(cargo-deny --version 2>/dev/null | awk '{print $2}')" != "$CARGO_DENY_VERSION" ]; then
    say "installing cargo-deny $CARGO_DENY_VERSION (once; about 3 minutes on 2 cores)"
    cargo_install "${RUSTUP_TOOLCHAIN:-}" cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
}

# npm's binaryen: Debian's wasm-opt 108 produces WASM that fails to hydrate.
ensure_node_packages() {
  command -v npm >/dev/null || apt_install nodejs npm
  local stamp="$ROOT/end2end/node_modules/.installed"
  if [ ! -f "$stamp" ] || [ "$ROOT/end2end/package-lock.json" -nt "$stamp" ]; then
    say "installing end-to-end test packages (npm ci)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error) && touch "$stamp"
  fi
  case "$(command -v wasm-opt)" in
    "$ROOT/end2end/node_modules/.bin/wasm-opt") ;;
    *) die "wasm-opt should come from end2end/node_modules (npm binaryen), not $(command -v wasm-opt)" ;;
  esac
}

# Crates Switchyard builds with a fix of its own (patches/README.md): each is downloaded from
# crates.io, checked against the checksum its release had, and patched into patches/<crate>/,
# where Cargo.toml's [patch.crates-io] finds it. Redone only when the patch file changes.
PATCHED_CRATES=("reactive_graph 0.2.16 3bcec36a2d1b9a53a4129b3270b19e3df6f6b88c2e7c97ed9404dc9307f137d7")

ensure_patched_crates() {
  local entry crate version checksum dir stamp want
  for entry in "${PATCHED_CRATES[@]}"; do
    read -r crate version checksum <<<"$entry"
    dir="$ROOT/patches/$crate"
    stamp="$dir/.switchyard-patch"
    want="$(sha256sum "$ROOT/patches/$crate-$version.patch" | cut -d' ' -f1)"
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && continue
    say "patching $crate $version (patches/$crate-$version.patch)"
    command -v patch >/dev/null || apt_install patch
    local archive
    archive="$(mktemp)"
    curl -sSfL --retry 3 -o "$archive" \
      "https://static.crates.io/crates/$crate/$crate-$version.crate" \
      || die "cannot download $crate $version from crates.io"
    [ "$(sha256sum "$archive" | cut -d' ' -f1)" = "$checksum" ] \
      || die "$crate-$version.crate does not match its crates.io checksum"
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xzf "$archive" -C "$dir" --strip-components=1 && rm -f "$archive"
    patch -s -p1 -d "$dir" <"$ROOT/patches/$crate-$version.patch"
    echo "$want" >"$stamp"
  done
}

# Everything needed to build the site.
setup_build() {
  apt_install build-essential pkg-config curl
  ensure_patched_crates
  choose_toolchain
  ensure_node_packages
  ensure_wasm_bindgen
  ensure_cargo_leptos
}

# The release build: the WASM split into a chunk per lazy page (--split) with content-hashed
# names, each file also written brotli- and gzip-compressed (--precompress); hash.txt, which
# names the files, goes into the site root, where the server reads it.
build_site() {
  say "building the server and the WASM front end (release)"
  (cd "$ROOT" && cargo leptos build --release --split --precompress "${LEPTOS_BUILD_ARGS[@]}")
  cp "$CARGO_TARGET_DIR/release/hash.txt" "$ROOT/target/site/hash.txt"
}

CARGO_FUZZ_VERSION="0.13.2"

# cargo fuzz drives libFuzzer over the targets in fuzz/. Its instrumentation flags are
# unstable; RUSTC_BOOTSTRAP lets the stable compiler take them, as no nightly can be had here.
ensure_cargo_fuzz() {
  if [ "$(cargo-fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION (once; about 2 minutes on 2 cores)"
    cargo_install "${RUSTUP_TOOLCHAIN:-}" cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
  export RUSTC_BOOTSTRAP=1
}

SCHEMATHESIS_VERSION="4.32.5"

# Schemathesis (PyPI) in a virtual environment of its own, for scripts/schemathesis.sh.
ensure_schemathesis() {
  local venv="$HOME/.cache/switchyard/schemathesis"
  if [ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{print $3}')" != "$SCHEMATHESIS_VERSION" ]; then
    say "installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
    command -v python3 >/dev/null || apt_install python3 python3-venv
    python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  export PATH="$venv/bin:$PATH"
}
