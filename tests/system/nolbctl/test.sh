#!/usr/bin/env bash
# nolbctl: the operator's view and levers. status (table and --json) shows each address's state
# and whether it is published; check exits 0 when every node is up, 1 when some are down, 2 when
# a service has none up; a drained node leaves the answers at once and stays drained across
# reloads and restarts (state_file) until undrained; explain says why each address is in or out;
# stats counts the queries sent; watch streams transitions. Mistakes get clear messages: an
# unknown node exits 1; no daemon, or a user the socket does not admit, exits 3.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolbctl "$NOLBCTL"
need_program nolb-testhttp "$NOLB_TESTHTTP"
need_program nolb-queryload "$NOLB_QUERYLOAD"

DNS_PORT=$(free_port) || die "find a free port for DNS"
HTTP_PORT=$(free_port) || die "find a free port for the backends"
LONDON=127.0.0.2 GENEVA=127.0.0.3
CONTROL_SOCKET="$TMP/run/nolbd.sock"
# The scenario's folder is private (mktemp); open it so that the socket's own mode decides who
# may connect.
chmod 0755 "$TMP"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$DNS_PORT" "HTTP_PORT=$HTTP_PORT"

start_backend london "$LONDON:$HTTP_PORT"
start_backend geneva "$GENEVA:$HTTP_PORT"
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT"

# address_field NODE FIELD: FIELD of NODE's (first) address in `status --json`.
address_field() {
    ctl_json status
    jqo --arg n "$1" --arg f "$2" \
        '.services[] | select(.name == "www.demo.test.") | .nodes[] | select(.name == $n)
         | .addresses[0][$f]'
}
node_field() {  # NODE FIELD: a field of the node itself (drained)
    ctl_json status
    jqo --arg n "$1" --arg f "$2" \
        '.services[] | select(.name == "www.demo.test.") | .nodes[] | select(.name == $n) | .[$f]'
}
state_is() { [[ "$(address_field "$1" state)" == "$2" ]]; }   # NODE STATE

# --- status, both up
ctl status
expect_eq "status exits 0" 0 "$RC"
expect_match "the table shows london, its address and 'up'" "london.*$LONDON.*up|$LONDON.*london.*up" "$OUT"
expect_match "the table shows geneva, its address and 'up'" "geneva.*$GENEVA.*up|$GENEVA.*geneva.*up" "$OUT"
expect_match "the table names the service" 'www\.demo\.test' "$OUT"

ctl_json status
expect_eq "status --json exits 0" 0 "$RC"
expect_eq "status --json is one JSON document with the service" "www.demo.test." \
    "$(jqo '.services[0].name')"
expect_eq "status --json: london up" up "$(address_field london state)"
expect_eq "status --json: london published" true "$(address_field london published)"
expect_eq "status --json: london's address" "$LONDON" "$(address_field london address)"
expect_eq "status --json: geneva up" up "$(address_field geneva state)"
expect_eq "status --json: london not drained" false "$(node_field london drained)"
expect_eq "status --json: the health check type" http "$(jqo '.services[0].health')"

ctl check
expect_eq "check exits 0 with every node up" 0 "$RC"

# --- explain, both in
ctl explain www.demo.test A
expect_eq "explain exits 0" 0 "$RC"
expect_match "explain lists london's address" "$LONDON" "$OUT"
expect_match "explain lists geneva's address" "$GENEVA" "$OUT"
expect_match "explain names london" 'london' "$OUT"
expect_match "explain names geneva" 'geneva' "$OUT"
ctl_json explain www.demo.test A
expect_eq "explain --json: two addresses" 2 "$(jqo '.addresses | length')"
expect_eq "explain --json: both included" "true true" "$(jqo '[.addresses[].included] | map(tostring) | join(" ")')"
expect_eq "explain --json: every address has a reason" 0 \
    "$(jqo '[.addresses[] | select((.reason // "") == "")] | length')"
expect_eq "explain --json: NOERROR" NOERROR "$(jqo '.rcode')"

# --- stats counts queries
ctl_json stats
total_before=$(jqo '.queries.total')
a_before=$(jqo '.queries.by_type.A // 0')
LAST_CMD="nolb-queryload --server 127.0.0.1:$DNS_PORT --name www.demo.test --type A --rate 1000 --duration 0.2"
load=$("$NOLB_QUERYLOAD" --server "127.0.0.1:$DNS_PORT" --name www.demo.test --type A \
    --rate 1000 --duration 0.2 --timeout-ms 1000)
sent=$(grep -Eo 'sent=[0-9]+' <<<"$load" | cut -d= -f2)
expect_eq "the load sent 200 queries" 200 "$sent"
expect_match "every one was answered" 'answered=200 lost=0' "$load"
ctl_json stats
expect_eq "stats: queries.total grew by the queries sent" 200 $(($(jqo '.queries.total') - total_before))
expect_eq "stats: queries.by_type.A grew by the queries sent" 200 $(($(jqo '.queries.by_type.A // 0') - a_before))
total_now=$(jqo '.queries.total')
ctl stats
expect_eq "stats exits 0" 0 "$RC"
expect_match "stats prints the query total" "(^|[^0-9])$total_now([^0-9]|\$)" "$OUT"

