#!/usr/bin/env bash
# Switchyard `command` driver for a blue-green service behind nginx (see README.md here).
#
# Switchyard runs it with a cleared environment: PATH, HOME, LANG, the operator's variables from
# the driver's `env`, and SWITCHYARD_* describing the step. Exit 0 means the step is done; every
# line printed lands in the operation's log.
#
# Operator variables:
#   NGINX_CONF      nginx's main config file (required)
#   UPSTREAM_FILE   the file included in `upstream app { ... }`: one `server host:port;` line,
#                   the live slot's address (required; this script rewrites it)
#   NGINX_PREFIX    nginx's -p prefix (optional; relative paths in the config resolve against it)
#   NGINX_BIN       nginx binary (default: nginx on PATH)
#   NGINX_PID_FILE  the master's pid file (default: the `pid` directive in NGINX_CONF)
#
# Linux only: it watches nginx's worker processes in /proc to know when a reload took effect.
set -euo pipefail

# Reloads normally take effect in ~0.1 s (nginx gives new workers 100 ms before retiring the old).
readonly RELOAD_TIMEOUT_MS=10000

say() { printf '%s\n' "$*"; }
fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  printf '%s\n' "$((t / 1000))"
}

: "${SWITCHYARD_ACTION:?SWITCHYARD_ACTION is not set: run this from Switchyard}"
: "${SWITCHYARD_TARGET_SLOT:=}"
env_name="${SWITCHYARD_SERVICE:-?}/${SWITCHYARD_ENVIRONMENT:-?}"
op="operation ${SWITCHYARD_OPERATION_ID:-?} (${SWITCHYARD_OPERATION:-?})"

nginx_cmd() {
  local -a cmd=("${NGINX_BIN:-nginx}")
  if [[ -n "${NGINX_PREFIX:-}" ]]; then cmd+=(-p "$NGINX_PREFIX"); fi
  cmd+=(-c "$NGINX_CONF" "$@")
  "${cmd[@]}"
}

