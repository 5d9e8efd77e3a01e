# shellcheck shell=bash
# The runner's test cases (quic-interop-runner, testcases_quic.py): their names, letters, the
# TESTCASE each endpoint is given, the network scenario, the files, the URL prefix, the
# certificate chain and the timeout. The checks are in checks.sh.

# In the runner's order (TESTCASES_QUIC, then MEASUREMENTS).
readonly ALL_TESTS="handshake transfer longrtt chacha20 multiplexing retry resumption zerortt http3
blackhole keyupdate ecn amplificationlimit handshakeloss transferloss handshakecorruption
transfercorruption ipv6 v2 rebind-port rebind-addr connectionmigration goodput crosstraffic"

readonly KIB=1024 MIB=1048576

is_test() { [[ " $(echo $ALL_TESTS) " == *" $1 "* ]]; }
is_measurement() { [ "$1" = goodput ] || [ "$1" = crosstraffic ]; }

case_abbr() {
  case "$1" in
    handshake) echo H ;; transfer) echo DC ;; longrtt) echo LR ;; chacha20) echo C20 ;;
    multiplexing) echo M ;; retry) echo S ;; resumption) echo R ;; zerortt) echo Z ;;
    http3) echo 3 ;; blackhole) echo B ;; keyupdate) echo U ;; ecn) echo E ;;
    amplificationlimit) echo A ;; handshakeloss) echo L1 ;; transferloss) echo L2 ;;
    handshakecorruption) echo C1 ;; transfercorruption) echo C2 ;; ipv6) echo 6 ;;
    v2) echo V2 ;; rebind-port) echo BP ;; rebind-addr) echo BA ;;
    connectionmigration) echo CM ;; goodput) echo G ;; crosstraffic) echo C ;;
  esac
}

# case_testname TEST ROLE: the TESTCASE the endpoint of ROLE gets.
case_testname() {
  case "$1" in
    longrtt) echo handshake ;;
    multiplexing | blackhole | amplificationlimit | transferloss | transfercorruption | ipv6 | \
      rebind-port | rebind-addr | goodput | crosstraffic) echo transfer ;;
    keyupdate) [ "$2" = client ] && echo keyupdate || echo transfer ;;
    handshakeloss | handshakecorruption) echo multiconnect ;;
    connectionmigration) [ "$2" = server ] && echo connectionmigration || echo transfer ;;
    *) echo "$1" ;;
  esac
}

readonly DEFAULT_SCENARIO="simple-p2p --delay=15ms --bandwidth=10Mbps --queue=25"
case_scenario() {
  local link="--delay=15ms --bandwidth=10Mbps --queue=25"
  case "$1" in
    longrtt) echo "simple-p2p --delay=750ms --bandwidth=10Mbps --queue=25" ;;
    amplificationlimit) echo "droplist $link --drops_to_server=2,3,4,5,6,7" ;;
    blackhole) echo "blackhole $link --on=5s --off=2s" ;;
    handshakeloss) echo "drop-rate $link --rate_to_server=30 --rate_to_client=30 --burst_to_server=3 --burst_to_client=3" ;;
    transferloss) echo "drop-rate $link --rate_to_server=2 --rate_to_client=2 --burst_to_server=3 --burst_to_client=3" ;;
    handshakecorruption) echo "corrupt-rate $link --rate_to_server=30 --rate_to_client=30 --burst_to_server=3 --burst_to_client=3" ;;
    transfercorruption) echo "corrupt-rate $link --rate_to_server=2 --rate_to_client=2 --burst_to_server=3 --burst_to_client=3" ;;
    rebind-port) echo "rebind $link --first-rebind=1s --rebind-freq=5s" ;;
    rebind-addr) echo "rebind $link --first-rebind=1s --rebind-freq=5s --rebind-addr" ;;
    *) echo "$DEFAULT_SCENARIO" ;;
  esac
}

