#!/usr/bin/env bash
# contrib/nolbd.service: systemd reads it without a complaint (`systemd-analyze verify` prints
# nothing: an unknown or misspelt directive, a bad value or a missing binary all print a line),
# its sandbox keeps the exposure `systemd-analyze security` rates low, and it holds the
# settings the design rests on. The unit's ExecStart names /usr/local/sbin/nolbd; the copy
# checked here names the nolbd just built, which verify requires to exist. The checker itself
# is checked too: a copy with one directive misspelt must make it complain.
#
# The notification side (READY=1, RELOADING=1, STOPPING=1) is checked against the running
# daemon by nolb_system_tests (tests/system/notify_test.cpp).
source "$(dirname "$0")/../lib.sh"

UNIT="$NOLB_SOURCE_DIR/contrib/nolbd.service"
command -v systemd-analyze >/dev/null ||
    die "systemd-analyze is installed" "contrib/install-deps.sh installs it (apt-get install systemd)"
[[ -f "$UNIT" ]] || die "contrib/nolbd.service exists"
NOLBD_ABS=$(cd "$(dirname "$NOLBD")" && pwd)/$(basename "$NOLBD")

# A copy of the unit with the built binary; the file name is the unit's name.
mkdir -p "$TMP/units"
sed "s#/usr/local/sbin/nolbd#$NOLBD_ABS#g" "$UNIT" >"$TMP/units/nolbd.service"

# verify SERVICE-FILE: runs systemd-analyze verify; OUT holds everything it printed.
verify() { run systemd-analyze verify --man=no "$1"; }

verify "$TMP/units/nolbd.service"
expect_eq "systemd-analyze verify accepts the unit" 0 "$RC"
expect_eq "and prints nothing (no unknown directive, no bad value)" "" "$OUT"

# The checker catches a typo: the same unit with one directive misspelt.
sed 's/^NoNewPrivileges=/NoNewPrivilegs=/' "$TMP/units/nolbd.service" >"$TMP/units/typo.service"
verify "$TMP/units/typo.service"
expect_match "a misspelt directive is reported" "Unknown key.*NoNewPrivilegs" "$OUT"
# And a missing binary.
sed "s#$NOLBD_ABS#$TMP/no-such-nolbd#g" "$TMP/units/nolbd.service" >"$TMP/units/nobin.service"
verify "$TMP/units/nobin.service"
expect_ne "an ExecStart binary that does not exist fails verify" 0 "$RC"

# The sandbox as systemd rates it: 0 (locked down) to 10 (none). A directive dropped from the
# unit raises it past the threshold (2.0 with the unit as written, 1.8 measured).
run systemd-analyze security --offline=yes --threshold=20 "$TMP/units/nolbd.service"
expect_eq "systemd-analyze security rates the exposure 2.0 or less" 0 "$RC"
expect_match "it states the level" 'Overall exposure level for nolbd\.service: [0-1]\.[0-9]' "$OUT"
sed '/^ProtectSystem=/d; /^PrivateDevices=/d; /^ProtectKernelTunables=/d' \
    "$TMP/units/nolbd.service" >"$TMP/units/loose.service"
run systemd-analyze security --offline=yes --threshold=20 "$TMP/units/loose.service"
expect_ne "a unit with three protections removed goes past the threshold" 0 "$RC"

# What the design rests on (the unit's comments say why).
unit_text=$(<"$UNIT")
setting() { grep -E "^$1=" <<<"$unit_text" | tail -n 1 | cut -d= -f2-; }
LAST_CMD="grep $UNIT"
expect_eq "Type=notify: ready once the first probe round is done" notify "$(setting Type)"
expect_eq "ExecStart reads /etc/nolb/nolb.toml" "/usr/local/sbin/nolbd -c /etc/nolb/nolb.toml" \
    "$(setting ExecStart)"
expect_eq "reload is SIGHUP" '/bin/kill -HUP $MAINPID' "$(setting ExecReload)"
expect_eq "the only capability is CAP_NET_BIND_SERVICE" CAP_NET_BIND_SERVICE \
    "$(setting CapabilityBoundingSet)"
expect_eq "and it is handed over as an ambient capability" CAP_NET_BIND_SERVICE \
    "$(setting AmbientCapabilities)"
expect_eq "it runs as nolb" nolb "$(setting User)"
expect_eq "no new privileges" yes "$(setting NoNewPrivileges)"
expect_eq "address families: IPv4, IPv6, Unix" "AF_INET AF_INET6 AF_UNIX" \
    "$(setting RestrictAddressFamilies)"
expect_eq "the control socket's folder is the runtime directory" nolb "$(setting RuntimeDirectory)"
expect_match "the default control socket lives there" '^socket = "/run/nolb/nolbd\.sock"' \
    "$(<"$NOLB_SOURCE_DIR/conf/nolb.toml")"

# The user the unit names is the one contrib/nolb.sysusers.conf creates.
run grep -E '^u[[:space:]]+nolb[[:space:]]' "$NOLB_SOURCE_DIR/contrib/nolb.sysusers.conf"
expect_eq "contrib/nolb.sysusers.conf creates the user nolb" 0 "$RC"
if command -v systemd-sysusers >/dev/null; then
    mkdir -p "$TMP/sysroot"
    run systemd-sysusers --dry-run --root="$TMP/sysroot" "$NOLB_SOURCE_DIR/contrib/nolb.sysusers.conf"
    expect_eq "systemd-sysusers accepts it" 0 "$RC"
    expect_match "and would create nolb" 'nolb' "$OUT"
fi

finish
