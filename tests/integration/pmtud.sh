#!/usr/bin/env bash
# DPLPMTUD (RFC 8899, RFC 9000 §14.3) with the real binary on real sockets, checked on the wire
# with tshark and in qlog:
#
#   pmtud.sh QUIVER CASE
#
#   loopback  lo's MTU is 65536: by default the interface decides, and datagrams grow from 1200
#             to exactly 65507, the most an IPv4 datagram holds (65535 - 20 - 8; the first
#             probe, 65527, is refused by the kernel with EMSGSIZE); with --max-udp-payload 1452
#             they stop at exactly 1452, and with --max-udp-payload 1200 never pass 1200.
#   veth      two network namespaces joined by a veth pair of MTU 1400 (made here, removed at
#             exit): the kernel refuses larger datagrams (IP_PMTUDISC_PROBE: EMSGSIZE, never
#             fragments), the PMTU settles at or below 1400 - 28, and a 3 MiB transfer completes.
#   router    client - router - server, the router's link to the client of MTU 1400 and the
#             server's own link 1500: the server's large probes reach the router, which
#             answers with ICMP fragmentation needed (no local EMSGSIZE at the server).
#   blackhole the same, but the router sends no ICMP (nft drops it in the router's namespace):
#             probes above the MTU vanish and only the search finds the PMTU.
set -euo pipefail

QUIVER=$(realpath "$1")
CASE=$2
# tshark and ethtool come with scripts/peers, nft with scripts/setup: skipped outside CI without
# them (ctest's SKIP_RETURN_CODE 77), a failure in CI.
for tool in tshark dumpcap ethtool ip $([[ $CASE == blackhole ]] && echo nft); do
    if ! command -v "$tool" >/dev/null; then
        [[ ${CI:-} == true ]] && { echo "FAIL ($CASE): $tool is not installed" >&2; exit 1; }
        echo "SKIP ($CASE): $tool is not installed (bash scripts/peers)" >&2
        exit 77
    fi
done
WORK=$(mktemp -d /tmp/quiver-pmtud.XXXXXX)
SERVER_PID=
CAPTURE_PID=
PORT=
T=30
# Namespaces of this run (unique per process), and the runner's address ranges
# (interop/lib/topology.sh): they exist only inside these namespaces.
NS=qv-pmtud-$$
CLIENT4=193.167.0.100 SERVER4=193.167.100.100 ROUTER_LEFT4=193.167.0.2 ROUTER_RIGHT4=193.167.100.2

cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
    if [[ -n $CAPTURE_PID ]] && kill -0 "$CAPTURE_PID" 2>/dev/null; then kill "$CAPTURE_PID"; fi
    local n
    for n in client server router; do
        [[ -e /run/netns/$NS-$n ]] && ip netns del "$NS-$n"
    done
    [[ -n ${KEEP:-} ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

# capture_start/capture_stop (lib.sh: a capture with a proven start and end) for lo; its
# start_server runs in a namespace through server_in; this script's client takes the namespace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

make_root() {
    mkdir -p "$WORK/www" "$WORK/out"
    head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/www/3m.bin"
}

# server_in NS ADDRESS [options...]: lib.sh's start_server, in namespace NS (empty: here).
server_in() {
    local ns=$1 addr=$2
    shift 2
    SERVER_PREFIX=()
    [[ -n $ns ]] && SERVER_PREFIX=(ip netns exec "$ns")
    start_server --listen "$addr:0" "$@"
}

# capture NS IFACE: tshark's dumpcap on IFACE in NS for the server's port. The interface does
# no segmentation offload (no_offload), so each GSO segment shows as the datagram it is.
capture() {
    local ns=$1 iface=$2
    ip netns exec "$ns" dumpcap -q -B 64 -i "$iface" -f "udp port $PORT" -w "$WORK/cap.pcapng" \
        2>"$WORK/dumpcap.log" &
    CAPTURE_PID=$!
    for _ in $(seq 1 100); do
        grep -q "Capturing on" "$WORK/dumpcap.log" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "dumpcap did not start"
}

# no_offload NS IFACE: segmentation done in software before the capture point.
no_offload() {
    ip netns exec "$1" ethtool -K "$2" tx-udp-segmentation off gso off >/dev/null 2>&1 || true
}

stop_capture() {
    sleep 0.2
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" || true
    CAPTURE_PID=
}

# UDP payload sizes of the server's datagrams in the capture, one per line.
server_payloads() {
    local dropped
    dropped=$(sed -n 's/.*dumpcap:\([0-9]*\).*/\1/p' "$WORK/dumpcap.log" | tail -1)
    tshark -r "$WORK/cap.pcapng" -Y "udp.srcport == $PORT" -T fields -e udp.length 2>/dev/null |
        awk '{ print $1 - 8 }'
}

# client NS URL [options...]: quiver client -k -v (in NS, empty: here).
client() {
    local ns=$1 url=$2
    shift 2
    local prefix=()
    [[ -n $ns ]] && prefix=(ip netns exec "$ns")
    RC=0
    timeout "$T" "${prefix[@]}" "$QUIVER" client --alpn hq-interop -k -v -o "$WORK/out/3m.bin" \
        "$@" "$url" 2>"$WORK/client.err" || RC=$?
    [[ $RC == 0 ]] || fail "client exited with $RC"
    cmp -s "$WORK/www/3m.bin" "$WORK/out/3m.bin" || fail "the file differs"
}

# The PMTU the client's -v statistics report.
client_pmtu() { sed -n 's/.*, pmtu \([0-9]*\) (.*/\1/p' "$WORK/client.err" | tail -1; }
server_pmtu() { sed -n 's/.*, pmtu \([0-9]*\) (.*/\1/p' "$WORK/server.log" | tail -1; }

# --- topologies --------------------------------------------------------------------------------

# Two namespaces, one veth pair of MTU $1.
make_pair() {
    local mtu=$1
    ip netns add "$NS-client"
    ip netns add "$NS-server"
    ip link add "qvc$$" netns "$NS-client" type veth peer name "qvs$$" netns "$NS-server"
    in_ns "$NS-client" ip link set lo up
    in_ns "$NS-server" ip link set lo up
    in_ns "$NS-client" ip link set "qvc$$" mtu "$mtu" up
    in_ns "$NS-server" ip link set "qvs$$" mtu "$mtu" up
    in_ns "$NS-client" ip addr add "$CLIENT4/16" dev "qvc$$"
    in_ns "$NS-server" ip addr add "$SERVER4/16" dev "qvs$$"
}

# client - router (MTU $1 between them) - server (MTU 1500): the server's datagrams reach the
# router, which cannot forward the larger ones to the client.
make_routed() {
    local mtu=$1
    ip netns add "$NS-client"
    ip netns add "$NS-server"
    ip netns add "$NS-router"
    local n
    for n in client server router; do in_ns "$NS-$n" ip link set lo up; done
    ip link add "qvc$$" netns "$NS-client" type veth peer name "qvrc$$" netns "$NS-router"
    ip link add "qvs$$" netns "$NS-server" type veth peer name "qvrs$$" netns "$NS-router"
    in_ns "$NS-client" ip link set "qvc$$" mtu "$mtu" up
    in_ns "$NS-router" ip link set "qvrc$$" mtu "$mtu" up
    in_ns "$NS-router" ip link set "qvrs$$" mtu 1500 up
    in_ns "$NS-server" ip link set "qvs$$" mtu 1500 up
    in_ns "$NS-client" ip addr add "$CLIENT4/24" dev "qvc$$"
    in_ns "$NS-router" ip addr add "$ROUTER_LEFT4/24" dev "qvrc$$"
    in_ns "$NS-router" ip addr add "$ROUTER_RIGHT4/24" dev "qvrs$$"
    in_ns "$NS-server" ip addr add "$SERVER4/24" dev "qvs$$"
    in_ns "$NS-client" ip route add default via "$ROUTER_LEFT4"
    in_ns "$NS-server" ip route add default via "$ROUTER_RIGHT4"
    in_ns "$NS-router" sysctl -qw net.ipv4.ip_forward=1
}

# --- cases -------------------------------------------------------------------------------------

# A 3 MiB download over the namespace's lo, captured; the options go to both ends.
lo_transfer() {
    server_in "$NS-client" 127.0.0.1 "$@"
    capture_start "$WORK/cap.pcapng" "udp port $PORT" ip netns exec "$NS-client"  # lib.sh
    client "$NS-client" "https://127.0.0.1:$PORT/3m.bin" "$@"
    capture_stop
    stop_server
}

case_loopback() {
    make_root
    # A namespace of our own, so that its lo can do without segmentation offload.
    ip netns add "$NS-client"
    in_ns "$NS-client" ip link set lo up
    no_offload "$NS-client" lo
    lo_transfer --max-udp-payload 1452
    local max large
    max=$(server_payloads | sort -n | tail -1)
    # Data packets fill the datagram to within a STREAM frame header's worth of room.
    large=$(server_payloads | awk '$1 > 1400' | wc -l)
    echo "loopback: largest server datagram $max bytes, $large larger than 1400 bytes; client" \
        "pmtu $(client_pmtu), server pmtu $(server_pmtu)"
    [[ $max == 1452 ]] || fail "the largest datagram on the wire is $max, not 1452"
    ((large > 1000)) || fail "only $large datagrams over 1400 bytes: the transfer did not use them"
    # The client sends requests and ACKs only: below kPmtudMinStreamBytes it never probes.
    [[ $(client_pmtu) == 1200 ]] || fail "client -v reports pmtu $(client_pmtu)"
    [[ $(server_pmtu) == 1452 ]] || fail "server -v reports pmtu $(server_pmtu)"

    # The default ceiling: lo's MTU, as the kernel's EMSGSIZE for the first probe tells.
    lo_transfer
    max=$(server_payloads | sort -n | tail -1)
    large=$(server_payloads | awk '$1 > 60000' | wc -l)
    echo "loopback, default ceiling: largest server datagram $max bytes, $large over 60000;" \
        "server pmtu $(server_pmtu)"
    [[ $max == 65507 ]] || fail "by default the largest datagram on lo is $max, not 65507"
    ((large > 20)) || fail "only $large datagrams over 60000 bytes: the transfer did not use them"
    [[ $(server_pmtu) == 65507 ]] || fail "server -v reports pmtu $(server_pmtu)"

    # --max-udp-payload 1200: no probing, nothing larger than 1200 bytes.
    lo_transfer --max-udp-payload 1200
    max=$(server_payloads | sort -n | tail -1)
    [[ $max == 1200 ]] || fail "with --max-udp-payload 1200 the largest datagram is $max"
    [[ $(client_pmtu) == 1200 ]] || fail "client -v reports pmtu $(client_pmtu)"
}

# $1: what the server's datagrams may be at most; the PMTU must be within $2 bytes of it
# (default 16, the search's granularity).
check_settled() {
    local limit=$1 within=${2:-16} max s c
    max=$(server_payloads | sort -n | tail -1)
    s=$(server_pmtu)
    c=$(client_pmtu)
    echo "$CASE: largest server datagram on the wire $max bytes; server pmtu $s, client pmtu $c"
    ((max <= limit)) || fail "a $max-byte datagram crossed a path of $limit"
    ((s <= limit && s > limit - within)) || fail "the server's PMTU $s is not within $within of $limit"
    ((c == 1200)) || fail "the client's PMTU is $c (it sends too little to probe)"
}

case_veth() {
    make_root
    make_pair 1400
    server_in "$NS-server" "$SERVER4"
    no_offload "$NS-server" "qvs$$"
    capture "$NS-server" "qvs$$"
    client "$NS-client" "https://$SERVER4:$PORT/3m.bin"
    stop_capture
    stop_server
    check_settled $((1400 - 28))
}

case_router() {
    make_root
    make_routed 1400
    server_in "$NS-server" "$SERVER4"
    # What crossed the router: the client's side of the path (segmented at the server).
    no_offload "$NS-server" "qvs$$"
    no_offload "$NS-router" "qvrc$$"
    capture "$NS-client" "qvc$$"
    client "$NS-client" "https://$SERVER4:$PORT/3m.bin"
    stop_capture
    stop_server
    check_settled $((1400 - 28))
    # The router's ICMP gave the MTU: the PMTU is exactly 1372 (a binary search without the
    # ICMP ends elsewhere, 1370 here, after ten probes or more), and only a few probes were
    # sent: the ceiling (refused locally), 1472 (answered by the router), 1372, and at most
    # one more, as the sanitizer build sent in 2 runs of 8.
    [[ $(server_pmtu) == $((1400 - 28)) ]] || fail "the server's PMTU is not exactly $((1400 - 28))"
    local probes
    probes=$(sed -n 's/.*, pmtu [0-9]* (\([0-9]*\) probes.*/\1/p' "$WORK/server.log" | tail -1)
    ((probes <= 4)) || fail "$probes probes: the ICMP fragmentation needed was not used"
}

case_blackhole() {
    make_root
    make_routed 1400
    # The router sends no ICMP at all: a PMTU black hole for anything larger than 1400.
    in_ns "$NS-router" nft add table inet qv_pmtud
    in_ns "$NS-router" nft add chain inet qv_pmtud out '{ type filter hook output priority 0; }'
    in_ns "$NS-router" nft add rule inet qv_pmtud out meta l4proto icmp drop
    server_in "$NS-server" "$SERVER4"
    # What crossed the router: the client's side of the path (segmented at the server).
    no_offload "$NS-server" "qvs$$"
    no_offload "$NS-router" "qvrc$$"
    capture "$NS-client" "qvc$$"
    client "$NS-client" "https://$SERVER4:$PORT/3m.bin"
    stop_capture
    stop_server
    # No ICMP: the search alone finds the size, and on a loaded machine a probe delayed past
    # the loss threshold counts as lost (three refute a size): within 64 bytes, above 1200.
    check_settled $((1400 - 28)) 64
}

"case_$CASE"
