#!/usr/bin/env bash
# The nolb demo: installs what is missing, builds nolbd if needed (in build/), serves
# conf/demo.toml on 127.0.0.1:5353 and [::1]:5353, shows an answer and the commands to try,
# then runs until Ctrl-C, which stops everything it started.
#
# Each part of the demo is a start_* function that registers its process with `started`;
# stopping is shared. DEMO_SECONDS=N stops the demo by itself after N seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

readonly demo_port=5353
rundir=$(mktemp -d "${TMPDIR:-/tmp}/nolb-demo.XXXXXX")
declare -a pids=()
declare -A names=()

started() {  # PID NAME
    pids+=("$1")
    names[$1]=$2
}

stop_all() {
    local pid i
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}

on_exit() {
    stop_all
    rm -rf "$rundir"
}
trap on_exit EXIT
trap 'echo; echo "demo: stopping"; exit 0' INT TERM

port_taken() {  # PORT
    [[ -n "$(ss -Hlnu "sport = :$1" 2>/dev/null)$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]]
}

# ---------------------------------------------------------------------------- parts

prepare() {
    bash contrib/install-deps.sh
    if [[ ! -f build/CMakeCache.txt ]]; then
        cmake -S "$root" -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target nolbd
}

start_nolbd() {
    if port_taken "$demo_port"; then
        echo "demo: port $demo_port is already in use on this machine:" >&2
        ss -Hlnup "sport = :$demo_port" >&2 || true
        exit 1
    fi
    build/nolbd -c conf/demo.toml >"$rundir/nolbd.log" 2>&1 &
    started $! nolbd
    local i
    for ((i = 0; i < 100; i++)); do
        if dig @127.0.0.1 -p "$demo_port" +time=1 +tries=1 +short www.demo.test A 2>/dev/null | grep -q .; then
            return 0
        fi
        if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "demo: nolbd did not start; its log:" >&2
    cat "$rundir/nolbd.log" >&2
    exit 1
}

show() {
    local q="dig @127.0.0.1 -p $demo_port www.demo.test A"
    cat <<EOF

nolbd is serving conf/demo.toml (zone demo.test., service www: london 127.0.0.2, geneva 127.0.0.3).

  \$ $q +noall +answer
$($q +noall +answer | sed 's/^/  /')
  \$ $q +noall +answer        # each response draws its order afresh
$($q +noall +answer | sed 's/^/  /')

Try:
  $q
  dig @127.0.0.1 -p $demo_port www.demo.test A +tcp
  dig @::1 -p $demo_port demo.test SOA
  dig @127.0.0.1 -p $demo_port alias.demo.test A
  dig @127.0.0.1 -p $demo_port demo.test MX
  kdig @127.0.0.1 -p $demo_port www.demo.test A +edns

nolbd's log: $rundir/nolbd.log   (SIGHUP reloads: kill -HUP ${pids[0]})
Press Ctrl-C to stop.
EOF
}

# ---------------------------------------------------------------------------- run

prepare
start_nolbd
show

# Wait for Ctrl-C (or DEMO_SECONDS); a part that dies on its own ends the demo with its log.
deadline=$((SECONDS + ${DEMO_SECONDS:-0}))
while :; do
    for pid in "${pids[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            status=0
            wait "$pid" || status=$?
            echo "demo: ${names[$pid]} (pid $pid) exited with status $status; its log:" >&2
            cat "$rundir/${names[$pid]}.log" >&2 || true
            exit 1
        fi
    done
    if [[ -n "${DEMO_SECONDS:-}" ]] && ((SECONDS >= deadline)); then
        echo "demo: $DEMO_SECONDS s are up, stopping"
        exit 0
    fi
    sleep 1
done
