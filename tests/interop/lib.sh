# shellcheck shell=bash
# The former loopback interop harness's pieces, kept only because scripts/bench sources them
# (namespaces, sandboxes, certificates, captures, the TESTCASE mapping for its transfers).
# The interop tests themselves run through interop/run (interop/README.md), whose own
# topology, sandboxes and checks are in interop/lib/; new code should use those.
#
# It runs an interop case the way the quic-interop-runner does, minus docker and the
# network simulator:
#   - every run gets its own network namespace with only loopback up, so runs can go in
#     parallel (each has its own port 443) and no packet can leave the machine;
#   - each endpoint gets its own mount namespace in which its run's directories are
#     bind-mounted onto /www /certs /downloads /logs and a private /etc/hosts maps
#     server, server4, server6, server46 to 127.0.0.1 / ::1;
#   - dumpcap captures UDP port 443 inside the namespace, and tshark, with both sides'
#     key logs, checks on the wire what the case claims (Retry, resumption, 0-RTT...).
# Needs root (namespaces, mounts, capture), util-linux (unshare, nsenter), iproute2 (ip,
# ss), openssl, tshark/dumpcap, and the peers that scripts/peers installs.

# The awk programs below are single-quoted on purpose: $1... are awk's fields.
# shellcheck disable=SC2016

INTEROP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS_DIR="$INTEROP_ROOT/build/peers"
QUIVER="${QUIVER:-$INTEROP_ROOT/build/quiver}"
# The whole run (setup, transfer, checks) must fit in this many seconds.
INTEROP_TIMEOUT="${INTEROP_TIMEOUT:-60}"
# Every process a run starts ends by itself after this long, so that even a harness killed
# with SIGKILL (no cleanup) leaves nothing running for long.
SELF_LIMIT=$((INTEROP_TIMEOUT + 30))

# Exit codes of tests/interop/run: ctest's SKIP_RETURN_CODE is 77.
# shellcheck disable=SC2034  # used by tests/interop/run
readonly EXIT_PASS=0 EXIT_FAIL=1 EXIT_SKIP=77

# The cases this harness knows; the implementations it can run.
# shellcheck disable=SC2034  # used by tests/interop/run
readonly KNOWN_CASES="handshake transfer retry resumption zerortt chacha20 multiconnect keyupdate http3"
readonly KNOWN_IMPLS="quiver quic-go ngtcp2"

# ---------------------------------------------------------------------------------------
# What each case serves (interop/README.md's table): prints "COUNT SIZE_IN_BYTES" lines.
case_files() {
  case "$1" in
    handshake) echo "1 1024" ;;
    transfer) printf '%s\n' "1 $((2 << 20))" "1 $((3 << 20))" "1 $((5 << 20))" ;;
    retry) echo "1 10240" ;;
    resumption) printf '%s\n' "1 5120" "1 10240" ;;
    zerortt) echo "40 32" ;;
    chacha20) echo "1 $((3 << 20))" ;;
    multiconnect) echo "50 1024" ;;
    keyupdate) echo "1 $((3 << 20))" ;;
    # HTTP/3 (ALPN h3) instead of hq-interop.
    http3) printf '%s\n' "1 5120" "1 10240" "1 512000" "1 $((10 << 20))" ;;
    *) return 1 ;;
  esac
}

# The TESTCASE the runner gives the server: for keyupdate the server runs a plain
# transfer and only has to follow the client's key update (interop/README.md).
server_testcase() {
  case "$1" in
    keyupdate) echo transfer ;;
    *) echo "$1" ;;
  esac
}

# ---------------------------------------------------------------------------------------
# THE mapping from TESTCASE to quiver's command line. Everything quiver-specific about a
# case lives in these two functions.
#
# quiver_server_args CASE: prints the server's arguments, one per line.
quiver_server_args() {
  local args=(server --listen '[::]:443' --root /www --cert /certs/cert.pem --key /certs/priv.key)
  case "$1" in
    # The server offers h3 and hq-interop; the client's ALPN picks.
    handshake | transfer | resumption | chacha20 | multiconnect | keyupdate | http3) ;;
    retry) args+=(--retry) ;;
    zerortt) args+=(--0rtt) ;;
    *) return 1 ;;
  esac
  printf '%s\n' "${args[@]}"
}

