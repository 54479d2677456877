#!/usr/bin/env bash
# config-errors: how nolbd treats its operator. --check-config says "ok" or lists every problem
# as file:line:column: key: message and exits 2; a bad config at startup serves nothing and
# exits 2; a port already taken exits 1 naming the address; SIGHUP with a bad config keeps the
# old data and logs why, SIGHUP with a good one serves the new data (zone files re-read too);
# SIGTERM and SIGINT exit 0; --version and --help exit 0.
source "$(dirname "$0")/../lib.sh"

PORT=$(free_port) || die "find a free port"
cp "$SCENARIO_DIR/demo.test.zone" "$TMP/demo.test.zone"
write_config "$SCENARIO_DIR/valid.toml.in" "$TMP/valid.toml" "$PORT"
write_config "$SCENARIO_DIR/changed.toml.in" "$TMP/changed.toml" "$PORT"
write_config "$SCENARIO_DIR/errors.toml.in" "$TMP/errors.toml" "$PORT"
write_config "$SCENARIO_DIR/bad-zone-file.toml.in" "$TMP/bad-zone-file.toml" "$PORT"

# check FILE: runs --check-config, stdout in OUT, stderr in ERR, status in RC.
check() {
    LAST_CMD="$NOLBD --check-config $1"
    OUT=$(timeout 20 "$NOLBD" --check-config "$1" 2>"$TMP/stderr")
    RC=$?
    ERR=$(<"$TMP/stderr")
}
line_of() { grep -n -- "$1" "$2" | head -n 1 | cut -d: -f1; }

# --- --check-config
check "$TMP/valid.toml"
expect_eq "--check-config on a valid file exits 0" 0 "$RC"
expect_eq "--check-config on a valid file prints 'FILE: ok'" "$TMP/valid.toml: ok" "$OUT"

check "$TMP/errors.toml"
expect_eq "--check-config on a file with four errors exits 2" 2 "$RC"
f="$TMP/errors.toml"
expect_match "wrong type reported with line, column and key" \
    "^$f:$(line_of 'workers =' "$f"):[0-9]+: [^ ]*workers[^ ]*: .+" "$ERR"
expect_match "unknown key reported with line, column and key" \
    "^$f:$(line_of 'bogus_key' "$f"):[0-9]+: [^ ]*bogus_key[^ ]*: .+" "$ERR"
expect_match "bad address reported with line, column and key" \
    "^$f:$(line_of '127.0.0.300' "$f"):[0-9]+: [^ ]*addresses[^ ]*: .+" "$ERR"
service_lines="$(line_of '^\[\[service\]\]' "$f")|$(line_of 'www.elsewhere.test' "$f")"
expect_match "service outside every zone reported with line, column and key" \
    "^$f:($service_lines):[0-9]+: [^ ]*(service|name)[^ ]*: .+" "$ERR"
expect_eq "--check-config on a bad file prints nothing on stdout" "" "$OUT"

check "$TMP/bad-zone-file.toml"
expect_eq "--check-config with a broken zone file exits 2" 2 "$RC"
expect_match "the broken zone file's line is named" "$SCENARIO_DIR/broken.zone:$(line_of 192.0.2.999 "$SCENARIO_DIR/broken.zone")" "$ERR"

check "$TMP/does-not-exist.toml"
expect_match "--check-config on a missing file fails" '^[12]$' "$RC"
expect_match "the missing file is named" "does-not-exist\.toml" "$ERR"

# --- --version, --help
run timeout 10 "$NOLBD" --version
expect_eq "--version exits 0" 0 "$RC"
expect_match "--version prints a version number" '[0-9]+\.[0-9]+\.[0-9]+' "$OUT"
run timeout 10 "$NOLBD" --help
expect_eq "--help exits 0" 0 "$RC"
expect_match "--help describes --check-config" '--check-config' "$OUT"
expect_match "--help describes -c" '(^|[ ,])-c[ ,]' "$OUT"

# --- a bad config at startup: exit 2, nothing served
LAST_CMD="$NOLBD -c $TMP/errors.toml"
timeout 20 "$NOLBD" -c "$TMP/errors.toml" >"$TMP/bad-start.log" 2>&1
RC=$?
expect_eq "starting with a bad config exits 2" 2 "$RC"
expect_no_match "starting with a bad config never logs msg=ready" 'msg=ready' "$(<"$TMP/bad-start.log")"
expect_match "starting with a bad config logs the problems" 'bogus_key' "$(<"$TMP/bad-start.log")"
expect_true "nothing answers on the port after a bad start" eval '! answers_on $PORT'

