#!/usr/bin/env bash
# rrl: response rate limiting against a flood from one prefix. nolbd allows 50 responses a
# second to one /24 with slip = 2. nolb-queryload floods from 127.0.0.1 at 1000 queries a second
# until the digs below are done (SIGINT ends it; its duration is only a bound): about the first
# second's 50 plus 50 a second come back whole, and of the rest every
# second one comes back truncated (TC=1, no records: a real client would retry over TCP) and
# the others not at all. Meanwhile dig from 127.0.9.9, another /24, gets every answer whole,
# and dig from the flooded /24 sees the tc flag. Afterwards the flooded prefix is served again,
# and what the clients saw is what nolbctl stats --json and the metrics endpoint count.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolbctl "$NOLBCTL"
need_program nolb-queryload "$NOLB_QUERYLOAD"
command -v curl >/dev/null || die "curl is installed (contrib/install-deps.sh)"
command -v jq >/dev/null || die "jq is installed (contrib/install-deps.sh)"

RATE=50
FLOOD_QPS=1000
FLOOD_LIMIT_S=60
SAME_DIGS=12  # digs from the flooded /24, each waiting 1 s at most
OTHER_DIGS=10 # digs from 127.0.9.9, one after the other

PORT=$(free_port) || die "find a free port for DNS"
METRICS_PORT=$(free_port) || die "find a free port for the metrics"
CONTROL_SOCKET="$TMP/nolbd.sock"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$PORT" \
    "RATE=$RATE" "METRICS_PORT=$METRICS_PORT"
start_nolbd "$TMP/nolbd.toml" "$PORT"

# field NAME: NAME's value in nolb-queryload's key=value line.
field() { grep -Eo "(^| )$1=[0-9]+" "$TMP/flood.out" | cut -d= -f2; }
# near A B: A and B differ by at most 2 or 1 %, whichever is more.
near() { local d=$(($1 - $2)) slack=$(($2 / 100 > 2 ? $2 / 100 : 2)); ((d <= slack && -d <= slack)); }

dig_q @127.0.0.1 -p "$PORT" -b 127.0.9.9 www.demo.test A
expect_eq "before the flood, 127.0.9.9 is answered" "NOERROR 2" "$(status_of) $(count ANSWER A)"

say "--- a flood of $FLOOD_QPS/s from 127.0.0.1 while the digs run, limit $RATE/s per /24"
"$NOLB_QUERYLOAD" --server "127.0.0.1:$PORT" --name www.demo.test --rate "$FLOOD_QPS" \
    --duration "$FLOOD_LIMIT_S" --timeout-ms 500 >"$TMP/flood.out" 2>&1 &
FLOOD_PID=$!
track "$FLOOD_PID" nolb-queryload "$TMP/flood.out"
# The digs below are meant for a limited prefix: wait until nolbd limits it.
limiting() { ctl_json stats && (($(jqo '.rrl.limited // 0') > 0)); }
if wait_for 5 limiting; then pass "nolbd starts limiting the flooded /24"; else
    fail "nolbd starts limiting the flooded /24" "$(out_excerpt)"
fi

# Digs from the flooded /24, all at once: with slip = 2 each has an even chance of the slip.
same_pids=()
for ((i = 0; i < SAME_DIGS; i++)); do
    dig @127.0.0.1 -p "$PORT" +ignore +time=1 +tries=1 www.demo.test A >"$TMP/same.$i" 2>&1 &
    same_pids+=($!)
done

# Only the digs that ended while the flood was still on count.
other_during=0 other_whole=0
for ((i = 0; i < OTHER_DIGS; i++)); do
    dig_q @127.0.0.1 -p "$PORT" -b 127.0.9.9 www.demo.test A
    alive "$FLOOD_PID" || break
    other_during=$((other_during + 1))
    if [[ "$(status_of) $(count ANSWER A)" == "NOERROR 2" ]] && ! has_flag tc; then
        other_whole=$((other_whole + 1))
    fi
done
LAST_CMD="dig @127.0.0.1 -p $PORT -b 127.0.9.9 www.demo.test A, $OTHER_DIGS times"
expect_eq "every dig from 127.0.9.9 ran during the flood" "$OTHER_DIGS" "$other_during"
expect_eq "127.0.9.9 (another /24) gets every answer whole during the flood" \
    "$other_during" "$other_whole"

for pid in "${same_pids[@]}"; do wait "$pid"; done
same_tc=0 same_timeout=0 same_tc_records=0
for ((i = 0; i < SAME_DIGS; i++)); do
    OUT=$(<"$TMP/same.$i")
    if grep -q 'timed out' <<<"$OUT"; then
        same_timeout=$((same_timeout + 1))
    elif has_flag tc; then
        same_tc=$((same_tc + 1))
        same_tc_records=$((same_tc_records + $(count ANSWER)))
    fi