# quiver_client_runs CASE URL...: prints one line per client process to run, in order,
# each line that process's arguments separated by spaces (URLs have no spaces). A case
# with several connections that must happen one after the other is several processes:
#   resumption/zerortt: the first URL alone, saving the session; then the rest with it;
#   multiconnect: one process (so one connection) per URL.
quiver_client_runs() {
  local tc=$1
  shift
  # quiver's client speaks h3 by default: the runner's cases are hq-interop.
  local base="client --alpn hq-interop --output-dir /downloads --cacert /certs/cert.pem"
  # Outside /downloads: the runner allows no other files there.
  local session=/logs/session.bin
  local url
  case "$tc" in
    handshake | transfer | retry) echo "$base $*" ;;
    http3) echo "client --output-dir /downloads --cacert /certs/cert.pem $*" ;;
    chacha20) echo "$base --chacha20 $*" ;;
    # quic-go's interop client updates every 100 packets: do the same.
    keyupdate) echo "$base --key-update 100 $*" ;;
    multiconnect) for url in "$@"; do echo "$base $url"; done ;;
    resumption)
      echo "$base --session-file $session $1"
      shift
      echo "$base --session-file $session $*"
      ;;
    zerortt)
      echo "$base --session-file $session --0rtt $1"
      shift
      echo "$base --session-file $session --0rtt $*"
      ;;
    *) return 1 ;;
  esac
}

# quiver_missing_options SUBCOMMAND ARG...: prints the --options among ARGs that
# 'quiver SUBCOMMAND --help' does not list. The harness reports a case whose flag does
# not exist yet as FAILED with that reason, rather than a vague usage error.
quiver_missing_options() {
  local sub=$1 help arg
  shift
  help=$("$QUIVER" "$sub" --help 2>&1 || true)
  for arg in "$@"; do
    [[ $arg == --* ]] || continue
    arg=${arg%%=*}
    grep -qE -- "(^|[ ,])${arg}([ =,]|$)" <<<"$help" || echo "$arg"
  done
}

# ---------------------------------------------------------------------------------------
# Availability. peer_missing IMPL ROLE: prints why IMPL can't play ROLE here, or nothing.
peer_missing() {
  local impl=$1 role=$2
  case "$impl" in
    quic-go) [ -x "$PEERS_DIR/quic-go-$role" ] || echo "$PEERS_DIR/quic-go-$role not built (run scripts/peers)" ;;
    quiver) [ -x "$QUIVER" ] || echo "$QUIVER not built" ;;
    ngtcp2)
      local bin=gtlsserver
      [ "$role" = server ] || bin=gtlsclient
      command -v "$bin" >/dev/null || echo "$bin not installed (ngtcp2-$role; run scripts/peers)"
      ;;
    *) echo "unknown implementation '$impl' (one of: $KNOWN_IMPLS)" ;;
  esac
}

# Prints why this machine can't run the harness at all, or nothing.
harness_missing() {
  [ "$(id -u)" -eq 0 ] || { echo "needs root (namespaces, bind mounts, capture)"; return; }
  local tool
  for tool in unshare nsenter ip ss openssl tshark dumpcap; do
    command -v "$tool" >/dev/null || { echo "$tool not installed (run scripts/peers)"; return; }
  done
}

# ---------------------------------------------------------------------------------------
# The run directory (RUN_DIR): www/ certs/ hosts, and per endpoint downloads and logs.

# make_www CASE DIR: writes the case's files with random names and random content into
# DIR; prints the file names.
make_www() {
  local tc=$1 dir=$2 count size i name
  while read -r count size; do
    for ((i = 0; i < count; i++)); do
      # Random lower-case names, like the runner's: nothing can rely on a fixed name.
      name=$(head -c 512 /dev/urandom | LC_ALL=C tr -dc '[:lower:]' | head -c 10)
      if [ -e "$dir/$name" ]; then i=$((i - 1)); continue; fi
      head -c "$size" /dev/urandom >"$dir/$name"
      echo "$name"
    done
  done < <(case_files "$tc")
}

# make_certs DIR: an ECDSA P-256 key and a self-signed certificate whose SANs are the
# names the runner uses (interop/README.md), plus localhost.
make_certs() {
  local dir=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/priv.key" -out "$dir/cert.pem" -days 2 -subj "/CN=server" \
    -addext "subjectAltName=DNS:server,DNS:server4,DNS:server6,DNS:server46,DNS:localhost" \
    >/dev/null 2>&1
}