# "http://127.0.0.1:8001/any/path" -> "127.0.0.1:8001" (the scheme's port when none is given).
# Anything but a plain host or [IPv6] and port is refused: it could smuggle directives into nginx.
host_port() {
  local url=$1 rest port
  case "$url" in
    http://*) rest=${url#http://} port=80 ;;
    https://*) rest=${url#https://} port=443 ;;
    *) fail "SWITCHYARD_TARGET_UPSTREAM must start with http:// or https://, got '$url'" ;;
  esac
  rest=${rest%%/*}
  local host='([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])' port_re='(:[0-9]{1,5})?'
  [[ "$rest" =~ ^${host}${port_re}$ ]] || fail "bad upstream address in '$url'"
  printf '%s%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]:-:$port}"
}

pid_file() {
  local file=${NGINX_PID_FILE:-}
  if [[ -z "$file" ]]; then
    # The first top-level `pid path;` line of the main config.
    file=$(sed -n 's/^[[:space:]]*pid[[:space:]]\{1,\}\([^;[:space:]]\{1,\}\)[[:space:]]*;.*/\1/p' "$NGINX_CONF" | head -n 1)
    [[ -n "$file" ]] || fail "no 'pid' directive in $NGINX_CONF: set NGINX_PID_FILE"
  fi
  if [[ "$file" != /* ]]; then file="${NGINX_PREFIX:-.}/$file"; fi
  printf '%s\n' "$file"
}

children() {
  cat "/proc/$1/task/$1/children" 2>/dev/null || pgrep -P "$1" || true
}

# True while worker $1 of the old generation may still accept connections: nginx renames a
# worker "worker process is shutting down" just before it closes its listening sockets.
accepting() {
  local title
  title=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ "$title" == *"worker process"* && "$title" != *"shutting down"* ]]
}

deploy() {
  # A real driver would install SWITCHYARD_VERSION on the idle slot here (restart its systemd
  # unit, roll its containers, ...) and return once the slot serves it; Switchyard then checks
  # the slot's health URL. This example cannot install software.
  say "deploy: $env_name slot $SWITCHYARD_TARGET_SLOT is expected to run ${SWITCHYARD_VERSION:-?} already ($op)"
  say "deploy: this example driver installs nothing; nginx is untouched"
}

switch() {
  : "${NGINX_CONF:?NGINX_CONF is not set in the driver env}"
  : "${UPSTREAM_FILE:?UPSTREAM_FILE is not set in the driver env}"
  : "${SWITCHYARD_TARGET_UPSTREAM:?SWITCHYARD_TARGET_UPSTREAM is not set}"
  local address started master pid_path
  started=$(now_ms)
  address=$(host_port "$SWITCHYARD_TARGET_UPSTREAM")
  pid_path=$(pid_file)
  [[ -r "$pid_path" ]] || fail "cannot read nginx's pid file $pid_path: is nginx running?"
  master=$(<"$pid_path")
  kill -0 "$master" 2>/dev/null || fail "nginx master $master (from $pid_path) is not running"
  say "switch: $env_name to $SWITCHYARD_TARGET_SLOT at $address ($op)"

  # Write the new file beside the old and rename it over: nginx never reads half a file. Keep
  # the old one to put back if nginx refuses the config, so a later reload cannot pick it up.
  # Globals, not locals: the EXIT trap runs after this function has returned.
  local dir
  dir=$(dirname "$UPSTREAM_FILE")
  tmp=$(mktemp "$dir/.upstream.new.XXXXXX")
  backup=$(mktemp "$dir/.upstream.old.XXXXXX")
  trap 'rm -f "$tmp" "$backup"' EXIT
  printf '# %s slot %s, written by switch.sh for Switchyard operation %s\nserver %s;\n' \
    "$env_name" "$SWITCHYARD_TARGET_SLOT" "${SWITCHYARD_OPERATION_ID:-?}" "$address" >"$tmp"
  chmod 0644 "$tmp"
  cp -p "$UPSTREAM_FILE" "$backup"
  mv -f "$tmp" "$UPSTREAM_FILE"
  if ! nginx_cmd -t 2>&1; then
    mv -f "$backup" "$UPSTREAM_FILE"
    fail "nginx rejected the new config; $UPSTREAM_FILE restored, traffic unchanged"
  fi

  local old new_seen old_accepting pid deadline waited
  old=" $(children "$master" | tr '\n' ' ') "
  nginx_cmd -s reload 2>&1 || fail "nginx -s reload failed; $UPSTREAM_FILE now points at $SWITCHYARD_TARGET_SLOT"

  # Done when a new worker generation runs and no old worker still accepts connections; old
  # workers may linger to finish requests already in flight, which is fine.
  deadline=$(($(now_ms) + RELOAD_TIMEOUT_MS))
  while :; do
    new_seen=0 old_accepting=0
    for pid in $(children "$master"); do
      if [[ "$old" != *" $pid "* ]]; then
        new_seen=1
      elif accepting "$pid"; then
        old_accepting=1
      fi
    done
    if ((new_seen && !old_accepting)); then break; fi
    if (($(now_ms) > deadline)); then
      fail "nginx did not reload within $((RELOAD_TIMEOUT_MS / 1000)) s (see its error log); $UPSTREAM_FILE now points at $SWITCHYARD_TARGET_SLOT"
    fi
    sleep 0.01
  done
  waited=$(($(now_ms) - started))
  say "switch: nginx (master $master) reloaded; traffic goes to $SWITCHYARD_TARGET_SLOT ($waited ms)"
}

case "$SWITCHYARD_ACTION" in
  deploy) deploy ;;
  switch) switch ;;
  *)
    printf 'error: unknown action %s (this driver knows deploy and switch)\n' "'$SWITCHYARD_ACTION'" >&2
    exit 2
    ;;
esac
