# shellcheck shell=bash
# The runner's outputs (interop.py _print_results, _export_results): the matrix on the
# terminal, results.json in the runner's format (with each case's reason added), and
# results.md. Input: results.tsv, one line per (server, client, test): server, client, test,
# verdict, reason, measured values (Mbit/s, space-separated), seconds.

# mean_stdev VALUES...: "mean (± sample stdev)" with two decimals, as the runner's details.
mean_stdev() {
  printf '%s\n' "$@" | awk '{ v[NR] = $1; s += $1 } END {
    m = s / NR; for (i = 1; i <= NR; i++) d += (v[i] - m) ^ 2
    printf "%.2f (± %.2f)", m, (NR > 1 ? sqrt(d / (NR - 1)) : 0) }'
}

# cell TSV SERVER CLIENT VERDICT: the abbreviations of the tests with that verdict.
cell() {
  awk -F'\t' -v s="$2" -v c="$3" -v r="$4" '$1 == s && $2 == c && $4 == r && $3 != "goodput" && $3 != "crosstraffic" { print $3 }' "$1" |
    while read -r t; do case_abbr "$t"; done | paste -sd, -
}

measurement_cell() {
  local tsv=$1 s=$2 c=$3 lt lv lvals out=''
  # awk, not read: read with IFS=tab merges the empty fields.
  while IFS='|' read -r lt lv lvals; do
    is_measurement "$lt" || continue
    if [ "$lv" = succeeded ] && [ -n "$lvals" ]; then
      # shellcheck disable=SC2086
      out+="${out:+; }$(case_abbr "$lt"): $(mean_stdev $lvals) Mbit/s"
    else
      out+="${out:+; }$(case_abbr "$lt"): $lv"
    fi
  done < <(awk -F'\t' -v s="$s" -v c="$c" '$1 == s && $2 == c { print $3 "|" $4 "|" $6 }' "$tsv")
  echo "$out"
}

# print_matrix TSV: the runner's table on the terminal: servers as columns, clients as rows,
# each cell the letters of the succeeded, unsupported and failed tests (and the
# measurements), coloured when the output is a terminal.
print_matrix() {
  local tsv=$1 s c
  local -a servers clients
  mapfile -t servers < <(cut -f1 "$tsv" | awk '!seen[$0]++')
  mapfile -t clients < <(cut -f2 "$tsv" | awk '!seen[$0]++')
  local color=0
  [ -t 1 ] && color=1
  echo
  echo "Servers are columns, clients rows: ✓ succeeded, ? unsupported, ✕ failed."
  # One record per cell line: client, server, kind (ok, unsupported, failed, measured), text.
  for c in "${clients[@]}"; do
    for s in "${servers[@]}"; do
      awk -F'\t' -v s="$s" -v c="$c" '$1 == s && $2 == c { found = 1 } END { exit !found }' "$tsv" || continue
      printf '%s\t%s\tok\t✓(%s)\n' "$c" "$s" "$(cell "$tsv" "$s" "$c" succeeded)"
      printf '%s\t%s\tunsupported\t?(%s)\n' "$c" "$s" "$(cell "$tsv" "$s" "$c" unsupported)"
      printf '%s\t%s\tfailed\t✕(%s)\n' "$c" "$s" "$(cell "$tsv" "$s" "$c" failed)"
      local m
      m=$(measurement_cell "$tsv" "$s" "$c")
      [ -z "$m" ] || printf '%s\t%s\tmeasured\t%s\n' "$c" "$s" "$m"
    done
  done | awk -F'\t' -v color="$color" -v servers="${servers[*]}" -v clients="${clients[*]}" '
    # Display columns: mawk counts bytes, and the marks are 3 bytes (± 2) for one column.
    function width(t,   x, wide, two) { x = t; wide = gsub(/✓|✕/, "", x); two = gsub(/±/, "", x); return length(t) - 2 * wide - two }
    function pad(t, w) { return t sprintf("%" (w - width(t)) "s", "") }
    function paint(kind, t) {
      if (!color) return t
      return (kind == "ok" ? "\033[32m" : kind == "failed" ? "\033[31m" : kind == "unsupported" ? "\033[90m" : "") t "\033[0m"
    }
    { key = $1 SUBSEP $2; n[key]++; kind[key, n[key]] = $3; text[key, n[key]] = $4
      if (width($4) > w[$2]) w[$2] = width($4); if (width($1) > wc) wc = width($1) }
    END {
      ns = split(servers, S, " "); nc = split(clients, C, " ")
      for (i = 1; i <= ns; i++) if (width(S[i]) > w[S[i]]) w[S[i]] = width(S[i])
      rule = "+" sprintf("%" (wc + 2) "s", ""); gsub(/ /, "-", rule)
      for (i = 1; i <= ns; i++) { r = sprintf("%" (w[S[i]] + 2) "s", ""); gsub(/ /, "-", r); rule = rule "+" r }
      rule = rule "+"
      print rule
      line = "| " pad("", wc) " "
      for (i = 1; i <= ns; i++) line = line "| " pad(S[i], w[S[i]]) " "
      print line "|"; print rule
      for (j = 1; j <= nc; j++) {
        rows = 0
        for (i = 1; i <= ns; i++) if (n[C[j], S[i]] > rows) rows = n[C[j], S[i]]
        for (r = 1; r <= rows; r++) {
          line = "| " pad(r == 1 ? C[j] : "", wc) " "
          for (i = 1; i <= ns; i++) {
            k = C[j] SUBSEP S[i]; t = (r <= n[k]) ? text[k, r] : ""
            line = line "| " paint(kind[k, r], t) sprintf("%" (w[S[i]] - width(t)) "s", "") " "
          }
          print line "|"
        }
        print rule
      }
    }'
  local failures
  failures=$(awk -F'\t' '$4 == "failed" { printf "   %s (server) / %s (client): %s: %s\n", $1, $2, $3, $5 }' "$tsv")
  [ -z "$failures" ] || { echo "Failures:"; echo "$failures"; }
}

