#!/usr/bin/env bash
# interop/run_endpoint.sh against the runner's contract, in interop/run's topology with the
# stand-in /setup.sh and /wait-for-it.sh:
#   - a made-up TESTCASE: exit 127, as server and as client (the runner's compliance check);
#   - every TESTCASE the runner gives a server: the server answers the simulator's Version
#     Negotiation probe, on IPv4 and on IPv6 (so it runs, and did not answer 127) - unless
#     the case needs a transport option `quiver server --help` does not list yet (v2:
#     --versions, connectionmigration: --preferred-address), which must answer 127;
#   - every TESTCASE the runner gives a client: not 127 (the client runs against nobody and
#     gives up after 1 s, via CLIENT_PARAMS) - unless it needs an option `quiver client
#     --help` does not list (multiconnect: --handshake-timeout, v2: --versions): then 127.
# Needs root.   tests/interop/run_endpoint_compliance.sh BUILD_DIR
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
INTEROP_DIR="$root/interop" QUIVER_DIR=$(cd "$1" && pwd) PEERS_DIR="$root/build/peers"
NETSIM="$QUIVER_DIR/quiver-netsim" SELF_LIMIT=120
for lib in topology capture cases endpoints; do
  # shellcheck source=/dev/null
  source "$INTEROP_DIR/lib/$lib.sh"
done
prefix=qc$$
work=$(mktemp -d "${TMPDIR:-/tmp}/run-endpoint-compliance.XXXXXX")
ENDPOINT_PID=''
cleanup() {
  [ -n "$ENDPOINT_PID" ] && stop_process "$ENDPOINT_PID" >/dev/null 2>&1
  topo_down "$prefix"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www" "$work/certs"
echo hello >"$work/www/file"
make_certs "$work/certs" 1 || { echo "FAIL: openssl"; exit 1; }
write_hosts "$work/hosts-server" server
write_hosts "$work/hosts-client" client
ensure_mount_points
REASON=''
topo_up "$prefix" "$DEFAULT_SCENARIO" 1 "$work/sim.log" || { echo "FAIL: $REASON"; exit 1; }
topo_start

failures=0
report() {  # report OK|FAIL WHAT
  echo "$1 $2"
  [ "$1" = OK ] || failures=$((failures + 1))
}
# has_option SUBCOMMAND OPTION: run_endpoint.sh's own function (what it supports is what this
# test expects), taken from the script itself, over this build's quiver.
QUIVER="$QUIVER_DIR/quiver"
eval "$(sed -n '/^has_option() {/,/^}/p' "$INTEROP_DIR/run_endpoint.sh")"
declare -F has_option >/dev/null || { echo "no has_option in run_endpoint.sh" >&2; exit 1; }

# run_to_exit ROLE TESTCASE: runs the endpoint until it exits (20 s at most); prints its code.
run_to_exit() {
  start_endpoint "$1" quiver "$([ "$1" = server ] && echo "$NS_SERVER" || echo "$NS_CLIENT")" "$2" \
    "https://server4:443/file" "$work" "$work/logs-$1-$2"
  local rc=0
  wait_until "$ENDPOINT_PID" $(($(date +%s) + 20)) || rc=$?
  ENDPOINT_PID=''
  echo "$rc"
}

for role in server client; do
  rc=$(run_to_exit "$role" "$(random_letters 12)")
  [ "$rc" -eq 127 ] && report OK "$role, unknown test case: 127" ||
    report FAIL "$role, unknown test case: exit $rc, not 127"
done

for tc in handshake transfer chacha20 resumption zerortt retry http3 ecn multiconnect v2 connectionmigration; do
  want127=false
  { [ "$tc" = v2 ] && ! has_option server --versions; } && want127=true
  { [ "$tc" = connectionmigration ] && ! has_option server --preferred-address; } && want127=true
  if $want127; then
    rc=$(run_to_exit server "$tc")
    [ "$rc" -eq 127 ] && report OK "server $tc: 127 (its transport option is not there yet)" ||
      report FAIL "server $tc: exit $rc, but 127 was due (its option is missing)"
    continue
  fi
  start_endpoint server quiver "$NS_SERVER" "$tc" "" "$work" "$work/logs-server-$tc"
  answered=true
  for target in "$SERVER4:443" "[$SERVER6]:443"; do
    in_ns "$NS_SIM" "$NETSIM" probe "$target" --timeout 5 >/dev/null 2>&1 || answered=false
  done
  rc=0
  stop_process "$ENDPOINT_PID" || rc=$?
  ENDPOINT_PID=''
  $answered && report OK "server $tc: answers the probe on IPv4 and IPv6" ||
    report FAIL "server $tc: no Version Negotiation on IPv4 and IPv6 (exit $rc)"
done

export CLIENT_PARAMS="--timeout 1"
for tc in handshake transfer retry ecn http3 chacha20 keyupdate resumption zerortt multiconnect v2; do
  want127=false
  { [ "$tc" = multiconnect ] && ! has_option client --handshake-timeout; } && want127=true
  { [ "$tc" = v2 ] && ! has_option client --versions; } && want127=true
  rc=$(run_to_exit client "$tc")
  if $want127; then
    [ "$rc" -eq 127 ] && report OK "client $tc: 127 (its transport option is not there yet)" ||
      report FAIL "client $tc: exit $rc, but 127 was due (its option is missing)"
  else
    [ "$rc" -ne 127 ] && [ "$rc" -ne 124 ] && report OK "client $tc: runs (exit $rc with no server)" ||
      report FAIL "client $tc: exit $rc"
  fi
done
[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
