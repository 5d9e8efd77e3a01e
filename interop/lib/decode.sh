# shellcheck shell=bash
# The captures as the runner's checks read them (trace.py, through pyshark): tshark with the
# key log, UDP port 443 decoded as QUIC, HTTP/3 not dissected. Two tables per capture:
#
# NAME.dgrams.tsv, one line per datagram that holds QUIC (what pyshark calls a packet):
#   1 dir (client, server, or other: the runner's direction filter knows only the
#     endpoints' own addresses), 2 time (epoch s), 3 ip version, 4 src, 5 sport, 6 dst,
#     7 dport, 8 udp.length, 9 IPv4 ECN field, 10 first QUIC packet's type (I Z H R S:
#     Initial, 0-RTT, Handshake, Retry, short header; V: Version Negotiation), 11 has a short
#     header packet (0/1), 12 the short header packet's size less its header (the runner's
#     protected payload), 13 the short header's DCID, 14 its key phase (0/1), 15 first
#     PATH_CHALLENGE data, 16 first PATH_RESPONSE data, 17 carries ACK ECN counts (0/1),
#     18 decryption failed (0/1), 19 first QUIC packet's DCID
#
# NAME.long.tsv, one line per long header packet (pyshark's quic layers), from tshark's EK
# output through jq:
#   1 dir, 2 time, 3 type (I Z H R), 4 version (0x1, 0x6b3343cf...), 5 scid, 6 dcid,
#   7 token length, 8 token, 9 packet number, 10 first CRYPTO frame's offset + length,
#   11 TLS handshake types (comma-joined), 12 first cipher suite, 13 has a Certificate
#   (certificates_length), 14 initial_max_streams_bidi, 15 CRYPTO retransmission or
#   overlap, 16 length field (0-RTT payload size), 17 retry token

readonly QUIC_V2=0x6b3343cf

tshark_base() {
  local pcap=$1 keylog=$2
  local -a opts=(-r "$pcap" -d udp.port==443,quic --disable-protocol http3)
  [ -n "$keylog" ] && opts+=(-o "tls.keylog_file:$keylog")
  printf '%s\n' "${opts[@]}"
}

# decode_trace PCAP KEYLOG OUT_PREFIX
decode_trace() {
  local pcap=$1 keylog=$2 out=$3
  local -a base
  mapfile -t base < <(tshark_base "$pcap" "$keylog")
  tshark "${base[@]}" -Y 'quic && !icmp && udp.port != 9' -T fields -E separator=/t \
    -E occurrence=a -E aggregator=, \
    -e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e udp.srcport -e udp.dstport \
    -e udp.length -e ip.dsfield.ecn -e quic.header_form -e quic.packet_length -e quic.dcid \
    -e quic.key_phase -e quic.path_challenge.data -e quic.path_response.data -e quic.ack.ect0_count \
    -e quic.long.packet_type -e quic.long.packet_type_v2 -e quic.version -e quic.decryption_failed \
    2>"$out.tshark.txt" |
    awk -F'\t' -v OFS='\t' -v c4="$CLIENT4" -v c6="$CLIENT6" -v s4="$SERVER4" -v s6="$SERVER6" '
      function first(list,   a) { split(list, a, ","); return a[1] }
      {
        v = ($2 != "") ? 4 : 6
        src = (v == 4) ? $2 : $3; dst = (v == 4) ? $4 : $5
        dir = (src == c4 || src == c6) ? "client" : (src == s4 || src == s6) ? "server" : "other"
        nf = split($10, forms, ","); split($11, lens, ","); nd = split($12, dcids, ",")
        nl = split($17, lt, ","); split($18, lt2, ","); split($19, vers, ",")
        # The first packet: long header types come in packet order, versions too.
        if (forms[1] == "0") type = "S"
        else if (vers[1] ~ /^0x0+$/) type = "V"
        else {
          t = (tolower(vers[1]) ~ /^0x6b3343cf$/) ? lt2[1] : lt[1]
          if (tolower(vers[1]) ~ /^0x6b3343cf$/) type = (t == "1") ? "I" : (t == "2") ? "Z" : (t == "3") ? "H" : "R"
          else type = (t == "0") ? "I" : (t == "1") ? "Z" : (t == "2") ? "H" : "R"
        }
        short = (forms[nf] == "0") ? 1 : 0
        size = ""; sdcid = ""
        if (short) { sdcid = dcids[nd]; size = lens[nf] - 1 - length(sdcid) / 2 }
        kp = ($13 ~ /^(1|True)$/) ? 1 : 0
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
          dir, $1, v, src, $6, dst, $7, $8, $9, type, short, size, sdcid, kp, first($14), first($15),
          ($16 != "") ? 1 : 0, ($20 != "") ? 1 : 0, dcids[1]
      }' >"$out.dgrams.tsv"
  tshark "${base[@]}" -Y '(quic.long.packet_type || quic.long.packet_type_v2) && !icmp && udp.port != 9' \
    -T ek 2>>"$out.tshark.txt" |
    jq -r --arg c4 "$CLIENT4" --arg c6 "$CLIENT6" --arg s4 "$SERVER4" --arg s6 "$SERVER6" '
      def arr: if . == null then [] elif type == "array" then . else [.] end;
      def one: arr | .[0] // "";
      def all($k): [.. | objects | .[$k]? // empty] | map(arr) | flatten;
      select(.layers.quic != null)
      | .layers as $l
      | ($l.ip.ip_ip_src // $l.ipv6.ipv6_ipv6_src | one) as $src
      | (if $src == $c4 or $src == $c6 then "client" elif $src == $s4 or $src == $s6 then "server" else "other" end) as $dir
      | ($l.frame.frame_frame_time_epoch | one) as $time
      | $l.quic | arr | .[]
      | select(.quic_quic_header_form == "1" and (.quic_quic_version | one) != "0x00000000")
      | (.quic_quic_version | one | ascii_downcase | sub("^0x0*"; "0x")) as $v
      | (if $v == "0x6b3343cf" then
           {"1": "I", "2": "Z", "3": "H", "0": "R"}[.quic_quic_long_packet_type_v2 | one]
         else {"0": "I", "1": "Z", "2": "H", "3": "R"}[.quic_quic_long_packet_type | one] end) as $type
      | [ $dir, $time, $type, $v,
          (.quic_quic_scid | one | gsub(":"; "")), (.quic_quic_dcid | one | gsub(":"; "")),
          (.quic_quic_token_length | one), (.quic_quic_token | one | gsub(":"; "")),
          (.quic_quic_packet_number | one),
          (if .quic_quic_crypto_offset != null then
             ((.quic_quic_crypto_offset | one | tonumber) + (.quic_quic_crypto_length | one | tonumber) | tostring)
           else "" end),
          (all("tls_tls_handshake_type") | join(",")),
          (all("tls_tls_handshake_ciphersuite") | .[0] // ""),
          (if (all("tls_tls_handshake_certificates_length") | length) > 0 then "1" else "0" end),
          (all("tls_tls_quic_parameter_initial_max_streams_bidi") | .[0] // ""),
          # Marker fields have no value (null): present or not, maybe inside a frame tree.
          (if [.. | objects | has("quic_quic_retransmission") or has("quic_quic_overlap")] | any then "1" else "0" end),
          (.quic_quic_length | one),
          (.quic_quic_retry_token | one | gsub(":"; ""))
        ] | @tsv' >"$out.long.tsv" 2>>"$out.tshark.txt"
}