# make_run_dir CASE: creates RUN_DIR and fills it; sets FILES (the served names).
make_run_dir() {
  local tc=$1
  RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/quiver-interop.XXXXXX")
  mkdir -p "$RUN_DIR"/{www,certs,empty,client/downloads,client/logs/qlog,server/downloads,server/logs/qlog}
  mapfile -t FILES < <(make_www "$tc" "$RUN_DIR/www")
  make_certs "$RUN_DIR/certs" || return 1
  # server4 is IPv4 only, server6 IPv6 only, server46 and server both (as in the runner).
  cat >"$RUN_DIR/hosts" <<'EOF'
127.0.0.1 localhost server server4 server46 client client4 client46
::1 localhost ip6-localhost server server6 server46 client client6 client46
EOF
}

# ---------------------------------------------------------------------------------------
# Namespaces. NETNS_PID is a process that holds the run's network namespace; every
# endpoint and the capture enter it with nsenter. When the harness dies, the holder
# still ends by itself (its sleep is bounded), and the namespace with it.
start_netns() {
  unshare --net -- sleep "$SELF_LIMIT" &
  NETNS_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    # Wait until the holder is in its own namespace (unshare has run), then bring lo up.
    if [ "$(readlink "/proc/$NETNS_PID/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ]; then
      # gso_max_segs 1: the kernel splits UDP GSO batches before lo, so the capture
      # holds the datagrams a real network would carry; otherwise a batch crosses lo as
      # one super-packet that tshark cannot split into QUIC packets (and a receiver
      # without GRO drops more on bursts). INTEROP_LO_GSO=1 keeps lo's GSO, as a stress.
      local segs=1
      [ "${INTEROP_LO_GSO:-0}" = 1 ] && segs=65535
      in_netns ip link set dev lo up gso_max_segs "$segs" && return 0
    fi
    sleep 0.05
  done
  return 1
}

in_netns() { nsenter --net="/proc/$NETNS_PID/ns/net" -- "$@"; }

# The same, for a command started in the background with &: bash runs a function called
# that way in a subshell, so without exec $! would be the subshell's pid, and killing it
# would leave the command running.
exec_in_netns() { exec nsenter --net="/proc/$NETNS_PID/ns/net" -- "$@"; }

# in_sandbox SIDE CMD... &: runs CMD, in the background, in the run's network namespace
# and in a new private mount namespace that sees SIDE's directories (SIDE is client or
# server) at the runner's fixed paths. Everything up to timeout(1) is exec'ed, so the
# caller's $! is the pid of timeout, which passes TERM on to CMD and returns CMD's exit
# code; CMD ends by itself after SELF_LIMIT seconds even if the harness is killed without
# cleaning up. The mounts die with the mount namespace: nothing to unmount afterwards.
in_sandbox() {
  local side=$1
  shift
  local www="$RUN_DIR/www"
  [ "$side" = server ] || www="$RUN_DIR/empty"
  exec_in_netns unshare --mount --propagation private -- bash -c '
    set -e
    mount --bind "$1" /www
    mount --bind "$2" /certs
    mount --bind "$3/downloads" /downloads
    mount --bind "$3/logs" /logs
    mount --bind "$4" /etc/hosts
    shift 4
    exec timeout -k 5 "$@"' sandbox "$www" "$RUN_DIR/certs" "$RUN_DIR/$side" "$RUN_DIR/hosts" \
    "$SELF_LIMIT" "$@"
}

# The runner's fixed paths must exist as mount points. They stay empty on the host:
# only the private mount namespaces see anything in them.
ensure_mount_points() {
  mkdir -p /www /certs /downloads /logs
}

# ---------------------------------------------------------------------------------------
# Endpoints. The contract's environment (interop/README.md): ROLE TESTCASE REQUESTS
# SSLKEYLOGFILE QLOGDIR. quic-go crashes without QLOGDIR.
# endpoint_env ROLE CASE [URL...]: sets the array ENDPOINT_ENV to those variables.
endpoint_env() {
  local role=$1 tc=$2
  shift 2
  ENDPOINT_ENV=("ROLE=$role" "TESTCASE=$tc" "REQUESTS=$*" SSLKEYLOGFILE=/logs/keys.log QLOGDIR=/logs/qlog/)
}

