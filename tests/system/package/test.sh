#!/usr/bin/env bash
# The Debian package, as an operator meets it: contrib/package.sh makes nolb and nolb-tools from
# the build tree and lintian finds no error in them; dpkg -i installs them (the user nolb, its
# state folder, the unit naming /usr/sbin/nolbd, the conffile /etc/nolb/nolb.toml, which nolbd
# accepts); the installed nolbd, started on a copy of that file moved to a free loopback port,
# answers the example service, becomes nolb and keeps a drain in /var/lib/nolb; nolbctl, its
# bash completion and the man pages present are there. dpkg -r keeps the configuration and
# dpkg -P takes it and the state away, leaving the user nolb, as Debian leaves system users.
#
# It changes the machine (packages, a user), so it runs alone (RUN_SERIAL) and as root, and puts
# back what it found: the packages purged, the user nolb removed if it did not exist before, no
# service started (a policy-rc.d forbids it during the install, where the host has none of its
# own). It refuses to run where nolb is installed already or /etc/nolb exists, since it would
# replace and purge them. Without root it fails, saying so: a skipped check would look like a
# passing one.
source "$(dirname "$0")/../lib.sh"

((EUID == 0)) || die "this scenario must run as root: it installs and purges the package" \
    "run it as root (CI does), e.g. sudo ctest --test-dir build -R system.package"
for tool in dpkg-buildpackage dh fakeroot lintian dig; do
    command -v "$tool" >/dev/null ||
        die "$tool is installed" "contrib/install-deps.sh installs it (group package, or test)"
done
BUILD_DIR=${NOLB_BUILD_DIR:-$(cd "$(dirname "$NOLBD")" && pwd)}
installed() { [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]; }
known() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -Eqv '^(not-installed)?$'; }
for package in nolb nolb-tools; do
    known "$package" && die "the package $package is not on this machine already" \
        "this scenario installs and purges it: remove it first (dpkg -P $package)"
done
[[ -e /etc/nolb ]] && die "/etc/nolb does not exist yet" "this scenario's purge would remove it"
[[ -e /var/lib/nolb ]] && die "/var/lib/nolb does not exist yet" "this scenario's purge would remove it"

# ---------------------------------------------------------------------------- putting back

HAD_USER=0
getent passwd nolb >/dev/null && HAD_USER=1
HAD_GROUP=0
getent group nolb >/dev/null && HAD_GROUP=1
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
# shellcheck disable=SC2317  # restore_machine and on_exit run from the EXIT trap
restore_machine() {
    local pid
    for pid in "${TRACKED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${TRACKED_PIDS[@]}"; do
        wait_for 5 eval "! alive $pid" || kill -KILL "$pid" 2>/dev/null
    done
    for package in nolb-tools nolb; do
        known "$package" && { dpkg -P "$package" >/dev/null 2>&1 || say "warning: dpkg -P $package failed"; }
    done
    ((HAD_USER)) || ! getent passwd nolb >/dev/null || userdel nolb 2>/dev/null ||
        say "warning: could not remove the user nolb"
    ((HAD_GROUP)) || ! getent group nolb >/dev/null || groupdel nolb 2>/dev/null || true
    ((OWN_POLICY)) && rm -f "$POLICY"
    return 0
}
# shellcheck disable=SC2317
on_exit() {
    local rc=$?
    restore_machine
    (exit "$rc")
    cleanup
}
trap on_exit EXIT

# ---------------------------------------------------------------------------- building

OUT_DIR="$TMP/packages"
say "building the packages from $BUILD_DIR"
started=$SECONDS
run bash "$NOLB_SOURCE_DIR/contrib/package.sh" "$BUILD_DIR" "$OUT_DIR"
expect_eq "contrib/package.sh makes the packages, lintian finding no error" 0 "$RC"
((RC == 0)) || say "$(tail -n 60 <<<"$OUT")"
say "contrib/package.sh took $((SECONDS - started)) s"
VERSION=$("$NOLBD" --version | awk '{ print $2 }')
ARCH=$(dpkg --print-architecture)
DEB="$OUT_DIR/nolb_${VERSION}_$ARCH.deb"
TOOLS_DEB="$OUT_DIR/nolb-tools_${VERSION}_$ARCH.deb"
[[ -f "$DEB" && -f "$TOOLS_DEB" ]] ||
    die "nolb_${VERSION}_$ARCH.deb and nolb-tools_${VERSION}_$ARCH.deb are made" "$(block "$OUT" 60)"
LINTIAN=$(grep -E '^[EWIXP]: nolb' <<<"$OUT")
say "lintian: $(grep -c . <<<"$LINTIAN") tags"
[[ -z "$LINTIAN" ]] || say "$(block "$LINTIAN")"
expect_no_match "lintian reports no error" '^E: ' "$LINTIAN"

