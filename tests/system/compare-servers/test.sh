#!/usr/bin/env bash
# compare-servers: the servers of the models fail, not the nodes. nolb-compare runs three short
# scenarios for real (as root in a network namespace of its own) and its results.json must show
# what follows, each of which could come out otherwise:
# - lb-crash: HAProxy killed at 2 s and started again at 6 s. Every client fails while it is
#   down (one address, refusing), whatever it does, and succeeds again once it is back: the
#   longest outage any client saw is about the 4 s HAProxy was down, not the rest of the run.
# - lb-pair: the same with an active/standby pair (keepalived moving a floating address): the
#   standby holds the address within a generous 5 s of the kill (about 0.3 s is usual), the
#   clients see far fewer errors than with one HAProxy, and everything the pair needed (its
#   keepalived, its namespaces) is gone once nolb-compare exits.
# - dns-crash: two nolbd name servers behind unbound, ns1 killed at 2 s: unbound asks ns2 and
#   no client sees an error (a lookup that met the dead ns1 first waits out unbound's retry).
# - dns-crash-alone: the same with ns1 alone: once unbound's answers (TTL 1 s) expire, lookups
#   fail. The contrast shows that dns-crash's clean run is the second name server's doing.
source "$(dirname "$0")/../lib.sh"

: "${NOLB_COMPARE:=$(dirname "$NOLBD")/nolb-compare}"
[[ -x "$NOLB_COMPARE" ]] || die "nolb-compare is built" "not found or not executable: $NOLB_COMPARE"
command -v jq >/dev/null || die "jq is installed (contrib/install-deps.sh)"
[[ $(id -u) == 0 ]] || die "runs as root" "nolb-compare needs its own network namespace here"

OUTDIR="$TMP/out"
command -v keepalived >/dev/null || [[ -x /usr/sbin/keepalived ]] ||
    die "keepalived is installed (contrib/install-deps.sh compare)"
machines_before=$(ip netns list | grep -c -- '-lb[12]\b' || true)
run_tracked "$TMP/compare.log" "$NOLB_COMPARE" --scenario "$SCENARIO_DIR/lb-crash.toml" \
    --scenario "$SCENARIO_DIR/lb-pair.toml" --scenario "$SCENARIO_DIR/dns-crash.toml" \
    --scenario "$SCENARIO_DIR/dns-crash-alone.toml" --out "$OUTDIR" --quiet
expect_eq "nolb-compare exits 0" 0 "$RC"
[[ -s "$OUTDIR/results.json" ]] || { fail "no results.json" "$(out_excerpt)"; finish; }

# field SCENARIO MODEL PROFILE JQ-EXPRESSION: a value from one profile's summary.
field() {
    jq -r --arg s "$1" --arg m "$2" --arg p "$3" \
        ".scenarios[] | select(.name == \$s) | .runs[] | select(.model == \$m)
         | .profiles[] | select(.profile == \$p) | $4" "$OUTDIR/results.json"
}
run_field() {  # SCENARIO MODEL JQ-EXPRESSION: a value of the run
    jq -r --arg s "$1" --arg m "$2" \
        ".scenarios[] | select(.name == \$s) | .runs[] | select(.model == \$m) | $3" \
        "$OUTDIR/results.json"
}
errors() { field "$1" "$2" "$3" '.requests - .ok'; }

# ---------------------------------------------------------------------------- lb-crash

expect_eq "lb-crash: both faults were applied" "true true" \
    "$(run_field lb-crash load-balancer '[.faults[].ok] | map(tostring) | join(" ")')"
for profile in node18 try-all; do
    e=$(errors lb-crash load-balancer $profile)
    outage=$(field lb-crash load-balancer $profile '.longest_outage_ms | round')
    requests=$(field lb-crash load-balancer $profile .requests)
    say "lb-crash, $profile: $e errors in $requests requests, longest outage ${outage} ms"
    # 4 s down at 2 x 10 requests/s: about 80 requests fail.
    expect_true "lb-crash, $profile: requests fail while HAProxy is down (got ${e:-?})" \
        test "${e:-0}" -gt 40
    expect_true "lb-crash, $profile: the outage is HAProxy's 4 s, no more (got ${outage:-?} ms)" \
        awk -v o="${outage:-0}" 'BEGIN { exit !(o >= 3500 && o <= 5500) }'