case_timeout() {
  case "$1" in
    handshakeloss | handshakecorruption) echo 300 ;;
    crosstraffic) echo 180 ;;
    *) echo 60 ;;
  esac
}

case_urlprefix() {
  case "$1" in
    ipv6) echo "https://server6:443/" ;;
    connectionmigration) echo "https://server46:443/" ;;
    *) echo "https://server4:443/" ;;
  esac
}

case_cert_chain() { [ "$1" = amplificationlimit ] && echo 9 || echo 1; }

# The cases whose check needs a key log; without a valid one they come out unsupported.
case_needs_keylog() {
  case "$1" in
    multiplexing | resumption | keyupdate | ecn | amplificationlimit | rebind-port | rebind-addr) return 0 ;;
    *) return 1 ;;
  esac
}

# case_files TEST: "COUNT SIZE [NAME_LENGTH]" lines. With CI_SIZES=1 (interop/run --ci) the
# large transfers shrink so that CI stays fast; each keeps what its check needs (blackhole
# still lasts past the 5 s → 7 s blackout, rebinding past the first rebinding at 1 s).
case_files() {
  local ci=${CI_SIZES:-0}
  case "$1" in
    handshake | longrtt | v2) echo "1 $KIB" ;;
    transfer)
      if [ "$ci" = 1 ]; then printf '%s\n' "1 $((256 * KIB))" "1 $((512 * KIB))" "1 $MIB"; else
        printf '%s\n' "1 $((2 * MIB))" "1 $((3 * MIB))" "1 $((5 * MIB))"; fi
      ;;
    chacha20 | keyupdate) [ "$ci" = 1 ] && echo "1 $MIB" || echo "1 $((3 * MIB))" ;;
    multiplexing) echo "1999 32" ;;
    retry) echo "1 $((10 * KIB))" ;;
    resumption | ipv6) printf '%s\n' "1 $((5 * KIB))" "1 $((10 * KIB))" ;;
    zerortt) echo "40 32 250" ;;
    http3) printf '%s\n' "1 $((5 * KIB))" "1 $((10 * KIB))" "1 $((500 * KIB))" ;;
    blackhole) echo "1 $((10 * MIB))" ;;
    ecn) echo "1 $((100 * KIB))" ;;
    amplificationlimit) echo "1 $((5 * KIB))" ;;
    handshakeloss | handshakecorruption) echo "50 $KIB" ;;
    transferloss | transfercorruption | connectionmigration) [ "$ci" = 1 ] && echo "1 $MIB" || echo "1 $((2 * MIB))" ;;
    rebind-port | rebind-addr) [ "$ci" = 1 ] && echo "1 $((3 * MIB))" || echo "1 $((10 * MIB))" ;;
    goodput) [ "$ci" = 1 ] && echo "1 $((2 * MIB))" || echo "1 $((10 * MIB))" ;;
    crosstraffic) [ "$ci" = 1 ] && echo "1 $((4 * MIB))" || echo "1 $((25 * MIB))" ;;
  esac
}

# How often a measurement repeats (the runner: 5); interop/run --replications overrides.
case_repetitions() { is_measurement "$1" && echo "${REPLICATIONS:-5}" || echo 1; }

