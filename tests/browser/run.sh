#!/usr/bin/env bash
# Runs one browser failover test: tests/browser/failover.mjs in a network namespace of its own.
#
#     tests/browser/run.sh health-checked|zero-admin
#
# The namespace gives the test a private loopback, where nolbd can serve DNS on port 53 and the
# sites can listen on 127.0.0.2:8080 and 127.0.0.3:8080 without touching the host, and a
# resolv.conf of its own (/etc/netns/<NS>/resolv.conf, which `ip netns exec` mounts over
# /etc/resolv.conf) naming nolbd, so that Chromium resolves www.demo.test the way any browser
# resolves a name: through its system's resolver configuration, with no flag or proxy.
#
# From the environment (tests/CMakeLists.txt sets them): NOLBD, NOLB_STATS and NOLBCTL, the
# binaries; NOLB_BROWSER_ARTIFACTS, where screenshots and logs go (default: build/browser-
# artifacts). CHROMIUM overrides /usr/bin/chromium. It needs root (for the namespace), node,
# npm and Debian's chromium (contrib/install-deps.sh installs them); it installs the node
# modules from package-lock.json when they are missing. Without any of these it fails, saying
# which: a skipped browser test would look like a passing one.
#
# Whatever happens, the exit trap stops every process left in the namespace (each by its PID;
# all of them are this test's), deletes the namespace and its /etc/netns folder.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
mode=${1:-}
name=browser-failover
[[ "$mode" == zero-admin ]] && name=browser-failover-zero-admin

say() { printf '[%s] %s\n' "$name" "$*"; }
give_up() {
    printf '[%s] FAIL  %s\n' "$name" "$1" >&2
    shift
    local line
    for line in "$@"; do printf '        %s\n' "$line" >&2; done
    echo "[$name] 0 passed, 1 failed"
    exit 1
}

case "$mode" in
health-checked | zero-admin) ;;
*) give_up "usage: $0 health-checked|zero-admin" ;;
esac

# ---------------------------------------------------------------------------- what it needs

((EUID == 0)) || give_up "this test must run as root: it creates a network namespace" \
    "run it as root (CI does), e.g. sudo ctest --test-dir build -R system.browser"

for var in NOLBD NOLB_STATS NOLBCTL; do
    [[ -n "${!var:-}" ]] || give_up "$var is not set" \
        "run through ctest, or set NOLBD, NOLB_STATS and NOLBCTL to the built binaries"
    [[ -x "${!var}" ]] || give_up "$var=${!var} is not an executable file" "build it first"
done
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x "$CHROMIUM" ]] || give_up "Debian's chromium is not installed ($CHROMIUM)" \
    "contrib/install-deps.sh installs it (apt-get install chromium)"
command -v node >/dev/null || give_up "node is not installed" \
    "contrib/install-deps.sh installs it (apt-get install nodejs npm)"
command -v ip >/dev/null || give_up "ip (iproute2) is not installed" "contrib/install-deps.sh installs it"

if [[ ! -f "$here/node_modules/playwright-core/package.json" ]]; then
    command -v npm >/dev/null || give_up "npm is not installed, and $here/node_modules is missing" \
        "contrib/install-deps.sh installs it (apt-get install npm)"
    say "installing the node modules (npm ci, from package-lock.json)"
    # Two tests may start at once; a lock on this folder makes the second wait for the first's
    # install.
    (
        flock -w 240 9 || exit 1
        [[ -f "$here/node_modules/playwright-core/package.json" ]] && exit 0
        cd "$here" && npm ci --no-audit --no-fund --loglevel=error
    ) 9<"$here" || give_up "npm ci in $here failed"
fi

artifacts=${NOLB_BROWSER_ARTIFACTS:-$source_dir/build/browser-artifacts}/$mode
rm -rf "$artifacts"
mkdir -p "$artifacts" || give_up "cannot create the artifact folder $artifacts"
artifacts=$(cd "$artifacts" && pwd)

# ---------------------------------------------------------------------------- the namespace

ns="nolb-e2e-$$"
netns_dir="/etc/netns/$ns"
work=""
made_etc_netns=0
[[ -d /etc/netns ]] || made_etc_netns=1

cleanup() {
    local rc=$? pid i
    trap - EXIT INT TERM
    if ip netns list 2>/dev/null | grep -qw "$ns"; then
        # Normally empty: failover.mjs stops what it started. After a crash or a timeout, each
        # process still in the namespace is one the test started.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
        for ((i = 0; i < 50; i++)); do
            [[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]] && break
            sleep 0.1
        done
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns delete "$ns" 2>/dev/null || say "warning: could not delete network namespace $ns"
    fi
    rm -rf "$netns_dir"
    if ((made_etc_netns)); then rmdir /etc/netns 2>/dev/null || true; fi  # if nothing else is there
    [[ -n "$work" ]] && rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A run that was killed outright (a ctest timeout) could not clean up; its namespace names its
# run.sh's PID. Remove those whose run.sh is gone, with whatever of that run still lives there.
for old in $(ip netns list 2>/dev/null | grep -Eo '^nolb-e2e-[0-9]+'); do
    kill -0 "${old#nolb-e2e-}" 2>/dev/null && continue
    for pid in $(ip netns pids "$old" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$old" 2>/dev/null && say "removed the namespace $old of an earlier run"
    rm -rf "/etc/netns/$old"
done

ip netns add "$ns" 2>/dev/null || give_up "cannot create a network namespace (ip netns add $ns)" \
    "this test needs root and a kernel that allows network namespaces (a container may forbid them)"
ip -n "$ns" link set lo up || give_up "cannot bring up lo in $ns"
if ! mkdir -p "$netns_dir" || ! echo "nameserver 127.0.0.1" >"$netns_dir/resolv.conf"; then
    give_up "cannot write $netns_dir/resolv.conf"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nolb-browser.XXXXXX")
chmod 0700 "$work"   # the browser profile and nolbd's control socket

say "namespace $ns, artifacts in $artifacts"
status=0
ip netns exec "$ns" env \
    NOLBD="$NOLBD" NOLB_STATS="$NOLB_STATS" NOLBCTL="$NOLBCTL" CHROMIUM="$CHROMIUM" \
    NOLB_BROWSER_WORK="$work" NOLB_BROWSER_ARTIFACTS="$artifacts" \
    node "$here/failover.mjs" "$mode" || status=$?
exit "$status"
