#!/usr/bin/env bash
# One interop/run case for ctest: CI sizes, one replication, its own namespace prefix so that
# cases can run in parallel, its results under BUILD_DIR/interop-results/. On failure it
# shows the verdict and the end of each endpoint's output (the whole run stays there).
#   tests/interop/case.sh BUILD_DIR SERVER CLIENT TEST
# Exit codes: interop/run's (0 succeeded, 1 failed, 3 unsupported); $INTEROP_SKIP_CODE (77)
# when something this machine lacks (root, a peer) makes the case impossible; with CI=true
# that is a failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$1 server=$2 client=$3 test=$4
skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL: $1 (CI=true: a missing peer or tool is a failure)"; exit 1; fi
  echo "SKIP: $1"
  exit "${INTEROP_SKIP_CODE:-77}"
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
for impl in "$server:server" "$client:client"; do
  case "$impl" in
    quic-go:*) [ -x "$root/build/peers/quic-go-${impl#*:}" ] || skip "build/peers/quic-go-${impl#*:} not built (scripts/peers)" ;;
    ngtcp2:server) command -v gtlsserver >/dev/null || skip "gtlsserver not installed (scripts/peers)" ;;
    ngtcp2:client) command -v gtlsclient >/dev/null || skip "gtlsclient not installed (scripts/peers)" ;;
  esac
done
for tool in tshark dumpcap jq iperf3; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/peers)"
done
out="$build/interop-results/$server-$client-$test"
rm -rf "$out"
name="qi$(echo "$build $server $client $test" | md5sum | cut -c1-10)"
"$root/interop/run" --server "$server" --client "$client" --test "$test" --ci \
  --quiver-dir "$build" --name "$name" --output "$out"
rc=$?
if [ "$rc" -eq 1 ]; then
  dir="$out/${server}_$client/$test"
  for f in "$dir/output.txt" "$dir/server/output.txt" "$dir/client/output.txt"; do
    [ -f "$f" ] && { echo "--- $f (last 15 lines)"; tail -n 15 "$f"; }
  done
  [ -f "$dir/sim/log.txt" ] && { echo "--- $dir/sim/log.txt (last 5 lines)"; tail -n 5 "$dir/sim/log.txt"; }
fi
exit "$rc"
