# shellcheck shell=bash
# The verdicts: each test case's check() (quic-interop-runner, testcases_quic.py and
# testcase.py), on the tables decode.sh makes of the two captures (the client's side is the
# left one, the server's the right one). check_case sets VERDICT, REASON and, for the
# measurements, VALUE (Mbit/s).
# shellcheck disable=SC2016  # the awk programs are single-quoted on purpose

# The runner uses one key log: the client's if it holds a handshake secret, else the server's.
select_keylog() {
  local dir=$1 side
  for side in client server; do
    if [ -s "$dir/$side/keys.log" ] && grep -q '^SERVER_HANDSHAKE_TRAFFIC_SECRET' "$dir/$side/keys.log"; then
      echo "$dir/$side/keys.log"
      return
    fi
  done
}

# Awk over the tables: L = left (client side), R = right (server side); dgrams or long.
T_LEFT_D='' T_LEFT_L='' T_RIGHT_D='' T_RIGHT_L=''
q() { awk -F'\t' "$@"; }

# The number of handshakes: distinct SCIDs of the server's Initial packets, server side.
count_handshakes() { q '$1 == "server" && $3 == "I" { s[$5] = 1 } END { print length(s) }' "$T_RIGHT_L"; }
# The versions of the server's Initial packets, server side.
server_initial_versions() { q '$1 == "server" && $3 == "I" { v[$4] = 1 } END { for (k in v) print k }' "$T_RIGHT_L" | sort | paste -sd, -; }

# check_files WORK: the client's /downloads holds exactly the served files, byte for byte.
check_files() {
  local work=$1 f
  local got="$work/downloads-client"
  local extra
  extra=$(find "$got" -mindepth 1 -maxdepth 1 -type f -printf '%f\n' | sort | comm -23 - <(printf '%s\n' "${FILES[@]}" | sort) | head -3 | paste -sd' ' -)
  [ -z "$extra" ] || { REASON="unexpected downloaded files: $extra"; return 1; }
  local missing=0
  for f in "${FILES[@]}"; do [ -f "$got/$f" ] || missing=$((missing + 1)); done
  [ "$missing" -eq 0 ] || { REASON="$missing of ${#FILES[@]} files missing in /downloads"; return 1; }
  for f in "${FILES[@]}"; do
    if ! cmp -s "$work/www/$f" "$got/$f"; then
      REASON="/downloads/$f differs ($(stat -c %s "$got/$f") of $(stat -c %s "$work/www/$f") bytes)"
      return 1
    fi
  done
}

check_version_and_files() {
  local v
  v=$(server_initial_versions)
  [ "$v" = 0x1 ] || { REASON="expected exactly version 0x1 in the server's Initials, got '${v:-none}'"; return 1; }
  check_files "$1"
}

expect_handshakes() {
  local n
  n=$(count_handshakes)
  [ "$n" -eq "$1" ] || { REASON="expected exactly $1 handshake(s), got $n"; return 1; }
}

# The handshake test's check (also for ecn, and keyupdate's base).
check_handshake() {
  check_version_and_files "$1" || return 1
  if [ "$(q '$3 == "R"' "$T_LEFT_L" | wc -l)" -ne 0 ]; then REASON="didn't expect a Retry"; return 1; fi
  expect_handshakes 1
}

check_transfer() { expect_handshakes 1 && check_version_and_files "$1"; }

check_longrtt() {
  expect_handshakes 1 && check_version_and_files "$1" || return 1
  # ClientHellos in the client's Initials: a handshake type 1, or (a retransmission
  # Wireshark does not show as one) a CRYPTO retransmission or overlap.
  local n
  n=$(q '$1 == "client" && $3 == "I" && ($11 ~ /(^|,)1(,|$)/ || $15 == 1)' "$T_LEFT_L" | wc -l)
  [ "$n" -ge 2 ] || { REASON="expected at least 2 ClientHellos, got $n"; return 1; }
}

check_chacha20() {
  expect_handshakes 1 || return 1
  local suites
  suites=$(q '$1 == "client" && $3 == "I" && $12 != "" { s[$12] = 1 } END { for (k in s) print k }' "$T_LEFT_L" | paste -sd, -)
  if [ "$suites" != 0x1303 ] && [ "$suites" != 4867 ]; then
    REASON="expected only ChaCha20 to be offered first in the ClientHellos, got '${suites:-none}'"
    return 1
  fi
  check_version_and_files "$1"
}