done
LAST_CMD="dig @127.0.0.1 -p $PORT +ignore +time=1 +tries=1 www.demo.test A, $SAME_DIGS at once"
OUT=$(cat "$TMP"/same.*)
expect_true "dig from the flooded /24 sees slipped responses (tc: $same_tc, no answer: $same_timeout)" \
    eval "((same_tc > 0 && same_timeout > 0))"
expect_eq "a slipped response carries no records" 0 "$same_tc_records"

kill -INT "$FLOOD_PID" # it stops sending, waits for what is in flight and reports
if ! wait_for 10 eval "! alive $FLOOD_PID"; then
    fail "nolb-queryload ends"
fi
wait "$FLOOD_PID"
untrack "$FLOOD_PID"
OUT=$(<"$TMP/flood.out")
LAST_CMD="nolb-queryload --server 127.0.0.1:$PORT --rate $FLOOD_QPS --duration $FLOOD_LIMIT_S"
sent=$(field sent) answered=$(field answered) truncated=$(field truncated) lost=$(field lost)
[[ -n "$sent" && -n "$answered" && -n "$truncated" && -n "$lost" ]] || die "nolb-queryload reports its counts"
whole=$((answered - truncated))
say "flood: sent $sent, whole $whole, truncated $truncated, no answer $lost"
# The bucket's bounds, over the time the flood really took (a loaded machine stretches it):
# at most one second's burst plus RATE a second of it, and, since nolbd may lose CPU to the
# flood itself, at least half the rate over it.
duration_ms=$(grep -Eo 'duration_s=[0-9.]+' <<<"$OUT" | cut -d= -f2 | awk '{ printf "%d", $1 * 1000 }')
[[ -n "$duration_ms" ]] || die "nolb-queryload reports its duration"
low=$((RATE * duration_ms / 2000)) high=$((RATE * (duration_ms + 1000) / 1000 + RATE / 10))
expect_true "the flood gets at most $RATE/s whole plus one second's burst over ${duration_ms} ms ($whole, in $low..$high)" \
    eval "((whole >= low && whole <= high))"
expect_true "the rest is about half slipped, half dropped ($truncated truncated, $lost lost)" \
    eval "((truncated > sent / 3 && lost > sent / 3))"

say "--- after the flood"
# The bucket refills at RATE a second: within a few seconds the prefix is served whole.
whole_again() {
    dig_q @127.0.0.1 -p "$PORT" www.demo.test A
    [[ "$(status_of) $(count ANSWER A) $(has_flag tc && echo tc || echo no)" == "NOERROR 2 no" ]]
}
wait_for 3 whole_again || true
expect_eq "after the flood 127.0.0.1 is answered whole again" "NOERROR 2 no" \
    "$(status_of) $(count ANSWER A) $(has_flag tc && echo tc || echo no)"

say "--- the counters"
ctl_json stats
limited=$(jqo .rrl.limited) slipped=$(jqo .rrl.slipped) dropped=$(jqo .rrl.dropped)
seen_slipped=$((truncated + same_tc))
seen_dropped=$((lost + same_timeout))
expect_true "stats: rrl.slipped ($slipped) is what the clients saw truncated ($seen_slipped)" \
    near "${slipped:-0}" "$seen_slipped"
expect_true "stats: rrl.dropped ($dropped) is what the clients never got ($seen_dropped)" \
    near "${dropped:-0}" "$seen_dropped"
expect_eq "stats: rrl.limited is slipped + dropped" "$((slipped + dropped))" "$limited"
expect_true "slip = 2: as many slipped as dropped, give or take one" \
    eval "((slipped - dropped <= 1 && dropped - slipped <= 1))"
ctl stats
expect_match "nolbctl stats shows the rrl counters" \
    "^rrl: limited $limited, slipped $slipped, dropped $dropped\$" "$OUT"

LAST_CMD="curl http://127.0.0.1:$METRICS_PORT/metrics"
OUT=$(curl -sS --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" 2>&1)
expect_match "the metrics count slipped responses" \
    "^nolb_rrl_responses_total\\{action=\"slipped\"\\} $slipped\$" "$OUT"
expect_match "the metrics count dropped responses" \
    "^nolb_rrl_responses_total\\{action=\"dropped\"\\} $dropped\$" "$OUT"
expect_match "the rrl family is a counter" '^# TYPE nolb_rrl_responses_total counter$' "$OUT"

finish
