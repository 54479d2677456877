#!/usr/bin/env bash
# The nolb demo: installs what is missing, builds what is needed (in build/), starts two
# nolb-stats sites, london on 127.0.0.2:8080 and geneva on 127.0.0.3:8080, and nolbd serving
# conf/demo.toml on 127.0.0.1:5353, which health-checks both and answers www.demo.test with
# the sites that pass. It waits until nolbd sees both up, shows what to try, then looks after
# the sites: one that runs out of memory (clicks on its page; exit status 3) is logged and
# started again 5 s later, so the demo can go on. Ctrl-C stops everything it started.
#
#     contrib/demo.sh              on the host's loopback; nolbd on 127.0.0.1:5353
#     contrib/demo.sh --chromium   also opens the page in Debian's chromium (installed if
#                                  missing), which resolves www.demo.test through nolbd
#
# A browser asks the resolver in /etc/resolv.conf, not a DNS server on port 5353. So --chromium
# moves the demo into a network namespace, nolbdemo, with a resolv.conf of its own that names
# 127.0.0.1 (`ip netns exec` mounts /etc/netns/nolbdemo/resolv.conf over /etc/resolv.conf),
# runs nolbd there on port 53, and starts chromium in it: the browser then finds the sites the
# way any browser finds any site. That needs root, and a display for the window.
#
# DEMO_SECONDS=N stops the demo by itself after N seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

readonly sites=(london geneva)
declare -A site_address=([london]=127.0.0.2 [geneva]=127.0.0.3)
readonly site_port=8080
readonly memory_limit_mb=128   # with 16 MB a click: /health fails from the 7th, the 9th crashes
readonly chunk_mb=16
readonly restart_after=5       # seconds from a site's crash to its restart
readonly url="http://www.demo.test:$site_port/"
readonly control_socket=/tmp/nolb-demo.sock   # conf/demo.toml's [control] socket
readonly netns=nolbdemo

chromium=0
for arg in "$@"; do
    case "$arg" in
    --chromium) chromium=1 ;;
    -h | --help)
        sed -n '2,/^[^#]/{/^#/!d;s/^# \{0,1\}//;p}' "$0"
        exit 0
        ;;
    *)
        echo "demo: unknown argument '$arg' (try --help)" >&2
        exit 2
        ;;
    esac
done

rundir=$(mktemp -d "${TMPDIR:-/tmp}/nolb-demo.XXXXXX")
declare -a pids=()
declare -A names=()      # PID -> part name
declare -A site_pid=()   # site -> PID of its running process
declare -A restart_at=() # site -> $SECONDS at which to start it again
in_netns=()              # the command prefix that runs a part where the demo lives
netns_made=0
dns_port=5353

started() {  # PID NAME
    pids+=("$1")
    names[$1]=$2
}

forget() {  # PID
    local i
    for i in "${!pids[@]}"; do [[ "${pids[$i]}" == "$1" ]] && unset 'pids[i]'; done
    unset 'names[$1]'
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
    if ((netns_made)); then
        ip netns delete "$netns" 2>/dev/null || true
        rm -rf "/etc/netns/$netns"
        rmdir /etc/netns 2>/dev/null || true
    fi
    rm -f "$control_socket"
    rm -rf "$rundir"
}
trap on_exit EXIT
trap 'echo; echo "demo: stopping"; exit 0' INT TERM

# Whether something listens on TCP ADDRESS:PORT (or UDP/TCP on any address for :PORT).
listening_tcp() { [[ -n "$(ss -Hltn "src $1 and sport = :$2" 2>/dev/null)" ]]; }
port_taken() {
    [[ -n "$(ss -Hlnu "sport = :$1" 2>/dev/null)$(ss -Hlnt "sport = :$1" 2>/dev/null)" ]]
}

# ---------------------------------------------------------------------------- parts

prepare() {
    if ((chromium)); then
        if ((EUID != 0)); then
            echo "demo: --chromium needs root (it creates the network namespace $netns)" >&2
            exit 1
        fi
        bash contrib/install-deps.sh build test chromium
    else
        bash contrib/install-deps.sh build test
    fi
    if [[ ! -f build/CMakeCache.txt ]]; then
        cmake -S "$root" -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target nolbd nolb-stats nolbctl
}

