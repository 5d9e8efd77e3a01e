#!/usr/bin/env bash
# Connection migration with the real quiver binary on loopback, checked on the wire: tshark
# captures on lo and decrypts with the client's key log (RFC 9000 §9). Everything runs in a
# network namespace of its own whose lo has UDP segmentation offload off, so that each GSO
# segment is captured as the datagram it is (tshark cannot read a 64 KiB super-packet, and
# loses track of packet numbers after one).
#
#   migration.sh QUIVER CASE     (CASE: preferred_address or migrate_after)
#
# preferred_address: the server offers a preferred address on a second port; the client's
#   first packet there is a PATH_CHALLENGE with a connection ID not used on the first path
#   (§9.5, §9.6), the server's first packet from there answers it and challenges the new
#   4-tuple (§8.2, §9.3), the client answers, and the transfer goes on there.
# migrate_after: the client moves to a new local port after 1 MiB (--migrate-after): the
#   same on the wire, from the client's new port.
set -euo pipefail

BINARY=$(realpath "$1")
CASE=$2
WORK=$(mktemp -d /tmp/quiver-mig.XXXXXX)
NS=quiver-mig-$$
SERVER_PID=
PORT=
T=30

cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
    if [[ -n $CAPTURE_PID ]] && kill -0 "$CAPTURE_PID" 2>/dev/null; then kill -KILL "$CAPTURE_PID"; fi
    ip netns del "$NS" 2>/dev/null || true
    [[ -n ${KEEP:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL ($CASE): $*" >&2
    for f in "$WORK"/*.log "$WORK"/*.err "$WORK"/wire.tsv; do
        [[ -f $f ]] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v tshark >/dev/null || fail "tshark is not installed"
QUIVER=$BINARY
private_netns "$NS"

# One line per datagram: src port, dst port, short-header DCID, PATH_CHALLENGE data,
# PATH_RESPONSE data (empty when absent), UDP length.
decode() {
    tshark -r "$WORK/cap.pcap" -o "tls.keylog_file:$WORK/keys.log" -Y quic -T fields \
        -E separator=/t -E occurrence=a -E aggregator=, \
        -e udp.srcport -e udp.dstport -e quic.header_form -e quic.dcid \
        -e quic.path_challenge.data -e quic.path_response.data -e udp.length 2>/dev/null |
        awk -F'\t' -v OFS='\t' '{
            n = split($3, forms, ","); split($4, dcids, ",")
            split($5, ch, ","); split($6, re, ",")
            print $1, $2, (forms[n] == "0") ? dcids[n] : "", ch[1], re[1], $7
        }' >"$WORK/wire.tsv"
    [[ -s $WORK/wire.tsv ]] || fail "nothing decoded"
}

# check_new_path OLD_SRC OLD_DST NEW_SRC NEW_DST (the client's side of each path): the first
# client datagram on the new path is a PATH_CHALLENGE with a DCID never used on the old one;
# the server's first datagram on it carries a PATH_RESPONSE to it and a PATH_CHALLENGE of its
# own, which the client answers there; and the server's last datagram goes on the new path
# (the transfer moved there).
check_new_path() {
    local why
    why=$(awk -F'\t' -v os="$1" -v od="$2" -v ns="$3" -v nd="$4" '
        $1 == os && $2 == od && $3 != "" { old_dcid[$3] = 1 }
        $1 == ns && $2 == nd {
            if (!client_first) {
                client_first = 1
                if ($4 == "") { print "the client'\''s first datagram on the new path has no PATH_CHALLENGE"; exit }
                if ($3 in old_dcid) { print "the client reuses DCID " $3 " on the new path"; exit }
                challenge = $4
            }
            if (server_challenge != "" && $5 == server_challenge) answered = 1
        }
        $1 == nd && $2 == ns {
            last = "new"
            if (!server_first) {
                server_first = 1
                if ($5 != challenge) { print "the server'\''s first datagram on the new path does not answer " challenge " (PATH_RESPONSE \"" $5 "\")"; exit }
                if ($4 == "") { print "the server'\''s first datagram on the new path has no PATH_CHALLENGE"; exit }
                server_challenge = $4
            }
        }
        $1 == od && $2 == os { last = "old" }
        END {
            if (!client_first) { print "no client datagram on the new path"; exit }
            if (!server_first) { print "no server datagram on the new path"; exit }
            if (!answered) { print "the client never answered the server'\''s PATH_CHALLENGE " server_challenge; exit }
            if (last != "new") print "the server'\''s last datagram went on the old path"
        }' "$WORK/wire.tsv")
    [[ -z $why ]] || fail "$why"
}

client() {
    RC=0
    timeout "$T" "$QUIVER" client --alpn hq-interop -k -v --keylog "$WORK/keys.log" "$@" \
        2>"$WORK/client.err" || RC=$?
}

case_preferred_address() {
    mkdir -p "$WORK/www" "$WORK/out"
    head -c $((4 * 1024 * 1024)) /dev/urandom >"$WORK/www/4m.bin"
    local listen=4433 preferred=4434  # the namespace is ours: any port is free
    capture_start "$WORK/cap.pcap" "udp port $listen or udp port $preferred" ip netns exec "$NS"
    start_server --listen "127.0.0.1:$listen" --preferred-address "127.0.0.1:$preferred"
    client --output-dir "$WORK/out" "https://127.0.0.1:$listen/4m.bin"
    [[ $RC == 0 ]] || fail "client exit $RC"
    cmp -s "$WORK/www/4m.bin" "$WORK/out/4m.bin" || fail "the file differs"
    stop_server
    capture_stop
    grep -q "migrations 1" "$WORK/client.err" || fail "the client did not report one migration"
    decode
    local cport
    cport=$(awk -F'\t' -v l="$listen" '$2 == l { print $1; exit }' "$WORK/wire.tsv")
    check_new_path "$cport" "$listen" "$cport" "$preferred"
}

case_migrate_after() {
    mkdir -p "$WORK/www" "$WORK/out"
    # 16 MiB: the move must complete (a round trip on the new path, behind up to a megabyte
    # the client reads per wakeup from the old one) before the transfer ends; with 64 KiB
    # datagrams on lo the 3 MiB left of a 4 MiB file took about 2 ms, and the move missed it
    # in 1 run of 6.
    head -c $((16 * 1024 * 1024)) /dev/urandom >"$WORK/www/16m.bin"
    local listen=4433
    capture_start "$WORK/cap.pcap" "udp port $listen" ip netns exec "$NS"
    start_server --listen "127.0.0.1:$listen"
    client --migrate-after $((1024 * 1024)) --output-dir "$WORK/out" "https://127.0.0.1:$listen/16m.bin"
    [[ $RC == 0 ]] || fail "client exit $RC"
    cmp -s "$WORK/www/16m.bin" "$WORK/out/16m.bin" || fail "the file differs"
    stop_server
    capture_stop
    grep -q "^\* migrated: now" "$WORK/client.err" || fail "the client did not report the move"
    decode
    local old new
    old=$(awk -F'\t' -v l="$listen" '$2 == l { print $1; exit }' "$WORK/wire.tsv")
    new=$(awk -F'\t' -v l="$listen" -v o="$old" '$2 == l && $1 != o { print $1; exit }' "$WORK/wire.tsv")
    [[ -n $new ]] || fail "no datagram from a new client port"
    check_new_path "$old" "$listen" "$new" "$listen"
}

"case_$CASE"
echo "ok: $CASE"
