#!/bin/bash
# run_endpoint.sh for quic-go's interop client and server (Debian's quic-go 0.29 sources,
# built by scripts/peers into build/peers/quic-go-{client,server}): those binaries already
# follow the runner's contract (ROLE, TESTCASE, /www, /certs, /downloads, SSLKEYLOGFILE,
# QLOGDIR, 127 for an unsupported case); this does what the image around them does.
/setup.sh
case "$ROLE" in
  server)
    # shellcheck disable=SC2086
    exec quic-go-server $SERVER_PARAMS
    ;;
  client)
    /wait-for-it.sh sim:57832 -s -t 30 || exit 1
    # shellcheck disable=SC2086
    exec quic-go-client $CLIENT_PARAMS $REQUESTS
    ;;
esac
echo "ROLE must be client or server" >&2
exit 1