# random_letters N: N random lower-case letters.
random_letters() {
  local out=''
  while [ ${#out} -lt "$1" ]; do
    out+=$(head -c $(($1 * 12 + 64)) /dev/urandom | LC_ALL=C tr -dc '[:lower:]')
  done
  echo "${out:0:$1}"
}

# make_www TEST DIR: writes the test's files, with random content and random lower-case names
# (as the runner's slugs; NAME_LENGTH letters when given, else 10), into DIR; prints the
# names. Many files of a kind share a random stem and differ in their last 4 letters (split's
# suffixes): 1999 files in one process instead of thousands.
make_www() {
  local tc=$1 dir=$2 count size len i stem
  while read -r count size len; do
    len=${len:-10}
    if [ "$count" -eq 1 ]; then
      stem=$(random_letters "$len")
      head -c "$size" /dev/urandom >"$dir/$stem"
      echo "$stem"
      continue
    fi
    stem=$(random_letters $((len - 4)))
    head -c $((count * size)) /dev/urandom | split -b "$size" -a 4 - "$dir/$stem"
    (cd "$dir" && for f in "$stem"????; do echo "$f"; done)
  done < <(case_files "$tc")
}

# make_certs DIR LENGTH: the runner's certificates (certs.sh): a root CA (ca.pem), a chain of
# LENGTH certificates ending in the leaf (cert.pem, leaf first) for server, server4,
# server6 and server46, and the leaf's key (priv.key). A chain longer than one also inflates
# the leaf with 20 long made-up names, as the runner does for amplificationlimit, so that
# the server's first flight is far more than 3 times the client's Initial.
make_certs() {
  local dir=$1 length=$2 i fake=''
  local ext="$dir/ext.cnf"
  printf '%s\n' "[v3_ca]" "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" \
    "subjectKeyIdentifier=hash" >"$ext"
  openssl ecparam -name prime256v1 -genkey -out "$dir/ca_0.key" 2>/dev/null &&
    openssl req -x509 -sha256 -nodes -days 10 -key "$dir/ca_0.key" -out "$dir/ca.pem" \
      -subj "/O=interop runner Root Certificate Authority/" -config /dev/null -extensions v3_ca \
      -extfile "$ext" 2>/dev/null ||
    openssl req -x509 -sha256 -nodes -days 10 -key "$dir/ca_0.key" -out "$dir/ca.pem" \
      -subj "/O=interop runner Root Certificate Authority/" -addext "basicConstraints=critical,CA:TRUE" \
      2>/dev/null || return 1
  if [ "$length" -gt 1 ]; then
    for ((i = 0; i < 20; i++)); do
      fake+=",DNS:$(head -c 2000 /dev/urandom | LC_ALL=C tr -dc '[:alnum:]' | head -c 250)"
    done
  fi
  local prev_cert="$dir/ca.pem" prev_key="$dir/ca_0.key" subj
  : >"$dir/chain.pem"
  for ((i = 1; i <= length; i++)); do
    subj="/O=interop runner intermediate $i/"
    [ "$i" -eq "$length" ] && subj="/O=interop runner leaf/"
    openssl ecparam -name prime256v1 -genkey -out "$dir/ca_$i.key" 2>/dev/null &&
      openssl req -new -key "$dir/ca_$i.key" -nodes -subj "$subj" -out "$dir/cert.csr" 2>/dev/null ||
      return 1
    if [ "$i" -lt "$length" ]; then
      openssl x509 -req -sha256 -days 10 -in "$dir/cert.csr" -out "$dir/cert_$i.pem" \
        -CA "$prev_cert" -CAkey "$prev_key" -CAcreateserial -extfile "$ext" -extensions v3_ca \
        2>/dev/null || return 1
    else
      openssl x509 -req -sha256 -days 10 -in "$dir/cert.csr" -out "$dir/cert_$i.pem" \
        -CA "$prev_cert" -CAkey "$prev_key" -CAcreateserial \
        -extfile <(printf 'subjectAltName=DNS:server,DNS:server4,DNS:server6,DNS:server46%s\n' "$fake") \
        2>/dev/null || return 1
    fi
    prev_cert="$dir/cert_$i.pem" prev_key="$dir/ca_$i.key"
  done
  cp "$dir/ca_$length.key" "$dir/priv.key"
  for ((i = length; i >= 1; i--)); do cat "$dir/cert_$i.pem" >>"$dir/cert.pem"; done
  rm -f "$dir"/cert_*.pem "$dir"/ca_*.key "$dir"/*.srl "$dir/cert.csr" "$dir/chain.pem" "$ext"
}