# start_server IMPL CASE: starts the server in the background; sets SERVER_PID. Returns
# non-zero with REASON set when it can't.
start_server() {
  local impl=$1 tc=$2 stc
  stc=$(server_testcase "$tc")
  local -a cmd
  endpoint_env server "$stc"
  case "$impl" in
    quic-go) cmd=("$PEERS_DIR/quic-go-server") ;;
    # ngtcp2's example server speaks HTTP/3 only; its key log goes to $SSLKEYLOGFILE.
    ngtcp2) cmd=(gtlsserver -q --qlog-dir /logs/qlog -d /www '*' 443 /certs/priv.key /certs/cert.pem) ;;
    quiver)
      mapfile -t cmd < <(quiver_server_args "$tc")
      local missing
      missing=$(quiver_missing_options server "${cmd[@]}" | tr '\n' ' ')
      if [ -n "$missing" ]; then
        REASON="quiver server has no option ${missing% } yet"
        return 1
      fi
      cmd=("$QUIVER" "${cmd[@]}")
      ;;
  esac
  in_sandbox server env "${ENDPOINT_ENV[@]}" "${cmd[@]}" >"$RUN_DIR/server/output.txt" 2>&1 &
  SERVER_PID=$!
}

# wait_for_server: polls until something listens on UDP 443 in the namespace (5 s).
wait_for_server() {
  local i
  for ((i = 0; i < 100; i++)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID" && REASON="server exited (0) before listening" \
        || REASON="server exited ($?) before listening"
      return 1
    fi
    [ -n "$(in_netns ss -Hnlu 'sport = :443' 2>/dev/null)" ] && return 0
    sleep 0.05
  done
  REASON="server not listening on UDP 443 after 5 s"
  return 1
}

# client_runs IMPL CASE URL...: prints one line per client process, its command line.
client_runs() {
  local impl=$1 tc=$2
  shift 2
  case "$impl" in
    # quic-go's interop client takes the URLs as arguments, as the runner's
    # run_endpoint.sh passes $REQUESTS, and makes the case's connections itself.
    quic-go) echo "$PEERS_DIR/quic-go-client $*" ;;
    # ngtcp2's example client: HTTP/3 only, every URL on one connection, each body saved
    # under /downloads by its path.
    ngtcp2)
      local host=${1#https://}
      host=${host%%/*}
      echo "gtlsclient -q --qlog-dir /logs/qlog --exit-on-all-streams-close --download /downloads ${host%:*} ${host##*:} $*"
      ;;
    quiver)
      local line
      quiver_client_runs "$tc" "$@" | while read -r line; do echo "$QUIVER $line"; done
      ;;
  esac
}

# run_client IMPL CASE DEADLINE URL...: runs the client process(es) one after the other,
# each bounded by the time left until DEADLINE (epoch seconds), each with the whole
# REQUESTS in its environment. Returns non-zero with REASON set on the first failure.
run_client() {
  local impl=$1 tc=$2 deadline=$3
  shift 3
  local -a runs cmd
  mapfile -t runs < <(client_runs "$impl" "$tc" "$@")
  if [ "$impl" = quiver ]; then
    local missing
    missing=$(for line in "${runs[@]}"; do
      read -r -a cmd <<<"$line"
      quiver_missing_options client "${cmd[@]:2}"
    done | sort -u | tr '\n' ' ')
    if [ -n "$missing" ]; then
      REASON="quiver client has no option ${missing% } yet"
      return 1
    fi
  fi
  endpoint_env client "$tc" "$@"
  local n=0 line rc
  for line in "${runs[@]}"; do
    n=$((n + 1))
    read -r -a cmd <<<"$line"
    if [ "$(date +%s)" -ge "$deadline" ]; then
      REASON="out of time before client run $n of ${#runs[@]}"
      return 1
    fi
    echo "== client run $n: ${cmd[*]}" >>"$RUN_DIR/client/output.txt"
    in_sandbox client env "${ENDPOINT_ENV[@]}" "${cmd[@]}" >>"$RUN_DIR/client/output.txt" 2>&1 &
    CLIENT_PID=$!
    rc=0
    wait_until "$CLIENT_PID" "$deadline" || rc=$?
    CLIENT_PID=''
    case "$rc" in
      0) ;;
      124) REASON="client timed out (run $n of ${#runs[@]})"; return 1 ;;
      127) REASON="client exited with 127: test case not supported (or not found)"; return 1 ;;
      *) REASON="client exited with $rc (run $n of ${#runs[@]})"; return 1 ;;
    esac
  done
}

# wait_until PID DEADLINE: waits for PID (a child) to exit; returns its exit code, or
# kills it and returns 124 (like timeout(1)) at DEADLINE (epoch seconds).
wait_until() {
  local pid=$1 deadline=$2
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      local i
      for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
      kill_endpoint_group "$pid"
      wait "$pid" 2>/dev/null || true
      return 124
    fi
    sleep 0.05
  done
  wait "$pid"
}

# ---------------------------------------------------------------------------------------
# Capture. tshark's "Capturing on" comes before the capture really takes packets, and
# libpcap hands packets to dumpcap in blocks on a timer, so stopping can lose the last
# partial block: a short zerortt run once lost its start, once its second connection.
# So the capture is bracketed with marker datagrams to port 443 of addresses on lo where
# nobody listens (the capture filter takes them, no endpoint sees them): started = the
# start marker is in the file; stopped = the stop marker is, and so all before it.
readonly MARK_START=127.0.0.2 MARK_STOP=127.0.0.3

# wait_for_marker ADDR: sends a marker to ADDR:443 every 0.5 s until the capture file
# holds one (at most 5 s). The marker's payload names ADDR, and dumpcap writes payloads
# as they are, so grep finds it: much cheaper than starting tshark to read the file.
wait_for_marker() {
  local addr=$1 i
  for ((i = 0; i < 100; i++)); do
    if ((i % 10 == 0)); then
      in_netns bash -c "printf quiver-interop-marker-$addr >/dev/udp/$addr/443" 2>/dev/null || true
    fi
    sleep 0.05
    grep -aqF "quiver-interop-marker-$addr" "$RUN_DIR/capture.pcapng" 2>/dev/null && return 0
  done
  return 1
}

# start_capture: dumpcap (tshark's capture engine, which starts faster) on the namespace's loopback, UDP port 443 only, until it takes
# packets. -B 64: a 64 MiB kernel buffer, so that a busy machine drops nothing of a
# transfer. -a duration: it ends by itself even if the harness is killed.
start_capture() {
  exec_in_netns dumpcap -i lo -f 'udp port 443' -B 64 -a "duration:$SELF_LIMIT" \
    -w "$RUN_DIR/capture.pcapng" -q >"$RUN_DIR/dumpcap.txt" 2>&1 &
  TSHARK_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q "Capturing on" "$RUN_DIR/dumpcap.txt" 2>/dev/null && break
    kill -0 "$TSHARK_PID" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q "Capturing on" "$RUN_DIR/dumpcap.txt" 2>/dev/null || ! wait_for_marker "$MARK_START"; then
    REASON="dumpcap did not start capturing: $(head -c 200 "$RUN_DIR/dumpcap.txt" | tr '\n' ' ')"
    return 1
  fi
}

# stop_capture: once everything the endpoints sent is in the file, ends tshark.
stop_capture() {
  [ -n "${TSHARK_PID:-}" ] || return 0
  wait_for_marker "$MARK_STOP" || true
  kill -INT "$TSHARK_PID" 2>/dev/null || true
  wait "$TSHARK_PID" 2>/dev/null || true
  TSHARK_PID=''
}

# ---------------------------------------------------------------------------------------
# Checks.

# compare_downloads: every served file downloaded byte for byte, and nothing else in
# the client's /downloads (the runner fails extra files too).
compare_downloads() {
  local name
  for name in "${FILES[@]}"; do
    if [ ! -f "$RUN_DIR/client/downloads/$name" ]; then
      REASON="/downloads/$name missing ($(find "$RUN_DIR/client/downloads" -type f | wc -l) of ${#FILES[@]} files downloaded)"
      return 1
    fi
    if ! cmp -s "$RUN_DIR/www/$name" "$RUN_DIR/client/downloads/$name"; then
      REASON="/downloads/$name differs from /www/$name ($(stat -c %s "$RUN_DIR/client/downloads/$name") of $(stat -c %s "$RUN_DIR/www/$name") bytes)"
      return 1
    fi
  done
  local extra
  extra=$(find "$RUN_DIR/client/downloads" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort |
    comm -23 - <(printf '%s\n' "${FILES[@]}" | sort) | head -3 | tr '\n' ' ')
  if [ -n "$extra" ]; then
    REASON="unexpected files in /downloads: ${extra% }"
    return 1
  fi
}

# decode_capture: one tshark pass over the capture, decrypted with both sides' key logs
# (appended: each side may log only some connections), into packets.tsv with one line per
# datagram: direction (c2s or s2c), Wireshark's connection number, long header packet
# types, key phase bits, TLS handshake message types, cipher suites, Initial token
# lengths. Multi-valued fields (coalesced packets, several messages) are comma-joined.
decode_capture() {
  cat "$RUN_DIR"/server/logs/keys.log "$RUN_DIR"/client/logs/keys.log >"$RUN_DIR/keys.log" 2>/dev/null || true
  # -d: the client's ephemeral port can be one Wireshark knows for another protocol, which would
  # then hide that connection; everything to or from port 443 here is QUIC.
  tshark -r "$RUN_DIR/capture.pcapng" -d udp.port==443,quic -o "tls.keylog_file:$RUN_DIR/keys.log" \
    -Y "quic && !(ip.dst == $MARK_START || ip.dst == $MARK_STOP)" \
    -T fields -E separator=/t -E occurrence=a -E aggregator=, \
    -e udp.srcport -e quic.connection.number -e quic.long.packet_type -e quic.key_phase \
    -e tls.handshake.type -e tls.handshake.ciphersuite -e quic.token_length -e quic.scid \
    2>"$RUN_DIR/tshark-decode.txt" |
    awk -F'\t' -v OFS='\t' '{ $1 = ($1 == "443") ? "s2c" : "c2s"; sub(/,.*/, "", $2); print }' \
      >"$RUN_DIR/packets.tsv"
}

