#!/usr/bin/env bash
# health-detection: nolbd follows its backends. Two nodes, london (127.0.0.2) and geneva
# (127.0.0.3), each an HTTP backend probed every 0.25 s (timeout 0.2 s, rise 2, fall 2,
# fast_interval 0.05 s). The first probe to see a change comes within an interval; the rest of
# the streak follows a fast_interval after each result. So a node that answers 503, refuses
# connections or drops the connection leaves the answers within interval + (fall - 1) x
# fast_interval, one that never answers within that plus one timeout (the probes of an address
# still unanswered after fast_interval overlap), and a node comes back
# within interval + (rise - 1) x fast_interval once healthy (each with jitter and a generous
# margin: the exact times belong to `contrib/bench.py health`); each time is measured and printed,
# each transition logged with its reason. When every node is down, all_down = "all" publishes
# them all (fail open) and, after a reload to all_down = "none", nothing (NODATA).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolb-testhttp "$NOLB_TESTHTTP"

INTERVAL_MS=250 TIMEOUT_MS=200 FAST_MS=50 RISE=2 FALL=2
FIRST_MS=$((INTERVAL_MS * 11 / 10))   # the first probe after a change: an interval and jitter
MARGIN_MS=1000
DOWN_BOUND_MS=$((FIRST_MS + (FALL - 1) * FAST_MS + MARGIN_MS))
HANG_BOUND_MS=$((FIRST_MS + TIMEOUT_MS + (FALL - 1) * FAST_MS + MARGIN_MS))
UP_BOUND_MS=$((FIRST_MS + (RISE - 1) * FAST_MS + MARGIN_MS))
POLL_LIMIT_MS=6000   # how long to keep looking before calling it a failure

DNS_PORT=$(free_port) || die "find a free port for DNS"
HTTP_PORT=$(free_port) || die "find a free port for the backends"
LONDON=127.0.0.2 GENEVA=127.0.0.3
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$DNS_PORT" \
    "HTTP_PORT=$HTTP_PORT" "ALL_DOWN=all"

start_backend london "$LONDON:$HTTP_PORT"
start_backend geneva "$GENEVA:$HTTP_PORT"
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT"

say "bounds (with a ${MARGIN_MS} ms margin): out within ${DOWN_BOUND_MS} ms, ${HANG_BOUND_MS} ms for a hang; back within ${UP_BOUND_MS} ms"

# transition_line MARK STATE ADDRESS: the first "address STATE" line for ADDRESS since MARK.
transition_line() {
    log_since "$1" | grep -E "msg=\"?address $2" | grep -F -- "$3" | head -n 1
}

# expect_transition DESCRIPTION MARK STATE ADDRESS REASON-REGEX: such a line is logged (within
# 2 s) and its reason matches.
expect_transition() {
    local description=$1 mark=$2 state=$3 address=$4 reason=$5 line
    logged() { [[ -n "$(transition_line "$mark" "$state" "$address")" ]]; }
    wait_for 2 logged
    line=$(transition_line "$mark" "$state" "$address")
    if [[ -z "$line" ]]; then
        fail "$description" "no 'address $state' line for $address; log since the change:" \
            "$(block "$(log_since "$mark")")"
    elif grep -Eq -- "reason=.*($reason)" <<<"$line"; then
        pass "$description"
    else
        fail "$description" "expected reason=... matching: $reason" "line: $line"
    fi
}

# --- at start (startup = "probe": the first probes decide before nolbd answers)
dig_q @127.0.0.1 -p "$DNS_PORT" www.demo.test A
expect_eq "at start both nodes are answered" "$(printf '%s\n%s' "$LONDON" "$GENEVA")" "$(rdata ANSWER A)"
expect_eq "with the service's TTL" 20 "$(ttls ANSWER A)"

# --- 503: out within the bound, logged with the status as its reason
mark=$(log_mark)
T0_MS=$(now_ms)
backend_mode london 503
within "london answering 503 leaves the answers" "$DOWN_BOUND_MS" "$POLL_LIMIT_MS" \
    answers_exclude www.demo.test "$LONDON"
say "measured: 503 -> out of the answers in ${ELAPSED_MS} ms"
expect_eq "geneva is still answered" "$GENEVA" "$(addresses www.demo.test)"
expect_transition "london's down transition is logged with the 503 as reason" \
    "$mark" down "$LONDON" '503|status'

# --- healthy again: back within interval x rise
mark=$(log_mark)
T0_MS=$(now_ms)
backend_mode london ok
within "london answering 200 again is back in the answers" "$UP_BOUND_MS" "$POLL_LIMIT_MS" \
    answers_include www.demo.test "$LONDON"
say "measured: ok -> back in the answers in ${ELAPSED_MS} ms"
expect_transition "london's up transition is logged with a reason" "$mark" up "$LONDON" '.'

