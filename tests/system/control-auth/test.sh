#!/usr/bin/env bash
# Who may use the control socket, against a real unprivileged user (nobody, by setpriv). Two
# layers guard it: the socket file's mode, which the kernel applies at connect(), and nolbd's
# check of the client's peer credentials (SO_PEERCRED), which applies the configured mode's
# meaning (root, nolbd's user, the socket's group; anyone with "0666") whatever the file's mode
# has become. Each is shown alone:
#   - mode "0660": nobody's connect() fails (EACCES); nolbctl says "permission denied" and exits
#     3, and nolbd never sees the attempt. A member of the socket's group gets in. Root gets in.
#   - the same daemon, its socket file then opened to everyone (chmod 0666): the kernel lets
#     nobody connect, nolbd refuses it ("permission denied", exit 1) and logs "control client
#     refused" with its uid. Root still gets in.
#   - mode "0666": nobody is let in, by design.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolbctl "$NOLBCTL"
if ! command -v setpriv >/dev/null || ! id nobody >/dev/null 2>&1 ||
    ! getent group nogroup >/dev/null; then
    die "setpriv (util-linux), user nobody and group nogroup are present"
fi
[[ $(id -u) == 0 ]] || die "the scenario runs as root (it switches to nobody)" "uid: $(id -u)"

NOBODY_UID=$(id -u nobody)
# The scenario's folder is private (mktemp); open it so that the socket's own mode decides.
chmod 0755 "$TMP"

# as_nobody [--groups=LIST] VERB...: nolbctl as user nobody, group nogroup, and no other group
# unless LIST is given.
as_nobody() {
    local groups=--clear-groups
    if [[ "$1" == --groups=* ]]; then
        groups=$1
        shift
    fi
    LAST_CMD="setpriv --reuid=nobody --regid=nogroup $groups nolbctl --socket $CONTROL_SOCKET $*"
    OUT=$(timeout 20 setpriv --reuid=nobody --regid=nogroup "$groups" \
        "$NOLBCTL" --socket "$CONTROL_SOCKET" "$@" 2>&1)
    RC=$?
}
refusals() { grep -c 'control client refused' "$NOLBD_LOG"; }

# ---- mode "0660": the file mode stops nobody before nolbd sees it
DNS_PORT=$(free_port) || die "find a free port for DNS"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/strict.toml" "$DNS_PORT" MODE=0660
CONTROL_SOCKET="$TMP/strict.sock"
start_nolbd "$TMP/strict.toml" "$DNS_PORT"
expect_eq "the socket file has mode 0660" 660 "$(stat -c %a "$CONTROL_SOCKET")"

as_nobody status
expect_eq "0660, nobody: nolbctl exits 3 (cannot connect)" 3 "$RC"
expect_match "0660, nobody: 'permission denied' on the socket (connect failed)" \
    'permission denied on .*/strict\.sock' "$OUT"
expect_eq "0660, nobody: refused by the file mode, so nolbd logged no refusal" 0 "$(refusals)"

as_nobody --groups=0 status
expect_eq "0660, nobody with the socket's group (root) as a supplementary group: let in" 0 "$RC"
expect_match "... and shown the status" 'london' "$OUT"

ctl status
expect_eq "0660, root: let in" 0 "$RC"
expect_match "0660, root: shown the status" 'london' "$OUT"

# ---- the file opened to everyone: SO_PEERCRED is what stops nobody now
chmod 0666 "$CONTROL_SOCKET"
as_nobody status
expect_eq "socket file chmod 0666, nobody: nolbctl exits 1 (nolbd said no)" 1 "$RC"
expect_match "socket file chmod 0666, nobody: nolbd's answer, 'permission denied'" \
    '^nolbctl: permission denied$' "$OUT"
expect_no_match "... and is shown no status" 'london' "$OUT"
wait_for 5 eval '(( $(refusals) >= 1 ))'
expect_match "nolbd logged the refusal with nobody's uid" \
    "control client refused.* uid=\"?$NOBODY_UID\"?( |$)" "$(<"$NOLBD_LOG")"
expect_eq "one refusal logged" 1 "$(refusals)"

ctl status
expect_eq "socket file chmod 0666, root: still let in" 0 "$RC"
expect_match "socket file chmod 0666, root: shown the status" 'london' "$OUT"
expect_true "nolbd is still running" alive "$NOLBD_PID"
stop "$NOLBD_PID"

# ---- mode "0666": anyone, by design
DNS_PORT=$(free_port) || die "find a free port for DNS"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/open.toml" "$DNS_PORT" MODE=0666
CONTROL_SOCKET="$TMP/open.sock"
start_nolbd "$TMP/open.toml" "$DNS_PORT"
expect_eq "the socket file has mode 0666" 666 "$(stat -c %a "$CONTROL_SOCKET")"
as_nobody status
expect_eq "0666, nobody: let in" 0 "$RC"
expect_match "0666, nobody: shown the status" 'london' "$OUT"
expect_eq "0666: no refusal logged" 0 "$(refusals)"

finish
