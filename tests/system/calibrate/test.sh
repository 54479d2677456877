#!/usr/bin/env bash
# calibrate: the quick calibration of the profiles named after chromium, curl and python against
# the programs themselves (Debian's chromium through playwright-core, curl 7.88, python3's
# urllib), each beside its profile in one lab under the same faults: node1, first in every
# answer, is killed, blackholed, answers 500, hangs, or is drained. Every pair must agree
# within calibration's tolerances, and what decides each outcome must show in the real
# programs as well as in their profiles, each of which could come out otherwise:
# - crash: chromium, curl and python move to node2 at once (curl because its lookup, held 20 ms
#   by the lab, leaves a resolver timer that wakes it; after a lookup under 3 ms it would wait
#   for its 200 ms happy-eyeballs timer: see contrib/calibrate/curl-wakeups.sh);
# - blackhole: chromium's second connector reaches node2 after 300 ms; curl and python wait for
#   the kernel (censored in a quick run);
# - http500 and hang: an answer, or a silence, is final: nobody reaches node2;
# - drain (TTL 1 s): curl and python follow DNS at once; chromium keeps its pooled connection
#   and its host cache.
# Under the sanitizers (NOLB_SANITIZED=1) the profiles run several times slower, so only the
# outcomes are checked there, not the timings nor the agreement.
# It needs root (nolb-compare calibrate runs in a network namespace of its own), chromium, node
# and npm (contrib/install-deps.sh); the node modules are installed on first use.
source "$(dirname "$0")/../lib.sh"

: "${NOLB_COMPARE:=$(dirname "$NOLBD")/nolb-compare}"
[[ -x "$NOLB_COMPARE" ]] || die "nolb-compare is built" "not found or not executable: $NOLB_COMPARE"
((EUID == 0)) || die "the test runs as root" "calibration needs a network namespace of its own"
command -v jq >/dev/null || die "jq is installed (contrib/install-deps.sh)"
run bash "$NOLB_SOURCE_DIR/contrib/calibrate/setup.sh"
((RC == 0)) || die "the calibration drivers' node modules install" "$(block "$OUT")"

OUTDIR="$TMP/out"
run_tracked "$TMP/calibrate.log" "$NOLB_COMPARE" calibrate --quick \
    --programs chromium,curl,python --out "$OUTDIR"
expect_eq "nolb-compare calibrate exits 0" 0 "$RC"
JSON="$OUTDIR/calibration.json"
[[ -s "$JSON" ]] || { fail "no calibration.json" "$(out_excerpt)"; finish; }
expect_true "it writes calibration.md" test -s "$OUTDIR/calibration.md"
expect_eq "15 rows: three programs under five faults" 15 "$(jq '.rows | length' "$JSON")"

# value PROGRAM FAULT JQ-PATH
value() {
    jq -r --arg p "$1" --arg f "$2" ".rows[] | select(.profile == \$p and .fault == \$f) | $3" "$JSON"
}
timed=true
[[ "${NOLB_SANITIZED:-0}" == 1 ]] && timed=false
while $timed && read -r program fault agrees; do
    detail=$(jq -c --arg p "$program" --arg f "$fault" \
        '.rows[] | select(.profile == $p and .fault == $f) | {real, profile_side, notes}' "$JSON")
    if [[ "$agrees" == true ]]; then
        pass "$program under $fault: the profile agrees with the program"
    else
        fail "$program under $fault: the profile agrees with the program" "$detail"
    fi
done < <(jq -r '.rows[] | "\(.profile) \(.fault) \(.agrees)"' "$JSON")

# in_range VALUE LOW HIGH: LOW <= VALUE < HIGH, and VALUE is a number
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "null" && v + 0 >= lo && v + 0 < hi) }'; }
for side in real profile_side; do
    if $timed; then
        r=$(value chromium crash ".$side.recovery_s")
        expect_true "crash: chromium ($side) is on node2 within 100 ms (got $r s)" \
            in_range "$r" 0 0.1
        r=$(value curl crash ".$side.recovery_s")
        expect_true "crash: curl ($side) is on node2 without its 200 ms wait (got $r s)" \
            in_range "$r" 0 0.15
        r=$(value chromium blackhole ".$side.recovery_s")
        expect_true "blackhole: chromium ($side) is on node2 after about 300 ms (got $r s)" \
            in_range "$r" 0.28 0.6
    fi
    for program in curl python; do
        expect_eq "blackhole: $program ($side) is still waiting on node1" null \
            "$(value $program blackhole ".$side.recovery_s")"
    done
    for fault in http500 hang; do
        for program in chromium curl python; do
            expect_eq "$fault: $program ($side) never reaches node2" 0 \
                "$(value $program $fault ".$side.node2_pct")"
        done
    done
    for program in curl python; do
        expect_eq "drain: $program ($side) follows DNS to node2" 100 \
            "$(value $program drain ".$side.node2_pct")"
    done
    expect_eq "drain: chromium ($side) stays on node1" 0 "$(value chromium drain ".$side.node2_pct")"
done

((FAILED == 0)) || sed 's/^/        /' "$OUTDIR/calibration.md" >&2
finish
