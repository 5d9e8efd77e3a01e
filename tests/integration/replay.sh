#!/usr/bin/env bash
# quiver replay (docs/replay.md) on loopback against `quiver server`: expectations that hold
# and fail (exit 0 / 1, one line per failed expectation), malformed scripts (exit 2, the line
# and the field), `quiver client --record` recordings (qlogs) replayed with the same
# responses, malformed recordings (exit 2, the record and the field), and an ngtcp2 client
# qlog replayed.
#
#   replay.sh QUIVER CASE     (CASE: one of the functions named case_* below)
set -euo pipefail

QUIVER=$(realpath "$1")
CASE=$2
WORK=$(mktemp -d /tmp/quiver-replay.XXXXXX)
SERVER_PID=
PORT=
T=30

cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err "$WORK"/*.out "$WORK"/*.json; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" | cut -c1-300 >&2; }
    done
    exit 1
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$WORK/www"
echo "hello, replay" >"$WORK/www/hello.txt"
head -c 200000 /dev/urandom >"$WORK/www/big.bin"
head -c 5000 /dev/urandom >"$WORK/upload.bin"

# replay SCRIPT [options...]: stdout to $WORK/replay.out, stderr to $WORK/replay.err; sets RC.
replay() {
    RC=0
    timeout "$T" "$QUIVER" replay "$1" --connect "127.0.0.1:$PORT" -k "${@:2}" \
        >"$WORK/replay.out" 2>"$WORK/replay.err" || RC=$?
}
expect_rc() { [[ $RC == "$1" ]] || fail "exit $RC, expected $1${2:+ ($2)}"; }
has() { grep -qE -- "$2" "$1" || fail "$1 lacks /$2/"; }
lines() { [[ $(wc -l <"$1") == "$2" ]] || fail "$1 has $(wc -l <"$1") lines, expected $2"; }

get() {  # get STREAM PATH: a GET request record
    printf '{"action": "headers", "stream": "%s", "fin": true, "fields": [[":method", "GET"], [":scheme", "https"], [":authority", "{authority}"], [":path", "%s"]]}\n' "$1" "$2"
}

case_expectations() {
    start_server
    {
        echo '{"replay": 1, "title": "expectations"}'
        get a /hello.txt
        echo '{"action": "expect", "response": {"stream": "a", "status": 200, "fields": [["content-length", "14"]]}}'
        get b /missing
        echo '{"action": "expect", "response": {"stream": "b", "status": "4xx"}}'
        echo '{"action": "frame", "stream": "control", "type": "reserved", "hex": "00"}'
        echo '{"action": "wait", "ms": 20}'
        echo '{"action": "expect", "alive": true, "timeout_ms": 100}'
    } >"$WORK/ok.json"
    replay "$WORK/ok.json"
    expect_rc 0 "every expectation holds"
    has "$WORK/replay.out" '^a: 200, .*body 14 bytes$'
    has "$WORK/replay.out" '^b: 404'

    # Two expectations fail (a wrong status, a GOAWAY that never comes), one holds: exit 1,
    # one line each, naming the script's line.
    {
        get a /hello.txt
        echo '{"action": "expect", "response": {"stream": "a", "status": 404}, "timeout_ms": 300}'
        echo '{"action": "expect", "goaway": {}, "timeout_ms": 100}'
        echo '{"action": "expect", "response": {"stream": "a", "status": 200}}'
    } >"$WORK/bad.json"
    replay "$WORK/bad.json"
    expect_rc 1 "two expectations fail"
    lines "$WORK/replay.err" 2
    has "$WORK/replay.err" "bad.json line 2: expected response on a 404 within 300 ms; saw response a 200"
    has "$WORK/replay.err" "bad.json line 3: expected GOAWAY within 100 ms"

    # A protocol violation: the server closes the connection, and the expectation sees it.
    {
        echo '{"action": "data", "stream": "r", "text": "x", "fin": true}'
        echo '{"action": "expect", "connection_close": "H3_FRAME_UNEXPECTED"}'
    } >"$WORK/close.json"
    replay "$WORK/close.json" --json
    expect_rc 0 "the server closes with H3_FRAME_UNEXPECTED"
    has "$WORK/replay.out" '"reactions":\["CONNECTION_CLOSE H3_FRAME_UNEXPECTED"\]'
    stop_server
}

case_malformed_script() {
    PORT=9  # never reached: the script is read first
    printf '{"action": "wait", "ms": 1}\n{"action": "headers", "stream": "a", "fields": {}}\n' \
        >"$WORK/m.json"
    replay "$WORK/m.json"
    expect_rc 2 "malformed script"
    has "$WORK/replay.err" "m.json line 2: action 'headers': field 'fields' must be an array"
    head -c 3000 /dev/urandom >"$WORK/junk.json"
    replay "$WORK/junk.json"
    expect_rc 2 "junk"
    has "$WORK/replay.err" "junk.json line [0-9]+: not a JSON object"
    replay "$WORK/nonexistent.json"
    expect_rc 2 "no file"
}

# quiver client --record (a qlog), then quiver replay: the same statuses (checked by the
# recorded expectations), the same body sizes, the same request body length at the server
# (the bytes beyond --record-max-body go as 'x'), and `quiver qlog summary` reads the file.
case_record_replay() {
    start_server
    local base="https://127.0.0.1:$PORT"
    RC=0
    timeout "$T" "$QUIVER" client -k -s "$base/hello.txt" "$base/big.bin" "$base/missing" \
        -o "$WORK/1" -o "$WORK/2" -o "$WORK/3" --record "$WORK/get.sqlog" 2>"$WORK/client.err" || RC=$?
    expect_rc 0 "client GETs"
    timeout "$T" "$QUIVER" client -k -s "$base/up.bin" --data-binary @"$WORK/upload.bin" \
        -o "$WORK/4" --record "$WORK/post.sqlog" --record-max-body 1000 2>>"$WORK/client.err" || RC=$?
    expect_rc 0 "client POST"
    # A qlog (JSON-SEQ, the writer's header first) with the drafts' events and quiver's.
    [[ $(head -c 1 "$WORK/get.sqlog" | od -An -tx1 | tr -d ' ') == 1e ]] || fail "get.sqlog is not JSON-SEQ"
    has "$WORK/get.sqlog" '"file_schema":"urn:ietf:params:qlog:file:sequential"'
    has "$WORK/get.sqlog" '"name":"quic:parameters_set","data":\{"initiator":"local"'
    has "$WORK/get.sqlog" '"name":"quiver:connection_parameters","data":\{.*"sni":"127.0.0.1","alpn_offered":\["h3"\]'
    has "$WORK/get.sqlog" '"name":"http3:frame_created","data":\{"stream_id":8,"frame":\{"frame_type":"headers","headers":\[\{"name":":method","value":"GET"\},\{"name":":scheme","value":"https"\},\{"name":":authority","value":"127.0.0.1:'"$PORT"'"\},\{"name":":path","value":"/missing"\}'
    has "$WORK/get.sqlog" '"name":"quic:stream_state_updated","data":\{"stream_id":8,.*"new":"data_sent"'
    has "$WORK/post.sqlog" '"frame_type":"data","raw":\{"payload_length":5000,"data":"[0-9a-f]{2000}"\}\},"elided_bytes":4000,"elided":"4000 body bytes beyond --record-max-body 1000'
    for f in get post; do
        "$QUIVER" qlog summary "$WORK/$f.sqlog" >"$WORK/summary.out" 2>&1 || fail "qlog summary of $f.sqlog failed"
        has "$WORK/summary.out" "^$f.sqlog +client +quiver +v1 +h3"
    done

    for timing in recorded asap; do
        replay "$WORK/get.sqlog" --timing $timing
        expect_rc 0 "replay of the GETs ($timing)"
        has "$WORK/replay.out" "^s0: 200, .*body $(wc -c <"$WORK/1") bytes$"
        has "$WORK/replay.out" "^s4: 200, .*body $(wc -c <"$WORK/2") bytes$"
        has "$WORK/replay.out" "^s8: 404, .*body $(wc -c <"$WORK/3") bytes$"
    done
    replay "$WORK/post.sqlog"
    expect_rc 0 "replay of the POST"
    has "$WORK/replay.out" "^s0: 200"
    # The server saw 5000 request body bytes from the client and from the replay.
    [[ $(grep -c 'POST /up.bin: 5000 bytes' "$WORK/server.log") == 2 ]] ||
        fail "the server did not see 5000 body bytes twice"

    # The versions offered come from the recording (QUIC v2 only here), unless --versions says.
    timeout "$T" "$QUIVER" client -k -s "$base/hello.txt" -o "$WORK/5" --versions v2 \
        --record "$WORK/v2.sqlog" 2>>"$WORK/client.err" || RC=$?
    expect_rc 0 "client GET in v2"
    has "$WORK/v2.sqlog" '"versions_offered":\["6b3343cf"\]'
    replay "$WORK/v2.sqlog" -v
    expect_rc 0 "replay in v2"
    has "$WORK/replay.err" '^\* connected: version 0x6b3343cf, ALPN h3'
    replay "$WORK/v2.sqlog" -v --versions v1
    expect_rc 0 "replay in v1 (--versions)"
    has "$WORK/replay.err" '^\* connected: version 0x00000001, ALPN h3'
    stop_server
}

# A recording that is malformed: exit 2 and one line naming the record and the field.
case_malformed_recording() {
    start_server
    RC=0
    timeout "$T" "$QUIVER" client -k -s "https://127.0.0.1:$PORT/hello.txt" -o "$WORK/1" \
        --record "$WORK/good.sqlog" 2>"$WORK/client.err" || RC=$?
    expect_rc 0 "client GET"
    stop_server
    PORT=9  # never reached: the recording is read first
    local n
    n=$(grep -c $'\x1e' "$WORK/good.sqlog")
    # Truncated: the last record cut in half.
    head -c -40 "$WORK/good.sqlog" >"$WORK/cut.sqlog"
    replay "$WORK/cut.sqlog"
    expect_rc 2 "truncated"
    lines "$WORK/replay.err" 1
    has "$WORK/replay.err" "cut.sqlog record $n: not a JSON object \(truncated\?\)"
    # An event a recording does not have.
    { cat "$WORK/good.sqlog"; printf '\x1e{"time":9,"name":"quic:packet_sent","data":{}}\n'; } >"$WORK/unknown.sqlog"
    replay "$WORK/unknown.sqlog"
    expect_rc 2 "unknown event"
    lines "$WORK/replay.err" 1
    has "$WORK/replay.err" "unknown.sqlog record $((n + 1)): unknown event 'quic:packet_sent'"
    # A field left out: the HEADERS record's stream_id.
    sed 's/"name":"http3:frame_created","data":{"stream_id":0,/"name":"http3:frame_created","data":{/' \
        "$WORK/good.sqlog" >"$WORK/missing.sqlog"
    replay "$WORK/missing.sqlog"
    expect_rc 2 "missing field"
    lines "$WORK/replay.err" 1
    has "$WORK/replay.err" "missing.sqlog record [0-9]+: event 'http3:frame_created': field 'stream_id' is missing"
}

# Another stack's client trace (ngtcp2's, tests/data/qlog/): its request, with the path
# given, and what the trace lacks said on stderr.
case_qlog_trace() {
    start_server
    replay "$(dirname "${BASH_SOURCE[0]}")/../data/qlog/ngtcp2-0.12_client.sqlog" --path /hello.txt
    expect_rc 0 "replay of a trace"
    has "$WORK/replay.out" "^s0: 200, .*body 14 bytes$"
    has "$WORK/replay.err" "the trace has no HTTP/3 events: methods, paths and fields are not in it"
    has "$WORK/replay.err" "request bodies are not in the trace"
    stop_server
}

"case_$CASE"
echo "ok ($CASE)"