# Awk helpers over packets.tsv. Fields: 1 dir, 2 conn, 3 long types, 4 key phase,
# 5 handshake types, 6 cipher suites, 7 token lengths, 8 source connection IDs.
readonly AWK_LIB='
function has(list, v,   n, a, i) { n = split(list, a, ","); for (i = 1; i <= n; i++) if (a[i] == v) return 1; return 0 }
function first_tls13(list,   n, a, i) { n = split(list, a, ","); for (i = 1; i <= n; i++) if (a[i] ~ /^0x130[1-5]$/) return a[i]; return "" }
BEGIN { FS = "\t" }'

# The connections (Wireshark's numbers) in which the server sent a ServerHello, in order.
handshake_connections() {
  awk "$AWK_LIB"' $1 == "s2c" && has($5, 2) && !seen[$2]++ { print $2 }' "$RUN_DIR/packets.tsv"
}

# How many handshakes the server answered: distinct server connection IDs on the server's
# Initial packets (long type 0). The Source Connection ID is not encrypted, so the count does not
# depend on tshark decrypting every connection, and Wireshark's connection numbers (which can
# merge two connections that reuse a client port) play no part. Retransmissions keep their ID.
handshake_count() {
  awk "$AWK_LIB"' $1 == "s2c" && has($3, 0) { split($8, a, ","); if (a[1] != "" && !seen[a[1]]++) n++ } END { print n + 0 }' \
    "$RUN_DIR/packets.tsv"
}

