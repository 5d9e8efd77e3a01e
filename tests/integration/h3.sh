#!/usr/bin/env bash
# The real quiver binary on loopback over HTTP/3: `quiver server` serving a temporary
# directory, `quiver client` used like curl (its default ALPN is h3).
#
#   h3.sh QUIVER CASE     (CASE: one of the functions named case_* below)
#
# Every server listens on 127.0.0.1:0 (the port is read back from its "listening on" line),
# every client runs under `timeout`, and everything is removed at exit.
set -euo pipefail

QUIVER=$(realpath "$1")
CASE=$2
WORK=$(mktemp -d /tmp/quiver-h3.XXXXXX)
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
    for f in "$WORK"/*.log "$WORK"/*.err "$WORK"/*.out; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" | cut -c1-300 >&2; }
    done
    exit 1
}

# The served directory: text, HTML and binary files, a sub-directory with an index.html, one
# without, and a secret outside the root reachable through a symlink.
make_root() {
    mkdir -p "$WORK/www/sub" "$WORK/www/dir/inner" "$WORK/out" "$WORK/up/nested"
    echo "hello, h3" >"$WORK/www/hello.txt"
    echo "<p>page</p>" >"$WORK/www/page.html"
    echo '{"a":1}' >"$WORK/www/data.json"
    echo "<p>sub index</p>" >"$WORK/www/sub/index.html"
    echo "listed" >"$WORK/www/dir/listed.txt"
    for i in $(seq 1 30); do head -c $((i * 101)) /dev/urandom >"$WORK/www/small$i.bin"; done
    head -c $((5 * 1024 * 1024)) /dev/urandom >"$WORK/www/5m.bin"
    echo "top secret" >"$WORK/secret.txt"
    ln -s "$WORK/secret.txt" "$WORK/www/escape.txt"
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# client [options...] URL...: quiver client -k, stdout to $WORK/client.out, stderr to
# $WORK/client.err; sets RC.
client() {
    RC=0
    timeout "$T" "$QUIVER" client -k "$@" >"$WORK/client.out" 2>"$WORK/client.err" || RC=$?
}

url() { echo "https://127.0.0.1:$PORT/$1"; }
same() { cmp -s "$1" "$2" || fail "$2 differs from $1"; }
expect_rc() { [[ $RC == "$1" ]] || fail "client exit $RC, expected $1${2:+ ($2)}"; }
has() { grep -qiE -- "$2" "$1" || fail "$1 lacks /$2/"; }
lacks() { if grep -qiE -- "$2" "$1"; then fail "$1 has /$2/"; fi; }

# --- cases -------------------------------------------------------------------------------------

# Body to stdout; -o FILE; -O (remote name, in the working directory); --output-dir.
case_output() {
    make_root
    start_server
    client "$(url hello.txt)"
    expect_rc 0
    same "$WORK/www/hello.txt" "$WORK/client.out"
    client -o "$WORK/out/renamed" "$(url 5m.bin)"
    expect_rc 0
    same "$WORK/www/5m.bin" "$WORK/out/renamed"
    [[ ! -s $WORK/client.out ]] || fail "-o: something went to stdout"
    (cd "$WORK/out" && RC=0 && timeout "$T" "$QUIVER" client -k -O "$(url data.json)") ||
        fail "-O failed"
    same "$WORK/www/data.json" "$WORK/out/data.json"
    mkdir "$WORK/od"
    client --output-dir "$WORK/od" "$(url page.html)" "$(url small3.bin)"
    expect_rc 0
    same "$WORK/www/page.html" "$WORK/od/page.html"
    same "$WORK/www/small3.bin" "$WORK/od/small3.bin"
    client --output-dir "$WORK/od" -o x.txt "$(url hello.txt)"
    expect_rc 0
    same "$WORK/www/hello.txt" "$WORK/od/x.txt"
    stop_server
}

# Many URLs over one connection, concurrently: files, and stdout in URL order.
case_many() {
    make_root
    start_server
    local urls=("$(url 5m.bin)") expected=()
    for i in $(seq 1 30); do urls+=("$(url "small$i.bin")"); done
    client --output-dir "$WORK/out" "${urls[@]}"
    expect_rc 0
    same "$WORK/www/5m.bin" "$WORK/out/5m.bin"
    for i in $(seq 1 30); do same "$WORK/www/small$i.bin" "$WORK/out/small$i.bin"; done
    urls=() expected=()
    for i in 30 1 17 5; do urls+=("$(url "small$i.bin")"); expected+=("$WORK/www/small$i.bin"); done
    client "${urls[@]}"
    expect_rc 0
    cat "${expected[@]}" >"$WORK/expected"
    same "$WORK/expected" "$WORK/client.out"
    stop_server
    local n
    n=$(grep -c 'new connection' "$WORK/server.log")
    [[ $n == 2 ]] || fail "$n connections for two client runs"
}

# -H: extra fields arrive (names lower-cased), seen by the echo endpoint and in -v.
case_headers() {
    make_root
    start_server
    client -v -H 'X-Quiver-Test: 42' -H 'Accept: text/plain' "$(url .well-known/quiver/echo)"
    expect_rc 0
    has "$WORK/client.out" '^x-quiver-test: 42$'
    has "$WORK/client.out" '^accept: text/plain$'
    lacks "$WORK/client.out" '^accept: \*/\*$'
    has "$WORK/client.out" '^:method: GET$'
    has "$WORK/client.err" '^> GET /.well-known/quiver/echo HTTP/3'
    has "$WORK/client.err" '^> x-quiver-test: 42'
    has "$WORK/client.err" '^< HTTP/3 200'
    has "$WORK/client.err" '^< content-type: text/plain'
    has "$WORK/client.err" 'ALPN h3, cipher TLS_'
    has "$WORK/client.err" 'handshake completed'
    client -H 'no colon' "$(url hello.txt)"
    expect_rc 2 "a bad -H is a usage error"
    stop_server
}

