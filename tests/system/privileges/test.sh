#!/usr/bin/env bash
# Least privilege: started as root, nolbd opens port 53 and its control socket, then runs as
# the configured user with no supplementary groups and no capabilities, and goes on answering,
# reloading, taking nolbctl commands and saving drains. Started as root with no user named it
# refuses, naming server.user and the file; user "root" (or --user root) keeps root with a
# warning; a missing user is a configuration error. Started as an ordinary user holding
# CAP_NET_BIND_SERVICE (as contrib/nolbd.service starts it), it gives the capability up once
# port 53 is open.
#
# It needs root (CI runs as root): for port 53, a network namespace of its own, and switching
# users. Without root it fails, saying so: a skipped check would look like a passing one.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

((EUID == 0)) || die "this scenario must run as root: it checks how nolbd gives root up" \
    "run it as root (CI does), e.g. sudo ctest --test-dir build -R system.privileges"
command -v ip >/dev/null || die "ip (iproute2) is installed" "contrib/install-deps.sh installs it"
need_program nolbctl "$NOLBCTL"

USER_NAME=nobody
GROUP_NAME=nogroup
USER_ID=$(id -u "$USER_NAME") || die "the user $USER_NAME exists"
GROUP_ID=$(getent group "$GROUP_NAME" | cut -d: -f3)
[[ -n "$GROUP_ID" ]] || die "the group $GROUP_NAME exists"
OTHER_USER=daemon   # neither nobody nor in nogroup: the socket must refuse it
id "$OTHER_USER" >/dev/null 2>&1 || die "the user $OTHER_USER exists"

# ---------------------------------------------------------------------------- the namespace

NS="nolb-priv-$$"
delete_namespace() {
    ip netns list 2>/dev/null | grep -qw "$NS" || return 0
    local pid
    # Normally empty; after a failure, what is left there is this scenario's.
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$NS" 2>/dev/null || say "warning: could not delete network namespace $NS"
}
on_exit() {
    local rc=$?
    delete_namespace
    (exit "$rc")
    cleanup
}
trap on_exit EXIT
# Namespaces of earlier runs killed outright (a ctest timeout) name their script's PID.
for old in $(ip netns list 2>/dev/null | grep -Eo '^nolb-priv-[0-9]+'); do
    kill -0 "${old#nolb-priv-}" 2>/dev/null && continue
    for pid in $(ip netns pids "$old" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$old" 2>/dev/null
done
ip netns add "$NS" 2>/dev/null || die "create a network namespace (ip netns add $NS)" \
    "the kernel or container forbids network namespaces"
ip -n "$NS" link set lo up || die "bring up lo in $NS"
in_ns() { ip netns exec "$NS" "$@"; }

# ---------------------------------------------------------------------------- files

# Everything nolbd reads again after giving root up (the config on reload, the zone file) must
# be readable by nobody: the scenario's folder is private (mktemp), so open it.
chmod 0755 "$TMP"
write_zone() {  # TEXT: the TXT record's text
    printf '$ORIGIN demo.test.\n$TTL 60\ntxt TXT "%s"\n' "$1" >"$TMP/demo.test.zone"
    chmod 0644 "$TMP/demo.test.zone"
}
write_zone before
mkdir -p "$TMP/state"
chown "$USER_NAME:$GROUP_NAME" "$TMP/state"
CONTROL="$TMP/run/nolbd.sock"
config() {  # DEST PORT USER GROUP STATE
    write_config "$SCENARIO_DIR/nolbd.toml.in" "$1" "$2" "USER=$3" "GROUP=$4" "STATE=$5"
    chmod 0644 "$1"
}

# start_in_ns CONFIG [PREFIX...]: nolbd in the namespace (after PREFIX, such as setpriv; with
# the arguments in NOLBD_ARGS), waits until it logs msg=ready and answers on port 53 there.
# Sets NOLBD_PID and NOLBD_LOG.
NOLBD_ARGS=()
start_in_ns() {
    local conf=$1
    shift
    STARTED=$((STARTED + 1))
    NOLBD_LOG="$TMP/nolbd.$STARTED.log"
    # Not through in_ns: a function run in the background is a subshell, and NOLBD_PID must
    # be nolbd's own (ip netns exec and setpriv exec, they do not fork).
    ip netns exec "$NS" "$@" "$NOLBD" -c "$conf" "${NOLBD_ARGS[@]}" >"$NOLBD_LOG" 2>&1 &
    NOLBD_PID=$!
    track "$NOLBD_PID" nolbd "$NOLBD_LOG"
    ready() { ! alive "$NOLBD_PID" || grep -qs 'msg=ready' "$NOLBD_LOG"; }
    if ! wait_for 20 ready || ! alive "$NOLBD_PID"; then
        LAST_CMD="ip netns exec $NS $* $NOLBD -c $conf ${NOLBD_ARGS[*]}"
        die "nolbd starts and logs msg=ready" "log:" "$(block "$(<"$NOLBD_LOG")")"
    fi
    ns_answers() { in_ns dig @127.0.0.1 -p 53 +time=1 +tries=1 +norec demo.test. SOA | grep -q 'status:'; }
    wait_for 10 ns_answers || die "nolbd answers on 127.0.0.1:53 in $NS after msg=ready"
}

status_field() {  # PID FIELD: the values of FIELD in /proc/PID/status, single spaced
    awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ +/, ""); print }' "/proc/$1/status"
}

