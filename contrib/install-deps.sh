#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing nolb need, and only those that are
# missing: when everything is present it does not touch apt at all. Run as root (or via sudo).
set -euo pipefail

# The one list: build tools, libraries, and the real DNS clients and resolver the system tests
# drive. Keep it sorted by purpose; README.md explains why each library is here.
packages=(
    # toolchain
    build-essential cmake pkg-config g++ clang libclang-rt-14-dev
    # libraries nolb links
    libldns-dev libevent-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
    # unit and system tests
    libgtest-dev libgmock-dev ldnsutils dnsutils knot-dnsutils unbound iproute2 procps curl jq
)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

if ((EUID != 0)); then
    if command -v sudo >/dev/null; then
        exec sudo --preserve-env=DEBIAN_FRONTEND bash "$0" "$@"
    fi
    echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# The unbound package would start a system resolver on port 53. The tests run their own unbound
# on a loopback high port, so keep package scripts from starting services during this install
# (policy-rc.d exit 101 = "action forbidden"), unless the host already has a policy of its own.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=true
fi
remove_policy() { if $own_policy; then rm -f "$policy"; fi; }
trap remove_policy EXIT

apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

echo "install-deps: done"
