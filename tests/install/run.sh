#!/usr/bin/env bash
# The library as its users get it: `cmake --install` into a fresh prefix, the examples built
# against that copy with find_package(quic) (and one with pkg-config), then run on loopback:
# echo server and client, datagram ping, and an HTTP/3 GET from the installed quiver server.
#   tests/install/run.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/quic-install.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
[ -f "$prefix/include/quic/quic.h" ] || fail "no public headers installed"
[ -f "$prefix/lib/cmake/quic/quicConfig.cmake" ] || fail "no CMake package"
[ -f "$prefix/lib/pkgconfig/quic.pc" ] || fail "no pkg-config file"
ls "$prefix"/lib/libquic.so.0* >/dev/null || fail "no versioned libquic.so.0"
# Nothing but the public headers: no internal directory of the source tree.
if find "$prefix/include" -path '*/conn/*' -o -path '*/endpoint/*' | grep -q .; then
    fail "internal headers were installed"
fi

cmake -S "$src/examples" -B "$work/examples" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/examples" >/dev/null
# pkg-config: the same client built by hand.
PKG_CONFIG_PATH=$prefix/lib/pkgconfig g++ -o "$work/echo_client_pc" \
    "$src/examples/echo/echo_client.cpp" $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs quic)

# Waits for "listening on ADDR:PORT" in $1 and prints the port.
port_of() {
    for _ in $(seq 1 100); do
        local p
        p=$(sed -n 's/.*listening on .*:\([0-9]*\).*/\1/p' "$1" | head -n1)
        [ -n "$p" ] && { echo "$p"; return 0; }
        sleep 0.05
    done
    fail "no port in $1"
}

# Echo: the server answers two clients (the CMake-built and the pkg-config-built one).
"$work/examples/echo_server" 127.0.0.1:0 >"$work/echo.log" 2>&1 &
pids+=($!)
port=$(port_of "$work/echo.log")
timeout 10 "$work/examples/echo_client" "127.0.0.1:$port" "hello from cmake" | grep -q 'echoed: hello from cmake' ||
    fail "echo (find_package build)"
timeout 10 "$work/echo_client_pc" "127.0.0.1:$port" "hello from pkg-config" |
    grep -q 'echoed: hello from pkg-config' || fail "echo (pkg-config build)"

# Datagrams: five pings, five pongs.
"$work/examples/datagram_ping" server 127.0.0.1:0 >"$work/ping.log" 2>&1 &
pids+=($!)
port=$(port_of "$work/ping.log")
n=$(timeout 10 "$work/examples/datagram_ping" client "127.0.0.1:$port" 5 | grep -c '^ping [0-4]: ')
[ "$n" = 5 ] || fail "datagram ping: $n pongs of 5"

# HTTP/3: the installed quiver serves a file, http3_get fetches it.
mkdir -p "$work/www"
head -c 100000 /dev/urandom >"$work/www/blob"
"$prefix/bin/quiver" server --listen 127.0.0.1:0 --root "$work/www" 2>"$work/quiver.log" &
pids+=($!)
port=$(port_of "$work/quiver.log")
timeout 10 "$work/examples/http3_get" "https://127.0.0.1:$port/blob" >"$work/got" 2>"$work/get.err" ||
    fail "http3_get: $(cat "$work/get.err")"
cmp -s "$work/www/blob" "$work/got" || fail "http3_get: the body differs"
grep -q 'HTTP/3 200' "$work/get.err" || fail "http3_get: no status line"
echo "install: headers, CMake package, pkg-config, 4 examples built and run"
