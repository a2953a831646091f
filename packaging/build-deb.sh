#!/usr/bin/env bash
# Assembles Switchyard's Debian package from a release build that already exists; builds
# nothing. scripts/package.sh builds first, then runs this.
#   packaging/build-deb.sh BINARY SITE_ROOT OUT_DIR [VERSION]
# VERSION defaults to the workspace's version. Prints the path of the .deb it wrote.
#
# dpkg-deb rather than cargo-deb: the package holds more than cargo builds (the compiled site
# from cargo-leptos, the maintainer scripts), and Debian's own tool needs nothing compiled.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
binary="$1" site="$2" out="$3"
version="${4:-$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)}"
arch="$(dpkg --print-architecture)"
[ -x "$binary" ] || { echo "error: no binary at $binary (build it first: scripts/package.sh)" >&2; exit 1; }
[ -f "$site/hash.txt" ] || { echo "error: no compiled site at $site (build it first: scripts/package.sh)" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
tree="$stage/switchyard_${version}_$arch"
doc="$tree/usr/share/doc/switchyard"
install -d "$tree/DEBIAN" "$tree/usr/bin" "$tree/usr/share/switchyard" "$doc/examples" \
  "$tree/etc/switchyard" "$tree/lib/systemd/system"

# The binary without its symbol tables (a third of its size); panics still name functions.
strip --strip-unneeded -o "$tree/usr/bin/switchyard" "$binary"
cp -r "$site" "$tree/usr/share/switchyard/site"
# wasm-bindgen's TypeScript declarations are for developers, not for the browser.
find "$tree/usr/share/switchyard/site" -name '*.d.ts' -delete
install -m 0644 "$here/debian/switchyard.service" "$tree/lib/systemd/system/"
install -m 0640 "$here/debian/switchyard.toml" "$tree/etc/switchyard/"
gzip -9n <"$root/README.md" >"$doc/README.md.gz"
cp -r "$root/examples/." "$doc/examples/"
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: switchyard

Files: *
Copyright: the Switchyard developers
License: MIT
COPYRIGHT

install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$tree/DEBIAN/"
install -m 0644 "$here/debian/conffiles" "$tree/DEBIAN/"

# The shared libraries the binary links, as Debian names and versions them.
mkdir -p "$stage/shlibs/debian"
printf 'Source: switchyard\n\nPackage: switchyard\nArchitecture: any\n' >"$stage/shlibs/debian/control"
depends="$(cd "$stage/shlibs" && dpkg-shlibdeps -O -e"$tree/usr/bin/switchyard" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "error: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
  -e "s/@INSTALLED_SIZE@/$(du -sk --exclude=DEBIAN "$tree" | cut -f1)/" \
  "$here/debian/control" >"$tree/DEBIAN/control"

mkdir -p "$out"
deb="$out/switchyard_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$tree" "$deb" >/dev/null
echo "$deb"
