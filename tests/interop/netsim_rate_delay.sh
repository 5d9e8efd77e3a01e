#!/usr/bin/env bash
# quiver-netsim on real sockets: through the TUN devices of interop/run's topology, a burst of
# UDP datagrams from the client's namespace to the server's crosses a 10 Mbit/s link with a
# 50 ms one-way delay. From the captures on both sides (kernel timestamps of the same clock):
# the rate at which they arrive (over the whole burst, queued behind each other) and the
# one-way delay of the first (less its transmission time) must be within 5 % of the
# configured values. Needs root.
#   tests/interop/netsim_rate_delay.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
NETSIM=$1/quiver-netsim
SELF_LIMIT=60
# shellcheck source=interop/lib/topology.sh
source "$root/interop/lib/topology.sh"
# shellcheck source=interop/lib/capture.sh
source "$root/interop/lib/capture.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
prefix=qnrd$$
dir=$(mktemp -d "${TMPDIR:-/tmp}/netsim-rate-delay.XXXXXX")
cleanup() {
  capture_stop left "$NS_CLIENT" "$dir/left.pcap" 2>/dev/null || true
  capture_stop right "$NS_SERVER" "$dir/right.pcap" 2>/dev/null || true
  topo_down "$prefix"
  rm -rf "$dir"
}
trap cleanup EXIT

readonly RATE=10000000 DELAY_MS=50 COUNT=400 SIZE=1200
REASON=''
topo_up "$prefix" "simple-p2p --delay=${DELAY_MS}ms --bandwidth=10Mbps --queue=1000" 1 "$dir/sim.log" ||
  { echo "FAIL: $REASON"; exit 1; }
capture_start left "$NS_CLIENT" "$dir/left.pcap" || { echo "FAIL: $REASON"; exit 1; }
capture_start right "$NS_SERVER" "$dir/right.pcap" || { echo "FAIL: $REASON"; exit 1; }
topo_start
sleep 0.2
# IP size 1200: 20 (IPv4) + 8 (UDP) + 1172 bytes of payload, numbered. Written as fast as
# bash can, far faster than 10 Mbit/s: they queue at the simulator.
in_ns "$NS_CLIENT" bash -c "exec 3>/dev/udp/$SERVER4/9000
  for ((i = 1; i <= $COUNT; i++)); do printf '%06d%1166s' \$i '' >&3; done"
sleep $((COUNT * SIZE * 8 / RATE + 1))
capture_stop left "$NS_CLIENT" "$dir/left.pcap"
capture_stop right "$NS_SERVER" "$dir/right.pcap"

times() { tshark -r "$1" -Y "!icmp && udp.dstport == 9000 && ip.len == $SIZE" -T fields -e frame.time_epoch; }
times "$dir/left.pcap" >"$dir/sent.txt"
times "$dir/right.pcap" >"$dir/received.txt"
sent=$(wc -l <"$dir/sent.txt") received=$(wc -l <"$dir/received.txt")
if [ "$sent" -ne "$COUNT" ] || [ "$received" -ne "$COUNT" ]; then
  echo "FAIL: $sent datagrams captured leaving the client, $received arriving (want $COUNT)"
  tail -5 "$dir/sim.log"
  exit 1
fi
# The first datagram found the link idle: its delay is one transmission plus the propagation.
paste "$dir/sent.txt" "$dir/received.txt" | awk -v n="$COUNT" -v size="$SIZE" -v rate="$RATE" \
  -v delay_ms="$DELAY_MS" '
  NR == 1 { first_rx = $2; delay = ($2 - $1) * 1000 - size * 8 / rate * 1000 }
  { last_rx = $2 }
  END {
    measured_rate = (n - 1) * size * 8 / (last_rx - first_rx)
    printf "rate %.3f Mbit/s (configured %.3f), one-way delay %.3f ms (configured %d)\n",
      measured_rate / 1e6, rate / 1e6, delay, delay_ms
    bad = 0
    if (measured_rate < rate * 0.95 || measured_rate > rate * 1.05) { print "FAIL: rate off by more than 5 %"; bad = 1 }
    if (delay < delay_ms * 0.95 || delay > delay_ms * 1.05) { print "FAIL: delay off by more than 5 %"; bad = 1 }
    exit bad
  }'
