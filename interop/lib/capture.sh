# shellcheck shell=bash
# Captures on both sides of the simulator (the runner's trace_node_left.pcap and
# trace_node_right.pcap): dumpcap on the client's and on the server's interface, which see
# exactly what enters and leaves the simulator on that side (its devices are point to point).
#
# dumpcap's "Capturing on" comes before the capture really takes packets, and libpcap hands
# packets over in blocks on a timer, so stopping can lose the last partial block. So each
# capture is bracketed with marker datagrams to the simulator's own address (port 9, discard:
# nothing there listens, and they never cross the link model): started = the start marker is
# in the file; stopped = the stop marker is, and so all before it.

# capture_start SIDE NS FILE: starts dumpcap on NS's eth0 in the background and waits until
# it captures. Sets CAPTURE_PID_<SIDE>. Returns non-zero with REASON set on failure.
capture_start() {
  local side=$1 ns=$2 file=$3
  # -B 64: a 64 MiB kernel buffer, so that a busy machine drops nothing of a transfer;
  # -a duration: it ends by itself even if the runner is killed.
  exec_in_ns "$ns" dumpcap -i eth0 -P -s 0 -B 64 -a "duration:$SELF_LIMIT" -w "$file" -q \
    >"$file.dumpcap.txt" 2>&1 &
  printf -v "CAPTURE_PID_$side" '%s' $!
  local pid=$! i
  for ((i = 0; i < 100; i++)); do
    grep -q "Capturing on" "$file.dumpcap.txt" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q "Capturing on" "$file.dumpcap.txt" 2>/dev/null || ! capture_marker "$ns" "$file" start; then
    REASON="dumpcap did not start capturing on $ns: $(head -c 200 "$file.dumpcap.txt" | tr '\n' ' ')"
    return 1
  fi
}

# capture_marker NS FILE WORD: sends a marker from NS to the simulator every 0.5 s until the
# capture file holds it (at most 5 s). dumpcap writes payloads as they are, so grep finds it:
# much cheaper than starting tshark.
capture_marker() {
  local ns=$1 file=$2 word=$3 i gw
  gw=$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); split(a[1], b, "."); print b[1] "." b[2] "." b[3] ".2"; exit }')
  for ((i = 0; i < 100; i++)); do
    if ((i % 10 == 0)); then
      in_ns "$ns" bash -c "printf 'quiver-interop-marker-$word' >/dev/udp/$gw/9" 2>/dev/null || true
    fi
    sleep 0.05
    grep -aqF "quiver-interop-marker-$word" "$file" 2>/dev/null && return 0
  done
  return 1
}

# capture_stop SIDE NS FILE: once everything sent is in the file, ends dumpcap.
capture_stop() {
  local side=$1 ns=$2 file=$3 var="CAPTURE_PID_$1"
  local pid=${!var:-}
  [ -n "$pid" ] || return 0
  capture_marker "$ns" "$file" stop || true
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf -v "$var" '%s' ''
}