# count_packets AWK_CONDITION: how many datagrams match.
count_packets() {
  awk "$AWK_LIB"' '"$1"' { n++ } END { print n + 0 }' "$RUN_DIR/packets.tsv"
}

# qlog_checks: the traces the endpoints wrote during the run (quic-go and quiver honour
# QLOGDIR, ngtcp2 gets --qlog-dir) must all be read by `quiver qlog summary`, and every
# client-side trace (complete: the client has exited) must count packets both ways.
qlog_checks() {
  local -a files
  mapfile -t files < <(find "$RUN_DIR/client/logs/qlog" "$RUN_DIR/server/logs/qlog" -type f \
    \( -name '*.qlog' -o -name '*.sqlog' \) 2>/dev/null | sort)
  if [ ${#files[@]} -eq 0 ]; then
    REASON="qlog: no trace written"
    return 1
  fi
  local table
  if ! table=$("$QUIVER" qlog summary "${files[@]}" 2>&1); then
    REASON="qlog: quiver qlog summary failed: $(echo "$table" | tail -1)"
    return 1
  fi
  # Columns: CONNECTION VANTAGE PRODUCER VERSION ALPN HS_MS DUR_MS TX_PKTS TX_BYTES RX_PKTS ...
  local bad
  bad=$(echo "$table" | awk 'NR > 1 && $2 == "client" && ($8 + 0 == 0 || $10 + 0 == 0) { print $1 }')
  if [ -n "$bad" ]; then
    REASON="qlog: client trace without packets: $bad"
    return 1
  fi
  QLOG_NOTE=" (qlog: ${#files[@]} traces read)"
}

# wire_checks CASE URL_COUNT: what the case claims, on the wire. Sets REASON on failure.
# Long header packet types as Wireshark numbers them: 0 Initial, 1 0-RTT, 2 Handshake,
# 3 Retry. TLS handshake types: 2 ServerHello, 8 EncryptedExtensions, 11 Certificate.
wire_checks() {
  local tc=$1 urls=$2
  decode_capture
  # A capture that lost packets can fail a check for no fault of the endpoints: say so.
  # dumpcap ends with "Packets received/dropped on interface 'Loopback: lo': R/D (...)".
  local drops
  drops=$(sed -nE 's|^Packets received/dropped on interface .*: [0-9]+/([0-9]+) .*|\1|p' \
    "$RUN_DIR/dumpcap.txt" | head -1)
  # shellcheck disable=SC2034  # read by tests/interop/run
  [ "${drops:-0}" = 0 ] || WIRE_NOTE=" (the capture dropped $drops packets)"
  local -a conns
  mapfile -t conns < <(handshake_connections)
  local n retries
  n=$(handshake_count)
  retries=$(count_packets '$1 == "s2c" && has($3, 3)')
  if [ "$n" -eq 0 ]; then
    REASON="wire: no ServerHello in the capture"
    return 1
  fi
  # Without decryption, the absence of a Certificate (or of key phase 1) proves nothing:
  # every handshake must show its EncryptedExtensions, which only the keys reveal.
  local c
  for c in "${conns[@]}"; do
    if [ "$(count_packets '$2 == "'"$c"'" && has($5, 8)')" -eq 0 ]; then
      REASON="wire: connection $c not decrypted (no EncryptedExtensions; key log missing or incomplete?)"
      return 1
    fi
  done
  local want=1
  case "$tc" in
    resumption | zerortt) want=2 ;;
    multiconnect) want=$urls ;;
  esac
  if [ "$n" -ne "$want" ]; then
    REASON="wire: $n handshakes, expected $want"
    return 1
  fi
  if [ "$tc" != retry ] && [ "$retries" -ne 0 ]; then
    REASON="wire: the server sent a Retry ($retries) in a case without one"
    return 1
  fi
  case "$tc" in
    retry)
      if [ "$retries" -eq 0 ]; then REASON="wire: no Retry packet"; return 1; fi
      if [ "$(count_packets '$1 == "c2s" && has($3, 0) && $7 + 0 > 0')" -eq 0 ]; then
        REASON="wire: Retry seen but no client Initial carries a token"
        return 1
      fi
      ;;
    resumption | zerortt)
      # The first connection may or may not show a Certificate; the last must not.
      local last=${conns[${#conns[@]} - 1]}
      if [ "$(count_packets '$2 == "'"$last"'" && has($5, 11)')" -ne 0 ]; then
        REASON="wire: the second handshake has a Certificate (not resumed)"
        return 1
      fi
      if [ "$tc" = zerortt ] && [ "$(count_packets '$1 == "c2s" && $2 == "'"$last"'" && has($3, 1)')" -eq 0 ]; then
        REASON="wire: no 0-RTT packet from the client in the second connection"
        return 1
      fi
      ;;
    chacha20)
      # ServerHello's cipher suite is the one chosen: 0x1303 TLS_CHACHA20_POLY1305_SHA256.
      local other
      other=$(count_packets '$1 == "s2c" && has($5, 2) && $6 != "0x1303"')
      if [ "$other" -ne 0 ]; then
        REASON="wire: a ServerHello chose a suite other than TLS_CHACHA20_POLY1305_SHA256"
        return 1
      fi
      # The runner wants the client to offer ChaCha20 "only (first)": BoringSSL can only
      # put it first (interop/README.md), so: the first TLS 1.3 suite of every ClientHello.
      other=$(count_packets '$1 == "c2s" && has($5, 1) && first_tls13($6) != "0x1303"')
      if [ "$other" -ne 0 ]; then
        REASON="wire: a ClientHello offers another TLS 1.3 suite before TLS_CHACHA20_POLY1305_SHA256"
        return 1
      fi
      ;;
    http3) http3_checks || return 1 ;;
    keyupdate)
      local dir
      for dir in c2s s2c; do
        if [ "$(count_packets '$1 == "'"$dir"'" && (has($4, 1) || has($4, "True"))')" -eq 0 ]; then
          REASON="wire: no key phase 1 packet ${dir/c2s/client to server}"
          REASON=${REASON/s2c/server to client}
          return 1
        fi
      done
      ;;
  esac
}