check_multiplexing() {
  expect_handshakes 1 && check_version_and_files "$1" || return 1
  local limits
  limits=$(q '$1 == "server" && $3 == "H" && $14 != "" { print $14 }' "$T_LEFT_L" | sort -n | tail -1)
  [ -n "$limits" ] || { REASON="couldn't check the server's stream limit (no transport parameters seen)"; return 1; }
  [ "$limits" -le 1000 ] || { REASON="server set initial_max_streams_bidi $limits > 1000"; return 1; }
}

check_retry() {
  expect_handshakes 1 && check_version_and_files "$1" || return 1
  local why
  why=$(awk -F'\t' '
    FILENAME == ARGV[1] { if ($3 == "R") { if ($17 == "") { print "a Retry packet has no retry token"; bad = 1; exit } tokens[$17] = 1; n++ } next }
    FNR == 1 && n == 0 { print "no Retry packet"; bad = 1; exit }
    $1 == "client" && $3 == "I" {
      pn = $9 + 0
      if ($7 == "0" || $7 == "") { if (pn > high || !seen) { high = pn; seen = 1 } next }
      if (seen && pn <= high) { print "client reset the packet number (" pn ") after the Retry"; bad = 1; exit }
      if ($8 in tokens) { ok = 1; exit }
    }
    END { if (!bad && !ok) print (n == 0 ? "no Retry packet" : "no Initial carries a Retry token") }' \
    <(q '$1 == "server"' "$T_LEFT_L") "$T_LEFT_L")
  [ -z "$why" ] || { REASON=$why; return 1; }
}

check_resumption() {
  expect_handshakes 2 || return 1
  local why
  why=$(q '$1 == "server" && $3 == "H" { n++; scid[n] = $5; cert[n] = $13 }
    END {
      if (n == 0) { print "no Handshake packets from the server"; exit }
      first = scid[1]; last = scid[n]
      for (i = 1; i <= n; i++) {
        if (scid[i] == first) { if (cert[i] == 1) had = 1 }
        else if (scid[i] == last) { if (cert[i] == 1) { print "the server sent a Certificate in the second handshake"; exit } }
        else { print "a Handshake packet belongs to neither handshake"; exit }
      }
      if (!had) print "no Certificate in the first handshake"
    }' "$T_LEFT_L")
  [ -z "$why" ] || { REASON=$why; return 1; }
  check_version_and_files "$1"
}

check_zerortt() {
  expect_handshakes 2 && check_version_and_files "$1" || return 1
  local zero one
  zero=$(q '$1 == "client" && $3 == "Z" { s += $16 } END { print s + 0 }' "$T_LEFT_L")
  one=$(q '$1 == "client" && $11 == 1 { s += $12 } END { print s + 0 }' "$T_LEFT_D")
  [ "$zero" -gt 0 ] || { REASON="the client sent no 0-RTT data"; return 1; }
  # The runner's bound: half the size of the 40 requests' 250-byte names.
  [ "$one" -le 5000 ] || { REASON="the client sent $one bytes in 1-RTT packets (more than 5000)"; return 1; }
}

check_keyupdate() {
  check_handshake "$1" || return 1
  local c s
  c=$(q '$1 == "client" && $11 == 1 && $14 == 1' "$T_LEFT_D" | wc -l)
  s=$(q '$1 == "server" && $11 == 1 && $14 == 1' "$T_RIGHT_D" | wc -l)
  [ "$c" -gt 0 ] && [ "$s" -gt 0 ] || {
    REASON="expected key phase 1 packets from both sides: client sent $c, server $s"
    return 1
  }
}

check_ecn() {
  check_handshake "$1" || return 1
  local why
  # IPv4 ECN field: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE.
  why=$(awk -F'\t' '
    FILENAME == ARGV[1] && $1 == "client" && $3 == 4 { c[$9]++; if ($17 == 1) cack = 1 }
    FILENAME == ARGV[2] && $1 == "server" && $3 == 4 { s[$9]++; if ($17 == 1) sack = 1 }
    END {
      cany = c[1] + c[2] > 0; call = cany && c[3] == 0
      sany = s[1] + s[2] > 0; sall = sany && s[3] == 0
      if (!cany) print "the client did not mark any packets ECT(0) or ECT(1)"
      else if (!sack) print "the server did not send any ACK-ECN frames"
      else if (!call) print "not all client packets were marked ECT (CE seen)"
      else if (!sany) print "the server did not mark any packets ECT(0) or ECT(1)"
      else if (!cack) print "the client did not send any ACK-ECN frames"
      else if (!sall) print "not all server packets were marked ECT (CE seen)"
    }' "$T_LEFT_D" "$T_RIGHT_D")
  [ -z "$why" ] || { REASON=$why; return 1; }
}

check_amplificationlimit() {
  expect_handshakes 1 && check_version_and_files "$1" || return 1
  local max
  max=$(q '$1 == "server" && $3 == "H" && $10 != "" && $10 + 0 > m { m = $10 + 0 } END { print m + 0 }' "$T_RIGHT_L")
  [ "$max" -ge 7500 ] || {
    REASON="the server sent too little Handshake CRYPTO data ($max bytes): not using the certificate chain?"
    return 1
  }
  local why
  why=$(q '
    $10 == "V" { print "didn'"'"'t expect a Version Negotiation packet"; exit }
    $1 == "client" {
      if ($10 == "H") { ok = 1; exit }
      if ($10 == "I") { size = $8 - 8; allowed += 3 * size; tolerance += 4 * size }
      next
    }
    $1 == "server" {
      size = $8 - 8; sent += size
      if (size >= tolerance) { printf "the server sent %d bytes with only %d allowed (3x of what it received, 4x tolerated)\n", size, allowed; exit }
      allowed -= size; tolerance -= size
      next
    }
    { print "couldn'"'"'t tell who sent a packet"; exit }
    END { }' "$T_RIGHT_D")
  if [ -z "$why" ] && [ "$(q '$1 == "client" && $10 == "H"' "$T_RIGHT_D" | wc -l)" -eq 0 ]; then
    why="no Handshake packet from the client"
  fi
  [ -z "$why" ] || { REASON=$why; return 1; }
}

check_multiconnect() {
  local n=${#FILES[@]}
  expect_handshakes "$n" && check_version_and_files "$1"
}

check_ipv6() {
  check_transfer "$1" || return 1
  local n
  n=$(q '$1 == "server" && $3 == 4' "$T_RIGHT_D" | wc -l)
  [ "$n" -eq 0 ] || { REASON="the trace holds $n IPv4 packets from the server"; return 1; }
}

check_v2() {
  local v
  v=$(q '$1 == "client" && $3 == "I" { print $4 }' "$T_LEFT_L" | sort -u | paste -sd, -)
  [[ ",$v," == *,0x1,* ]] || { REASON="expected version 0x1 in the client's Initials, got '${v:-none}'"; return 1; }
  v=$(q '$1 == "server" && $3 == "I" { print $4 }' "$T_RIGHT_L" | sort -u | paste -sd, -)
  [[ ",$v," == *,$QUIC_V2,* ]] || { REASON="expected $QUIC_V2 in the server's Initials, got '${v:-none}'"; return 1; }
  v=$(q '$1 == "client" && $3 == "H" { print $4 }' "$T_LEFT_L" | sort -u | paste -sd, -)
  [ "$v" = "$QUIC_V2" ] || { REASON="expected only $QUIC_V2 in the client's Handshake packets, got '${v:-none}'"; return 1; }
  v=$(q '$1 == "server" && $3 == "H" { print $4 }' "$T_RIGHT_L" | sort -u | paste -sd, -)
  [ "$v" = "$QUIC_V2" ] || { REASON="expected only $QUIC_V2 in the server's Handshake packets, got '${v:-none}'"; return 1; }
  check_files "$1"
}

# rebind-port: every new path of the server's packets starts with a PATH_CHALLENGE, and the
# client answers every challenge.
check_rebind_port() {
  check_transfer "$1" || return 1
  local why
  why=$(awk -F'\t' '
    FILENAME == ARGV[1] && $1 == "server" {
      cur = $4 ":" $5 " " $6 ":" $7
      if (last == "") { last = cur; next }
      if (last != cur && !(cur in paths)) {
        paths[last] = 1; last = cur
        if ($15 == "") { print "the first server packet on the new path " cur " has no PATH_CHALLENGE"; bad = 1; exit }
        challenges[$15] = 1
      }
      next
    }
    FILENAME == ARGV[2] && $1 == "client" && $16 != "" { responses[$16] = 1 }
    END {
      if (bad) exit
      paths[cur] = 1
      if (length(paths) <= 1) { print "the server saw only one path"; exit }
      for (c in challenges) if (!(c in responses)) { print "PATH_CHALLENGE " c " without a PATH_RESPONSE"; exit }
    }' "$T_RIGHT_D" "$T_LEFT_D")
  [ -z "$why" ] || { REASON=$why; return 1; }
}

check_rebind_addr() {
  local n
  n=$(q '$1 == "server" { a[$6] = 1 } END { print length(a) }' "$T_RIGHT_D")
  [ "$n" -gt 1 ] || { REASON="the server saw only one client address"; return 1; }
  check_rebind_port "$1"
}

check_connectionmigration() {
  check_rebind_port "$1" || return 1
  local why
  why=$(q '$1 == "client" {
      cur = $4 ":" $5 " " $6 ":" $7; d = ($11 == 1) ? $13 : $19
      if (last == "") { last = cur; dcid = d; next }
      if (last != cur && !(cur in paths)) {
        paths[last] = 1; last = cur
        if (d == dcid) { print "the first client packet on the new path " cur " uses the old DCID " d; exit }
        dcid = d
      }
    }' "$T_LEFT_D")
  [ -z "$why" ] || { REASON=$why; return 1; }
}

# goodput and crosstraffic: 8 * file size / (last - first server 1-RTT packet at the client).
check_goodput() {
  check_transfer "$1" || return 1
  local size
  size=$(stat -c %s "$1/www/${FILES[0]}")
  VALUE=$(q -v size="$size" '$1 == "server" && $11 == 1 { if (first == "") first = $2; last = $2 }
    END { if (first == "" || last == first) print ""; else printf "%.3f", 8 * size / (last - first) / 1e6 }' "$T_LEFT_D")
  [ -n "$VALUE" ] || { REASON="no 1-RTT data from the server to measure"; return 1; }
}

# check_case TEST DIR WORK
check_case() {
  local test=$1 dir=$2 work=$3
  VERDICT=failed REASON='' VALUE=''
  local keylog
  keylog=$(select_keylog "$dir")
  if [ -z "$keylog" ] && case_needs_keylog "$test"; then
    VERDICT=unsupported REASON="no key log with handshake secrets: can't check"
    return
  fi
  local t="$dir/sim/decoded"
  mkdir -p "$t"
  decode_trace "$dir/sim/trace_node_left.pcap" "$keylog" "$t/left" &
  decode_trace "$dir/sim/trace_node_right.pcap" "$keylog" "$t/right"
  wait
  T_LEFT_D="$t/left.dgrams.tsv" T_LEFT_L="$t/left.long.tsv" T_RIGHT_D="$t/right.dgrams.tsv" T_RIGHT_L="$t/right.long.tsv"
  local ok=0
  case "$test" in
    handshake | ecn | keyupdate)
      case "$test" in handshake) check_handshake "$work" ;; ecn) check_ecn "$work" ;; keyupdate) check_keyupdate "$work" ;; esac || ok=$?
      ;;
    transfer | http3 | blackhole | transferloss | transfercorruption) check_transfer "$work" || ok=$? ;;
    longrtt) check_longrtt "$work" || ok=$? ;;
    chacha20) check_chacha20 "$work" || ok=$? ;;
    multiplexing) check_multiplexing "$work" || ok=$? ;;
    retry) check_retry "$work" || ok=$? ;;
    resumption) check_resumption "$work" || ok=$? ;;
    zerortt) check_zerortt "$work" || ok=$? ;;
    amplificationlimit) check_amplificationlimit "$work" || ok=$? ;;
    handshakeloss | handshakecorruption) check_multiconnect "$work" || ok=$? ;;
    ipv6) check_ipv6 "$work" || ok=$? ;;
    v2) check_v2 "$work" || ok=$? ;;
    rebind-port) check_rebind_port "$work" || ok=$? ;;
    rebind-addr) check_rebind_addr "$work" || ok=$? ;;
    connectionmigration) check_connectionmigration "$work" || ok=$? ;;
    goodput | crosstraffic) check_goodput "$work" || ok=$? ;;
  esac
  if [ "$ok" -eq 0 ]; then VERDICT=succeeded; fi
  # A decryption failure does not decide anything by itself (the runner only logs it), but
  # it explains a failed check.
  if [ "$VERDICT" = failed ] && [ -n "$keylog" ] && grep -qP '\t1\t[^\t]*$' "$T_LEFT_D" 2>/dev/null; then
    REASON="$REASON (some packets could not be decrypted)"
  fi
}