# The network namespace of --chromium: loopback up (127.0.0.0/8 is on lo, so the sites'
# addresses are there), and a resolv.conf naming nolbd.
make_netns() {
    if ip netns list 2>/dev/null | grep -qw "$netns"; then
        if [[ -n "$(ip netns pids "$netns" 2>/dev/null)" ]]; then
            echo "demo: the network namespace $netns is in use (another demo?); processes in it:" >&2
            ip netns pids "$netns" | xargs -r ps -o pid,args -p >&2 || true
            exit 1
        fi
        ip netns delete "$netns"   # left over from a demo that was killed
    fi
    ip netns add "$netns"
    netns_made=1
    ip -n "$netns" link set lo up
    mkdir -p "/etc/netns/$netns"
    echo "nameserver 127.0.0.1" >"/etc/netns/$netns/resolv.conf"
    in_netns=(ip netns exec "$netns")
    dns_port=53
}

start_site() {  # NAME
    local name=$1 address=${site_address[$1]}
    "${in_netns[@]}" build/nolb-stats --site "$name" --listen "$address:$site_port" \
        --memory-limit "$memory_limit_mb" --chunk "$chunk_mb" >>"$rundir/$name.log" 2>&1 &
    started $! "$name"
    site_pid[$name]=$!
}

start_sites() {
    local name i
    for name in "${sites[@]}"; do
        if ((!chromium)) && listening_tcp "${site_address[$name]}" "$site_port"; then
            echo "demo: ${site_address[$name]}:$site_port is already in use on this machine:" >&2
            ss -Hltnp "sport = :$site_port" >&2 || true
            exit 1
        fi
        start_site "$name"
    done
    for name in "${sites[@]}"; do
        for ((i = 0; i < 50; i++)); do
            grep -qs 'msg=listening' "$rundir/$name.log" && break
            kill -0 "${site_pid[$name]}" 2>/dev/null || break
            sleep 0.1
        done
        if ! kill -0 "${site_pid[$name]}" 2>/dev/null; then
            echo "demo: the $name site did not start; its log:" >&2
            cat "$rundir/$name.log" >&2
            exit 1
        fi
    done
}

start_nolbd() {
    local conf=conf/demo.toml
    if ((chromium)); then
        # The same configuration, listening on port 53 inside the namespace. Its zone file is
        # named relative to the file, so it comes along.
        cp -r conf/zones "$rundir/zones"
        sed -E 's/^listen = .*/listen = ["127.0.0.1:53", "[::1]:53"]/' conf/demo.toml >"$rundir/demo.toml"
        conf=$rundir/demo.toml
    elif port_taken "$dns_port"; then
        echo "demo: port $dns_port is already in use on this machine:" >&2
        ss -Hlnup "sport = :$dns_port" >&2 || true
        exit 1
    fi
    if [[ -S "$control_socket" ]]; then
        if build/nolbctl -s "$control_socket" --timeout 1 stats >/dev/null 2>&1; then
            echo "demo: a nolbd already answers on $control_socket (another demo?)" >&2
            exit 1
        fi
        rm -f "$control_socket"   # left over from a demo that was killed
    fi
    # As root (as --chromium must be), nolbd opens port 53 and the control socket and then
    # becomes `nobody`, as a real deployment would with its own user: it still reads its
    # configuration and zone file on every reload, so it goes so only when `nobody` can read
    # them (the run folder is made traversable for that; the repository may be private to its
    # owner, say under /root). Otherwise it keeps root, which nolbd must be told.
    local -a user_args=()
    if ((EUID == 0)); then
        chmod 0711 "$rundir"
        local zone_dir
        zone_dir=$(dirname "$conf")/zones
        if runuser -u nobody -- sh -c 'cat "$1" "$2"/* >/dev/null' sh "$conf" "$zone_dir" 2>/dev/null; then
            user_args=(--user nobody:nogroup)
        else
            user_args=(--user root)
        fi
    fi
    "${in_netns[@]}" build/nolbd -c "$conf" "${user_args[@]}" >"$rundir/nolbd.log" 2>&1 &
    started $! nolbd
    nolbd_pid=$!
}

# Both sites up in `nolbctl status`, bounded.
wait_until_both_up() {
    local i up
    for ((i = 0; i < 150; i++)); do
        if ! kill -0 "$nolbd_pid" 2>/dev/null; then break; fi
        up=$(build/nolbctl -s "$control_socket" --timeout 1 status --json 2>/dev/null |
            jq -r '[.services[].nodes[].addresses[] | select(.state == "up")] | length' \
                2>/dev/null || true)
        if [[ "$up" == 2 ]]; then return 0; fi
        sleep 0.2
    done
    echo "demo: nolbd did not see both sites up within 30 s; its log:" >&2
    cat "$rundir/nolbd.log" >&2
    build/nolbctl -s "$control_socket" status >&2 || true
    exit 1
}

