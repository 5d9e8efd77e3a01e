#!/bin/bash
# run_endpoint.sh for ngtcp2 as Debian 12 packages it: the example programs gtlsclient and
# gtlsserver (ngtcp2 0.12 with GnuTLS), which speak HTTP/3 only. So:
#   - the server takes only the http3 case: every other case is hq-interop, which a client
#     following the runner's contract asks for and gtlsserver cannot serve;
#   - the client takes the cases it can do over HTTP/3 (it has no hq-interop), which is a
#     valid run against a server that also serves h3 in those cases (quiver does): the
#     runner's checks look at the QUIC and TLS layers and the downloaded files, not the ALPN;
#   - v2 is unsupported: 0.12 knows only a draft of QUIC v2, not RFC 9369's version.
# GnuTLS appends every connection's secrets to $SSLKEYLOGFILE by itself.
/setup.sh
unsupported() {
  echo "ngtcp2 (gtlsclient/gtlsserver): test case '$TESTCASE' not supported"
  exit 127
}

if [ "$ROLE" = server ]; then
  [ "$TESTCASE" = http3 ] || unsupported
  # shellcheck disable=SC2086
  exec gtlsserver -q --qlog-dir "${QLOGDIR:-/logs/qlog}" -d /www '*' 443 /certs/priv.key /certs/cert.pem $SERVER_PARAMS
fi
[ "$ROLE" = client ] || { echo "ROLE must be client or server" >&2; exit 1; }

# shellcheck disable=SC2206
urls=($REQUESTS)
host=${urls[0]#https://}
host=${host%%/*}
host=${host%:*}
args=(-q --qlog-dir "${QLOGDIR:-/logs/qlog}" --exit-on-all-streams-close --download /downloads)
session=$(mktemp /tmp/ngtcp2-session.XXXXXX)
tp=$(mktemp /tmp/ngtcp2-tp.XXXXXX)
rm -f "$session" "$tp"
trap 'rm -f "$session" "$tp"' EXIT
case "$TESTCASE" in
  handshake | transfer | http3 | retry | ecn) ;;
  chacha20) args+=("--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305") ;;
  # A key update soon after the handshake, with the requests held back a little so that
  # data flows in the new phase both ways.
  keyupdate) args+=(--key-update=1ms --delay-stream=10ms) ;;
  resumption) args+=(--session-file="$session" --tp-file="$tp" --disable-early-data) ;;
  zerortt) args+=(--session-file="$session" --tp-file="$tp") ;;
  multiconnect) args+=(--timeout=180s) ;;
  *) unsupported ;;
esac

/wait-for-it.sh sim:57832 -s -t 30 || exit 1
rc=0
case "$TESTCASE" in
  resumption | zerortt)
    # shellcheck disable=SC2086
    gtlsclient "${args[@]}" $CLIENT_PARAMS "$host" 443 "${urls[0]}" || rc=$?
    # shellcheck disable=SC2086
    [ $rc -ne 0 ] || gtlsclient "${args[@]}" $CLIENT_PARAMS "$host" 443 "${urls[@]:1}" || rc=$?
    ;;
  multiconnect)
    for url in "${urls[@]}"; do
      # shellcheck disable=SC2086
      gtlsclient "${args[@]}" $CLIENT_PARAMS "$host" 443 "$url" || { rc=$?; break; }
    done
    ;;
  *)
    # shellcheck disable=SC2086
    gtlsclient "${args[@]}" $CLIENT_PARAMS "$host" 443 "${urls[@]}" || rc=$?
    ;;
esac
[ $rc -eq 127 ] && rc=1
exit $rc
