# shellcheck shell=bash
# The runner's network (quic-interop-runner, docker-compose.yml) without docker: a network
# namespace per host and quiver-netsim in the simulator's namespace, holding one TUN device
# per host (interop/netsim/tun_device.h says why TUN):
#
#   PREFIX-client  eth0  193.167.0.100    fd00:cafe:cafe:0::100    (left)
#   PREFIX-iperfc  eth0  193.167.0.90     fd00:cafe:cafe:0::90     (left, crosstraffic)
#   PREFIX-sim     sim0  193.167.0.2 193.167.100.2 fd00:cafe:cafe:0::2 fd00:cafe:cafe:100::2
#   PREFIX-server  eth0  193.167.100.100  fd00:cafe:cafe:100::100  (right)
#   PREFIX-iperfs  eth0  193.167.100.110  fd00:cafe:cafe:100::110  (right, crosstraffic)
#
# Every packet between the left and the right crosses the scenario's link model; packets to
# and from the simulator's own addresses (the probe, the synchroniser port 57832) go straight
# through, as they do in the runner, where they never enter ns-3. Named namespaces (ip netns)
# so that tools can reach them by name; the prefix makes concurrent runs independent.

# The runner's addresses (trace.py, docker-compose.yml).
readonly CLIENT4=193.167.0.100 CLIENT6=fd00:cafe:cafe:0::100
readonly SERVER4=193.167.100.100 SERVER6=fd00:cafe:cafe:100::100
readonly SIM_LEFT4=193.167.0.2 SIM_LEFT6=fd00:cafe:cafe:0::2
readonly SIM_RIGHT4=193.167.100.2 SIM_RIGHT6=fd00:cafe:cafe:100::2
readonly IPERF_CLIENT4=193.167.0.90 IPERF_CLIENT6=fd00:cafe:cafe:0::90
readonly IPERF_SERVER4=193.167.100.110 IPERF_SERVER6=fd00:cafe:cafe:100::110
readonly SYNC_PORT=57832

# topo_names PREFIX: sets NS_SIM NS_CLIENT NS_SERVER NS_IPERFC NS_IPERFS.
topo_names() {
  NS_SIM=$1-sim NS_CLIENT=$1-client NS_SERVER=$1-server NS_IPERFC=$1-iperfc NS_IPERFS=$1-iperfs
}

# topo_busy PREFIX: true when a namespace of that prefix exists (another run, or debris).
topo_busy() {
  local n
  for n in sim client server iperfc iperfs; do
    [ -e "/run/netns/$1-$n" ] && return 0
  done
  return 1
}

in_ns() {
  local ns=$1
  shift
  nsenter --net="/run/netns/$ns" -- "$@"
}

# The same for a command started in the background with &: bash runs a function called that
# way in a subshell, so without exec $! would be the subshell's pid, and a signal to it would
# never reach the command.
exec_in_ns() {
  local ns=$1
  shift
  exec nsenter --net="/run/netns/$ns" -- "$@"
}