show() {
    local q="dig @127.0.0.1 -p $dns_port www.demo.test A"
    ((chromium)) && q="ip netns exec $netns dig www.demo.test A"
    cat <<EOF

nolbd serves conf/demo.toml (zone demo.test.) and health-checks the service
www.demo.test, two nolb-stats sites: london ${site_address[london]}:$site_port and
geneva ${site_address[geneva]}:$site_port.

  \$ nolbctl -s $control_socket status
$(build/nolbctl -s "$control_socket" status | sed 's/^/  /')

  \$ $q +short        # every healthy site, in a new order each time
$($q +short | sed 's/^/  /')

The page: $url
  The name resolves through nolbd, like any name: a browser asks the resolver in
  /etc/resolv.conf, so it finds www.demo.test only where that resolver is nolbd.
EOF
    if ((chromium)); then
        cat <<EOF
  Here it is: the demo runs in the network namespace $netns, whose resolv.conf names nolbd.
EOF
    else
        cat <<EOF
  contrib/demo.sh --chromium sets that up (a network namespace whose resolv.conf names
  nolbd) and opens the page in chromium. Here on the host, http://${site_address[london]}:$site_port/ shows
  london's page, but a page loaded by address follows that address, not the service.
EOF
    fi
    cat <<EOF
  Click on the page: the site allocates $chunk_mb MB a click; from 80 % of $memory_limit_mb MB its /health
  answers 503 and nolbd drains it; past $memory_limit_mb MB it exits (the simulated out of memory) and
  the page carries on from the other site. This script starts a crashed site again after ${restart_after} s.

Try:
  $q
  ${in_netns[*]}${in_netns[*]:+ }curl -s http://${site_address[london]}:$site_port/stats
  ${in_netns[*]}${in_netns[*]:+ }curl -s -X POST http://${site_address[london]}:$site_port/malloc   # a click
  build/nolbctl -s $control_socket watch          # health transitions as they happen
  build/nolbctl -s $control_socket drain london   # and undrain london

Logs: $rundir/{nolbd,london,geneva}.log
Press Ctrl-C to stop.
EOF
}

open_chromium() {
    if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
        cat <<EOF

demo: --chromium needs a display for its window, and neither DISPLAY nor WAYLAND_DISPLAY is set
      (sudo drops them: try sudo --preserve-env=DISPLAY,XAUTHORITY). The demo runs without a
      browser; from a shell with a display, as root:
        ip netns exec $netns chromium --no-sandbox --user-data-dir=/tmp/nolb-demo-chromium $url
EOF
        return 0
    fi
    local flags=(--user-data-dir="$rundir/chromium" --no-first-run --no-default-browser-check
        --disable-quic)
    ((EUID == 0)) && flags+=(--no-sandbox)   # chromium will not run as root with its sandbox
    "${in_netns[@]}" chromium "${flags[@]}" "$url" >>"$rundir/chromium.log" 2>&1 &
    started $! chromium
    echo "demo: chromium opened $url (pid $!)"
}

# ---------------------------------------------------------------------------- run

prepare
((chromium)) && make_netns
start_sites
start_nolbd
wait_until_both_up
show
((chromium)) && open_chromium

# Look after the parts until Ctrl-C (or DEMO_SECONDS): a site that exits is started again after
# restart_after seconds; nolbd exiting ends the demo with its log; the browser closing does not.
deadline=$((SECONDS + ${DEMO_SECONDS:-0}))
while :; do
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && continue
        name=${names[$pid]}
        status=0
        wait "$pid" || status=$?
        forget "$pid"
        case "$name" in
        nolbd)
            echo "demo: nolbd (pid $pid) exited with status $status; its log:" >&2
            cat "$rundir/nolbd.log" >&2
            exit 1
            ;;
        chromium)
            echo "demo: $(date +%T) chromium closed (status $status); the rest goes on until Ctrl-C"
            if ((status != 0)); then tail -n 5 "$rundir/chromium.log" >&2; fi
            ;;
        *)
            if ((status == 3)); then
                echo "demo: $(date +%T) $name ran out of memory (exit status 3);" \
                    "starting it again in ${restart_after} s"
            else
                echo "demo: $(date +%T) $name (pid $pid) exited with status $status;" \
                    "starting it again in ${restart_after} s; its log ends:" >&2
                tail -n 5 "$rundir/$name.log" >&2
            fi
            restart_at[$name]=$((SECONDS + restart_after))
            ;;
        esac
    done
    for name in "${!restart_at[@]}"; do
        ((SECONDS >= restart_at[$name])) || continue
        unset 'restart_at[$name]'
        start_site "$name"
        echo "demo: $(date +%T) $name started again (pid ${site_pid[$name]})"
    done
    if [[ -n "${DEMO_SECONDS:-}" ]] && ((SECONDS >= deadline)); then
        echo "demo: $DEMO_SECONDS s are up, stopping"
        exit 0
    fi
    sleep 0.5
done