run dpkg-deb -f "$DEB" Depends
expect_match "nolb depends on the libraries it links (dpkg-shlibdeps)" 'libldns3.*' "$OUT"
expect_match "and on libevent" 'libevent-(core-)?2\.1-7' "$OUT"
run dpkg-deb -f "$TOOLS_DEB" Depends
expect_match "nolb-tools depends on nolb of the same version" "nolb \(= $VERSION\)" "$OUT"
run dpkg-deb -f "$TOOLS_DEB" Suggests
expect_match "and suggests haproxy, which nolb-compare's load-balancer model runs" haproxy "$OUT"

# ---------------------------------------------------------------------------- installing

# install: dpkg -i both packages, starting no service (a host with systemd would otherwise start
# or restart nolbd on port 53): a policy-rc.d forbids it, where the host has none of its own.
install_packages() {
    if [[ ! -e "$POLICY" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$POLICY"
        chmod 755 "$POLICY"
        OWN_POLICY=1
    fi
    run dpkg -i "$DEB" "$TOOLS_DEB"
    if ((OWN_POLICY)); then
        rm -f "$POLICY"
        OWN_POLICY=0
    fi
}
install_packages
expect_eq "dpkg -i installs nolb and nolb-tools" 0 "$RC"
if ! installed nolb || ! installed nolb-tools; then die "both packages are installed" "$(out_excerpt)"; fi

for path in /usr/sbin/nolbd /usr/bin/nolbctl /usr/bin/nolb-stats /usr/bin/nolb-compare; do
    expect_true "$path is installed and executable" test -x "$path"
done
run dpkg-query -W -f='${Conffiles}' nolb
expect_match "/etc/nolb/nolb.toml is a conffile" '^ ?/etc/nolb/nolb\.toml [0-9a-f]{32}' "$OUT"
expect_true "the unit is installed" test -f /lib/systemd/system/nolbd.service
UNIT_TEXT=$(</lib/systemd/system/nolbd.service)
LAST_CMD="grep /lib/systemd/system/nolbd.service"
expect_match "it runs the installed nolbd on /etc/nolb/nolb.toml" \
    '^ExecStart=/usr/sbin/nolbd -c /etc/nolb/nolb\.toml$' "$UNIT_TEXT"
expect_no_match "and names nothing in /usr/local" '/usr/local' "$UNIT_TEXT"
if command -v systemd-analyze >/dev/null; then
    run systemd-analyze verify --man=no /lib/systemd/system/nolbd.service
    expect_eq "systemd-analyze verify accepts the installed unit" "0:" "$RC:$OUT"
fi
expect_true "the sysusers file is installed" test -f /usr/lib/sysusers.d/nolb.conf
run getent passwd nolb
expect_eq "the install created the user nolb" 0 "$RC"
expect_match "a system user with no login" ':/usr/sbin/nologin$' "$OUT"
run stat -c '%U:%G %a' /var/lib/nolb
expect_eq "the state folder /var/lib/nolb is nolb's, mode 0750" "nolb:nolb 750" "$OUT"
expect_true "nolb-compare's scenarios are installed" test -f /usr/share/nolb/scenarios/crash.toml

run /usr/sbin/nolbd --check-config /etc/nolb/nolb.toml
expect_eq "nolbd --check-config accepts the installed configuration" \
    "0:/etc/nolb/nolb.toml: ok" "$RC:$OUT"
run /usr/bin/nolbctl --version
expect_eq "nolbctl is the packaged version" "nolbctl $VERSION" "$OUT"

# ---------------------------------------------------------------------------- serving

# The installed configuration, moved from port 53 to a free loopback port and its control
# socket to a folder of this scenario's; nolbd starts as root and becomes nolb, as configured.
PORT=$(free_port) || die "a free port"
RUN_DIR="$TMP/run"
mkdir -p "$RUN_DIR"
chown nolb:nolb "$RUN_DIR"
chmod 0755 "$TMP"
CONTROL="$RUN_DIR/nolbd.sock"
sed -E "s|^listen = .*|listen = [$(listen_list "$PORT")]|; s|^socket = \"[^\"]*\"|socket = \"$CONTROL\"|" \
    /etc/nolb/nolb.toml >"$TMP/nolb.toml"
chmod 0644 "$TMP/nolb.toml"
LAST_CMD="sed /etc/nolb/nolb.toml"
expect_match "the copy listens on port $PORT" "^listen = \[\"127\.0\.0\.1:$PORT\"" "$(<"$TMP/nolb.toml")"
NOLBD=/usr/sbin/nolbd
NOLBD_USER_ARGS=()
start_nolbd "$TMP/nolb.toml" "$PORT"
run ps -o user= -p "$NOLBD_PID"
expect_eq "the installed nolbd runs as nolb" nolb "$(tr -d ' ' <<<"$OUT")"

dig_q @127.0.0.1 -p "$PORT" +norec www.lb.example.com A
expect_eq "the example service answers NOERROR" NOERROR "$(status_of)"
expect_true "with the aa flag" has_flag aa
expect_eq "with both example nodes" "192.0.2.10 192.0.2.11" "$(rdata ANSWER A | tr '\n' ' ' | sed 's/ $//')"
dig_q @127.0.0.1 -p "$PORT" +norec lb.example.com NS
expect_eq "the zone's NS is ns1" "ns1.lb.example.com." "$(rdata ANSWER NS)"
dig_q @127.0.0.1 -p "$PORT" +norec www.example.org A
expect_eq "a name outside the zone is refused" REFUSED "$(status_of)"

run /usr/bin/nolbctl -s "$CONTROL" status
expect_eq "nolbctl status talks to it" 0 "$RC"
run /usr/bin/nolbctl -s "$CONTROL" drain node1
expect_eq "nolbctl drain node1" 0 "$RC"
run stat -c '%U' /var/lib/nolb/state.json
expect_eq "the drain is kept in /var/lib/nolb/state.json, written by nolb" nolb "$OUT"
dig_q @127.0.0.1 -p "$PORT" +norec www.lb.example.com A
expect_eq "the drained node leaves the answer" "192.0.2.11" "$(rdata ANSWER A)"
run /usr/bin/nolbctl -s "$CONTROL" undrain node1
expect_eq "nolbctl undrain node1" 0 "$RC"
stop "$NOLBD_PID"

# ---------------------------------------------------------------------------- documentation

# The verbs the completion offers are the ones nolbctl knows (its --help lists its subcommands).
HELP_VERBS=$(/usr/bin/nolbctl --help | awk 'toupper($0) ~ /^SUBCOMMANDS:/ { on = 1; next } on && NF { print $1 }' | sort)
COMPLETION=/usr/share/bash-completion/completions/nolbctl
expect_true "nolbctl's bash completion is installed" test -f "$COMPLETION"
run bash -c "source $COMPLETION; COMP_WORDS=(nolbctl ''); COMP_CWORD=1; _nolbctl; printf '%s\n' \"\${COMPREPLY[@]}\""
expect_eq "it completes nolbctl's verbs, as nolbctl --help lists them" "$HELP_VERBS" "$(sort <<<"$OUT")"
run bash -c "source $COMPLETION; COMP_WORDS=(nolbctl drain node1 --w); COMP_CWORD=3; _nolbctl; echo \"\${COMPREPLY[*]}\""
expect_eq "and drain's --wait" "--wait" "$OUT"

PAGES=$(dpkg -L nolb nolb-tools | grep -E '^/usr/share/man/man[0-9]/.+' || true)
if [[ -z "$PAGES" ]]; then
    say "no man pages in this build tree: nothing to check"
else
    for page in $PAGES; do
        if command -v man >/dev/null; then
            run man -l "$page"
            expect_eq "man reads $page" 0 "$RC"
        else
            expect_true "$page is installed" test -s "$page"
        fi
    done
    expect_match "nolbd has a man page" '/man[0-9]/nolbd\.[0-9]' "$PAGES"
fi
expect_true "README.md is in /usr/share/doc/nolb" test -f /usr/share/doc/nolb/README.md.gz
expect_true "the reference configuration is an example" \
    eval "test -f /usr/share/doc/nolb/examples/nolb.toml || test -f /usr/share/doc/nolb/examples/nolb.toml.gz"

# ---------------------------------------------------------------------------- upgrading

# The same packages again, as an upgrade: a configuration the operator changed stays as it is.
printf '# changed by the operator\n' >>/etc/nolb/nolb.toml
install_packages
expect_eq "dpkg -i again (an upgrade in place)" 0 "$RC"
expect_eq "keeps the changed /etc/nolb/nolb.toml" "# changed by the operator" "$(tail -n 1 /etc/nolb/nolb.toml)"
run stat -c '%U:%G %a' /var/lib/nolb
expect_eq "and the state folder as it was" "nolb:nolb 750" "$OUT"

# ---------------------------------------------------------------------------- removing, purging

run dpkg -r nolb-tools nolb
expect_eq "dpkg -r removes both" 0 "$RC"
expect_true "/usr/sbin/nolbd is gone" test ! -e /usr/sbin/nolbd
expect_true "/etc/nolb/nolb.toml stays" test -f /etc/nolb/nolb.toml
expect_true "and so does the state" test -f /var/lib/nolb/state.json
run dpkg-query -W -f='${db:Status-Status}' nolb
expect_eq "nolb is left as config-files" config-files "$OUT"

run dpkg -P nolb-tools nolb
expect_eq "dpkg -P purges both" 0 "$RC"
expect_true "/etc/nolb is gone" test ! -e /etc/nolb
expect_true "/var/lib/nolb is gone" test ! -e /var/lib/nolb
expect_true "the unit's enablement is gone" \
    test ! -e /etc/systemd/system/multi-user.target.wants/nolbd.service
run dpkg-query -W -f='${db:Status-Status}' nolb
expect_ne "dpkg no longer knows nolb" config-files "$OUT"
if ((!HAD_USER)); then
    run getent passwd nolb
    expect_eq "the user nolb stays after the purge, as Debian leaves system users" 0 "$RC"
fi

finish