# --- backend stopped: connections refused
mark=$(log_mark)
T0_MS=$(now_ms)
stop_backend london
within "london refusing connections leaves the answers" "$DOWN_BOUND_MS" "$POLL_LIMIT_MS" \
    answers_exclude www.demo.test "$LONDON"
say "measured: refused -> out of the answers in ${ELAPSED_MS} ms"
expect_transition "the transition names the refusal as reason" "$mark" down "$LONDON" 'refused'

T0_MS=$(now_ms)
start_backend london "$LONDON:$HTTP_PORT"
within "london restarted is back in the answers" "$UP_BOUND_MS" "$POLL_LIMIT_MS" \
    answers_include www.demo.test "$LONDON"
say "measured: restarted -> back in the answers in ${ELAPSED_MS} ms"

# --- hang: the probe times out
mark=$(log_mark)
T0_MS=$(now_ms)
backend_mode london hang
within "london never answering leaves the answers" "$HANG_BOUND_MS" "$POLL_LIMIT_MS" \
    answers_exclude www.demo.test "$LONDON"
say "measured: hang -> out of the answers in ${ELAPSED_MS} ms"
expect_transition "the transition names the timeout as reason" "$mark" down "$LONDON" 'timeout|timed out'

T0_MS=$(now_ms)
backend_mode london ok
within "london answering again after hanging is back" "$UP_BOUND_MS" "$POLL_LIMIT_MS" \
    answers_include www.demo.test "$LONDON"

# --- close: connection dropped before any response
mark=$(log_mark)
T0_MS=$(now_ms)
backend_mode london close
within "london dropping connections leaves the answers" "$DOWN_BOUND_MS" "$POLL_LIMIT_MS" \
    answers_exclude www.demo.test "$LONDON"
say "measured: close -> out of the answers in ${ELAPSED_MS} ms"
expect_transition "the transition names the reset as reason" "$mark" down "$LONDON" 'reset|closed|eof|EOF'

T0_MS=$(now_ms)
backend_mode london ok
within "london answering again after dropping connections is back" "$UP_BOUND_MS" \
    "$POLL_LIMIT_MS" answers_include www.demo.test "$LONDON"

# --- every node down, all_down = "all": fail open, both published
mark=$(log_mark)
backend_mode london 503
backend_mode geneva 503
both_down_logged() {
    [[ -n "$(transition_line "$mark" down "$LONDON")" && -n "$(transition_line "$mark" down "$GENEVA")" ]]
}
if wait_for 6 both_down_logged; then pass "both nodes are logged down"; else
    fail "both nodes are logged down" "log since:" "$(block "$(log_since "$mark")")"
fi
# The snapshot follows the last transition once the burst is coalesced: poll for it.
both_answered() {
    dig_q @127.0.0.1 -p "$DNS_PORT" www.demo.test A
    [[ "$(rdata ANSWER A)" == "$(printf '%s\n%s' "$LONDON" "$GENEVA")" ]]
}
wait_for 3 both_answered || true
expect_eq "all_down = all: with every node down both are answered" \
    "$(printf '%s\n%s' "$LONDON" "$GENEVA")" "$(rdata ANSWER A)"
expect_eq "all_down = all: the answer is NOERROR" NOERROR "$(status_of)"

# --- reload with all_down = "none": NODATA while every node is down
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$DNS_PORT" \
    "HTTP_PORT=$HTTP_PORT" "ALL_DOWN=none"
mark=$(log_mark)
kill -HUP "$NOLBD_PID"
nodata() {
    dig_q @127.0.0.1 -p "$DNS_PORT" www.demo.test A
    [[ "$(status_of)" == NOERROR && "$(count ANSWER)" == 0 ]]
}
within "after a reload to all_down = none, every node down gives NODATA" 3000 "$POLL_LIMIT_MS" nodata
dig_q @127.0.0.1 -p "$DNS_PORT" www.demo.test A
expect_eq "the NODATA is NOERROR" NOERROR "$(status_of)"
expect_eq "the NODATA has no answer records" 0 "$(count ANSWER)"
expect_eq "the NODATA carries the zone's SOA" 1 "$(count AUTHORITY SOA)"
expect_eq "the reload did not flap the nodes (no transition since)" "" "$(transitions_since "$mark")"

# --- one node healthy again: only it is answered
T0_MS=$(now_ms)
backend_mode geneva ok
within "geneva healthy again is answered alone" "$UP_BOUND_MS" "$POLL_LIMIT_MS" \
    eval '[[ "$(addresses www.demo.test)" == "$GENEVA" ]]'
backend_mode london ok
within "london healthy again joins it" "$UP_BOUND_MS" "$POLL_LIMIT_MS" \
    eval '[[ "$(addresses www.demo.test)" == "$LONDON $GENEVA" ]]'

expect_true "nolbd is still running" alive "$NOLBD_PID"
finish