# --- a good start; a second nolbd on the same port exits 1 naming the address
start_nolbd "$TMP/valid.toml" "$PORT"
FIRST=$NOLBD_PID
FIRST_LOG=$NOLBD_LOG
LAST_CMD="$NOLBD -c $TMP/valid.toml   (while another nolbd holds 127.0.0.1:$PORT)"
timeout 20 "$NOLBD" -c "$TMP/valid.toml" "${NOLBD_USER_ARGS[@]}" >"$TMP/second.log" 2>&1
RC=$?
expect_eq "a second nolbd on a port in use exits 1" 1 "$RC"
expect_match "it names the address in use" "127\.0\.0\.1:$PORT" "$(<"$TMP/second.log")"
expect_no_match "it never logs msg=ready" 'msg=ready' "$(<"$TMP/second.log")"
dig_q @127.0.0.1 -p "$PORT" www.demo.test A
expect_eq "the first nolbd still answers" "$(printf '127.0.0.2\n127.0.0.3')" "$(rdata ANSWER A)"

# --- SIGHUP with an invalid config: rejected, logged, old data kept
log_lines() { wc -l <"$FIRST_LOG"; }
new_log() { tail -n "+$(($1 + 1))" "$FIRST_LOG"; }
before=$(log_lines)
cp "$TMP/errors.toml" "$TMP/valid.toml"
kill -HUP "$FIRST"
LAST_CMD="kill -HUP $FIRST (config now has four errors)"
rejection() { new_log "$before" | grep -Eq 'level=(error|warning)'; }
if wait_for 10 rejection; then pass "a rejected reload is logged as a warning or error"; else
    fail "a rejected reload is logged as a warning or error" "log since SIGHUP:" "$(block "$(new_log "$before")")"
fi
expect_match "the rejection names a problem in the file" 'bogus_key|valid\.toml' "$(new_log "$before")"
expect_true "nolbd is still running after a rejected reload" alive "$FIRST"
dig_q @127.0.0.1 -p "$PORT" www.demo.test A
expect_eq "the old data is still served after a rejected reload" "$(printf '127.0.0.2\n127.0.0.3')" "$(rdata ANSWER A)"
expect_eq "the old TTL is still served after a rejected reload" 20 "$(ttls ANSWER A)"

# --- SIGHUP with a valid, changed config: the new data is served
cp "$TMP/changed.toml" "$TMP/valid.toml"
cp "$SCENARIO_DIR/demo.test.changed.zone" "$TMP/demo.test.zone"
kill -HUP "$FIRST"
LAST_CMD="kill -HUP $FIRST (config now has a third node)"
third_node() { dig @127.0.0.1 -p "$PORT" +time=1 +tries=1 +short www.demo.test A | grep -qx 127.0.0.4; }
expect_true "after a good reload the third node is served" wait_for 10 third_node
dig_q @127.0.0.1 -p "$PORT" www.demo.test A
expect_eq "after a good reload all three nodes are served" "$(printf '127.0.0.2\n127.0.0.3\n127.0.0.4')" "$(rdata ANSWER A)"
expect_eq "after a good reload the new TTL is served" 15 "$(ttls ANSWER A)"
dig_q @127.0.0.1 -p "$PORT" info.demo.test TXT
expect_eq "a reload re-reads the zone file" '"second version"' "$(rdata ANSWER TXT)"
expect_true "nolbd is still the same process" alive "$FIRST"

# --- SIGINT stops nolbd with status 0, like SIGTERM (which finish checks for the first one)
PORT2=$(free_port) || die "find a second free port"
write_config "$SCENARIO_DIR/valid.toml.in" "$TMP/second.toml" "$PORT2"
start_nolbd "$TMP/second.toml" "$PORT2"
kill -INT "$NOLBD_PID"
LAST_CMD="kill -INT $NOLBD_PID"
wait_for 15 eval "! alive $NOLBD_PID" || kill -KILL "$NOLBD_PID"
wait "$NOLBD_PID"
expect_eq "SIGINT stops nolbd with status 0" 0 "$?"
untrack "$NOLBD_PID"
expect_true "no sanitizer report after SIGINT" sanitizer_clean "$NOLBD_LOG"
expect_true "nothing answers after SIGINT" eval '! answers_on $PORT2'

finish
