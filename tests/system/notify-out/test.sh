#!/usr/bin/env bash
# NOTIFY out: nolbd tells a zone's secondary of each new serial. A listener on 127.0.0.1 plays the
# secondary. Once nolbd answers, the listener gets a NOTIFY (opcode 4, AA, the question demo.test.
# SOA) carrying the serial nolbd serves; a drain moves the serial and a NOTIFY with the new one
# follows; an answered NOTIFY is not sent again. A secondary that stops answering gets the NOTIFY
# again, at the retry interval.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolbctl "$NOLBCTL"

DNS_PORT=$(free_port) || die "find a free port for DNS"
SECONDARY_PORT=$(free_port) || die "find a free port for the secondary"
CONTROL_SOCKET="$TMP/run/nolbd.sock"
SECONDARY_LOG="$TMP/secondary.log"

# start_secondary [--silent]: the listener, answering unless --silent; waits until it listens.
start_secondary() {
    : >"$SECONDARY_LOG"
    /usr/bin/python3 "$SCENARIO_DIR/secondary.py" "$SECONDARY_PORT" "$SECONDARY_LOG" "$@" \
        >>"$TMP/secondary.out" 2>&1 &
    SECONDARY_PID=$!
    track "$SECONDARY_PID" secondary "$TMP/secondary.out"
    listening() { grep -q '^listening' "$SECONDARY_LOG"; }
    wait_for 10 listening || die "the secondary listens on 127.0.0.1:$SECONDARY_PORT" \
        "$(block "$(cat "$TMP/secondary.out")")"
}

served_serial() {
    dig_q @127.0.0.1 -p "$DNS_PORT" +norec +short demo.test. SOA
    awk '{ print $3 }' <<<"$OUT"
}
# notifies SERIAL: how many NOTIFY the secondary has read with SERIAL.
notifies() { grep -c "opcode=4 .*serial=$1\$" "$SECONDARY_LOG"; }
notified() { (($(notifies "$1") >= ${2:-1})); }  # SERIAL [COUNT]
moved_from() { [[ "$(served_serial)" != "$1" ]]; }    # SERIAL: nolbd serves another one

start_secondary
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$DNS_PORT" \
    "SECONDARY_PORT=$SECONDARY_PORT"
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT"

# --- at start: the serial served
first=$(served_serial)
expect_match "nolbd serves a serial" '^[0-9]+$' "$first"
if wait_for 5 notified "$first"; then pass "the secondary is notified of the serial at start"; else
    fail "the secondary is notified of the serial at start" "$(block "$(<"$SECONDARY_LOG")")"
fi
line=$(grep -m1 "serial=$first\$" "$SECONDARY_LOG")
expect_match "a NOTIFY request: opcode 4, AA, not a response" 'opcode=4 aa=1 qr=0 qdcount=1' "$line"
expect_match "its question is the zone's apex, SOA" 'qname=demo\.test\. qtype=6 ' "$line"

# --- a drain moves the serial; the new one is notified
ctl drain london
expect_eq "nolbctl drain london exits 0" 0 "$RC"
wait_for 5 moved_from "$first" || fail "the drain moves the serial" "still $first"
second=$(served_serial)
if wait_for 5 notified "$second"; then pass "the new serial is notified after the drain"; else
    fail "the new serial is notified after the drain" "serial $second" \
        "$(block "$(<"$SECONDARY_LOG")")"
fi

# --- answered: sent once (the retry interval is 0.2 s)
sleep 1
expect_eq "an answered NOTIFY is sent once" 1 "$(notifies "$second")"
expect_no_match "nolbd logs no problem with the NOTIFY" 'msg="?notify' "$(grep -E 'level=(warning|error)' "$NOLBD_LOG")"

# --- a secondary that does not answer gets the NOTIFY again
stop "$SECONDARY_PID"
start_secondary --silent
ctl undrain london
expect_eq "nolbctl undrain london exits 0" 0 "$RC"
wait_for 5 moved_from "$second" || fail "the undrain moves the serial" "still $second"
third=$(served_serial)
if wait_for 5 notified "$third" 3; then pass "unanswered, the NOTIFY is sent again"; else
    fail "unanswered, the NOTIFY is sent again" "serial $third" "$(block "$(<"$SECONDARY_LOG")")"
fi

stop "$SECONDARY_PID"
stop "$NOLBD_PID"
finish
