#!/usr/bin/env bash
# How fast quiver-netsim forwards on an unimpaired link: iperf3 (TCP, and UDP at a given
# rate) from the client's namespace to the server's through interop/run's topology. A
# measurement, not a test: it prints the figures. Needs root and iperf3.
#   interop/netsim/throughput.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
NETSIM=${1:-$root/build}/quiver-netsim
secs=${2:-5}
SELF_LIMIT=$((secs * 3 + 30))
# shellcheck source=interop/lib/topology.sh
source "$root/interop/lib/topology.sh"
prefix=qntp$$
dir=$(mktemp -d)
trap 'kill $iperf_pid 2>/dev/null || true; topo_down $prefix; rm -rf $dir' EXIT
REASON=''
# "Unimpaired": no delay, a rate far above what a core can forward, a queue that never fills.
topo_up "$prefix" "simple-p2p --delay=0ms --bandwidth=100Gbps --queue=10000" 1 "$dir/sim.log" ||
  { echo "$REASON"; exit 1; }
topo_start
in_ns "$NS_SERVER" iperf3 -s -1 -B "$SERVER4" >/dev/null 2>&1 &
iperf_pid=$!
sleep 0.5
echo "TCP, client -> server, $secs s:"
in_ns "$NS_CLIENT" iperf3 -c "$SERVER4" -t "$secs" -f m | grep -E 'sender|receiver'
wait "$iperf_pid" || true
in_ns "$NS_SERVER" iperf3 -s -1 -B "$SERVER4" >/dev/null 2>&1 &
iperf_pid=$!
sleep 0.5
echo "UDP, 1200-byte datagrams offered at 2 Gbit/s, $secs s:"
in_ns "$NS_CLIENT" iperf3 -c "$SERVER4" -u -b 2G -l 1172 -t "$secs" -f m | grep -E 'sender|receiver'
wait "$iperf_pid" || true
kill -TERM "$NETSIM_SELF" 2>/dev/null || true
sleep 0.3
grep -E '^(devices|to-server|to-client)' "$dir/sim.log" || true
