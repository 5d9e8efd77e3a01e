#!/usr/bin/env bash
# Shared by the integration scripts (sourced): the callers define QUIVER, WORK and fail().

# start_server [options...]: starts `quiver server -v` on 127.0.0.1:0 (unless --listen is
# given) and waits for its "listening on" line.
start_server() {
    local listen=(--listen 127.0.0.1:0)
    [[ " $* " == *" --listen "* ]] && listen=()
    : >"$WORK/server.log"  # exists before the background job gets to open it
    "$QUIVER" server "${listen[@]}" --root "$WORK/www" -v "$@" 2>"$WORK/server.log" &
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