done
samples=$(run_field lb-crash load-balancer '.detection_ms | length')
expect_eq "lb-crash: no node fault, so no detection row" 0 "$samples"
rss=$(run_field lb-crash load-balancer '.costs.lb_rss_kb')
expect_true "lb-crash: HAProxy's memory was sampled (got ${rss:-?} kB)" test "${rss:-0}" -gt 1000

# ---------------------------------------------------------------------------- lb-pair

failover=$(run_field lb-pair load-balancer '.faults[] | select(.kind == "lb-crash")
    | if .ok then ((.done_s - .at_s) * 1000 | round) else "failed: \(.detail)" end')
say "lb-pair: the floating address was on the standby ${failover:-?} ms after the kill"
expect_true "lb-pair: the standby took over within 5000 ms (got ${failover:-none})" \
    awk -v f="${failover:-x}" 'BEGIN { exit !(f ~ /^[0-9]+$/ && f + 0 <= 5000) }'
expect_eq "lb-pair: the first machine came back" true \
    "$(run_field lb-pair load-balancer '.faults[] | select(.kind == "lb-restart") | .ok')"
for profile in node18 try-all; do
    single=$(errors lb-crash load-balancer $profile)
    pair=$(errors lb-pair load-balancer $profile)
    outage=$(field lb-pair load-balancer $profile '.longest_outage_ms | round')
    say "lb-pair, $profile: $pair errors (single HAProxy: $single), longest outage ${outage} ms"
    expect_true "lb-pair, $profile: under a fifth of one HAProxy's errors ($pair vs $single)" \
        test $((5 * ${pair:-999999})) -lt "${single:-0}"
    expect_true "lb-pair, $profile: no client waits near one HAProxy's 4 s (got ${outage:-?} ms)" \
        awk -v o="${outage:-99999}" 'BEGIN { exit !(o < 2500) }'
done
expect_eq "lb-pair: no balancer machine's namespace is left behind" "$machines_before" \
    "$(ip netns list | grep -c -- '-lb[12]\b' || true)"

# ---------------------------------------------------------------------------- dns-crash

expect_eq "dns-crash: ns1 was killed" "true" "$(run_field dns-crash zero-admin '.faults[0].ok')"
for profile in node18 try-all; do
    e=$(errors dns-crash zero-admin $profile)
    lookups=$(field dns-crash zero-admin $profile .lookups)
    p99=$(field dns-crash zero-admin $profile '.p99_ms | round')
    say "dns-crash, $profile: $e errors, $lookups lookups, p99 $p99 ms"
    expect_true "dns-crash, $profile: clients looked the name up (got ${lookups:-?})" \
        test "${lookups:-0}" -gt 20
    expect_eq "dns-crash, $profile: with ns2 beside ns1, no client sees an error" 0 "$e"
done
by_server=$(run_field dns-crash zero-admin '.costs.dns_queries_by_server | map(tostring) | join(" ")')
say "dns-crash: queries at ns1 and ns2 over the run: $by_server (ns1's uncounted: killed)"
ns2=${by_server#* }
expect_true "dns-crash: unbound asked ns2 (got ${ns2:-?} queries)" test "${ns2:-0}" -gt 0

alone=$(errors dns-crash-alone zero-admin node18)
kinds=$(field dns-crash-alone zero-admin node18 '.outcomes | to_entries
    | map(select(.value > 0 and .key != "ok")) | map("\(.key) \(.value)") | join(", ")')
say "dns-crash-alone, node18: $alone errors ($kinds)"
# Each failed lookup holds its client for up to the 2 s request timeout: few requests, all lost.
expect_true "dns-crash-alone: ns1 alone, lookups fail once the cache expires (got ${alone:-?})" \
    test "${alone:-0}" -ge 4

finish
