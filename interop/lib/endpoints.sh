# shellcheck shell=bash
# The implementations interop/run knows, and how an endpoint is started: its run_endpoint.sh
# in the host's network namespace and in a private mount namespace that shows it the
# runner's fixed paths (/www /certs /downloads /logs), its own /etc/hosts, and the stand-ins
# for the endpoint image's /setup.sh and /wait-for-it.sh (interop/standin/).

readonly KNOWN_IMPLS="quiver quic-go ngtcp2"

# impl_script IMPL: the implementation's run_endpoint.sh.
impl_script() {
  case "$1" in
    quiver) echo "$INTEROP_DIR/run_endpoint.sh" ;;
    quic-go) echo "$INTEROP_DIR/endpoints/quic-go.sh" ;;
    ngtcp2) echo "$INTEROP_DIR/endpoints/ngtcp2.sh" ;;
  esac
}

# impl_missing IMPL ROLE: prints why IMPL can't play ROLE on this machine, or nothing.
impl_missing() {
  case "$1" in
    quiver) [ -x "$QUIVER_DIR/quiver" ] || echo "$QUIVER_DIR/quiver not built (scripts/build)" ;;
    quic-go) [ -x "$PEERS_DIR/quic-go-$2" ] || echo "$PEERS_DIR/quic-go-$2 not built (scripts/peers)" ;;
    ngtcp2)
      local bin=gtlsserver
      [ "$2" = server ] || bin=gtlsclient
      command -v "$bin" >/dev/null || echo "$bin not installed (ngtcp2-$2; scripts/peers)"
      ;;
    *) echo "unknown implementation '$1' (one of: $KNOWN_IMPLS)" ;;
  esac
}

# The runner's fixed paths must exist as mount points. They stay empty on the host: only the
# endpoints' private mount namespaces see anything in them.
ensure_mount_points() {
  mkdir -p /www /certs /downloads /logs
  [ -e /setup.sh ] || : >/setup.sh
  [ -e /wait-for-it.sh ] || : >/wait-for-it.sh
}

# write_hosts FILE ROLE: the names docker-compose.yml gives each side.
write_hosts() {
  {
    echo "127.0.0.1 localhost"
    echo "::1 localhost ip6-localhost"
    if [ "$2" = client ]; then
      echo "$SERVER4 server server4 server46"
      echo "$SERVER6 server server6 server46"
      echo "$SIM_LEFT4 sim"
      echo "$SIM_LEFT6 sim"
      echo "$CLIENT4 client"
    else
      echo "$CLIENT4 client client4 client46"
      echo "$CLIENT6 client client6 client46"
      echo "$SIM_RIGHT4 sim"
      echo "$SIM_RIGHT6 sim"
      echo "$SERVER4 server"
    fi
  } >"$1"
}

# start_endpoint ROLE IMPL NS TESTCASE REQUESTS WORK LOGS: starts IMPL's run_endpoint.sh in
# the background. WORK holds www/ (the server's files), empty/ (the client's /www),
# certs/, downloads-ROLE/ and hosts-ROLE; LOGS is mounted at /logs, and the endpoint's output
# goes to LOGS/output.txt. Sets ENDPOINT_PID: timeout(1)'s, which passes TERM on and returns
# the script's exit code (124 when it ran out of time).
start_endpoint() {
  local role=$1 impl=$2 ns=$3 testcase=$4 requests=$5 work=$6 logs=$7
  local www="$work/www"
  [ "$role" = server ] || www="$work/empty"
  local params_var=SERVER_PARAMS
  [ "$role" = server ] || params_var=CLIENT_PARAMS
  mkdir -p "$logs" "$work/downloads-$role" "$work/empty"
  nsenter --net="/run/netns/$ns" -- unshare --mount --propagation private -- bash -c '
    set -e
    mount --bind "$1" /www
    mount --bind "$2" /certs
    mount --bind "$3" /downloads
    mount --bind "$4" /logs
    mount --bind "$5" /etc/hosts
    mount --bind "$6/standin/setup.sh" /setup.sh
    mount --bind "$6/standin/wait-for-it.sh" /wait-for-it.sh
    shift 6
    exec timeout -k 5 "$@"' sandbox "$www" "$work/certs" "$work/downloads-$role" "$logs" \
    "$work/hosts-$role" "$INTEROP_DIR" "$SELF_LIMIT" \
    env -i PATH="$QUIVER_DIR:$PEERS_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    HOME=/tmp ROLE="$role" TESTCASE="$testcase" REQUESTS="$requests" \
    SSLKEYLOGFILE=/logs/keys.log QLOGDIR=/logs/qlog/ "$params_var=${!params_var:-}" \
    bash "$(impl_script "$impl")" >"$logs/output.txt" 2>&1 &
  ENDPOINT_PID=$!
}

# wait_until PID DEADLINE: waits for PID (a child) to exit and returns its exit code; at
# DEADLINE (epoch seconds) ends it and returns 124.
wait_until() {
  local pid=$1 deadline=$2
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      stop_process "$pid"
      return 124
    fi
    sleep 0.1
  done
  wait "$pid"
}

# stop_process PID: TERM (timeout(1) passes it on to the endpoint), then after 2 s KILL for
# PID and, when it leads its own process group (timeout(1) does), that whole group. Returns
# the process's exit code.
stop_process() {
  local pid=$1 i pgid
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
    if [ "$pgid" = "$pid" ] && [ "$pgid" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]; then
      kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
    kill -KILL "$pid" 2>/dev/null || true
  fi
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}
