#!/usr/bin/env bash
# compare: nolb-compare runs the repository's crash and http500 scenarios in --quick mode (each
# model 20 s with 20 clients per profile, the first fault only, at 10 s; as root in a network
# namespace of its own), two requests a second per client, and its results.json must show what
# follows from the design, each of which could come out otherwise:
# - crash: health-checked nolbd stops publishing the killed node within the detection bound
#   (two failed probes 0.5 s apart, plus the 100 ms sampling), while zero-admin nolbd goes on
#   publishing it; `node18` clients, which never try a second address, see errors in
#   zero-admin mode, and `try-all` clients, which move on when a connection is refused, see
#   none at all.
# - http500: a node that answers 500 is an answer, not a refused connection, so `try-all`
#   clients see errors in zero-admin mode, and far fewer once health-checked nolbd has dropped
#   the node. The test runs the repository's http500 at a TTL of 1 s instead of 5 s. Errors
#   come in runs (a client whose first address is the failed node fails until its answer
#   expires), and at 5 s the quick run holds only a handful of runs: a simulation of these
#   clients puts the chance that health-checked shows under half the errors at 77 %. At 1 s a
#   client draws a fresh first address every second: about 50 errors in zero-admin mode, under
#   10 health-checked (the node leaves the answers about 1 s after the fault, and the answers
#   that hold it expire 1 s later), and the checks below fail by chance about once in 1,000
#   runs.
# - every request due was attempted (no client of these profiles holds requests back), and the
#   run took the quick mode's length, not the scenario's.
source "$(dirname "$0")/../lib.sh"

: "${NOLB_COMPARE:=$(dirname "$NOLBD")/nolb-compare}"
[[ -x "$NOLB_COMPARE" ]] || die "nolb-compare is built" "not found or not executable: $NOLB_COMPARE"
command -v jq >/dev/null || die "jq is installed (contrib/install-deps.sh)"

# Given relative, as people type it: the lab's sockets (nolbd's control, HAProxy's stats) must
# still work.
OUTDIR="$TMP/out"
# Two requests a second per client, so that a node's eighth of them is plenty to count.
SCENARIOS="$NOLB_SOURCE_DIR/conf/scenarios"
sed 's/^ttl = 5$/ttl = 1/' "$SCENARIOS/http500.toml" >"$TMP/http500.toml"
expect_true "the http500 copy has a TTL of 1 s" grep -qx 'ttl = 1' "$TMP/http500.toml"
run_tracked "$TMP/compare.log" "$NOLB_COMPARE" --scenario "$SCENARIOS/crash.toml" \
    --scenario "$TMP/http500.toml" --quick --rate 2 --models zero-admin,health-checked \
    --out "$(realpath --relative-to=. "$OUTDIR")" --quiet
expect_eq "nolb-compare exits 0" 0 "$RC"
expect_true "nolb-compare and everything it ran logged no sanitizer report" \
    eval "sanitizer_clean $TMP/compare.log && ! grep -rlEq 'ERROR: (Address|Leak)Sanitizer|runtime error:' $OUTDIR/work"
for file in results.md results.csv results.json crash.svg http500.svg; do
    expect_true "it writes $file" test -s "$OUTDIR/$file"
done
[[ -s "$OUTDIR/results.json" ]] || { fail "no results.json" "$(out_excerpt)"; finish; }

# field SCENARIO MODEL PROFILE JQ-EXPRESSION: a value from one profile's summary.
field() {
    jq -r --arg s "$1" --arg m "$2" --arg p "$3" \
        ".scenarios[] | select(.name == \$s) | .runs[] | select(.model == \$m)
         | .profiles[] | select(.profile == \$p) | $4" "$OUTDIR/results.json"
}
errors() { field "$1" "$2" "$3" '.requests - .ok'; }
requests() { field "$1" "$2" "$3" '.requests'; }

duration=$(jq -r '[.scenarios[].runs[].duration_s] | unique | join(",")' "$OUTDIR/results.json")
expect_eq "every model ran the quick mode's 20 s" 20 "$duration"
unattempted=$(jq -r '[.scenarios[].runs[].profiles[] | .requests - .attempted] | add' \
    "$OUTDIR/results.json")
expect_eq "every request due was attempted" 0 "$unattempted"

# ---------------------------------------------------------------------------- crash

detection=$(jq -r '.scenarios[] | select(.name == "crash") | .runs[]
    | select(.model == "health-checked") | .detection_ms[] | select(.kind == "crash")
    | .removed_after_ms | if . == null then . else round end' "$OUTDIR/results.json")
say "health-checked: the crashed node left the answers after ${detection:-?} ms"
expect_true "health-checked nolbd drops the crashed node within 3000 ms (got ${detection:-none})" \
    awk -v d="${detection:-null}" 'BEGIN { exit !(d != "null" && d != "" && d + 0 <= 3000) }'
zero_admin_removed=$(jq -r '.scenarios[] | select(.name == "crash") | .runs[]
    | select(.model == "zero-admin") | .detection_ms[] | select(.kind == "crash")
    | .removed_after_ms' "$OUTDIR/results.json")
expect_eq "zero-admin nolbd goes on publishing the crashed node" null "${zero_admin_removed:-null}"

first_requests=$(requests crash zero-admin node18)
first_errors=$(errors crash zero-admin node18)
say "zero-admin node18: $first_errors errors in $first_requests requests"
expect_true "zero-admin: node18 clients made requests" test "${first_requests:-0}" -gt 50
expect_true "zero-admin: node18 clients see errors after the crash (got ${first_errors:-?})" \
    test "${first_errors:-0}" -gt 0
expect_eq "zero-admin: those errors are refused connections" "$first_errors" \
    "$(field crash zero-admin node18 '.outcomes.refused // 0')"

try_requests=$(requests crash zero-admin try-all)
say "zero-admin try-all: $(errors crash zero-admin try-all) errors in $try_requests requests"
expect_true "zero-admin: try-all clients made requests" test "${try_requests:-0}" -gt 50
expect_eq "zero-admin: try-all clients see no error" 0 "$(errors crash zero-admin try-all)"

# ---------------------------------------------------------------------------- http500

za_errors=$(errors http500 zero-admin try-all)
hc_errors=$(errors http500 health-checked try-all)
say "http500, try-all: $za_errors errors in zero-admin mode, $hc_errors health-checked"
expect_true "zero-admin: try-all clients see the 500s (got ${za_errors:-?})" \
    test "${za_errors:-0}" -gt 15
expect_eq "zero-admin: those errors are HTTP errors" "$za_errors" \
    "$(field http500 zero-admin try-all '.outcomes.http_error // .outcomes["http-error"] // 0')"
expect_true "health-checked: under two thirds as many errors ($hc_errors vs $za_errors)" \
    test $((3 * ${hc_errors:-999999})) -lt $((2 * ${za_errors:-0}))

finish
