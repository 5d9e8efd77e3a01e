#!/bin/bash
# quiver's endpoint for the QUIC interop runner (github.com/quic-interop/quic-interop-runner):
# the entry point of the image interop/Dockerfile builds, and what interop/run starts for
# quiver (with stand-ins for the image's /setup.sh and /wait-for-it.sh). Everything about how
# a test case maps onto quiver's command line lives here, and only here.
#
# Environment (the runner's contract, interop/README.md): ROLE (client|server), TESTCASE,
# REQUESTS (client: space-separated https://HOST:443/FILE URLs), SSLKEYLOGFILE, QLOGDIR (quiver
# reads both itself and appends), CLIENT_PARAMS / SERVER_PARAMS (extra arguments, passed on).
# Paths: /www (served), /downloads (the client saves there, nothing else), /certs/ca.pem,
# /certs/cert.pem, /certs/priv.key, /logs.
# Exit codes: quiver's (0 success, 1 and others failure), 127 = the test case is not supported.
#
# Cases that need a transport feature quiver does not have yet answer 127 until it is there,
# decided from `quiver server --help` / `quiver client --help`, so nothing here changes when
# the feature lands:
#   v2                   compatible version negotiation: --versions (both roles)
#   connectionmigration  the server's preferred address: server --preferred-address
#   multiconnect         (handshakeloss, handshakecorruption) client --handshake-timeout

/setup.sh

QUIVER=${QUIVER:-quiver}
if ! command -v "$QUIVER" >/dev/null; then
  # Not 127: the runner would read a missing binary as "test case not supported".
  echo "run_endpoint.sh: $QUIVER not found" >&2
  exit 1
fi

# has_option SUBCOMMAND OPTION: whether `quiver SUBCOMMAND --help` lists OPTION.
# The help is read whole first: `--help | grep -q` stops reading at the match, quiver dies of
# SIGPIPE on the rest, and under pipefail the option then looks missing.
has_option() {
  local help
  help=$("$QUIVER" "$1" --help 2>/dev/null) || true
  grep -qE -- "(^|[ ,])$2([ =,]|$)" <<<"$help"
}

unsupported() {
  echo "run_endpoint.sh: test case '$TESTCASE' not supported${1:+ ($1)}"
  exit 127
}

# This endpoint's own address on eth0 (IPv4 or IPv6), for the preferred address.
own_address() {
  ip "-$1" -o addr show dev eth0 scope global 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }'
}

run_server() {
  local -a args=(server --listen '[::]:443' --root /www --cert /certs/cert.pem --key /certs/priv.key)
  case "$TESTCASE" in
    # The server answers h3 and hq-interop by the client's ALPN.
    handshake | transfer | chacha20 | resumption | http3 | keyupdate | ecn) ;;
    multiconnect)
      # Under 30 % loss a handshake can take long; use the option when it exists.
      if has_option server --handshake-timeout; then args+=(--handshake-timeout 180); fi
      ;;
    retry) args+=(--retry) ;;
    zerortt) args+=(--0rtt) ;;
    v2)
      has_option server --versions || unsupported "quiver server has no --versions"
      args+=(--versions v2,v1)
      ;;
    connectionmigration)
      has_option server --preferred-address || unsupported "quiver server has no --preferred-address"
      # The same addresses, another port: a path the client has not validated yet.
      local a
      a=$(own_address 4)
      [ -n "$a" ] && args+=(--preferred-address "$a:4433")
      a=$(own_address 6)
      [ -n "$a" ] && args+=(--preferred-address "[$a]:4433")
      ;;
    *) unsupported ;;
  esac
  # shellcheck disable=SC2086  # SERVER_PARAMS is a list of words
  exec "$QUIVER" "${args[@]}" $SERVER_PARAMS
}

run_client() {
  # shellcheck disable=SC2206  # REQUESTS is a list of words
  local -a urls=($REQUESTS)
  local -a base=(client --silent --alpn hq-interop --output-dir /downloads --cacert /certs/ca.pem)
  # Outside /downloads: the runner allows no other files there.
  local session
  case "$TESTCASE" in
    handshake | transfer | retry | ecn) ;;
    http3) base=(client --silent --output-dir /downloads --cacert /certs/ca.pem) ;;
    chacha20) base+=(--chacha20) ;;
    # An update every 100 packets, as quic-go's interop client does: several in 3 MiB.
    keyupdate) base+=(--key-update 100) ;;
    resumption | zerortt) session=$(mktemp /tmp/quiver-session.XXXXXX) ;;
    multiconnect)
      has_option client --handshake-timeout || unsupported "quiver client has no --handshake-timeout"
      base+=(--handshake-timeout 180)
      ;;
    v2)
      has_option client --versions || unsupported "quiver client has no --versions"
      # The first Initial in v1, v2 offered for compatible version negotiation.
      base+=(--versions v1,v2)
      ;;
    *) unsupported ;;
  esac
  [ ${#urls[@]} -gt 0 ] || { echo "run_endpoint.sh: REQUESTS is empty" >&2; exit 1; }

  # Wait for the simulator.
  /wait-for-it.sh sim:57832 -s -t 30 || exit 1

  local rc=0 url
  case "$TESTCASE" in
    resumption | zerortt)
      # Two connections one after the other: the first stores a ticket, the second resumes
      # with it (and, for zerortt, sends its requests in 0-RTT).
      local -a opts=(--session-file "$session")
      [ "$TESTCASE" = zerortt ] && opts+=(--0rtt)
      # shellcheck disable=SC2086
      "$QUIVER" "${base[@]}" "${opts[@]}" $CLIENT_PARAMS "${urls[0]}" || rc=$?
      # shellcheck disable=SC2086
      [ $rc -ne 0 ] || "$QUIVER" "${base[@]}" "${opts[@]}" $CLIENT_PARAMS "${urls[@]:1}" || rc=$?
      rm -f "$session"
      ;;
    multiconnect)
      # One connection per URL, each its own process: no silent reconnects.
      for url in "${urls[@]}"; do
        # shellcheck disable=SC2086
        "$QUIVER" "${base[@]}" $CLIENT_PARAMS "$url" || { rc=$?; break; }
      done
      ;;
    *)
      # shellcheck disable=SC2086
      "$QUIVER" "${base[@]}" $CLIENT_PARAMS "${urls[@]}" || rc=$?
      ;;
  esac
  # Not 127 for a failure: that would read as "unsupported".
  [ $rc -eq 127 ] && rc=1
  exit $rc
}

case "$ROLE" in
  server) run_server ;;
  client) run_client ;;
  *)
    echo "run_endpoint.sh: ROLE must be client or server, not '$ROLE'" >&2
    exit 1
    ;;
esac