# --- watch shows a transition; check says 1 with one node down
"$NOLBCTL" --socket "$CONTROL_SOCKET" watch >"$TMP/watch.out" 2>&1 &
WATCH_PID=$!
track "$WATCH_PID" "nolbctl watch" "$TMP/watch.out"
# nolbctl says so once the daemon has taken the watch: a transition before that is not owed.
watching() { grep -q 'watching health transitions' "$TMP/watch.out"; }
if wait_for 5 watching; then pass "watch is registered with the daemon"; else
    fail "watch is registered with the daemon" "watch output:" "$(block "$(<"$TMP/watch.out")")"
fi
backend_mode london 503
if wait_for 5 state_is london down; then pass "london goes down when its backend answers 503"; else
    fail "london goes down when its backend answers 503" "$(out_excerpt)"
fi
watched() { grep -q london "$TMP/watch.out" && grep -Eq 'down' "$TMP/watch.out"; }
if wait_for 3 watched; then pass "watch prints london's transition to down"; else
    fail "watch prints london's transition to down" "watch output:" "$(block "$(<"$TMP/watch.out")")"
fi
expect_match "the watched transition names london's address" "$LONDON" "$(<"$TMP/watch.out")"
stop "$WATCH_PID"

expect_eq "status --json: london published no more" false "$(address_field london published)"
expect_match "status --json: london's reason names the 503" '503|status' "$(address_field london reason)"
ctl status
expect_match "the table shows london down" "london.*down|$LONDON.*down" "$OUT"
ctl check
expect_eq "check exits 1 with one node down" 1 "$RC"
ctl_json explain www.demo.test A
expect_eq "explain --json: london excluded" false \
    "$(jqo --arg a "$LONDON" '.addresses[] | select(.address == $a) | .included')"
expect_match "explain --json: london's reason says why" 'down|503|status' \
    "$(jqo --arg a "$LONDON" '.addresses[] | select(.address == $a) | .reason')"

# --- no node up: check says 2
backend_mode geneva 503
if wait_for 5 state_is geneva down; then pass "geneva goes down too"; else
    fail "geneva goes down too" "$(out_excerpt)"
fi
ctl check
expect_eq "check exits 2 when a service has no node up" 2 "$RC"

backend_mode london ok
backend_mode geneva ok
both_up() { state_is london up && state_is geneva up; }
if wait_for 5 both_up; then pass "both nodes come back up"; else fail "both nodes come back up" "$(out_excerpt)"; fi
ctl check
expect_eq "check exits 0 again" 0 "$RC"

# --- drain: out of the answers at once, kept across reload and restart
ctl drain london
expect_eq "drain london exits 0" 0 "$RC"
expect_eq "right after the drain only geneva is answered" "$GENEVA" "$(addresses www.demo.test)"
expect_eq "status --json: london drained" true "$(node_field london drained)"
expect_eq "status --json: london (still up) is not published" "up false" \
    "$(address_field london state) $(address_field london published)"
ctl status
expect_match "the table shows london drained" 'london.*drained|drained.*london' "$OUT"
ctl_json explain www.demo.test A
expect_match "explain --json: london's reason is the drain" 'drain' \
    "$(jqo --arg a "$LONDON" '.addresses[] | select(.address == $a) | .reason')"
expect_true "the state file records the drain" grep -q london "$TMP/state.json"

ctl reload
expect_eq "nolbctl reload exits 0" 0 "$RC"
expect_eq "after a reload london is still drained" "$GENEVA" "$(addresses www.demo.test)"

stop "$NOLBD_PID"
ctl status
expect_eq "with nolbd stopped, nolbctl exits 3" 3 "$RC"
expect_match "and says it cannot reach the daemon" 'connect|running|reach|No such file' "$OUT"
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT"
expect_eq "after a restart london is still drained (state file)" "$GENEVA" "$(addresses www.demo.test)"
expect_eq "status --json after the restart: london drained" true "$(node_field london drained)"

ctl undrain london
expect_eq "undrain london exits 0" 0 "$RC"
expect_eq "right after the undrain both are answered" "$LONDON $GENEVA" "$(addresses www.demo.test)"
expect_eq "status --json: london no longer drained" false "$(node_field london drained)"

# --- mistakes
ctl drain atlantis
expect_eq "drain of an unknown node exits 1" 1 "$RC"
expect_match "and names the node" 'atlantis' "$OUT"
expect_eq "the unknown drain changed nothing" "$LONDON $GENEVA" "$(addresses www.demo.test)"

LAST_CMD="nolbctl --socket $TMP/elsewhere.sock status"
OUT=$(timeout 20 "$NOLBCTL" --socket "$TMP/elsewhere.sock" status 2>&1)
RC=$?
expect_eq "nolbctl with no daemon at the socket exits 3" 3 "$RC"
expect_match "and names the socket" 'elsewhere\.sock' "$OUT"

if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null; then
    LAST_CMD="setpriv --reuid=nobody --regid=nogroup --clear-groups nolbctl --socket $CONTROL_SOCKET status"
    OUT=$(timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$NOLBCTL" --socket "$CONTROL_SOCKET" status 2>&1)
    RC=$?
    expect_eq "a user the socket does not admit: nolbctl exits 3" 3 "$RC"
    expect_match "with 'permission denied'" '[Pp]ermission denied' "$OUT"
else
    say "skipped: the permission check needs setpriv, user nobody and group nogroup"
fi

expect_true "nolbd is still running" alive "$NOLBD_PID"
finish