# write_reports TSV DIR START END
write_reports() {
  local tsv=$1 dir=$2 start=$3 end=$4
  local tests_json
  tests_json=$(for t in $ALL_TESTS; do printf '%s\t%s\n' "$(case_abbr "$t")" "$t"; done |
    jq -R -s 'split("\n") | map(select(length > 0) | split("\t")) | map({(.[0]): {name: .[1]}}) | add')
  jq -R -s --argjson begin "$start" --argjson finish "$end" --arg log_dir "$dir" \
    --argjson tests "$tests_json" '
    split("\n") | map(select(length > 0) | split("\t")) as $rows
    | ($rows | map(.[0]) | unique) as $servers
    | ($rows | map(.[1]) | unique) as $clients
    | def abbr($t): ($tests | to_entries | map(select(.value.name == $t)) | .[0].key);
      def measurement($t): ($t == "goodput" or $t == "crosstraffic");
      def stats($v): ($v | split(" ") | map(tonumber)) as $x
        | ($x | add / length) as $m
        | {mean: $m, stdev: (if ($x | length) > 1 then ((($x | map((. - $m) * (. - $m)) | add) / (($x | length) - 1)) | sqrt) else 0 end), values: $x};
    {
      start_time: $begin, end_time: $finish, log_dir: $log_dir,
      servers: $servers, clients: $clients, tests: $tests, quic_version: "0x1",
      results: [ $clients[] as $c | $servers[] as $s
        | [ $rows[] | select(.[0] == $s and .[1] == $c and (measurement(.[2]) | not))
            | {abbr: abbr(.[2]), name: .[2], result: .[3], reason: .[4], seconds: (.[6] | tonumber)} ] ],
      measurements: [ $clients[] as $c | $servers[] as $s
        | [ $rows[] | select(.[0] == $s and .[1] == $c and measurement(.[2]))
            | {abbr: abbr(.[2]), name: .[2], result: .[3], reason: .[4], seconds: (.[6] | tonumber)}
              + (if .[3] == "succeeded" and .[5] != "" then (stats(.[5]) as $st
                  | {details: "\($st.mean * 100 | round / 100) (± \($st.stdev * 100 | round / 100)) Mbit/s", mbps: $st})
                 else {details: ""} end) ] ]
    }' "$tsv" >"$dir/results.json"

  local s c
  local -a servers clients
  mapfile -t servers < <(cut -f1 "$tsv" | awk '!seen[$0]++')
  mapfile -t clients < <(cut -f2 "$tsv" | awk '!seen[$0]++')
  {
    echo "# interop/run results"
    echo
    echo "$(date -u -d "@$start" +%Y-%m-%dT%H:%M:%SZ), $(((end - start) / 60)) min $(((end - start) % 60)) s$([ "${CI_SIZES:-0}" = 1 ] && echo ', CI sizes')."
    echo "Servers are columns, clients rows: ✓ succeeded, ? unsupported, ✕ failed."
    echo
    printf '| |'; for s in "${servers[@]}"; do printf ' %s |' "$s"; done; echo
    printf '|---|'; for s in "${servers[@]}"; do printf -- '---|'; done; echo
    for c in "${clients[@]}"; do
      printf '| %s |' "$c"
      for s in "${servers[@]}"; do
        printf ' ✓(%s)<br>?(%s)<br>✕(%s)' "$(cell "$tsv" "$s" "$c" succeeded)" \
          "$(cell "$tsv" "$s" "$c" unsupported)" "$(cell "$tsv" "$s" "$c" failed)"
        local m
        m=$(measurement_cell "$tsv" "$s" "$c")
        [ -z "$m" ] || printf '<br>%s' "$m"
        printf ' |'
      done
      echo
    done
    echo
    echo "| server | client | test | result | seconds | reason |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $7, $5 }' "$tsv"
  } >"$dir/results.md"
}
