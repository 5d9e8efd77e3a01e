#!/usr/bin/env bash
# QUIC versions with the real binary on loopback (RFC 9368, RFC 9369), and IPv6 end to end.
#
#   versions.sh QUIVER CASE     (CASE: one of the functions named case_* below)
#
# The wire is read with tshark (decrypting with the client's SSLKEYLOGFILE): a capture on the lo
# of a namespace of the test's own (private_netns in lib.sh: GSO off, so that tshark sees each
# datagram), filtered to the server's port.
set -euo pipefail

QUIVER=$(realpath "$1")
CASE=$2
WORK=$(mktemp -d /tmp/quiver-versions.XXXXXX)
SERVER_PID=
PORT=
T=30
V1=0x00000001
V2=0x6b3343cf

cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
    if [[ -n $CAPTURE_PID ]] && kill -0 "$CAPTURE_PID" 2>/dev/null; then kill "$CAPTURE_PID"; fi
    if [[ -n ${NS:-} ]]; then ip netns del "$NS" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err "$WORK"/*.txt; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

make_root() {
    mkdir -p "$WORK/www" "$WORK/out"
    head -c 300000 /dev/urandom >"$WORK/www/f.bin"
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# client [options...] URL...: quiver client -k -v, stderr to $WORK/client.err; sets RC.
client() {
    RC=0
    timeout "$T" "$QUIVER" client -k -v "$@" 2>"$WORK/client.err" >"$WORK/client.out" || RC=$?
}

same() { cmp -s "$1" "$2" || fail "$2 differs from $1"; }

# capture_start / capture_stop (lib.sh): tshark on lo for the server's port.
need_tshark() { command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 77; }; }

# packets: one line per QUIC packet: "<src port> <version or -> <info>", decrypted.
packets() {
    tshark -r "$WORK/cap.pcapng" -o "tls.keylog_file:$WORK/keys.txt" -Y quic -T fields \
        -E separator=' ' -e udp.srcport -e quic.version -e _ws.col.Info 2>/dev/null
}

# The chosen version in -v, --json and qlog.
check_reported_version() {
    local want=$1
    grep -q "handshake completed.*version $want" "$WORK/client.err" ||
        fail "-v does not say version $want"
    grep -q "\"version\":\"$want\"" "$WORK/client.out" || fail "--json does not say $want"
    grep -hq "\"quic:version_information\".*\"chosen_version\":\"${want#0x}\"" "$WORK"/qlog/* ||
        fail "no qlog version_information choosing $want"
}

# --- cases -------------------------------------------------------------------------------------

# Compatible negotiation on the wire: the client's first Initial in v1 (the default), the
# server upgrading (--versions v2,v1): its every packet in v2, so are the client's after that;
# tshark decrypts them all (Handshake CRYPTO and 1-RTT STREAM frames) with the key log.
case_v2_upgrade() {
    need_tshark
    private_netns "quiver-ver-$$"  # no GSO on its lo: tshark reads every datagram
    make_root
    start_server --versions v2,v1
    capture_start "$WORK/cap.pcapng" "udp port $PORT" ip netns exec "$NS"
    SSLKEYLOGFILE="$WORK/keys.txt" client --json --qlog-dir "$WORK/qlog" \
        -o "$WORK/out/f" "https://127.0.0.1:$PORT/f.bin"
    [[ $RC == 0 ]] || fail "client exit $RC"
    capture_stop
    same "$WORK/www/f.bin" "$WORK/out/f"
    check_reported_version $V2
    grep -q "version $V2" "$WORK/server.log" || fail "the server does not say v2"
    packets >"$WORK/packets.txt"
    [[ -s $WORK/packets.txt ]] || fail "nothing captured or decoded"
    local first
    first=$(grep -m 1 -v "^$PORT " "$WORK/packets.txt")
    [[ $first == *" $V1 Initial"* ]] || fail "the first client packet is not a v1 Initial: $first"
    # Long headers carry a version (coalesced ones: one per packet): from the server only v2.
    # (No `| grep -q` at the end of a pipe: it stops reading at the first match, the writer dies
    # of SIGPIPE, and under pipefail the pipe reads as false.)
    if grep "^$PORT " "$WORK/packets.txt" | awk '{print $2}' | tr ',' '\n' | grep -v "^$V2$" |
        grep -c '^0x' >/dev/null; then
        fail "the server sent a long header in another version than v2"
    fi
    # A v2 Handshake packet from the server (whether tshark also shows its CRYPTO frame varies
    # from run to run with tshark 4.0; decryption is proven by the 1-RTT STREAM check below).
    grep -q "^$PORT .*$V2.*Handshake" "$WORK/packets.txt" ||
        fail "no v2 Handshake packet from the server"
    # The client: v1 until the server's v2 Initial, then v2 only (its Handshake packets
    # travel coalesced with 1-RTT ones, which tshark's Info column names).
    local client_versions
    client_versions=$(grep -v "^$PORT " "$WORK/packets.txt" | awk '$2 ~ /^0x/ {print $2}' |
        tr ',' '\n' | uniq | tr '\n' ' ')
    [[ $client_versions == "$V1 $V2 " ]] ||
        fail "the client's long headers went: $client_versions (expected v1, then v2)"
    grep -q "STREAM" "$WORK/packets.txt" || fail "tshark did not decrypt the 1-RTT packets"
    stop_server
}

# No upgrade without a server that wants it: the default server (v1,v2) keeps a default client
# (v1 offering v2) in v1, and turns a client starting in v2 (--versions v2,v1) to v1, its
# preference (compatible negotiation the other way).
case_default() {
    make_root
    start_server
    client --json --qlog-dir "$WORK/qlog" -o "$WORK/out/f" "https://127.0.0.1:$PORT/f.bin"
    [[ $RC == 0 ]] || fail "client exit $RC"
    check_reported_version $V1
    rm -rf "$WORK/qlog"
    client --json --qlog-dir "$WORK/qlog" --versions v2,v1 -o "$WORK/out/g" \
        "https://127.0.0.1:$PORT/f.bin"
    [[ $RC == 0 ]] || fail "client (v2,v1) exit $RC"
    check_reported_version $V1
    same "$WORK/www/f.bin" "$WORK/out/g"
    stop_server
}

# Incompatible negotiation (RFC 9000 §6, RFC 9368 §2.1): a client starting in v2 against a
# v1-only server gets Version Negotiation and completes in v1; one speaking only v2 gets the
# clear error and exit code 7.
case_version_negotiation() {
    make_root
    start_server --versions v1
    client --json --qlog-dir "$WORK/qlog" --versions v2,v1 -o "$WORK/out/f" \
        "https://127.0.0.1:$PORT/f.bin"
    [[ $RC == 0 ]] || fail "client exit $RC"
    check_reported_version $V1
    same "$WORK/www/f.bin" "$WORK/out/f"
    client --versions v2 -o "$WORK/out/g" "https://127.0.0.1:$PORT/f.bin"
    [[ $RC == 7 ]] || fail "a v2-only client against a v1 server: exit $RC, expected 7"
    grep -q "no shared QUIC version" "$WORK/client.err" || fail "no clear error"
    stop_server
    grep -q " 2 version negotiations" "$WORK/server.log" || fail "not 2 Version Negotiations"
}

# IPv6 end to end: a server on [::1] with Retry on every connection and v2 preferred; an h3
# client and an hq-interop client, each upgraded to v2 after the Retry.
case_ipv6() {
    ip -6 addr show lo 2>/dev/null | grep -c '::1' >/dev/null || { echo "SKIP: no ::1"; exit 77; }
    make_root
    start_server --listen '[::1]:0' --retry always --versions v2,v1
    for alpn in h3 hq-interop; do
        rm -rf "$WORK/qlog"
        client --alpn "$alpn" --json --qlog-dir "$WORK/qlog" -o "$WORK/out/$alpn" \
            "https://[::1]:$PORT/f.bin"
        [[ $RC == 0 ]] || fail "$alpn client exit $RC"
        same "$WORK/www/f.bin" "$WORK/out/$alpn"
        check_reported_version $V2
        grep -q "ALPN $alpn" "$WORK/client.err" || fail "not $alpn"
        grep -q "connecting to \[::1\]:$PORT" "$WORK/client.err" || fail "not over IPv6"
    done
    stop_server
    grep -q " 2 retries" "$WORK/server.log" || fail "not 2 Retries"
}

# Against ngtcp2 0.12's gtlsserver (v1 and the v2 *draft* 0x709a50c4; only the draft's
# version_information codepoint): the default client (v1 offering v2) completes in v1; one
# starting in v2 gets Version Negotiation, starts over in v1, and must then close with
# VERSION_NEGOTIATION_ERROR since the server's handshake has no Version Information
# (RFC 9368 §4); one speaking only v2 has no version in common (exit 7).
case_ngtcp2() {
    command -v gtlsserver >/dev/null || { echo "SKIP: no gtlsserver"; exit 77; }
    make_root
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/key.pem" \
        -out "$WORK/cert.pem" -days 1 -subj /CN=localhost 2>/dev/null
    PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    gtlsserver -q -d "$WORK/www" 127.0.0.1 "$PORT" "$WORK/key.pem" "$WORK/cert.pem" \
        >"$WORK/ngtcp2.log" 2>&1 &
    SERVER_PID=$!
    sleep 0.3
    client --json -o "$WORK/out/f" "https://127.0.0.1:$PORT/f.bin"
    [[ $RC == 0 ]] || fail "default client exit $RC"
    same "$WORK/www/f.bin" "$WORK/out/f"
    grep -q '"version":"0x00000001"' "$WORK/client.out" || fail "not v1"
    client --versions v2,v1 -o "$WORK/out/g" "https://127.0.0.1:$PORT/f.bin"
    [[ $RC != 0 ]] || fail "v2,v1 completed without the server's Version Information"
    grep -q "VERSION_NEGOTIATION_ERROR: no Version Information after Version Negotiation" \
        "$WORK/client.err" || fail "not the RFC 9368 §4 error"
    client --versions v2 -o "$WORK/out/h" "https://127.0.0.1:$PORT/f.bin"
    [[ $RC == 7 ]] || fail "v2 only: exit $RC, expected 7"
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

declare -F "case_$CASE" >/dev/null || { echo "unknown case $CASE" >&2; exit 2; }
"case_$CASE"
