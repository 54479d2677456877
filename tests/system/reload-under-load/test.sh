#!/usr/bin/env bash
# reload-under-load: reloading never costs an answer. While nolb-queryload sends a steady 2,000
# queries a second (until the reloads are over: it is stopped by SIGINT, its duration is only a
# bound), the configuration is reloaded 40 times, 200 ms apart, by SIGHUP and by
# `nolbctl reload` in turn, one reload in four with a file that has an error. Every query must
# be answered, with the service's addresses; every bad file must be rejected and logged; the
# nodes, unchanged by any of these files, must not flap; and nolbd must be healthy at the end.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolbctl "$NOLBCTL"
need_program nolb-testhttp "$NOLB_TESTHTTP"
need_program nolb-queryload "$NOLB_QUERYLOAD"

RATE=2000 LOAD_LIMIT=120 RELOAD_EVERY=0.2 RELOADS=40
DNS_PORT=$(free_port) || die "find a free port for DNS"
HTTP_PORT=$(free_port) || die "find a free port for the backends"
LONDON=127.0.0.2 GENEVA=127.0.0.3
CONTROL_SOCKET="$TMP/nolbd.sock"

version() {  # NAME TTL [BAD-KEY-LINE]: one version of the configuration, in $TMP/NAME.toml
    write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/$1.toml" "$DNS_PORT" "HTTP_PORT=$HTTP_PORT" \
        "TTL=$2" "VERSION=$1" "BAD_KEY=${3:-}"
}
version first 20
version second 21
version broken 20 'bogus_reload_key = 1'
cp "$TMP/first.toml" "$TMP/nolbd.toml"

start_backend london "$LONDON:$HTTP_PORT"
start_backend geneva "$GENEVA:$HTTP_PORT"
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT"
expect_eq "both nodes are answered before the load" "$LONDON $GENEVA" "$(addresses www.demo.test)"

# install NAME: makes $TMP/NAME.toml the configuration, atomically (nolbd never reads half).
install() {
    cp "$TMP/$1.toml" "$TMP/nolbd.toml.new"
    mv -f "$TMP/nolbd.toml.new" "$TMP/nolbd.toml"
}

mark=$(log_mark)
"$NOLB_QUERYLOAD" --server "127.0.0.1:$DNS_PORT" --name www.demo.test --type A \
    --rate "$RATE" --duration "$LOAD_LIMIT" --timeout-ms 1000 >"$TMP/load.out" 2>&1 &
LOAD_PID=$!
track "$LOAD_PID" nolb-queryload "$TMP/load.out"
sleep 0.3

sighup_bad=0 ctl_bad=0 ctl_bad_reported=0 good=0 ctl_good_failed=0 last_good=first
for ((i = 0; i < RELOADS; i++)); do
    alive "$LOAD_PID" || break
    if ((i % 4 == 3)); then
        install broken
    elif ((i % 8 < 4)); then
        install second
        last_good=second
    else
        install first
        last_good=first
    fi
    # SIGHUP and nolbctl in turn, shifted every fourth reload so that each meets broken files.
    if (((i + i / 4) % 2 == 0)); then
        kill -HUP "$NOLBD_PID"
        ((i % 4 == 3)) && sighup_bad=$((sighup_bad + 1))
    else
        ctl reload
        if ((i % 4 == 3)); then
            ctl_bad=$((ctl_bad + 1))
            if ((RC != 0)) && grep -q bogus_reload_key <<<"$OUT"; then
                ctl_bad_reported=$((ctl_bad_reported + 1))
            else
                say "nolbctl reload of the broken file: exit $RC, output: $OUT"
            fi
        elif ((RC != 0)); then
            ctl_good_failed=$((ctl_good_failed + 1))
            say "nolbctl reload of a good file: exit $RC, output: $OUT"
        fi
    fi
    ((i % 4 == 3)) || good=$((good + 1))
    sleep "$RELOAD_EVERY"
    # Leave a good file in place between reloads, so that a reload from elsewhere (none is
    # expected) would not meet the broken one.
    ((i % 4 == 3)) && install "$last_good"
done
say "reloads: $i ($good with a good file, $sighup_bad broken by SIGHUP, $ctl_bad broken by nolbctl)"
expect_eq "every reload ran while the load was running" "$RELOADS" "$i"

LAST_CMD="nolb-queryload --server 127.0.0.1:$DNS_PORT --name www.demo.test --rate $RATE --duration $LOAD_LIMIT"
kill -INT "$LOAD_PID" # it stops sending, waits for what is in flight and reports
wait_for 15 eval "! alive $LOAD_PID" || kill -KILL "$LOAD_PID"
wait "$LOAD_PID"
untrack "$LOAD_PID"
load=$(<"$TMP/load.out")
say "load: $load"
field() { grep -Eo "(^| )$1=[0-9.]+" <<<"$load" | cut -d= -f2; }
sent=$(field sent)
# Paced from one clock, it catches up after a stall: about RATE a second of its run.
sending_ms=$(field duration_s | awk '{ printf "%d", $1 * 1000 }')
expect_true "the load sent about $RATE a second over its ${sending_ms:-?} ms (sent=${sent:-?})" \
    eval "((${sent:-0} > 0 && ${sent:-0} >= RATE * ${sending_ms:-0} / 1000 * 8 / 10))"
expect_eq "no query was lost" 0 "$(field lost)"
expect_eq "every query was answered" "$sent" "$(field answered)"
expect_eq "every answer was NOERROR" "$sent" "$(field rcode_noerror)"
expect_eq "no answer was empty" 0 "$(field empty)"
expect_eq "no response was unexpected" 0 "$(field unexpected)"
say "latency during the reloads: p50 $(field p50_us) us, p99 $(field p99_us) us, max $(field max_us) us"

expect_eq "every nolbctl reload of the broken file failed and named the problem" \
    "$ctl_bad" "$ctl_bad_reported"
expect_eq "every nolbctl reload of a good file succeeded" 0 "$ctl_good_failed"
rejections=$(log_since "$mark" | grep -E 'level=(error|warning)' | grep -c 'bogus_reload_key')
expect_eq "every broken reload was logged, at level error or warning, naming the bad key" \
    $((sighup_bad + ctl_bad)) "$rejections"
expect_eq "every good reload was logged as done (msg=reloaded)" \
    "$good" "$(log_since "$mark" | grep -c 'msg=reloaded')"
expect_eq "no node flapped during the reloads (no transition logged)" "" "$(transitions_since "$mark")"

# --- after: still healthy, serving the last good file
expect_true "nolbd is still running" alive "$NOLBD_PID"
ctl check
expect_eq "nolbctl check exits 0 (every node up)" 0 "$RC"
dig_q @127.0.0.1 -p "$DNS_PORT" www.demo.test A
expect_eq "both nodes are answered" "$(printf '%s\n%s' "$LONDON" "$GENEVA")" "$(rdata ANSWER A)"
expected_ttl=$([[ $last_good == second ]] && echo 21 || echo 20)
expect_eq "with the TTL of the last good file ($last_good)" "$expected_ttl" "$(ttls ANSWER A)"
dig_q @127.0.0.1 -p "$DNS_PORT" version.demo.test TXT
expect_eq "and its static data" "\"$last_good\"" "$(rdata ANSWER TXT)"
finish