# topo_up PREFIX SCENARIO SEED LOG [NETSIM_OPTION...]: makes the namespaces, starts
# quiver-netsim (waiting for SIGUSR1 to start the scenario) and configures the hosts'
# interfaces. Sets NETSIM_PID. Returns non-zero with REASON set on failure.
topo_up() {
  local prefix=$1 scenario=$2 seed=$3 log=$4
  shift 4
  topo_names "$prefix"
  local ns
  for ns in "$NS_SIM" "$NS_CLIENT" "$NS_SERVER" "$NS_IPERFC" "$NS_IPERFS"; do
    ip netns add "$ns" || { REASON="ip netns add $ns failed"; return 1; }
    ip -n "$ns" link set lo up
  done
  # quiver-netsim ends by itself after SELF_LIMIT even if this runner is killed.
  exec_in_ns "$NS_SIM" timeout -k 5 "$SELF_LIMIT" "$NETSIM" run --scenario "$scenario" --seed "$seed" \
    --log "$log" \
    --client "$NS_CLIENT:eth0:$CLIENT4,$CLIENT6" --client "$NS_IPERFC:eth0:$IPERF_CLIENT4,$IPERF_CLIENT6" \
    --server "$NS_SERVER:eth0:$SERVER4,$SERVER6" --server "$NS_IPERFS:eth0:$IPERF_SERVER4,$IPERF_SERVER6" \
    --local ":sim0:$SIM_LEFT4,$SIM_RIGHT4,$SIM_LEFT6,$SIM_RIGHT6" "$@" >>"$log" 2>&1 &
  NETSIM_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q '^devices ready' "$log" 2>/dev/null && break
    if ! kill -0 "$NETSIM_PID" 2>/dev/null; then
      REASON="quiver-netsim exited: $(tail -1 "$log")"
      return 1
    fi
    sleep 0.05
  done
  grep -q '^devices ready' "$log" || { REASON="quiver-netsim did not make its devices"; return 1; }
  # The simulator itself, under timeout(1), for SIGUSR1 (which timeout would not pass on).
  NETSIM_SELF=$(sed -n 's/^devices ready (pid \([0-9]*\))$/\1/p' "$log" | tail -1)
  topo_host "$NS_CLIENT" "$CLIENT4" "$CLIENT6" "$SIM_LEFT4" "$SIM_LEFT6" &&
    topo_host "$NS_IPERFC" "$IPERF_CLIENT4" "$IPERF_CLIENT6" "$SIM_LEFT4" "$SIM_LEFT6" &&
    topo_host "$NS_SERVER" "$SERVER4" "$SERVER6" "$SIM_RIGHT4" "$SIM_RIGHT6" &&
    topo_host "$NS_IPERFS" "$IPERF_SERVER4" "$IPERF_SERVER6" "$SIM_RIGHT4" "$SIM_RIGHT6" || {
    REASON="could not configure the hosts' interfaces"
    return 1
  }
  # The simulator's own host: one interface holding its address on both networks.
  ip -n "$NS_SIM" addr add "$SIM_LEFT4/24" dev sim0 &&
    ip -n "$NS_SIM" addr add "$SIM_RIGHT4/24" dev sim0 &&
    ip -n "$NS_SIM" -6 addr add "$SIM_LEFT6/64" dev sim0 nodad &&
    ip -n "$NS_SIM" -6 addr add "$SIM_RIGHT6/64" dev sim0 nodad &&
    ip -n "$NS_SIM" link set sim0 up || {
    REASON="could not configure the simulator's interface"
    return 1
  }
}

# topo_host NS ADDR4 ADDR6 GATEWAY4 GATEWAY6: the host's eth0, and the routes the endpoint
# image's setup.sh makes (everything in 193.167.0.0/16 and fd00:cafe:cafe::/48 via the
# simulator); the stand-in /setup.sh makes them again, as the image's does.
topo_host() {
  local ns=$1 a4=$2 a6=$3 g4=$4 g6=$5
  ip -n "$ns" addr add "$a4/24" dev eth0 &&
    ip -n "$ns" -6 addr add "$a6/64" dev eth0 nodad &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$ns" route replace 193.167.0.0/16 via "$g4" dev eth0 &&
    ip -n "$ns" -6 route replace fd00:cafe:cafe::/48 via "$g6" dev eth0
}

# topo_start: the scenario's clock starts (quiver-netsim's SIGUSR1) and the synchroniser
# port listens.
topo_start() {
  kill -USR1 "$NETSIM_SELF" 2>/dev/null
}

# topo_down PREFIX: ends quiver-netsim (it logs its counters on SIGTERM) and removes the
# namespaces. Processes still inside a namespace keep it alive until they end: the caller
# ends them first.
topo_down() {
  local prefix=$1 i
  if [ -n "${NETSIM_PID:-}" ]; then
    kill -TERM "$NETSIM_PID" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      kill -0 "$NETSIM_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$NETSIM_PID" 2>/dev/null || true
    wait "$NETSIM_PID" 2>/dev/null || true
    NETSIM_PID=''
  fi
  topo_names "$prefix"
  local ns
  for ns in "$NS_SIM" "$NS_CLIENT" "$NS_SERVER" "$NS_IPERFC" "$NS_IPERFS"; do
    [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
  done
  return 0
}