# -X: an unknown method gets 405 with allow; -f turns it into exit 22.
case_method() {
    make_root
    start_server
    client -i -X DELETE "$(url hello.txt)"
    expect_rc 0
    has "$WORK/client.out" '^HTTP/3 405'
    has "$WORK/client.out" '^allow: GET, HEAD, POST, PUT'
    client -f -X DELETE "$(url hello.txt)"
    expect_rc 22
    has "$WORK/client.err" 'returned error: 405'
    stop_server
}

# -d and --data-binary: the body arrives whole (the response reports its size) and, with
# --upload-dir, is stored at the request path; never outside the upload directory.
case_upload() {
    make_root
    start_server --upload-dir "$WORK/up"
    client -d 'a=1' -d 'b=2' "$(url .well-known/quiver/echo)"
    expect_rc 0
    has "$WORK/client.out" '^:method: POST$'
    has "$WORK/client.out" '^content-type: application/x-www-form-urlencoded$'
    has "$WORK/client.out" '^body: 7 bytes$'
    client --data-binary @"$WORK/www/5m.bin" "$(url upload.bin)"
    expect_rc 0
    has "$WORK/client.out" "received $((5 * 1024 * 1024)) bytes"
    same "$WORK/www/5m.bin" "$WORK/up/upload.bin"
    client -X PUT -d @"$WORK/www/hello.txt" "$(url nested/h.txt)"
    expect_rc 0
    same "$WORK/www/hello.txt" "$WORK/up/nested/h.txt"
    local p
    for p in ../evil.txt %2e%2e/evil.txt nested/../../evil.txt; do
        client -f -d x "$(url "$p")"
        expect_rc 22 "$p"
        [[ ! -e $WORK/evil.txt ]] || fail "$p: written outside the upload directory"
    done
    stop_server
    # Without --upload-dir: counted, not stored.
    start_server
    client -d 12345 "$(url anything)"
    expect_rc 0
    has "$WORK/client.out" 'received 5 bytes'
    [[ ! -e $WORK/www/anything ]] || fail "stored without --upload-dir"
    stop_server
}

# -I (HEAD) and -i: the status line and fields (content-type from the media types,
# content-length, last-modified) before the body; HEAD has no body.
case_head() {
    make_root
    start_server
    client -I "$(url hello.txt)"
    expect_rc 0
    has "$WORK/client.out" '^HTTP/3 200'
    has "$WORK/client.out" '^content-type: text/plain'
    has "$WORK/client.out" "^content-length: $(stat -c %s "$WORK/www/hello.txt")"
    has "$WORK/client.out" '^last-modified: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT'
    lacks "$WORK/client.out" 'hello, h3'
    client -I "$(url page.html)"
    has "$WORK/client.out" '^content-type: text/html'
    client -I "$(url data.json)"
    has "$WORK/client.out" '^content-type: application/json'
    client -i "$(url hello.txt)"
    expect_rc 0
    has "$WORK/client.out" '^HTTP/3 200'
    [[ $(tail -n 1 "$WORK/client.out") == "hello, h3" ]] || fail "-i: the body is not last"
    stop_server
}

