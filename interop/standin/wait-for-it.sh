#!/bin/bash
# Stand-in for the endpoint image's /wait-for-it.sh (vishnubob/wait-for-it), bind-mounted at
# /wait-for-it.sh by interop/run: the subset the endpoints use, "HOST:PORT [-s] [-t SECONDS]
# [-q]": waits until a TCP connection to HOST:PORT succeeds (the simulator listens on 57832
# once its scenario runs). Exits 0 when it did, 1 after the timeout (0 = wait forever).
target='' timeout=15 quiet=false
while [ $# -gt 0 ]; do
  case "$1" in
    *:*) target=$1 ;;
    -s | --strict) ;;
    -q | --quiet) quiet=true ;;
    -t) timeout=$2; shift ;;
    --timeout=*) timeout=${1#*=} ;;
    *) echo "wait-for-it.sh: unsupported argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$target" ] || { echo "usage: wait-for-it.sh HOST:PORT [-s] [-t SECONDS]" >&2; exit 2; }
host=${target%:*} port=${target##*:}
start=$SECONDS
$quiet || echo "wait-for-it.sh: waiting $timeout seconds for $host:$port"
while :; do
  if timeout 1 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then
    $quiet || echo "wait-for-it.sh: $host:$port is available after $((SECONDS - start)) seconds"
    exit 0
  fi
  if [ "$timeout" -gt 0 ] && [ $((SECONDS - start)) -ge "$timeout" ]; then
    echo "wait-for-it.sh: timeout occurred after waiting $timeout seconds for $host:$port" >&2
    exit 1
  fi
  sleep 0.1
done
