#!/usr/bin/env bash
# Shared by the integration scripts (sourced): the callers define QUIVER, WORK and fail().

# start_server [options...]: starts `quiver server -v` on 127.0.0.1:0 (unless --listen is
# given) and waits for its "listening on" line.
# SERVER_PREFIX (an array: ip netns exec NS) runs it somewhere else.
SERVER_PREFIX=()
start_server() {
    local listen=(--listen 127.0.0.1:0)
    [[ " $* " == *" --listen "* ]] && listen=()
    : >"$WORK/server.log"  # exists before the background job gets to open it
    "${SERVER_PREFIX[@]}" "$QUIVER" server "${listen[@]}" --root "$WORK/www" -v "$@" 2>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*listening on .*:\([0-9]*\) (.*/\1/p' "$WORK/server.log")
        [[ -n $PORT ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server did not start"
        sleep 0.05
    done
    fail "the server did not print its port"
}

# stop_server: SIGTERM, and the server must exit 0.
stop_server() {
    kill -TERM "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    [[ $rc == 0 ]] || fail "the server exited with $rc after SIGTERM"
}

# Captures with tshark whose start and end are proven, not guessed: on a busy machine dumpcap
# can start late or lag behind, and a fixed pause then loses the start or the tail (or all)
# of a transfer. A barrier datagram to the discard port (9) on lo must show up in tshark's
# live output (-l -P): everything sent before it was captured (lo keeps order).
#   capture_start PCAP FILTER [COMMAND PREFIX...]   e.g. ip netns exec NS
#   capture_stop
CAPTURE_PID=
CAPTURE_PREFIX=()
capture_start() {
    local pcap=$1 filter=$2
    shift 2
    CAPTURE_PREFIX=("$@")
    : >"$WORK/capture.out"
    : >"$WORK/tshark.log"
    "${CAPTURE_PREFIX[@]}" tshark -i lo -B 64 -l -P -f "($filter) or udp dst port 9" -w "$pcap" \
        >"$WORK/capture.out" 2>"$WORK/tshark.log" &
    CAPTURE_PID=$!
    capture_barrier
}

capture_barrier() {
    local before
    before=$(wc -l <"$WORK/capture.out")
    for _ in $(seq 1 100); do
        kill -0 "$CAPTURE_PID" 2>/dev/null || fail "tshark stopped: $(tail -n 3 "$WORK/tshark.log")"
        "${CAPTURE_PREFIX[@]}" bash -c 'echo barrier >/dev/udp/127.0.0.1/9' 2>/dev/null || true
        sleep 0.1
        (($(wc -l <"$WORK/capture.out") > before)) && return 0
    done
    fail "tshark did not capture its barrier datagram"
}

capture_stop() {
    capture_barrier
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" || true
    CAPTURE_PID=
}

# private_netns NAME: a network namespace of the test's own (the caller deletes $NS at exit)
# whose lo has UDP segmentation offload off, so that a capture there sees each GSO segment as
# the datagram it is (tshark cannot read a 64 KiB super-packet); $QUIVER then runs in it (exec:
# the PID stays quiver's, for start_server's signals). Capture with
# `capture_start PCAP FILTER ip netns exec "$NS"`.
private_netns() {
    NS=$1
    [[ $(id -u) == 0 ]] || fail "needs root (a network namespace)"
    ip netns add "$NS" || fail "cannot create network namespace $NS"
    ip -n "$NS" link set lo up
    ip netns exec "$NS" ethtool -K lo tx-udp-segmentation off >/dev/null 2>&1 ||
        fail "cannot turn UDP segmentation offload off on the namespace's lo"
    local binary=$QUIVER
    QUIVER=$WORK/quiver-in-netns
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$binary" >"$QUIVER"
    chmod +x "$QUIVER"
}
