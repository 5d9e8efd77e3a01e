#!/usr/bin/env bash
# The real quiver binary on loopback running the perf protocol (draft-banks-quic-performance)
# and the HTTP/3 load mode: `quiver perf server` (or `quiver server` for h3) and `quiver perf
# client` / `quiver perf h3` with --json, whose NDJSON is checked for consistency: the bytes
# reported are the bytes asked for, the requests counted are the responses received, the
# handshakes counted are the connections the server saw, the intervals add up to the summary.
# No speed is ever asserted.
#
#   perf.sh QUIVER CASE     (CASE: one of the functions named case_* below)
#
# Servers listen on 127.0.0.1:0 (the port is read back from their "listening on" line),
# clients run under `timeout`, and everything is removed at exit. The wire case runs in a
# network namespace of its own (exit 77, skipped, where that is not possible).
set -euo pipefail

QUIVER=$(realpath "$1")
CASE=$2
WORK=$(mktemp -d /tmp/quiver-perf.XXXXXX)
SERVER_PID=
PORT=
T=60

cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
    if [[ -n ${CAPTURE_PID:-} ]] && kill -0 "$CAPTURE_PID" 2>/dev/null; then kill -KILL "$CAPTURE_PID"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err "$WORK"/*.json; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 20 "$f" | cut -c1-600 >&2; }
    done
    exit 1
}

# start_perf_server [options...]: `quiver perf server --json -q` on 127.0.0.1:0 (unless
# --listen is given); NDJSON to $WORK/server.json.
start_perf_server() {
    local listen=(--listen 127.0.0.1:0)
    [[ " $* " == *" --listen "* ]] && listen=()
    : >"$WORK/server.log"
    "$QUIVER" perf server "${listen[@]}" --json -q "$@" >"$WORK/server.json" 2>"$WORK/server.log" &
    SERVER_PID=$!
    wait_for_port
}

# start_h3_server [options...]: `quiver server` serving $WORK/www.
start_h3_server() {
    mkdir -p "$WORK/www"
    head -c 1024 /dev/urandom >"$WORK/www/1k"
    head -c 3000 /dev/urandom >"$WORK/www/3000"
    : >"$WORK/server.log"
    "$QUIVER" server --listen 127.0.0.1:0 --root "$WORK/www" "$@" 2>"$WORK/server.log" &
    SERVER_PID=$!
    wait_for_port
}

wait_for_port() {
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*listening on .*:\([0-9]*\) (.*/\1/p' "$WORK/server.log")
        [[ -n $PORT ]] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server did not start"
        sleep 0.05
    done
    fail "the server did not print its port"
}

# stop_server: SIGINT; the server must exit 0 (and a perf server prints its summary).
stop_server() {
    kill -INT "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    [[ $rc == 0 ]] || fail "the server exited with $rc after SIGINT"
}

# pc [options...]: quiver perf client --json against the server; sets RC.
pc() {
    RC=0
    timeout "$T" "$QUIVER" perf client -k "127.0.0.1:$PORT" --json "$@" \
        >"$WORK/client.json" 2>"$WORK/client.err" || RC=$?
}

