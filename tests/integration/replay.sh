#!/usr/bin/env bash
# quiver replay (docs/replay.md) on loopback against `quiver server`: expectations that hold
# and fail (exit 0 / 1, one line per failed expectation), malformed scripts (exit 2, the line
# and the field), `quiver client --record` replayed with the same responses, and an ngtcp2
# client qlog replayed.
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

# quiver client --record, then quiver replay: the same statuses (checked by the recorded
# expectations) and the same body sizes.
case_record_replay() {
    start_server
    local base="https://127.0.0.1:$PORT"
    RC=0
    timeout "$T" "$QUIVER" client -k -s "$base/hello.txt" "$base/big.bin" "$base/missing" \
        -o "$WORK/1" -o "$WORK/2" -o "$WORK/3" --record "$WORK/get.json" 2>"$WORK/client.err" || RC=$?
    expect_rc 0 "client GETs"
    timeout "$T" "$QUIVER" client -k -s "$base/up.bin" --data-binary @"$WORK/upload.bin" \
        -o "$WORK/4" --record "$WORK/post.json" --record-max-body 1000 2>>"$WORK/client.err" || RC=$?
    expect_rc 0 "client POST"
    has "$WORK/post.json" '"elided":"4000 body bytes beyond --record-max-body 1000'

    for timing in recorded asap; do
        replay "$WORK/get.json" --timing $timing
        expect_rc 0 "replay of the GETs ($timing)"
        has "$WORK/replay.out" "^s0: 200, .*body 14 bytes$"
        has "$WORK/replay.out" "^s1: 200, .*body 200000 bytes$"
        has "$WORK/replay.out" "^s2: 404"
    done
    replay "$WORK/post.json"
    expect_rc 0 "replay of the POST"
    # The server echoes the body size it received: the elided bytes went as 'x'.
    has "$WORK/replay.out" "^s0: 200"
    stop_server
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
