#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing nolb need, and only those that are
# missing: when everything is present it does not touch apt at all. Run as root (or via sudo).
#
#     contrib/install-deps.sh [GROUP...]
#
# Groups: build (toolchain and libraries), test (the clients, resolver and tools the system tests
# drive), chromium (Debian's browser, for the demo's --chromium and the browser tests), browser
# (chromium, plus node and npm for the browser tests' playwright-core), compare (the load balancer,
# keepalived and the firewall nolb-compare drives), calibrate (the browser group and OpenJDK 17, for
# `nolb-compare calibrate` in full), bench (the load generator, the servers and the profiler
# contrib/bench.py compares nolbd with, and the harness's python and plotting library), package
# (the Debian tools contrib/package.sh and tests/system/package use). No group: all of them but
# calibrate and bench, which is what contrib/test.sh and CI use.
# contrib/demo.sh asks for build and test, and for chromium only when it is to open one.
set -euo pipefail

# The one list, by purpose; README.md explains why each library is here.
build=(
    # toolchain
    build-essential cmake pkg-config g++
    # libraries nolb links
    libldns-dev libevent-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
    # TSIG's HMACs: libcrypto (ldns links it too)
    libssl-dev
    # nolb-compare's sites: packets held in user space (NFQUEUE)
    libnetfilter-queue-dev
    # the manual pages' sources (contrib/man) are scdoc
    scdoc
)
test=(
    # unit and system tests
    libgtest-dev libgmock-dev ldnsutils dnsutils knot-dnsutils unbound iproute2 procps curl jq
    libxml2-utils
    # the manual pages' test (docs.man): man renders each page with groff
    man-db groff-base
    # systemd-analyze, for tests/system/systemd-unit (verify, security)
    systemd
    # the real python the calibration drives (tests/system/calibrate), beside curl and chromium;
    # matplotlib for the benchmark harness's plots, which its unit test (bench.harness) draws
    python3 python3-matplotlib
    # the secondaries tests/system/secondaries runs against nolbd's zone transfers: NSD, Knot
    # and BIND (their system services are not started, see policy-rc.d below), and BIND's
    # named-checkzone for the zone files they write
    nsd knot bind9 bind9-utils
    # the fuzz targets (tests/fuzz): clang, and its libFuzzer and sanitizer runtimes, which
    # Debian 12 packages apart from the compiler
    clang libclang-rt-14-dev
)
compare=(
    # nolb-compare: the load balancer it measures, keepalived for its active/standby pair
    # (VRRP), nftables for its blackhole faults, and iptables for its sites (the NFQUEUE
    # target; nft's own queue expression may be missing)
    haproxy keepalived nftables iptables
)
package=(
    # contrib/package.sh: dpkg-buildpackage, debhelper (dh, compat 13), fakeroot and lintian;
    # tests/system/package reads the installed man pages with man
    dpkg-dev debhelper fakeroot lintian man-db
)
calibrate=(
    # nolb-compare calibrate, in full: OpenJDK 17 for the Java client (the other programs come
    # with the test and browser groups)
    openjdk-17-jdk-headless
)
bench=(
    # contrib/bench.py: the load generator, the servers nolbd is compared with (their system
    # services are not started, see policy-rc.d below), callgrind, taskset for pinning, dig for
    # the responses the DNS benchmark reports, and python3 with matplotlib for the harness itself
    # and its plots
    dnsperf gdnsd nsd knot valgrind util-linux dnsutils python3 python3-matplotlib
)
chromium=(
    # the browser the demo opens and the browser tests drive; its fonts, so that pages and
    # screenshots show text the same everywhere
    chromium fonts-liberation
)
browser=("${chromium[@]}")
# playwright-core runs on node 18 or newer. A node installed outside Debian's packages (from
# another distribution channel, say) is used as it is; Debian's is installed only when there is
# none, and so is npm.
command -v node >/dev/null || browser+=(nodejs)
command -v npm >/dev/null || browser+=(npm)

groups=("$@")
((${#groups[@]})) || groups=(build test compare browser package)
packages=()
for group in "${groups[@]}"; do
    case "$group" in
    build) packages+=("${build[@]}") ;;
    test) packages+=("${test[@]}") ;;
    compare) packages+=("${compare[@]}") ;;
    package) packages+=("${package[@]}") ;;
    bench) packages+=("${bench[@]}") ;;
    calibrate) packages+=("${calibrate[@]}" "${browser[@]}") ;;
    chromium) packages+=("${chromium[@]}") ;;
    browser) packages+=("${browser[@]}") ;;
    *)
        echo "install-deps: unknown group '$group' (build, test, compare, chromium, browser, calibrate, bench, package)" >&2
        exit 2
        ;;
    esac
done

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == installed || " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages present (${groups[*]})"
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

# The unbound package would start a system resolver on port 53, and gdnsd, nsd, knot and bind9
# system name servers. The tests and the benchmark run their own on loopback high ports, so keep
# package scripts from starting services during this install (policy-rc.d exit 101 = "action
# forbidden"), unless the host already has a policy of its own.
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