# ph3 [options...] PATH...: quiver perf h3 --json on the server's URLs; sets RC.
ph3() {
    local args=() a
    for a in "$@"; do
        if [[ $a == /* ]]; then args+=("https://127.0.0.1:$PORT$a"); else args+=("$a"); fi
    done
    RC=0
    timeout "$T" "$QUIVER" perf h3 -k --json "${args[@]}" >"$WORK/client.json" \
        2>"$WORK/client.err" || RC=$?
}

expect_rc() { [[ $RC == "$1" ]] || fail "exit $RC, expected $1${2:+ ($2)}"; }
# The summary's FIELD (a jq path) in the client's or the server's NDJSON.
cj() { jq -r "select(.type == \"summary\") | $1" "$WORK/client.json"; }
sj() { jq -r "select(.type == \"summary\") | $1" "$WORK/server.json"; }
eq() { [[ $1 == "$2" ]] || fail "$3: $1, expected $2"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' || fail "$3: $1, expected at least $2"; }
# The sum of FIELD over the client's interval objects after the warmup.
intervals_sum() {
    jq -s "[.[] | select(.type == \"interval\" and (.warmup | not)) | $1] | add // 0" \
        "$WORK/client.json"
}
# Every request ended well, and the intervals add up to the summary.
check_client_summary() {
    expect_rc 0 "$(cat "$WORK/client.err")"
    [[ $(jq -s '[.[] | select(.type == "summary")] | length' "$WORK/client.json") == 1 ]] ||
        fail "not one summary object"
    eq "$(cj .request_errors)" 0 "request errors"
    for f in bytes_received bytes_sent requests; do
        eq "$(intervals_sum ".$f")" "$(cj ".$f")" "$f: intervals against the summary"
    done
}

# --- bulk ---------------------------------------------------------------------------------------

case_download() {
    start_perf_server
    pc --download 3M --streams 4
    check_client_summary
    eq "$(cj .bytes_received)" 12000000 "bytes received (4 streams x 3 MB)"
    eq "$(cj .requests)" 4 "requests"
    eq "$(cj .latency_ms.count)" 4 "latencies"
    eq "$(cj .handshakes)" 1 "handshakes"
    ge "$(cj .cpu_s)" 0 "CPU seconds"
    stop_server
    eq "$(sj .bytes_sent)" 12000000 "server bytes sent"
    eq "$(sj .responses)" 4 "server responses"
    eq "$(sj .connections)" 1 "server connections"
}

case_upload_uni() {
    start_perf_server
    pc --upload 2MiB --streams 2 --uni --connections 2
    check_client_summary
    eq "$(cj .bytes_sent)" $((4 * 2097152)) "bytes sent (2 connections x 2 streams x 2 MiB)"
    eq "$(cj .bytes_received)" 0 "bytes received"
    eq "$(cj .requests)" 4 "requests"
    eq "$(cj .config.bidirectional)" false "stream kind"
    stop_server
    eq "$(sj .bytes_received)" $((4 * 2097152)) "server bytes received"
    eq "$(sj .requests)" 4 "server requests"
    eq "$(sj .connections)" 2 "server connections"
}

# An unlimited download (2^64-1) per stream, ended by STOP_SENDING when --duration ends.
case_duration() {
    start_perf_server
    pc --duration 1 --streams 2 --interval 0.25
    check_client_summary
    eq "$(cj .stopped)" 2 "requests stopped"
    eq "$(cj .requests)" 0 "requests completed"
    ge "$(cj .bytes_received)" 1 "bytes received"
    ge "$(jq -s '[.[] | select(.type == "interval")] | length' "$WORK/client.json")" 3 "intervals"
    local got
    got=$(cj .bytes_received)
    stop_server
    eq "$(sj .responses_stopped)" 2 "server responses stopped"
    ge "$(sj .bytes_sent)" "$got" "server bytes sent"
}

# An unlimited upload ends with the client's FIN: the server counts every byte sent.
case_upload_duration() {
    start_perf_server
    pc --upload unlimited --duration 1
    check_client_summary
    eq "$(cj .requests)" 1 "requests"
    local sent
    sent=$(cj .bytes_sent)
    ge "$sent" 1 "bytes sent"
    stop_server
    eq "$(sj .bytes_received)" "$sent" "server bytes received"
}

# Above the server's --max-response the request is refused (RESET_STREAM): exit 1, counted.
case_refused() {
    start_perf_server --max-response 1M
    pc --download 2M
    expect_rc 1 "a refused request"
    eq "$(cj .request_errors)" 1 "request errors"
    grep -q "reset with error 1" "$WORK/client.err" || fail "the refusal is not named"
    pc --download 1M
    check_client_summary
    stop_server
    eq "$(sj .refused)" 1 "server refusals"
    eq "$(sj .responses)" 1 "server responses"
}

# --- requests -----------------------------------------------------------------------------------

case_rps() {
    start_perf_server
    pc --rps --connections 3 --streams 4 --request-size 1K --response-size 1K -n 600
    check_client_summary
    eq "$(cj .requests)" 600 "requests"
    eq "$(cj .latency_ms.count)" 600 "latencies"
    eq "$(cj .bytes_received)" 600000 "bytes received"
    eq "$(cj .bytes_sent)" 600000 "bytes sent"
    eq "$(cj .handshakes)" 3 "handshakes"
    stop_server
    eq "$(sj .requests)" 600 "server requests"
    eq "$(sj .responses)" 600 "server responses"
    eq "$(sj .bytes_received)" 600000 "server bytes received"
}

# --warmup: the summary leaves the first second out; the intervals after it add up to it.
case_warmup() {
    start_perf_server
    pc --rps --streams 2 --duration 1 --warmup 1 --interval 0.5
    check_client_summary
    ge "$(jq -s '[.[] | select(.type == "interval" and .warmup)] | length' "$WORK/client.json")" \
        1 "warmup intervals"
    ge "$(cj .requests)" 1 "requests"
    ge "$(cj .duration_s)" 0.5 "measured seconds"
    stop_server
    ge "$(sj .responses)" "$(cj .requests)" "server responses"
}

# Open loop at a fixed rate: every request sent is answered and timed.
case_rate() {
    start_perf_server
    pc --rate 400 -n 200 --connections 2 --response-size 100
    check_client_summary
    eq "$(cj .requests)" 200 "requests"
    eq "$(cj .latency_ms.count)" 200 "latencies"
    eq "$(cj .bytes_received)" 20000 "bytes received"
    eq "$(cj .dropped)" 0 "dropped"
    ge "$(cj .duration_s)" 0.4 "a run at 400/s for 200 requests"
    stop_server
    eq "$(sj .responses)" 200 "server responses"
}

case_scenario() {
    start_perf_server
    cat >"$WORK/scenario.txt" <<'EOF'
# a page, then its images on unidirectional streams, then an upload
id=page,download=50K,upload=300
id=img, repeat=5, after=page, download=20K, uni   # 5 x 20 kB
id=post, after=img, upload=1MiB; download=7
EOF
    pc --scenario "@$WORK/scenario.txt" --connections 2
    check_client_summary
    eq "$(cj .requests)" 16 "requests (2 x 8)"
    eq "$(cj .bytes_received)" $((2 * (50000 + 5 * 20000 + 7))) "bytes received"
    eq "$(cj .bytes_sent)" $((2 * (300 + 1048576))) "bytes sent"
    stop_server
    eq "$(sj .responses)" 16 "server responses"
}

# --- handshakes ---------------------------------------------------------------------------------

case_hps() {
    start_perf_server
    pc --hps --connections 4 -n 60
    check_client_summary
    eq "$(cj .handshakes)" 60 "handshakes"
    eq "$(cj .handshake_ms.count)" 60 "handshake times"
    eq "$(cj .resumed)" 0 "resumed"
    pc --hps --resume --connections 3 -n 40
    check_client_summary
    eq "$(cj .handshakes)" 40 "handshakes with --resume"
    eq "$(cj .resumed)" 39 "resumed (all but the first)"
    stop_server
    eq "$(sj .connections)" 100 "connections the server saw"
    eq "$(sj .requests)" 0 "server requests"
}

# --- held connections --------------------------------------------------------------------------

# --hold: every connection is made (16 handshakes at a time: the server refuses a 33rd half-open
# one from one source) and still open when the hold ends, though the idle timeout (1 s on both
# ends) is shorter than the hold: the client's PINGs keep them open. No request is made.
case_hold() {
    start_perf_server --max-idle-timeout 1
    pc --hold 2.5 --connections 50 --max-idle-timeout 1 --interval 0.5
    check_client_summary
    eq "$(cj .connections)" 50 "connections dialed"
    eq "$(cj .handshakes)" 50 "handshakes"
    eq "$(cj .handshake_failures)" 0 "handshake failures"
    eq "$(cj .held)" 50 "connections held to the end"
    eq "$(cj .requests)" 0 "requests"
    grep -q "holding 50 connections" "$WORK/client.err" || fail "no 'holding' line"
    ge "$(jq -s '[.[] | select(.type == "interval")] | length' "$WORK/client.json")" 4 \
        "intervals over the hold"
    stop_server
    eq "$(sj .connections)" 50 "connections the server saw"
    eq "$(sj .connections_closed)" 50 "connections closed (by the client, after the hold)"
    eq "$(sj .streams)" 0 "server streams"
}

# --- 0-RTT --------------------------------------------------------------------------------------

# --0rtt against a --0rtt server: every resumed handshake carries its request in 0-RTT and the
# server accepts it; the bulk/rps modes fetch a ticket on an untimed first connection, then
# every measured connection starts with 0-RTT requests.
case_zero_rtt() {
    start_perf_server --0rtt
    pc --hps --resume --0rtt --connections 3 -n 30 --request-size 100 --response-size 1000
    check_client_summary
    eq "$(cj .handshakes)" 30 "handshakes"
    eq "$(cj .resumed)" 29 "resumed (all but the first)"
    local accepted
    accepted=$(cj .zero_rtt_accepted)
    ge "$accepted" 1 "0-RTT accepted"
    ge "$accepted" $(($(cj .resumed) - 1)) "0-RTT accepted against resumed (all but at most one)"
    ge "$(cj .resumed)" "$accepted" "0-RTT accepted against resumed"
    eq "$(cj .zero_rtt_rejected)" 0 "0-RTT rejected"
    eq "$(cj .requests)" 30 "requests (one per handshake)"
    eq "$(cj .bytes_sent)" 3000 "bytes sent"
    eq "$(cj .bytes_received)" 30000 "bytes received"
    eq "$(cj .latency_ms.count)" 30 "latencies"
    eq "$(intervals_sum .zero_rtt_accepted)" "$accepted" "0-RTT accepted: intervals against the summary"
    pc --0rtt --rps --connections 2 --streams 3 -n 200 --request-size 10 --response-size 100
    check_client_summary
    eq "$(cj .handshakes)" 2 "rps handshakes (the ticket's connection is not counted)"
    eq "$(cj .zero_rtt_accepted)" 2 "rps 0-RTT accepted"
    eq "$(cj .requests)" 200 "rps requests"
    eq "$(cj .bytes_received)" 20000 "rps bytes received"
    accepted=$((accepted + 2))
    stop_server
    eq "$(sj .zero_rtt_accepted)" "$accepted" "0-RTT accepted by the server"
    eq "$(sj .connections)" 33 "server connections (30 + the ticket's + 2)"
    eq "$(sj .responses)" 230 "server responses"
}

# Rejected 0-RTT: every request still completes, resent in 1-RTT (RFC 9001 §4.6.2). A server
# without --0rtt issues tickets that allow no early data, so nothing is offered; a ticket that
# allows it (kept in --session-file from a --0rtt server) offered to a restarted server without
# --0rtt (which cannot decrypt it) is rejected.
case_zero_rtt_rejected() {
    start_perf_server
    pc --hps --resume --0rtt --connections 2 -n 10 --response-size 100
    check_client_summary
    eq "$(cj .requests)" 10 "requests"
    eq "$(cj .zero_rtt_accepted)" 0 "0-RTT accepted by a server without --0rtt"
    eq "$(cj .zero_rtt_rejected)" 0 "0-RTT offered on tickets that do not allow it"
    grep -q "none offered" "$WORK/client.err" || fail "the summary does not say none was offered"
    stop_server
    start_perf_server --0rtt
    local port=$PORT
    pc --0rtt --rps -n 5 --session-file "$WORK/session"
    check_client_summary
    cp "$WORK/session" "$WORK/session2"
    stop_server
    start_perf_server --listen "127.0.0.1:$port"
    PORT=$port
    pc --hps --resume --0rtt --connections 3 -n 12 --response-size 500 --session-file "$WORK/session"
    check_client_summary
    eq "$(cj .zero_rtt_accepted)" 0 "0-RTT accepted"
    ge "$(cj .zero_rtt_rejected)" 1 "0-RTT rejected"
    eq "$(cj .requests)" 12 "requests"
    eq "$(cj .bytes_received)" 6000 "bytes received"
    pc --0rtt --rps --connections 2 -n 40 --response-size 100 --session-file "$WORK/session2"
    check_client_summary
    eq "$(cj .zero_rtt_rejected)" 2 "rps 0-RTT rejected"
    eq "$(cj .requests)" 40 "rps requests"
    eq "$(cj .bytes_received)" 4000 "rps bytes received"
    stop_server
    eq "$(sj .zero_rtt_accepted)" 0 "0-RTT accepted by the server"
    eq "$(sj .responses)" 52 "server responses"
}

# --- HTTP/3 -------------------------------------------------------------------------------------

case_h3() {
    start_h3_server
    ph3 -n 300 -c 3 -m 5 /1k /missing /3000
    expect_rc 0 "$(cat "$WORK/client.err")"
    eq "$(cj .requests)" 300 "requests"
    eq "$(cj .request_errors)" 0 "request errors"
    eq "$(cj '.statuses["200"]')" 200 "200 responses"
    eq "$(cj '.statuses["404"]')" 100 "404 responses"
    eq "$(cj .ttfb_ms.count)" 300 "ttfb values"
    eq "$(cj .latency_ms.count)" 300 "latencies"
    local body404
    body404=$(curl_like_404_size)
    eq "$(cj .bytes_received)" $((100 * 1024 + 100 * 3000 + 100 * body404)) "body bytes"
    eq "$(cj .handshakes)" 3 "handshakes"
    # Handshakes per second against an HTTP/3 server (ALPN h3).
    pc --hps --alpn h3 --connections 2 -n 30
    check_client_summary
    eq "$(cj .handshakes)" 30 "h3 handshakes"
    stop_server
}

# perf h3 --0rtt against `quiver server --0rtt`: each connection's first requests go in 0-RTT.
case_h3_0rtt() {
    start_h3_server --0rtt
    ph3 --0rtt -n 60 -c 2 -m 3 /1k
    expect_rc 0 "$(cat "$WORK/client.err")"
    eq "$(cj .requests)" 60 "requests"
    eq "$(cj '.statuses["200"]')" 60 "200 responses"
    eq "$(cj .bytes_received)" $((60 * 1024)) "body bytes"
    eq "$(cj .handshakes)" 2 "handshakes (the ticket's connection is not counted)"
    eq "$(cj .zero_rtt_accepted)" 2 "0-RTT accepted"
    eq "$(cj .zero_rtt_rejected)" 0 "0-RTT rejected"
    stop_server
}

# The size of quiver server's 404 body, through quiver client.
curl_like_404_size() {
    timeout "$T" "$QUIVER" client -k -s "https://127.0.0.1:$PORT/missing" 2>/dev/null | wc -c
}

case_h3_duration() {
    start_h3_server
    ph3 --duration 1 -c 2 -m 4 --interval 0.5 /1k
    expect_rc 0 "$(cat "$WORK/client.err")"
    ge "$(cj .requests)" 1 "requests"
    eq "$(cj '.statuses["200"]')" "$(cj .requests)" "200 responses"
    # Body bytes: every completed response's 1024, plus what arrived of the (at most -c x -m = 8)
    # responses still on their way when --duration ended.
    ge "$(cj .bytes_received)" $(($(cj .requests) * 1024)) "body bytes"
    ge $((($(cj .requests) + 8) * 1024)) "$(cj .bytes_received)" "body bytes (at most 8 partial)"
    eq "$(intervals_sum .requests)" "$(cj .requests)" "requests: intervals against the summary"
    stop_server
}

# --- qlog ---------------------------------------------------------------------------------------

# --qlog-dir on both ends: a trace per connection, written by the time each command exits.
case_qlog() {
    start_perf_server --qlog-dir "$WORK/qlog-server"
    pc --download 100K --connections 2 --qlog-dir "$WORK/qlog-client"
    check_client_summary
    stop_server
    eq "$(find "$WORK/qlog-client" -name '*_client.sqlog' -size +0 | wc -l)" 2 "client traces"
    eq "$(find "$WORK/qlog-server" -name '*_server.sqlog' -size +0 | wc -l)" 2 "server traces"
    grep -q '"perf"' "$WORK"/qlog-client/*.sqlog || fail "no ALPN perf in the client's traces"
}

# --- the command line ---------------------------------------------------------------------------

case_usage() {
    PORT=9  # nothing is dialed: every one is a usage error
    for args in "--download unlimited" "--rps --hps" "--download 1X" "--scenario id=a,after=b" \
        "--scenario upload=1M,frobnicate=2" "--resume --rps" "--alpn h3 --rps" "--count 5" "--hold 1 --rps" \
        "--hold 1 --duration 2" "--hold 1 --download 1M" "--hps --0rtt"; do
        # shellcheck disable=SC2086
        pc $args
        expect_rc 2 "quiver perf client $args"
    done
    RC=0
    "$QUIVER" perf h3 https://127.0.0.1:9/ >/dev/null 2>&1 || RC=$?
    expect_rc 2 "perf h3 without -n or --duration"
}

# --- the wire -----------------------------------------------------------------------------------

# tshark, with the key log of both ends, sees the 8-byte request prefix at the start of each
# stream (§2.3.1) and the ALPN perf in the ClientHello and the server's EncryptedExtensions.
case_wire() { in_own_netns wire_in_netns; }

case_wire_in_netns() {
    local port=4433
    wire_capture_start "$port"
    start_perf_server --listen "127.0.0.1:$port"
    pc --scenario "download=1234,upload=100; download=5,uni"
    check_client_summary
    stop_server
    wire_capture_stop "$port"
    tshark -r "$WORK/capture.pcapng" -d "udp.port==$port,quic" -o "tls.keylog_file:$WORK/keys.log" \
        -Y "quic && udp.dstport == $port && ip.dst == 127.0.0.1" -T fields -E separator=/t \
        -E occurrence=a -E aggregator=, -e quic.stream.stream_id -e quic.stream_data \
        -e tls.handshake.extensions_alpn_str >"$WORK/c2s.tsv" 2>"$WORK/tshark.log"
    tshark -r "$WORK/capture.pcapng" -d "udp.port==$port,quic" -o "tls.keylog_file:$WORK/keys.log" \
        -Y "quic && udp.srcport == $port" -T fields -E occurrence=a -E aggregator=, \
        -e tls.handshake.extensions_alpn_str >"$WORK/s2c.tsv" 2>>"$WORK/tshark.log"
    # Stream 0 (bidirectional): 0x4d2 = 1234, then the 100 uploaded zeros; stream 2
    # (unidirectional): 5.
    stream_starts_with 0 00000000000004d2 || fail "no request prefix 00000000000004d2 on stream 0"
    stream_starts_with 2 0000000000000005 || fail "no request prefix 0000000000000005 on stream 2"
    cut -f3 "$WORK/c2s.tsv" | grep -cx perf >/dev/null || fail "no ALPN perf in the ClientHello"
    grep -qx perf "$WORK/s2c.tsv" || fail "no ALPN perf from the server"
}

# 0-RTT on the wire: with --hps --resume --0rtt, tshark (with the key log) sees the client's
# 0-RTT long-header packets carrying the perf request's 8-byte prefix on stream 0.
case_wire_0rtt() { in_own_netns wire_0rtt_in_netns; }

case_wire_0rtt_in_netns() {
    local port=4433
    wire_capture_start "$port"
    start_perf_server --listen "127.0.0.1:$port" --0rtt
    pc --hps --resume --0rtt -n 4 --response-size 1234
    check_client_summary
    ge "$(cj .zero_rtt_accepted)" 1 "0-RTT accepted"
    stop_server
    wire_capture_stop "$port"
    # One line per client packet: its long-header type (1: 0-RTT, RFC 9000 §17.2.3), its
    # stream ids and data.
    tshark -r "$WORK/capture.pcapng" -d "udp.port==$port,quic" -o "tls.keylog_file:$WORK/keys.log" \
        -Y "quic && udp.dstport == $port && ip.dst == 127.0.0.1" -T fields -E separator=/t \
        -E occurrence=a -E aggregator=, -e quic.long.packet_type -e quic.stream.stream_id \
        -e quic.stream_data >"$WORK/c2s.tsv" 2>"$WORK/tshark.log"
    # 0x4d2 = 1234: the request asks for 1234 bytes.
    awk -F'\t' '$1 ~ /(^|,)1(,|$)/ {
        n = split($2, ids, ","); split($3, data, ",")
        for (i = 1; i <= n; i++) { d = data[i]; gsub(":", "", d); if (ids[i] == 0 && index(d, "00000000000004d2") == 1) found++ }
    } END { exit !(found >= 1) }' "$WORK/c2s.tsv" ||
        fail "no 0-RTT packet carrying the request prefix 00000000000004d2 on stream 0"
}

# stream_starts_with ID HEX: a STREAM frame of the client's on stream ID whose data starts
# with HEX (frames of one packet are comma-joined by tshark, ids and data alike).
stream_starts_with() {
    awk -F'\t' -v id="$1" -v hex="$2" '{
        n = split($1, ids, ","); split($2, data, ",")
        for (i = 1; i <= n; i++) { d = data[i]; gsub(":", "", d); if (ids[i] == id && index(d, hex) == 1) found = 1 }
    } END { exit !found }' "$WORK/c2s.tsv"
}

# mark ADDR PORT: a datagram to ADDR:PORT (nobody listens) until the capture file holds it:
# the capture has started (or has everything sent before).
# in_own_netns CASE: runs this script's CASE in a network namespace of its own (root, unshare
# and tshark needed, else skipped).
in_own_netns() {
    [[ $(id -u) == 0 ]] && command -v unshare >/dev/null && command -v tshark >/dev/null || {
        echo "SKIP: needs root, unshare and tshark" >&2
        exit 77
    }
    unshare --net -- bash "${BASH_SOURCE[0]}" "$QUIVER" "$1"
}

# wire_capture_start PORT / wire_capture_stop PORT: dumpcap on the namespace's lo for PORT, its
# start and end proven by markers (mark), with the key log of both ends in $WORK/keys.log.
# gso_max_segs 1: the kernel splits GSO batches before lo, so tshark sees datagrams.
wire_capture_start() {
    ip link set dev lo up gso_max_segs 1
    dumpcap -i lo -f "udp port $1" -w "$WORK/capture.pcapng" -q 2>"$WORK/dumpcap.log" &
    CAPTURE_PID=$!
    mark 127.0.0.2 "$1"
    export SSLKEYLOGFILE=$WORK/keys.log
}

wire_capture_stop() {
    mark 127.0.0.3 "$1"
    kill -INT "$CAPTURE_PID"
    wait "$CAPTURE_PID" || true
    CAPTURE_PID=
}

mark() {
    for i in $(seq 1 100); do
        ((i % 10 == 1)) && printf "quiver-perf-marker-%s" "$1" >"/dev/udp/$1/$2" 2>/dev/null || true
        grep -aqF "quiver-perf-marker-$1" "$WORK/capture.pcapng" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "the capture did not see the marker to $1"
}

"case_$CASE"