# http3_checks: the capture must show HTTP/3 HEADERS frames both ways (so h3 was spoken, not
# hq-interop). Reports, on stdout and in qpack.txt, how many header sections of each
# direction reference the QPACK dynamic table: a HEADERS payload starts with the encoded
# Required Insert Count (RFC 9204 §4.5.1.1), which is 0 for a static-only section.
# Wireshark 4.0 has no QPACK fields, hence the first byte of http3.frame_payload.
http3_checks() {
  tshark -r "$RUN_DIR/capture.pcapng" -d udp.port==443,quic -o "tls.keylog_file:$RUN_DIR/keys.log" -Y http3 \
    -T fields -E separator=/t -E occurrence=a -E aggregator=, \
    -e udp.srcport -e http3.frame_type -e http3.frame_payload 2>>"$RUN_DIR/tshark-decode.txt" |
    awk -F'\t' '
      { dir = ($1 == "443") ? "s2c" : "c2s"; nt = split($2, t, ","); split($3, p, ",")
        for (i = 1; i <= nt; i++) if (t[i] == 1) { n[dir]++; if (substr(p[i], 1, 2) != "00") d[dir]++ } }
      END { printf "c2s %d %d\ns2c %d %d\n", n["c2s"], d["c2s"], n["s2c"], d["s2c"] }' \
      >"$RUN_DIR/qpack.txt"
  local c2s s2c c2s_dyn s2c_dyn
  read -r _ c2s c2s_dyn < <(sed -n 1p "$RUN_DIR/qpack.txt")
  read -r _ s2c s2c_dyn < <(sed -n 2p "$RUN_DIR/qpack.txt")
  echo "qpack: client->server $c2s_dyn of $c2s header sections use the dynamic table;" \
    "server->client $s2c_dyn of $s2c"
  if [ "$c2s" -eq 0 ] || [ "$s2c" -eq 0 ]; then
    REASON="wire: no HTTP/3 HEADERS frame client->server ($c2s) or server->client ($s2c)"
    return 1
  fi
}