# ---------------------------------------------------------------------------- refusals

# Root, no user named: refuse, before anything is opened, saying what to set.
config "$TMP/nouser.toml" 53 "" "" ""
run in_ns timeout 20 "$NOLBD" -c "$TMP/nouser.toml"
expect_eq "started as root with no user, nolbd exits 2" 2 "$RC"
expect_match "the refusal names the file and server.user" "$TMP/nouser.toml: server\.user" "$OUT"
expect_match "it says what to set" 'user = "nolb".*user = "root"' "$OUT"
expect_no_match "it never logs msg=ready" 'msg=ready' "$OUT"

config "$TMP/missing.toml" 53 "nolb-no-such-user" "" ""
run in_ns timeout 20 "$NOLBD" -c "$TMP/missing.toml"
expect_eq "a user that does not exist: exit 2" 2 "$RC"
expect_match "it names the file, the key and the user" \
    "$TMP/missing.toml: server\.user: no user \"nolb-no-such-user\"" "$OUT"

run in_ns timeout 20 "$NOLBD" -c "$TMP/nouser.toml" --user "$USER_NAME:nolb-no-such-group"
expect_eq "--user with a group that does not exist: exit 2" 2 "$RC"
expect_match "it names --user and the group" '^--user: no group "nolb-no-such-group"' "$OUT"

# Drains are saved by renaming a new file into the state file's folder: one nobody cannot
# write is refused at start rather than at the first drain.
mkdir -p "$TMP/rootonly"
config "$TMP/rootonly.toml" 53 "$USER_NAME" "$GROUP_NAME" "$TMP/rootonly/state.json"
run in_ns timeout 20 "$NOLBD" -c "$TMP/rootonly.toml"
expect_eq "a state file folder the user cannot write: exit 1" 1 "$RC"
expect_match "it names control.state_file and the folder" \
    "control\.state_file.*folder=$TMP/rootonly" "$OUT"

# ---------------------------------------------------------------------------- nobody

config "$TMP/nobody.toml" 53 "$USER_NAME" "$GROUP_NAME" "$TMP/state/state.json"
start_in_ns "$TMP/nobody.toml"
PID=$NOLBD_PID
LOG=$NOLBD_LOG

expect_eq "real, effective, saved and filesystem uid are $USER_NAME's" \
    "$USER_ID $USER_ID $USER_ID $USER_ID" "$(status_field "$PID" Uid)"
expect_eq "real, effective, saved and filesystem gid are $GROUP_NAME's" \
    "$GROUP_ID $GROUP_ID $GROUP_ID $GROUP_ID" "$(status_field "$PID" Gid)"
expect_eq "no supplementary groups" "" "$(status_field "$PID" Groups)"
expect_eq "no effective capability" 0000000000000000 "$(status_field "$PID" CapEff)"
expect_eq "no permitted capability" 0000000000000000 "$(status_field "$PID" CapPrm)"
expect_match "it logs whom it runs as" "msg=\"running as\" user=$USER_NAME uid=$USER_ID" "$(<"$LOG")"
# The socket was bound as root, before the switch: nobody alone could not bind port 53.
LAST_CMD="ip netns exec $NS ss -Hlnup 'sport = :53'"
expect_match "port 53 (UDP) is held by nolbd" "pid=$PID," "$(in_ns ss -Hlnup 'sport = :53')"
expect_match "port 53 (TCP) is held by nolbd" "pid=$PID," "$(in_ns ss -Hlntp 'sport = :53')"

run in_ns dig @127.0.0.1 -p 53 +time=2 +tries=1 +norec www.demo.test A
expect_eq "it answers www.demo.test over UDP" "$(printf '127.0.0.2\n127.0.0.3')" "$(rdata ANSWER A)"
run in_ns dig @127.0.0.1 -p 53 +time=2 +tries=1 +norec +tcp txt.demo.test TXT
expect_eq "it answers over TCP" '"before"' "$(rdata ANSWER TXT)"

# The control socket: nobody's, group nogroup, mode 0660, in a folder nolbd created and gave
# to nobody, so that nolbd can remove the socket at stop.
LAST_CMD="stat -c '%U:%G %a' $CONTROL"
expect_eq "the control socket belongs to $USER_NAME:$GROUP_NAME with mode 660" \
    "$USER_NAME:$GROUP_NAME 660" "$(stat -c '%U:%G %a' "$CONTROL")"
