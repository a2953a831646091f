#!/usr/bin/env bash
# Installs, upgrades, removes and purges the Debian package on this machine, as root, and
# checks each step: files, ownership, the system user, the unit (systemd-analyze verify), the
# packaged configuration served by the switchyard user as the unit runs it, data and edited
# configuration kept across an upgrade, remove and purge, and data deleted only when asked.
#   packaging/test-deb.sh BINARY SITE_ROOT
# Prints how long dpkg -i took to a served Overview, and the package's size.
# Where systemd is not PID 1 (containers, CI), the test starts the server itself exactly as
# the unit says (User=, Environment=, WorkingDirectory=, ExecStart=).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="$1" site="$2"
[ "$(id -u)" -eq 0 ] || { echo "error: the package test installs a package: run it as root" >&2; exit 1; }
work="$(mktemp -d)"
server_pid=""
unit=/lib/systemd/system/switchyard.service
config=/etc/switchyard/switchyard.toml
password="package-test-password-1"

say() { printf '==> package: %s\n' "$*" >&2; }
fail() { printf 'error: package test: %s\n' "$*" >&2; [ -f "$work/server.log" ] && tail -n 20 "$work/server.log" >&2; exit 1; }
stop_server() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
purge_all() { SWITCHYARD_PURGE_DATA=yes dpkg --purge switchyard >/dev/null 2>&1 || true; }
cleanup() { stop_server; purge_all; rm -rf "$work"; }
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

# The value of `Key=` in the installed unit.
unit_value() { sed -n "s/^$1=//p" "$unit" | head -n1; }

# Starts the installed server as the unit would; only the port differs from the packaged file.
start_server() {
  local user envs dir exec_start
  user="$(unit_value User)" dir="$(unit_value WorkingDirectory)" exec_start="$(unit_value ExecStart)"
  mapfile -t envs < <(sed -n 's/^Environment=//p' "$unit")
  (cd "$dir" && exec runuser -u "$user" -- env -i PATH=/usr/bin:/bin "${envs[@]}" \
    SWITCHYARD_ADDR="127.0.0.1:$port" $exec_start) >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$base/api/v1/health" && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited"
    sleep 0.1
  done
  fail "the server did not answer within 30 s"
}

# Runs the installed switchyard as its user with the packaged configuration.
as_switchyard() { runuser -u switchyard -- env SWITCHYARD_CONFIG="$config" /usr/bin/switchyard "$@"; }

# Signs in through the API and fetches the Overview: 0 when it is served to the admin.
overview_served() {
  rm -f "$work/cookies"
  curl -sf -o /dev/null -c "$work/cookies" -H "origin: $base" -H 'content-type: application/json' \
    -d "{\"username\":\"ops\",\"password\":\"$password\"}" "$base/api/v1/session" || return 1
  curl -sf -b "$work/cookies" "$base/" | grep -q '<h1[^>]*>Overview</h1>'
}

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/../Cargo.toml" | head -n1)"
first="$("$here/build-deb.sh" "$binary" "$site" "$work/debs" "$version")"
second="$("$here/build-deb.sh" "$binary" "$site" "$work/debs" "$version+upgrade1")"
say "built $(basename "$first"): $(stat -c %s "$first") bytes"
purge_all

say "install"
started=$(date +%s.%N)
dpkg -i "$first" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i failed"; }
grep -q "Create the first admin" "$work/dpkg.log" || fail "postinst did not say how to create the first admin"
[ -x /usr/bin/switchyard ] || fail "no /usr/bin/switchyard"
[ -f /usr/share/switchyard/site/hash.txt ] || fail "no compiled site in /usr/share/switchyard/site"
ls /usr/share/switchyard/site/pkg/*.wasm.br >/dev/null || fail "no precompressed WASM in the site"
[ -f /usr/share/doc/switchyard/examples/nginx/switchyard-tls.conf ] || fail "no nginx TLS example in the docs"
getent passwd switchyard | grep -q ':/var/lib/switchyard:/usr/sbin/nologin$' || fail "no switchyard system user"
[ "$(id -u switchyard)" -lt 1000 ] || fail "switchyard is not a system user"
[ "$(stat -c '%U:%G %a' /var/lib/switchyard)" = "switchyard:switchyard 750" ] || fail "/var/lib/switchyard: $(stat -c '%U:%G %a' /var/lib/switchyard)"
[ "$(stat -c '%U:%G %a' "$config")" = "root:switchyard 640" ] || fail "$config: $(stat -c '%U:%G %a' "$config")"
[ -L /etc/systemd/system/multi-user.target.wants/switchyard.service ] || fail "the unit is not enabled"
for setting in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes ReadWritePaths=/var/lib/switchyard Restart=on-failure; do
  grep -qx "$setting" "$unit" || fail "the unit lacks $setting"
done
systemd-analyze verify "$unit" 2>"$work/verify.log" || { cat "$work/verify.log" >&2; fail "systemd-analyze verify"; }
! grep -q 'switchyard.service' "$work/verify.log" || { cat "$work/verify.log" >&2; fail "systemd-analyze warns about the unit"; }

start_server
as_switchyard user create --username ops --role admin <<<"$password" >/dev/null || fail "user create as switchyard"
overview_served || fail "the Overview is not served after install"
served=$(date +%s.%N)
[ "$(stat -c %U /var/lib/switchyard/switchyard.db)" = switchyard ] || fail "the database is not the switchyard user's"
as_switchyard backup >/dev/null || fail "switchyard backup as the switchyard user"
ls /var/lib/switchyard/backups/switchyard-*.sqlite.gz >/dev/null || fail "no backup in the configured backup dir"
say "dpkg -i to a served Overview (first admin created by the CLI): $(awk "BEGIN { printf \"%.1f\", $served - $started }") s"

say "upgrade in place"
echo '# kept across upgrades' >>"$config"
stop_server
dpkg -i "$second" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "upgrade failed"; }
[ "$(dpkg-query -W -f='${Version}' switchyard)" = "$version+upgrade1" ] || fail "not upgraded"
grep -q '^# kept across upgrades$' "$config" || fail "the upgrade lost the edited configuration"
start_server
overview_served || fail "the upgraded server lost the data (or does not serve)"
stop_server

say "remove"
dpkg --remove switchyard >/dev/null
[ ! -e /usr/bin/switchyard ] && [ ! -e "$unit" ] || fail "remove left the binary or the unit"
[ -f "$config" ] && [ -f /var/lib/switchyard/switchyard.db ] || fail "remove deleted configuration or data"

say "purge keeps the data unless asked"
dpkg --purge switchyard >"$work/dpkg.log" 2>&1
[ ! -e /etc/switchyard ] || fail "purge left /etc/switchyard"
[ -f /var/lib/switchyard/switchyard.db ] || fail "purge deleted the data without being asked"
grep -q 'stay in /var/lib/switchyard' "$work/dpkg.log" || fail "purge did not say where the data stays"
getent passwd switchyard >/dev/null || fail "purge removed the user who owns the kept data"

say "reinstall on the kept data, then purge it"
dpkg -i "$second" >/dev/null 2>&1 || fail "reinstall failed"
start_server
overview_served || fail "the reinstalled package does not serve the kept data"
stop_server
SWITCHYARD_PURGE_DATA=yes dpkg --purge switchyard >/dev/null
[ ! -e /var/lib/switchyard ] || fail "SWITCHYARD_PURGE_DATA=yes left /var/lib/switchyard"
! getent passwd switchyard >/dev/null || fail "SWITCHYARD_PURGE_DATA=yes left the switchyard user"
say "install, upgrade, remove and purge: all as expected"
