#!/usr/bin/env bash
# sites: nolb-compare runs a short scenario with two sites (near: 2 ms round trip, far: 40 ms)
# as root, in a network namespace of its own, where iptables sends the far nodes' packets to an
# NFQUEUE and nolb-compare holds each one half the round trip. results.json's per-site figures
# must show the distance, in the one direction a busy machine cannot fake: the far site's median
# latency is at least its extra round trips above the near one's (two for try-all, which
# connects for every request; one for java, which keeps its connection), both sites served
# requests, and no note says the sites were not applied. Without root it fails, saying so: a
# skipped check would look like a passing one.
source "$(dirname "$0")/../lib.sh"

: "${NOLB_COMPARE:=$(dirname "$NOLBD")/nolb-compare}"
[[ -x "$NOLB_COMPARE" ]] || die "nolb-compare is built" "not found or not executable: $NOLB_COMPARE"
command -v jq >/dev/null || die "jq is installed (contrib/install-deps.sh)"
((EUID == 0)) || die "runs as root" "the sites need a network namespace, iptables and NFQUEUE"
command -v iptables-restore >/dev/null || die "iptables is installed (contrib/install-deps.sh compare)"

OUTDIR="$TMP/out"
run_tracked "$TMP/compare.log" "$NOLB_COMPARE" --scenario "$SCENARIO_DIR/sites.toml" \
    --out "$OUTDIR" --quiet
expect_eq "nolb-compare exits 0" 0 "$RC"
[[ -s "$OUTDIR/results.json" ]] || { fail "no results.json" "$(out_excerpt)"; finish; }
expect_true "results.md has the Sites table" grep -q '^### Sites' "$OUTDIR/results.md"

notes=$(jq -r '.scenarios[].runs[].notes[]' "$OUTDIR/results.json")
expect_no_match "no note says the sites were not applied" 'sites not applied|sites.*(stopped|before their time)' "$notes"

# site PROFILE SITE FIELD: one figure of one site's row for a profile.
site() {
    jq -r --arg p "$1" --arg s "$2" ".scenarios[].runs[] | .profiles[] | select(.profile == \$p)
        | .sites[] | select(.name == \$s) | .$3" "$OUTDIR/results.json"
}

# check PROFILE ROUND-TRIPS: far p50 - near p50 >= 0.9 x round trips x (40 - 2) ms.
check() {
    local profile=$1 trips=$2 near far
    near=$(printf '%.1f' "$(site "$profile" near p50_ms)")
    far=$(printf '%.1f' "$(site "$profile" far p50_ms)")
    say "$profile: p50 near ${near:-?} ms, far ${far:-?} ms ($(site "$profile" near ok) and $(site "$profile" far ok) successes)"
    expect_true "$profile: both sites served requests" \
        test "$(site "$profile" near ok)" -gt 5 -a "$(site "$profile" far ok)" -gt 5
    expect_true "$profile: the far site is at least $trips x 38 ms x 0.9 slower (near ${near:-?}, far ${far:-?})" \
        awk -v n="${near:-0}" -v f="${far:-0}" -v t="$trips" 'BEGIN { exit !(f - n >= 0.9 * t * 38) }'
}
check try-all 2
check java 1

finish