# kill_endpoint_group PID: SIGKILL for PID and, when PID leads its own process group (as
# the timeout(1) wrapper of an endpoint does: it calls setpgid), for that whole group, so
# that no descendant is left orphaned. Never the harness's own group.
kill_endpoint_group() {
  local pid=$1 pgid
  pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')
  if [ "$pgid" = "$pid" ] && [ "$pgid" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]; then
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------
# Cleanup: every process this run started, by pid. The mount namespaces, and with them
# the bind mounts, go away with their processes; the network namespace with its holder.
kill_run_processes() {
  local pid i alive
  local -a pids=()
  for pid in "${TSHARK_PID:-}" "${CLIENT_PID:-}" "${SERVER_PID:-}" "${NETNS_PID:-}"; do
    if [ -n "$pid" ]; then pids+=("$pid"); fi
  done
  # INT lets dumpcap close its capture file properly; TERM reaches the endpoints through
  # their timeout(1) wrappers.
  if [ -n "${TSHARK_PID:-}" ]; then kill -INT "$TSHARK_PID" 2>/dev/null || true; fi
  for pid in "${CLIENT_PID:-}" "${SERVER_PID:-}" "${NETNS_PID:-}"; do
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for ((i = 0; i < 40; i++)); do
    alive=false
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=true; fi
    done
    $alive || break
    sleep 0.05
  done
  # Whatever ignored TERM for 2 s: KILL it (an endpoint with all its descendants).
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill_endpoint_group "$pid"; fi
  done
  wait 2>/dev/null || true
  TSHARK_PID='' CLIENT_PID='' SERVER_PID='' NETNS_PID=''
}
