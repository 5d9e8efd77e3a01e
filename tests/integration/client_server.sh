#!/usr/bin/env bash
# The real quiver binary on loopback: `quiver server` serving a temporary directory,
# `quiver client` fetching from it over hq-interop.
#
#   client_server.sh QUIVER CASE     (CASE: one of the functions named case_* below)
#
# Every server listens on port 0 (the kernel picks a free port, read back from its
# "listening on" line), every command runs under `timeout`, and everything is removed at exit.
set -euo pipefail

QUIVER=$(realpath "$1")
CASE=$2
WORK=$(mktemp -d /tmp/quiver-it.XXXXXX)
SERVER_PID=
PORT=
# Bounds each client run (seconds); ctest bounds the whole case too.
T=30

SILENT_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
    if [[ -n $SILENT_PID ]]; then kill "$SILENT_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

# A served directory: small files, a 10 MiB file, a 3 MiB file, and a secret outside it
# reachable through a symlink.
make_root() {
    mkdir -p "$WORK/www/sub" "$WORK/out"
    for i in $(seq 1 50); do head -c $((i * 37)) /dev/urandom >"$WORK/www/small$i.txt"; done
    head -c $((10 * 1024 * 1024)) /dev/urandom >"$WORK/www/10m.bin"
    head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/www/3m.bin"
    echo "top secret" >"$WORK/secret.txt"
    ln -s "$WORK/secret.txt" "$WORK/www/sub/escape.txt"
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# client [options...] URL...: runs quiver client -k -v, stderr to $WORK/client.err; sets RC.
client() {
    RC=0
    timeout "$T" "$QUIVER" client --alpn hq-interop -k -v "$@" 2>"$WORK/client.err" || RC=$?
}

url() { echo "https://127.0.0.1:$PORT/$1"; }

same() { cmp -s "$1" "$2" || fail "$2 differs from $1"; }

# --- cases -------------------------------------------------------------------------------------

# 10 MiB and 50 small files over one connection, byte for byte.
case_transfer() {
    make_root
    start_server
    local urls=("$(url 10m.bin)")
    for i in $(seq 1 50); do urls+=("$(url "small$i.txt")"); done
    client --output-dir "$WORK/out" "${urls[@]}"
    [[ $RC == 0 ]] || fail "client exit $RC"
    same "$WORK/www/10m.bin" "$WORK/out/10m.bin"
    for i in $(seq 1 50); do same "$WORK/www/small$i.txt" "$WORK/out/small$i.txt"; done
    stop_server
    local n
    n=$(grep -c 'new connection' "$WORK/server.log")
    [[ $n == 1 ]] || fail "$n connections, expected one"
}

# --cc bbr on both ends: the 10 MiB file arrives intact, and the server's qlog names BBR's
# states in congestion_state_updated (draft-ietf-ccwg-bbr: startup, then drain or probe_bw_*).
case_bbr() {
    make_root
    start_server --cc bbr --qlog-dir "$WORK/qlog"
    client --cc bbr -o "$WORK/out/f" "$(url 10m.bin)"
    [[ $RC == 0 ]] || fail "client exit $RC"
    same "$WORK/www/10m.bin" "$WORK/out/f"
    stop_server
    local states
    states=$(cat "$WORK"/qlog/*_server.sqlog | grep -o '"new":"[a-z_]*"' | sort -u | tr '\n' ' ')
    [[ $states == *'"new":"startup"'* ]] || fail "no startup state in the server's qlog: $states"
    [[ $states =~ \"new\":\"(drain|probe_bw_[a-z]*)\" ]] || fail "BBR never left startup: $states"
    [[ $states != *slow_start* ]] || fail "a loss-based state in a BBR trace: $states"
    "$QUIVER" client --cc bbr2 https://127.0.0.1:1/ 2>"$WORK/bad.err" && fail "--cc bbr2 accepted"
    grep -q 'bbr' "$WORK/bad.err" || fail "no useful message for --cc bbr2"
}

# A second run with --session-file resumes; a third with --0rtt has its early data accepted.
case_resumption_0rtt() {
    make_root
    start_server --0rtt
    local session="$WORK/session"
    client --session-file "$session" -o "$WORK/out/a" "$(url small1.txt)"
    [[ $RC == 0 ]] || fail "first client exit $RC"
    grep -q 'resumed no' "$WORK/client.err" || fail "the first connection resumed?"
    [[ -s $session ]] || fail "no session file written"
    client --session-file "$session" -o "$WORK/out/b" "$(url small2.txt)"
    [[ $RC == 0 ]] || fail "second client exit $RC"
    grep -q 'resumed yes' "$WORK/client.err" || fail "the second connection did not resume"
    client --0rtt --session-file "$session" -o "$WORK/out/c" "$(url small3.txt)"
    [[ $RC == 0 ]] || fail "0-RTT client exit $RC"
    grep -q 'early data accepted' "$WORK/client.err" || fail "0-RTT was not accepted"
    same "$WORK/www/small1.txt" "$WORK/out/a"
    same "$WORK/www/small2.txt" "$WORK/out/b"
    same "$WORK/www/small3.txt" "$WORK/out/c"
    stop_server
}

# --retry: the server answers the first Initial with a Retry, and the transfer still works.
case_retry() {
    make_root
    start_server --retry
    client -o "$WORK/out/f" "$(url 3m.bin)"
    [[ $RC == 0 ]] || fail "client exit $RC"
    same "$WORK/www/3m.bin" "$WORK/out/f"
    stop_server
    grep -q ' 1 retries' "$WORK/server.log" || fail "no Retry was sent"
}

# --key-update 100 during a download: at least one key update, the file intact. 10 MiB rather
# than 3: the client only sends ACKs, one per receive batch on loopback, and a 3 MiB download
# may take fewer than 100 of them.
case_key_update() {
    make_root
    start_server
    # Every 10 packets: with lo's 65507-byte datagrams and GRO batches the client sends a few
    # dozen packets (ACKs) for 10 MiB, fewer still under ASan's slower loop.
    client --key-update 10 -o "$WORK/out/f" "$(url 10m.bin)"
    [[ $RC == 0 ]] || fail "client exit $RC"
    same "$WORK/www/10m.bin" "$WORK/out/f"
    grep -Eq 'key updates [1-9]' "$WORK/client.err" || fail "no key update"
    stop_server
}

# Two clients at once on one server.
case_two_clients() {
    make_root
    start_server
    mkdir -p "$WORK/out1" "$WORK/out2"
    local rc1=0 rc2=0
    timeout "$T" "$QUIVER" client -k --output-dir "$WORK/out1" "$(url 10m.bin)" "$(url 3m.bin)" \
        2>"$WORK/client1.err" &
    local p1=$!
    timeout "$T" "$QUIVER" client -k --output-dir "$WORK/out2" "$(url 10m.bin)" "$(url 3m.bin)" \
        2>"$WORK/client2.err" &
    local p2=$!
    wait $p1 || rc1=$?
    wait $p2 || rc2=$?
    [[ $rc1 == 0 && $rc2 == 0 ]] || fail "client exits $rc1 and $rc2"
    for d in out1 out2; do
        same "$WORK/www/10m.bin" "$WORK/$d/10m.bin"
        same "$WORK/www/3m.bin" "$WORK/$d/3m.bin"
    done
    stop_server
}

# --workers 2: two event loops on one port (SO_REUSEPORT), every packet steered by connection ID
# to the worker that owns its connection. 24 connections (h3 and hq-interop, 4 at a time) all
# complete; both workers get some (a client's random first DCID picks one: all on one has odds
# of 2^-23); and no worker sees a packet it cannot route (it would drop it or answer with a
# stateless reset). The interop case "quiver-server --workers 2 ... rebind-addr" shows the
# steering surviving a NAT rebinding, which the kernel's address hash alone would not.
case_workers() {
    make_root
    start_server --workers 2
    grep -q 'with 2 workers' "$WORK/server.log" || fail "no workers in the listening line"
    mkdir -p "$WORK/w"
    local pids=() i
    for i in $(seq 1 24); do
        local alpn=h3
        ((i % 3 == 0)) && alpn=hq-interop
        timeout "$T" "$QUIVER" client --alpn $alpn -k -s -o "$WORK/w/$i" "$(url 3m.bin)" \
            2>"$WORK/w/$i.err" &
        pids+=($!)
        if ((i % 4 == 0)); then
            for p in "${pids[@]}"; do wait "$p" || fail "a client failed (worker run $i)"; done
            pids=()
        fi
    done
    for i in $(seq 1 24); do same "$WORK/www/3m.bin" "$WORK/w/$i"; done
    stop_server
    local c0 c1
    c0=$(sed -n 's/.*worker 0: \([0-9]*\) connections$/\1/p' "$WORK/server.log")
    c1=$(sed -n 's/.*worker 1: \([0-9]*\) connections$/\1/p' "$WORK/server.log")
    [[ -n $c0 && -n $c1 ]] || fail "no per-worker counts"
    ((c0 + c1 == 24)) || fail "workers saw $c0 + $c1 connections, not 24"
    ((c0 > 0 && c1 > 0)) || fail "one worker had every connection ($c0, $c1)"
    [[ $(grep -c 'endpoint: .* 0 dropped, .* 0 stateless resets' "$WORK/server.log") == 2 ]] ||
        fail "a worker dropped datagrams or sent stateless resets"
}

# Many connections from one client socket (quiver perf h3 -c 10) to two workers: a GSO batch
# that mixed connections reached the worker of its first datagram whole (loopback delivers a
# batch as one), and the other worker's connections got stateless resets (Transmit::flow).
case_workers_one_socket() {
    make_root
    start_server --workers 2
    timeout "$T" "$QUIVER" perf h3 -k -c 10 -m 4 -n 4000 --json -q "$(url small50.txt)" \
        >"$WORK/perf.out" 2>"$WORK/perf.err" || fail "perf h3 failed: $(tail -n 3 "$WORK/perf.err")"
    stop_server
    local summary
    summary=$(grep '"type":"summary"' "$WORK/perf.out") || fail "no summary"
    [[ $summary == *'"requests":4000'* ]] || fail "not 4000 requests: $summary"
    [[ $(grep -c 'endpoint: .* 0 dropped, .* 0 stateless resets' "$WORK/server.log") == 2 ]] ||
        fail "a worker dropped datagrams or sent stateless resets: $(grep 'endpoint: ' "$WORK/server.log")"
}

# SIGINT to the server during a download: the client learns it from the server's
# CONNECTION_CLOSE ("closed by the peer", exit 8), not from an idle timeout. The client's
# stdout goes to a pipe read only after a pause, which holds the download mid-way.
case_sigint() {
    make_root
    start_server
    (
        rc=0
        timeout "$T" "$QUIVER" client -k "$(url 10m.bin)" 2>"$WORK/client.err" |
            { sleep 1.5; cat >/dev/null; } || rc=${PIPESTATUS[0]}
        echo "$rc" >"$WORK/client.rc"
    ) &
    local cp=$!
    sleep 0.5
    kill -INT "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    [[ $rc == 0 ]] || fail "the server exited with $rc after SIGINT"
    wait $cp
    local crc
    crc=$(cat "$WORK/client.rc")
    [[ $crc == 8 ]] || fail "client exit $crc, expected 8"
    grep -q 'closed by the peer.*server shutting down' "$WORK/client.err" ||
        fail "the client did not report the server's close"
}

# Nothing listens at the server's port: the client fails at once on the ICMP port unreachable
# with curl's "could not connect" code, for h3 and hq-interop alike (issue 13, item 7).
case_unreachable() {
    local port
    port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    local alpn start
    for alpn in h3 hq-interop; do
        start=$(date +%s%N)
        RC=0
        timeout 20 "$QUIVER" client --alpn "$alpn" -k "https://127.0.0.1:$port/x" \
            2>"$WORK/client.err" || RC=$?
        [[ $RC == 7 ]] || fail "$alpn: client exit $RC, expected 7"
        grep -q 'connection refused' "$WORK/client.err" || fail "$alpn: no clear message"
        # Not a timing assertion: the handshake timeout (10 s) must not be what ended it.
        (($(date +%s%N) - start < 5000000000)) || fail "$alpn: waited for a timeout"
    done
}

# A server that never answers: the handshake timeout ends the client with exit 28 (it used
# to fire in the core without the process ever exiting), h3 and hq-interop alike.
case_silent() {
    python3 -c 'import socket, time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(30)' \
        >"$WORK/silent.port" &
    SILENT_PID=$!
    for _ in $(seq 1 100); do [[ -s $WORK/silent.port ]] && break; sleep 0.05; done
    local port alpn
    port=$(cat "$WORK/silent.port")
    for alpn in h3 hq-interop; do
        RC=0
        timeout 20 "$QUIVER" client --alpn "$alpn" -k --handshake-timeout 0.5 \
            "https://127.0.0.1:$port/x" 2>"$WORK/client.err" || RC=$?
        [[ $RC == 28 ]] || fail "$alpn: client exit $RC, expected 28"
        grep -q 'handshake timeout' "$WORK/client.err" || fail "$alpn: no clear message"
    done
    kill "$SILENT_PID" 2>/dev/null || true
}

# A missing file: non-zero exit, and a message naming the file and the cause.
case_missing() {
    make_root
    start_server
    client -o "$WORK/out/x" "$(url no-such-file.txt)"
    [[ $RC == 22 ]] || fail "client exit $RC, expected 22"
    grep -q 'no-such-file.txt.*not found' "$WORK/client.err" || fail "no clear message"
    stop_server
}

# Paths that leave the root are refused: ".." segments and symlinks pointing outside.
case_traversal() {
    make_root
    start_server
    local p
    for p in ../secret.txt sub/../../secret.txt sub/escape.txt; do
        client -o "$WORK/out/x" "$(url "$p")"
        [[ $RC == 22 ]] || fail "$p: client exit $RC, expected 22"
        grep -q 'forbidden' "$WORK/client.err" || fail "$p: not refused as forbidden"
        if grep -q 'top secret' "$WORK/out/x" 2>/dev/null; then fail "$p: the secret leaked"; fi
    done
    stop_server
}

# A dual-stack server ([::]:0) serves IPv4 and IPv6 clients.
case_dual_stack() {
    make_root
    start_server --listen '[::]:0'
    client -o "$WORK/out/v4" "https://127.0.0.1:$PORT/small5.txt"
    [[ $RC == 0 ]] || fail "IPv4 client exit $RC"
    same "$WORK/www/small5.txt" "$WORK/out/v4"
    if ip -6 addr show lo 2>/dev/null | grep -c '::1' >/dev/null; then
        client -o "$WORK/out/v6" "https://[::1]:$PORT/small6.txt"
        [[ $RC == 0 ]] || fail "IPv6 client exit $RC"
        same "$WORK/www/small6.txt" "$WORK/out/v6"
    fi
    stop_server
}

# --chacha20: the client offers ChaCha20-Poly1305 first and the server takes it.
case_chacha20() {
    make_root
    start_server
    client --chacha20 -o "$WORK/out/f" "$(url 3m.bin)"
    [[ $RC == 0 ]] || fail "client exit $RC"
    grep -q 'cipher TLS_CHACHA20_POLY1305_SHA256' "$WORK/client.err" || fail "not ChaCha20"
    same "$WORK/www/3m.bin" "$WORK/out/f"
    stop_server
}

# --qlog-dir on both ends at each --qlog-level: the traces go through each process's writer
# thread and are complete when it exits (the connection's close is in both); `quiver qlog
# summary` reads them; the server's trace has every packet it sent (as its log counts them) at
# every level; core writes less than extended, extended less than full.
case_qlog() {
    make_root
    local level f bytes=() sent counted
    for level in core extended full; do
        local dir="$WORK/qlog-$level"
        start_server --qlog-dir "$dir" --qlog-level "$level"
        client --qlog-dir "$dir" --qlog-level "$level" -o "$WORK/out/10m-$level" "$(url 10m.bin)"
        [[ $RC == 0 ]] || fail "client exit $RC ($level)"
        same "$WORK/www/10m.bin" "$WORK/out/10m-$level"
        stop_server
        local files=("$dir"/*.sqlog)
        [[ ${#files[@]} == 2 ]] || fail "$level: ${#files[@]} trace files, expected 2"
        for f in "${files[@]}"; do
            "$QUIVER" qlog summary --json "$f" >"$WORK/summary.json" 2>"$WORK/summary.err" ||
                fail "$level: quiver qlog summary $f failed"
            grep -q '"closed": "-"' "$WORK/summary.json" && fail "$level: $f has no close"
            sent=$(grep -o '"packets_sent": [0-9]*' "$WORK/summary.json" | grep -o '[0-9]*$')
            grep -q '"packets_received": 0,' "$WORK/summary.json" && fail "$level: $f received nothing"
            # Every packet the server counted is in its trace (over 160: 10 MiB in datagrams
            # of at most 65507 bytes, lo's PMTU).
            if [[ $f == *_server.sqlog ]]; then
                counted=$(sed -n 's/.*closed by the peer.*packets sent \([0-9]*\) .*/\1/p' \
                    "$WORK/server.log" | tail -1)
                [[ $sent == "$counted" && $sent -gt 160 ]] ||
                    fail "$level: the server's trace has $sent packets sent, its log ${counted:-none}"
            fi
        done
        bytes+=("$(du -sb "$dir" | cut -f1)")
    done
    [[ ${bytes[0]} -lt ${bytes[1]} && ${bytes[1]} -lt ${bytes[2]} ]] ||
        fail "trace sizes core ${bytes[0]}, extended ${bytes[1]}, full ${bytes[2]}: not increasing"
}

declare -F "case_$CASE" >/dev/null || { echo "unknown case $CASE" >&2; exit 2; }
"case_$CASE"
echo "ok: $CASE"