expect_eq "its folder belongs to $USER_NAME" "$USER_NAME" "$(stat -c '%U' "$(dirname "$CONTROL")")"
run "$NOLBCTL" -s "$CONTROL" status --json
expect_eq "nolbctl as root still works" 0 "$RC"
expect_match "and sees the service" 'www\.demo\.test\.' "$OUT"
run setpriv --reuid="$OTHER_USER" --regid="$OTHER_USER" --init-groups "$NOLBCTL" -s "$CONTROL" status
expect_eq "a user outside $GROUP_NAME is refused (nolbctl exits 3)" 3 "$RC"
run setpriv --reuid="$OTHER_USER" --regid="$OTHER_USER" --groups="$GROUP_ID" \
    "$NOLBCTL" -s "$CONTROL" status --json
expect_eq "a member of $GROUP_NAME is let in, by the mode and by nolbd's own check" 0 "$RC"

# Drains are written after the switch, by nobody.
run "$NOLBCTL" -s "$CONTROL" drain london
expect_eq "drain london works" 0 "$RC"
expect_eq "the state file is written, by $USER_NAME" "$USER_NAME" \
    "$(stat -c '%U' "$TMP/state/state.json" 2>&1)"
expect_match "it holds the drain" '"london"' "$(cat "$TMP/state/state.json" 2>&1)"
run in_ns dig @127.0.0.1 -p 53 +time=2 +tries=1 +norec www.demo.test A
expect_eq "the drained node leaves the answers" 127.0.0.3 "$(rdata ANSWER A)"
expect_no_match "no error logged for the drain" 'cannot save drains' "$(<"$LOG")"

# A reload reads the config and the zone file again, as nobody.
write_zone after
mark=$(wc -l <"$LOG")
kill -HUP "$PID"
reloaded() { tail -n "+$((mark + 1))" "$LOG" | grep -Eq 'msg=(reloaded|"reload rejected")'; }
wait_for 10 reloaded
expect_match "SIGHUP reloads, as $USER_NAME" 'msg=reloaded' "$(tail -n "+$((mark + 1))" "$LOG")"
run in_ns dig @127.0.0.1 -p 53 +time=2 +tries=1 +norec txt.demo.test TXT
expect_eq "the reloaded zone file is served" '"after"' "$(rdata ANSWER TXT)"
run "$NOLBCTL" -s "$CONTROL" reload
expect_eq "nolbctl reload works too" 0 "$RC"

stop "$PID"
expect_true "the control socket is removed at stop" test ! -e "$CONTROL"

# ---------------------------------------------------------------------------- root, kept

config "$TMP/root.toml" 53 root "" ""
start_in_ns "$TMP/root.toml"
expect_eq "user = \"root\" keeps root" "0 0 0 0" "$(status_field "$NOLBD_PID" Uid)"
expect_match "with a warning" 'level=warning msg="running as root' "$(<"$NOLBD_LOG")"
stop "$NOLBD_PID"

# The command line's --user wins over an empty server.user.
NOLBD_ARGS=(--user root)
start_in_ns "$TMP/nouser.toml"
NOLBD_ARGS=()
expect_eq "--user root keeps root" "0 0 0 0" "$(status_field "$NOLBD_PID" Uid)"
expect_match "with a warning" 'level=warning msg="running as root' "$(<"$NOLBD_LOG")"
stop "$NOLBD_PID"

# ---------------------------------------------------------------------------- not root

# As contrib/nolbd.service starts it: already nobody, holding only CAP_NET_BIND_SERVICE (an
# ambient capability) for port 53. nolbd binds, then gives the capability up. A config naming
# another user cannot be followed: a warning, and it goes on.
config "$TMP/asother.toml" 53 "$OTHER_USER" "" ""
start_in_ns "$TMP/asother.toml" setpriv --reuid="$USER_NAME" --regid="$GROUP_NAME" --clear-groups \
    --inh-caps=+net_bind_service --ambient-caps=+net_bind_service
PID=$NOLBD_PID
expect_eq "started as $USER_NAME, it stays $USER_NAME" "$USER_ID $USER_ID $USER_ID $USER_ID" \
    "$(status_field "$PID" Uid)"
expect_eq "the capability it was handed is gone" 0000000000000000 "$(status_field "$PID" CapEff)"
expect_eq "ambient and permitted too" "0000000000000000 0000000000000000" \
    "$(status_field "$PID" CapAmb) $(status_field "$PID" CapPrm)"
WARNING=$(grep 'msg="not started as root' "$NOLBD_LOG")
expect_match "server.user naming someone else is ignored with a warning" \
    'level=warning msg="not started as root: cannot switch user; ignored"' "$WARNING"
expect_match "the warning names the setting" "server\.user = .*$OTHER_USER" "$WARNING"
run in_ns dig @127.0.0.1 -p 53 +time=2 +tries=1 +norec www.demo.test A
expect_eq "it answers on port 53" "$(printf '127.0.0.2\n127.0.0.3')" "$(rdata ANSWER A)"
stop "$PID"

finish
