#!/usr/bin/env bash
# A real `quiver server` on loopback under the floods an attacker can send (tests/tools/
# quic_flood: junk and real Initials, Version Negotiation packets, unknown versions, from many
# source ports and loopback addresses), while a real `quiver client` still fetches a file.
# Issue 13, items 1 (junk Initials lock out clients), 5 (Version Negotiation) and 6 (memory
# after a flood); adversarial checklist cases 1, 2 and 5.
#
#   flood.sh QUIVER QUIC_FLOOD CASE     (CASE: one of the functions named case_* below)
#
# Rates are modest (a few thousand datagrams per second) so that the test runs on a loaded CI
# machine; what is checked are counts (replies, trace files, bytes of memory), never times.
set -euo pipefail

QUIVER=$(realpath "$1")
FLOOD=$(realpath "$2")
CASE=$3
WORK=$(mktemp -d /tmp/quiver-flood.XXXXXX)
SERVER_PID=
FLOOD_PID=
PORT=
T=30

cleanup() {
    for pid in $FLOOD_PID $SERVER_PID; do
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err "$WORK"/*.out; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 20 "$f" | cut -c1-300 >&2; }
    done
    exit 1
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

make_root() {
    mkdir -p "$WORK/www" "$WORK/out"
    head -c $((1024 * 1024)) /dev/urandom >"$WORK/www/1m.bin"
}

url() { echo "https://127.0.0.1:$PORT/$1"; }

# fetch NAME: the real client fetches a file (under `timeout`) and must get it intact.
fetch() {
    local rc=0
    timeout "$T" "$QUIVER" client -k -s -o "$WORK/out/$1" "$(url "$1")" 2>"$WORK/client.err" || rc=$?
    [[ $rc == 0 ]] || fail "the client failed (exit $rc) to fetch $1"
    cmp -s "$WORK/www/$1" "$WORK/out/$1" || fail "$1 arrived damaged"
    rm -f "$WORK/out/$1"
}

# flood ARGS...: runs quic_flood against the server; its summary line goes to $WORK/flood.out.
flood() {
    "$FLOOD" --target "127.0.0.1:$PORT" "$@" >"$WORK/flood.out" 2>"$WORK/flood.err" ||
        fail "quic_flood failed"
    echo "quic_flood $*: $(cat "$WORK/flood.out")"
}

# field NAME: a number from the last flood's summary ("sent 2000 replies 0 vn 0 ...").
field() { sed -n "s/.* $1 \([0-9]*\).*/\1/p;s/^$1 \([0-9]*\).*/\1/p" "$WORK/flood.out" | head -n 1; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }

# --- cases -------------------------------------------------------------------------------------

# Junk Initials (which do not decrypt) and real Initials that never finish their handshake,
# 2000 a second from 64 loopback addresses, while a real client fetches a file: it gets it
# (through a Retry once the half-open connections reach the threshold). With --qlog-dir, only
# connections that were really created write a trace: junk writes none.
case_junk_initials() {
    make_root
    mkdir -p "$WORK/qlog"
    start_server --qlog-dir "$WORK/qlog"
    "$FLOOD" --target "127.0.0.1:$PORT" --kind mix --rate 2000 --duration 5 --source-ips 64 \
        >"$WORK/flood.out" 2>"$WORK/flood.err" &
    FLOOD_PID=$!
    # Well into the flood: a server that keeps state for every 1200-byte Initial has filled
    # its 1024 handshake slots by now (800 a second of the mix look like Initials).
    sleep 2
    fetch 1m.bin
    wait "$FLOOD_PID" || fail "quic_flood failed"
    FLOOD_PID=
    echo "flood during the fetch: $(cat "$WORK/flood.out")"
    local traces
    traces=$(find "$WORK/qlog" -type f | wc -l)
    echo "qlog traces written: $traces"
    # 128 half-open connections (the automatic Retry threshold) plus the client's, with room
    # for the client's own retry of a lost datagram.
    ((traces <= 140)) || fail "$traces qlog traces for a flood of mostly junk"
    stop_server
    grep -q 'undecryptable Initials' "$WORK/server.log" || fail "no endpoint statistics"
    sed -n 's/.*endpoint: //p' "$WORK/server.log"
}

# Version Negotiation: never for a Version Negotiation packet (version 0) or a datagram under
# 1200 bytes; for unknown versions, rate-limited (at most ~100 a second after a burst of 16).
case_version_negotiation() {
    make_root
    start_server
    flood --kind vn --rate 2000 --duration 1
    [[ $(field replies) == 0 ]] || fail "Version Negotiation packets were answered"
    flood --kind short --rate 2000 --duration 1
    [[ $(field replies) == 0 ]] || fail "datagrams under 1200 bytes were answered"
    flood --kind unknown --rate 2000 --duration 1
    local vn seconds
    vn=$(field vn)
    seconds=$(sed -n 's/.*seconds \([0-9]*\)\..*/\1/p' "$WORK/flood.out")
    ((vn >= 1)) || fail "no Version Negotiation at all for unknown versions"
    # 16 at once, then 100 a second; the flood's own clock may run a little long.
    ((vn <= 16 + 100 * (seconds + 2))) || fail "$vn Version Negotiation replies to 2000 probes"
    fetch 1m.bin
    stop_server
}

# Memory after a flood: 4000 real Initials a second from 250 loopback addresses, without Retry,
# fill the handshake table (1024 half-open connections); once they are abandoned (5 s for an
# unvalidated client) the server's resident memory returns near its baseline.
case_memory() {
    make_root
    start_server --retry never
    fetch 1m.bin  # the baseline includes what one connection leaves behind
    sleep 1
    local baseline peak now
    baseline=$(rss_kb)
    flood --kind initial --rate 4000 --duration 1 --source-ips 250
    peak=$(rss_kb)
    echo "server RSS: baseline ${baseline} kB, after the flood ${peak} kB"
    ((peak > baseline + 4096)) || fail "the flood did not create state (${peak} kB): test broken"
    for _ in $(seq 1 100); do
        now=$(rss_kb)
        ((now <= baseline + 3072)) && break
        sleep 0.2
    done
    echo "server RSS once the half-open connections are gone: ${now} kB"
    ((now <= baseline + 3072)) || fail "RSS stays at ${now} kB (baseline ${baseline} kB)"
    fetch 1m.bin
    stop_server
    sed -n 's/.*endpoint: //p' "$WORK/server.log"
}

"case_$CASE"
echo "ok: $CASE"