# -f: exit 22 on 404 and no body; without -f a 404 is a success (as curl).
case_fail() {
    make_root
    start_server
    client "$(url missing.txt)"
    expect_rc 0
    has "$WORK/client.out" 'not found'
    client -f "$(url missing.txt)"
    expect_rc 22
    [[ ! -s $WORK/client.out ]] || fail "-f wrote the error body"
    has "$WORK/client.err" 'returned error: 404'
    stop_server
}

# -s: no progress, nothing on stderr on success; --json: one object with plausible fields
# (stdout when the body goes to a file, stderr when it goes to stdout).
case_json() {
    make_root
    start_server
    client -s --json -o "$WORK/out/5m.bin" "$(url 5m.bin)" "$(url hello.txt)" -o "$WORK/out/h"
    expect_rc 0
    [[ ! -s $WORK/client.err ]] || fail "-s: stderr is not empty"
    [[ $(wc -l <"$WORK/client.out") == 1 ]] || fail "--json: not one line"
    local f
    for f in handshake_ms smoothed_rtt_ms packets_lost throughput_mbps body_bytes ttfb_ms; do
        has "$WORK/client.out" "\"$f\":"
    done
    has "$WORK/client.out" "\"body_bytes\":$((5 * 1024 * 1024 + 10))"
    has "$WORK/client.out" '"alpn":"h3"'
    if command -v jq >/dev/null; then
        jq -e '.handshake_ms > 0 and .smoothed_rtt_ms > 0 and .packets_lost >= 0 and
               .throughput_mbps > 0 and (.requests | length) == 2 and
               all(.requests[]; .status == 200 and .ttfb_ms >= 0 and .complete)' \
            "$WORK/client.out" >/dev/null || fail "--json: implausible values"
    fi
    client --json "$(url hello.txt)"
    expect_rc 0
    same "$WORK/www/hello.txt" "$WORK/client.out"
    has "$WORK/client.err" '"handshake_ms":'
    stop_server
}

# A directory: its index.html, or an HTML listing.
case_listing() {
    make_root
    start_server
    client -i "$(url sub/)"
    has "$WORK/client.out" 'sub index'
    has "$WORK/client.out" '^content-type: text/html'
    client -i "$(url dir/)"
    expect_rc 0
    has "$WORK/client.out" '^content-type: text/html'
    has "$WORK/client.out" 'href="/dir/listed.txt"'
    has "$WORK/client.out" 'href="/dir/inner/"'
    client "$(url "")"
    has "$WORK/client.out" 'href="/hello.txt"'
    stop_server
}

# Paths that leave the root are refused (403) and nothing leaks: "..", its percent-encoded
# forms, and a symlink pointing outside.
case_traversal() {
    make_root
    start_server
    local p
    for p in ../secret.txt %2e%2e/secret.txt %2E%2E%2Fsecret.txt sub/../../secret.txt \
        escape.txt; do
        client -i "$(url "$p")"
        expect_rc 0 "$p"
        has "$WORK/client.out" '^HTTP/3 403'
        lacks "$WORK/client.out" 'top secret'
    done
    client -i "$(url %zz)"
    has "$WORK/client.out" '^HTTP/3 400'
    stop_server
}

# The same server answers hq-interop clients (ALPN picks the protocol).
case_alpn() {
    make_root
    start_server
    client --alpn hq-interop -o "$WORK/out/a" "$(url 5m.bin)"
    expect_rc 0
    same "$WORK/www/5m.bin" "$WORK/out/a"
    client -o "$WORK/out/b" "$(url 5m.bin)"
    expect_rc 0
    same "$WORK/www/5m.bin" "$WORK/out/b"
    has "$WORK/server.log" 'new connection \(h3\)'
    stop_server
}

"case_$CASE"
echo "PASS ($CASE)"
