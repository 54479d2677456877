#!/usr/bin/env bash
# The DNS benchmark: nolbd side by side with gdnsd 3.8, NSD 4.6 and Knot DNS 3.2 (Debian 12's
# packages), every one serving the same zone on the loopback with one answering thread.
#
#     contrib/bench.sh [--rounds N] [--seconds S] [--servers nolbd,gdnsd,nsd,knot]
#                      [--mode perf|callgrind|all|check] [--out DIR]
#     (defaults: 3 rounds of 10 s, every server, mode perf, out build/bench; check only starts
#     the servers, compares their answers and reports them, with no load)
#
# The zone bench.test: SOA, NS ns1 (A 127.0.0.1), www with 4 A (192.0.2.1-4) and 4 AAAA
# (2001:db8::1-4), mail A, txt TXT, TTL 30 everywhere. nolbd serves www as a [[service]] with
# health = "none" (4 nodes, one IPv4 and one IPv6 address each), so its answers are shuffled;
# the others serve it as static RRsets. Before measuring, dig checks that every server answers
# www A with the same 4 addresses and a missing name with NXDOMAIN; the run stops otherwise.
#
# Mode perf. Servers on CPU 0 (taskset -c 0), dnsperf 2.10 on CPU 1, all on 127.0.0.1 at high
# ports. Two query mixes: "www" (every query www.bench.test A) and "mixed" (70 % www A, 20 %
# www AAAA, 10 % random names that do not exist), over UDP (one socket, 100 outstanding) and TCP
# (10 connections, 100 outstanding: about 10 pipelined per connection). Rounds interleave the
# servers (nolbd, gdnsd, nsd, knot, nolbd, ...). Per round: queries/s, average and maximum
# latency and lost queries (dnsperf's report), dnsperf's own CPU (user+system over wall time;
# near 100 % means the client, not the server, was the limit), the server's CPU time per
# answered query (utime+stime of the server and its child processes, /proc/PID/stat, before
# and after the round, over dnsperf's completed queries), and its RSS after the round (VmRSS,
# summed over its processes: NSD forks, so shared pages count more than once there).
# OUT/rounds.csv holds every round; OUT/bench.md (also printed) the medians per server, mix and
# transport, with each server's ratio to nolbd from the same run (qps: higher is better for
# the server; CPU per query and RSS: lower is better), the answer order each server uses
# (seen over 20 digs), the answers themselves, and the settings.
#
# Mode callgrind. Each server runs under valgrind --tool=callgrind (children traced, on CPU 0)
# twice for the same wall time: once answering a fixed number of www A queries over UDP sent at
# a fixed rate, once idle. User-space instructions per answered query =
# (Ir with queries - Ir idle) / answered; Ir summed over every process of the server.
#
# BENCH_RRL=N in the environment gives nolbd an [rrl] section with responses_per_second = N,
# to measure what response rate limiting costs (N above the query rate: nothing is limited);
# unset or 0 leaves it off.
#
# Installs what is missing (contrib/install-deps.sh bench; the packages' own services are not
# started) and builds nolbd if build/nolbd is missing. Every server runs as a child in the
# foreground with its config and state under OUT/; every child is stopped by its PID on exit.
# Every step is bounded in time. Run as root on a quiet machine with at least 2 CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
seconds=10
servers_arg=nolbd,gdnsd,nsd,knot
mode=perf
out=build/bench
callgrind_queries=20000
callgrind_qps=1000
bench_rrl=${BENCH_RRL:-0}

usage() { sed -n '4,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
    case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --servers) servers_arg=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "bench: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ && "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --rounds and --seconds take positive integers" >&2; exit 2; }
[[ "$bench_rrl" =~ ^[0-9]+$ ]] || { echo "bench: BENCH_RRL takes a number of responses a second" >&2; exit 2; }
[[ "$mode" =~ ^(perf|callgrind|all|check)$ ]] || { echo "bench: --mode perf|callgrind|all|check" >&2; exit 2; }
IFS=, read -r -a servers <<<"$servers_arg"
for s in "${servers[@]}"; do
    [[ "$s" == nolbd || "$s" == gdnsd || "$s" == nsd || "$s" == knot ]] || { echo "bench: unknown server '$s'" >&2; exit 2; }
done

declare -A port=([nolbd]=15351 [gdnsd]=15352 [nsd]=15353 [knot]=15354)
declare -A pid=()
declare -A idle_rss=()   # KiB, right after the server first answered
declare -A idle_mem=()   # "anon file pss" KiB, at the same moment
demo_port=15355
clk_tck=$(getconf CLK_TCK)
server_cpu=0
client_cpu=1

log() { echo "bench: $*" >&2; }
die() { echo "bench: $*" >&2; exit 1; }

# ---- processes -------------------------------------------------------------------------------

alive() {  # PID: exists and has not exited
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    [[ "${stat##*) }" != Z* ]]
}
stop_server() {  # NAME: SIGTERM, up to 60 s for it and its child processes to end (callgrind
    # writes its profiles then), then SIGKILL to what is left
    local name=$1 p=${pid[$1]:-} i tree left
    [[ -n "$p" ]] || return 0
    tree=$(tree_pids "$p")
    alive "$p" && { kill -TERM "$p" 2>/dev/null || true; }
    for ((i = 0; i < 600; i++)); do
        left=$(for q in $tree; do alive "$q" && echo "$q"; done) || true
        [[ -n "$left" ]] || break
        sleep 0.1
    done
    for q in $left; do kill -KILL "$q" 2>/dev/null || true; done
    wait "$p" 2>/dev/null || true
    unset "pid[$name]"
}
stop_all() { local s; for s in "${!pid[@]}"; do stop_server "$s"; done; }
trap stop_all EXIT
trap 'exit 130' INT TERM

tree_pids() {  # PID: it and all its descendants
    ps -e -o pid= -o ppid= | awk -v root="$1" '
        { parent[$1] = $2 }
        END { for (p in parent) { q = p; while (q != root && q in parent && q > 1) q = parent[q]; if (q == root) print p } }'
}
cpu_ticks() {  # PID: utime+stime of the process tree, in clock ticks
    local p total=0 stat rest
    for p in $(tree_pids "$1"); do
        stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        rest=${stat##*) }
        read -r -a f <<<"$rest"
        total=$((total + f[11] + f[12]))   # fields 14 and 15 of stat
    done
    echo "$total"
}
rss_kib() {  # PID: VmRSS summed over the process tree
    local p total=0 kib
    for p in $(tree_pids "$1"); do
        kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
        total=$((total + ${kib:-0}))
    done
    echo "$total"
}
mem_parts() {  # PID: "anon file pss" in KiB, summed over the process tree. RssAnon is memory the
    # server allocated or wrote (relocated library data included); RssFile is program and
    # library pages mapped from files, mostly shared with every process using the same
    # libraries; PSS divides each shared page among the processes that map it.
    local p anon=0 file=0 pss=0 a f s
    for p in $(tree_pids "$1"); do
        a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
        f=$(awk '/^RssFile:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
        s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || s=0
        anon=$((anon + ${a:-0})); file=$((file + ${f:-0})); pss=$((pss + ${s:-0}))
    done
    echo "$anon $file $pss"
}
mem_text() {  # "anon file pss" in KiB -> "anonymous A, file-backed F, PSS P MiB"
    awk -v a="$1" -v f="$2" -v p="$3" 'BEGIN { printf "anonymous %.1f, file-backed %.1f, PSS %.1f MiB", a / 1024, f / 1024, p / 1024 }'
}

# ---- setup -----------------------------------------------------------------------------------

prepare() {
    local tool
    contrib/install-deps.sh bench >&2
    if [[ ! -x build/nolbd ]]; then
        log "building nolbd"
        cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
        cmake --build build --target nolbd -j "$(nproc)" >&2
    fi
    for tool in dnsperf gdnsd nsd nsd-checkconf knotd knotc valgrind taskset dig timeout; do
        command -v "$tool" >/dev/null || die "$tool is missing (contrib/install-deps.sh bench)"
    done
    (($(nproc) >= 2)) || die "needs 2 CPUs (server on CPU 0, dnsperf on CPU 1)"
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
}

write_zone_file() {  # FILE: the zone in RFC 1035 syntax, for gdnsd, NSD and Knot
    cat >"$1" <<'EOF'
$ORIGIN bench.test.
$TTL 30
@     SOA  ns1.bench.test. hostmaster.bench.test. 1 3600 600 1209600 30
@     NS   ns1.bench.test.
ns1   A    127.0.0.1
www   A    192.0.2.1
www   A    192.0.2.2
www   A    192.0.2.3
www   A    192.0.2.4
www   AAAA 2001:db8::1
www   AAAA 2001:db8::2
www   AAAA 2001:db8::3
www   AAAA 2001:db8::4
mail  A    192.0.2.25
txt   TXT  "bench"
EOF
}

config_nolbd() {  # DIR
    cat >"$1/nolb.toml" <<EOF
[server]
listen = ["127.0.0.1:${port[nolbd]}"]
workers = 1
log_level = "warning"

[[zone]]
origin = "bench.test."
ttl = 30
records = ["mail A 192.0.2.25", 'txt TXT "bench"']

[[zone.ns]]
name = "ns1"
addresses = ["127.0.0.1"]

[zone.soa]
rname = "hostmaster"
serial = 1
refresh = 3600
retry = 600
expire = 1209600
minimum = 30
ttl = 30

[[service]]
name = "www.bench.test."
ttl = 30
health = "none"
$(for i in 1 2 3 4; do printf '\n[[service.node]]\nname = "n%d"\naddresses = ["192.0.2.%d", "2001:db8::%d"]\n' "$i" "$i" "$i"; done)

[control]
socket = ""
$( ((bench_rrl == 0)) || printf '\n[rrl]\nresponses_per_second = %s\n' "$bench_rrl")
EOF
    build/nolbd --check-config "$1/nolb.toml" >&2
}
config_gdnsd() {  # DIR
    mkdir -p "$1/zones" "$1/run" "$1/state"
    write_zone_file "$1/zones/bench.test"
    cat >"$1/config" <<EOF
options => {
    listen => [ 127.0.0.1:${port[gdnsd]} ]
    udp_threads => 1
    tcp_threads => 1
    run_dir => $1/run
    state_dir => $1/state
}
EOF
    gdnsd -c "$1" checkconf >&2 2>"$1/checkconf.log" || { cat "$1/checkconf.log" >&2; die "gdnsd checkconf failed"; }
}
config_nsd() {  # DIR
    write_zone_file "$1/bench.test.zone"
    cat >"$1/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@${port[nsd]}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$1"
    database: ""
    zonelistfile: "$1/zone.list"
    xfrdfile: "$1/xfrd.state"
    xfrdir: "$1"
    pidfile: "$1/nsd.pid"
    logfile: "$1/nsd.log"
    verbosity: 0
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    tcp-count: 256
remote-control:
    control-enable: no
zone:
    name: bench.test
    zonefile: bench.test.zone
EOF
    nsd-checkconf "$1/nsd.conf" >&2 || die "nsd-checkconf failed"
}
config_knot() {  # DIR
    mkdir -p "$1/db"
    write_zone_file "$1/bench.test.zone"
    cat >"$1/knot.conf" <<EOF
server:
    rundir: "$1"
    pidfile: "$1/knot.pid"
    listen: 127.0.0.1@${port[knot]}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$1/db"
control:
    listen: "$1/knot.sock"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$1"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: bench.test
    file: "$1/bench.test.zone"
EOF
    knotc -c "$1/knot.conf" conf-check >&2 || die "knotc conf-check failed"
}

server_settings() {  # NAME: one line on how it is configured
    case "$1" in
    nolbd) echo "nolbd $(build/nolbd --version 2>&1 | head -1 | awk '{print $NF}'): workers = 1 (one UDP thread, one TCP thread), www a [[service]] with health = \"none\" (4 nodes, 1 A + 1 AAAA each), control socket off$( ((bench_rrl == 0)) || echo ", rrl responses_per_second = $bench_rrl")" ;;
    gdnsd) echo "gdnsd $(dpkg-query -W -f='${Version}' gdnsd): udp_threads 1, tcp_threads 1, defaults otherwise" ;;
    nsd) echo "NSD $(dpkg-query -W -f='${Version}' nsd): server-count 1, rrl-ratelimit 0 (and whitelist 0), minimal-responses yes, round-robin no (default), tcp-count 256" ;;
    knot) echo "Knot $(dpkg-query -W -f='${Version}' knot): udp-workers 1, tcp-workers 1, background-workers 1, answer-rotation off (default), no modules (no RRL)" ;;
    esac
}

server_command() {  # NAME DIR: the foreground command line
    case "$1" in
    # As root nolbd needs a user to become; the benchmark keeps root, said explicitly.
    nolbd) echo "$PWD/build/nolbd -c $2/nolb.toml$( ((EUID != 0)) || echo ' --user root')" ;;
    gdnsd) echo "gdnsd -c $2 start" ;;
    nsd) echo "nsd -d -c $2/nsd.conf" ;;
    knot) echo "knotd -c $2/knot.conf" ;;
    esac
}

ask() {  # NAME QNAME TYPE [dig options]: dig at the server, short output
    local name=$1 qname=$2 type=$3
    shift 3
    dig @127.0.0.1 -p "${port[$name]}" +norec +nocookie +noedns +time=1 +tries=1 "$@" "$qname" "$type"
}

start_server() {  # NAME PREFIX...: starts it on CPU 0 (PREFIX: e.g. valgrind), waits for answers
    local name=$1 dir=$out/$1 i
    shift
    ! ask "$name" bench.test SOA +short >/dev/null 2>&1 || die "something already answers on 127.0.0.1:${port[$name]}"
    # shellcheck disable=SC2046
    taskset -c "$server_cpu" "$@" $(server_command "$name" "$dir") >"$dir/stdout.log" 2>"$dir/stderr.log" &
    pid[$name]=$!
    for ((i = 0; i < 600; i++)); do
        alive "${pid[$name]}" || { tail -20 "$dir/stderr.log" >&2; die "$name exited at start"; }
        if ask "$name" bench.test SOA +short 2>/dev/null | grep -q hostmaster; then
            sleep 0.5
            alive "${pid[$name]}" || { tail -20 "$dir/stderr.log" >&2; die "$name exited at start"; }
            return 0
        fi
        sleep 0.2
    done
    die "$name does not answer after 120 s"
}

# ---- answers ---------------------------------------------------------------------------------

check_answers() {  # NAME: the 4 addresses for www A, NXDOMAIN for a missing name
    local name=$1 got want status
    want=$(printf '192.0.2.%d\n' 1 2 3 4)
    got=$(ask "$name" www.bench.test A +short | sort || true)
    [[ "$got" == "$want" ]] || die "$name answers www.bench.test A with '${got//$'\n'/ }', not the 4 addresses 192.0.2.1-4"
    got=$(ask "$name" www.bench.test AAAA +short | sort || true)
    [[ "$got" == "$(printf '2001:db8::%d\n' 1 2 3 4)" ]] || die "$name answers www.bench.test AAAA with '${got//$'\n'/ }'"
    status=$(ask "$name" nothere.bench.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p' || true)
    [[ "$status" == NXDOMAIN ]] || die "$name answers nothere.bench.test with '$status', not NXDOMAIN"
}

answer_order() {  # NAME: what 20 digs show of the order of www A
    local name=$1 i orders firsts distinct
    orders=$(for ((i = 0; i < 20; i++)); do ask "$name" www.bench.test A +short | sed 's/192\.0\.2\.//' | paste -sd' '; done)
    distinct=$(sort -u <<<"$orders" | wc -l)
    firsts=$(awk '{ n[$1]++ } END { for (a in n) printf "%s.%s:%d ", "192.0.2", a, n[a] }' <<<"$orders" | tr ' ' '\n' | sort | paste -sd' ')
    if ((distinct == 1)); then
        echo "fixed: always $(head -1 <<<"$orders" | sed 's/\([0-9]\)/.\1/g; s/^/192.0.2/; s/ \./, 192.0.2./g') (20 of 20 digs)"
    else
        echo "varies: $distinct different orders in 20 digs; first address $firsts"
    fi
}

answer_sections() {  # NAME QNAME TYPE: the response as dig shows it, minus the volatile lines
    ask "$1" "$2" "$3" +nocmd +nostats +noquestion +multiline | grep -v -e '^;; Got answer' -e '^$' | sed 's/id: [0-9]*/id: N/'
}

# ---- queries ---------------------------------------------------------------------------------

write_queries() {  # DIR: www.txt (www A only), mixed.txt (70/20/10), callgrind.txt
    printf 'www.bench.test A\n' >"$1/www.txt"
    awk 'BEGIN { srand(42); for (i = 0; i < 100000; i++) { r = rand()
        if (r < 0.7) print "www.bench.test A"
        else if (r < 0.9) print "www.bench.test AAAA"
        else printf "nx%08d.bench.test A\n", int(rand() * 100000000) } }' >"$1/mixed.txt"
    yes 'www.bench.test A' | head -n "$callgrind_queries" >"$1/callgrind.txt" || true
}

dnsperf_args() {  # TRANSPORT
    case "$1" in
    udp) echo "-m udp -c 1 -q 100" ;;
    tcp) echo "-m tcp -c 10 -q 100" ;;
    esac
}

run_dnsperf() {  # NAME REPORT QUERYFILE TRANSPORT [more dnsperf args]: on CPU 1, timed
    local name=$1 report=$2 file=$3 transport=$4
    shift 4
    local TIMEFORMAT='%U %S %R'
    # shellcheck disable=SC2046
    { time timeout $((seconds * 3 + 60)) taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "${port[$name]}" \
        -d "$file" $(dnsperf_args "$transport") "$@" >"$report" 2>&1; } 2>"$report.time" || true
}

report_field() {  # REPORT: qps avg_ms max_ms sent completed lost reconnections cpu_pct
    awk '
        /Queries sent:/ { sent = $3 }
        /Queries completed:/ { done = $3 }
        /Queries lost:/ { lost = $3 }
        /Reconnections:/ { rec = $2 }
        /Queries per second:/ { qps = $4 }
        /Average Latency/ && !seen++ { avg = $4 * 1000; max = $8; sub(/\)/, "", max); max *= 1000 }  # not the connections one
        END { printf "%.0f %.3f %.3f %d %d %d %d", qps, avg, max, sent, done, lost, rec }' "$1"
    awk '{ printf " %.0f\n", ($3 > 0) ? ($1 + $2) / $3 * 100 : 0 }' "$1.time"
}

# ---- mode perf -------------------------------------------------------------------------------

perf_round() {  # ROUND NAME MIX TRANSPORT: one measurement, appended to rounds.csv
    local round=$1 name=$2 mix=$3 transport=$4 report before after fields us
    report=$out/reports/$name-$mix-$transport-$round.txt
    before=$(cpu_ticks "${pid[$name]}")
    run_dnsperf "$name" "$report" "$out/queries/$mix.txt" "$transport" -l "$seconds"
    after=$(cpu_ticks "${pid[$name]}")
    read -r -a fields <<<"$(report_field "$report")"
    ((fields[4] > 0)) || { tail -5 "$report" >&2; die "$name answered nothing in round $round ($mix $transport)"; }
    us=$(awk -v t=$((after - before)) -v hz="$clk_tck" -v n="${fields[4]}" 'BEGIN { printf "%.3f", t / hz * 1e6 / n }')
    echo "$round,$name,$mix,$transport,${fields[0]},${fields[1]},${fields[2]},${fields[3]},${fields[4]},${fields[5]},${fields[6]},${fields[7]},$(((after - before) * 1000000 / clk_tck)),$us,$(rss_kib "${pid[$name]}")" >>"$out/rounds.csv"
    log "round $round $name $mix/$transport: ${fields[0]} q/s, $us us/query, lost ${fields[5]}, dnsperf CPU ${fields[7]} %"
}

median_table() {  # the medians of rounds.csv per server, mix and transport, with ratios to nolbd
    awk -F, -v order="${servers[*]}" '
        function median(list,   a, n, i, j, t) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function ratio(x, y) { return (y > 0) ? sprintf("%.2f", x / y) : "-" }
        NR > 1 { k = $2 SUBSEP $3 SUBSEP $4; seen[$3 SUBSEP $4] = 1
            qps[k] = qps[k] " " $5; avg[k] = avg[k] " " $6; max[k] = max[k] " " $7; lost[k] = lost[k] " " $10
            cl[k] = cl[k] " " $12; us[k] = us[k] " " $14; rss[k] = rss[k] " " $15; n[k]++ }
        END {
            ns = split(order, names, " ")
            print "| mix | transport | server | rounds | queries/s | vs nolbd | avg latency ms | max latency ms | lost | dnsperf CPU % | server CPU us/query | vs nolbd | RSS MiB | vs nolbd |"
            print "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
            split("www mixed", mixes, " "); split("udp tcp", transports, " ")
            for (m = 1; m <= 2; m++) for (t = 1; t <= 2; t++) {
                if (!((mixes[m] SUBSEP transports[t]) in seen)) continue
                b = "nolbd" SUBSEP mixes[m] SUBSEP transports[t]
                bq = (b in n) ? median(qps[b]) : 0; bu = (b in n) ? median(us[b]) : 0; br = (b in n) ? median(rss[b]) : 0
                for (s = 1; s <= ns; s++) {
                    k = names[s] SUBSEP mixes[m] SUBSEP transports[t]
                    if (!(k in n)) continue
                    q = median(qps[k]); u = median(us[k]); r = median(rss[k])
                    printf "| %s | %s | %s | %d | %.0f | %s | %.3f | %.3f | %.0f | %.0f | %.2f | %s | %.1f | %s |\n",
                        mixes[m], transports[t], names[s], n[k], q, ratio(q, bq), median(avg[k]), median(max[k]),
                        median(lost[k]), median(cl[k]), u, ratio(u, bu), r / 1024, ratio(r, br)
                }
            }
        }' "$out/rounds.csv"
}

target_lines() {  # the targets, read off the medians (UDP mix www for CPU, TCP mix www for qps)
    awk -F, '
        function median(list,   a, n, i, j, t) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        NR > 1 { k = $2 SUBSEP $3 SUBSEP $4; us[k] = us[k] " " $14; qps[k] = qps[k] " " $5; rss[k] = rss[k] " " $15 }
        END {
            for (m = 1; m <= 2; m++) {
                mix = (m == 1) ? "www" : "mixed"
                a = "nolbd" SUBSEP mix SUBSEP "udp"; g = "gdnsd" SUBSEP mix SUBSEP "udp"
                if ((a in us) && (g in us))
                    printf "- UDP %s: nolbd CPU per query / gdnsd = %.2f (target <= 0.70)\n", mix, median(us[a]) / median(us[g])
                best = 0; who = ""
                split("gdnsd nsd knot", o, " ")
                for (i = 1; i <= 3; i++) { k = o[i] SUBSEP mix SUBSEP "tcp"; if ((k in qps) && median(qps[k]) > best) { best = median(qps[k]); who = o[i] } }
                a = "nolbd" SUBSEP mix SUBSEP "tcp"
                if ((a in qps) && best > 0)
                    printf "- TCP %s: nolbd queries/s / best other (%s) = %.2f (target >= 1.20)\n", mix, who, median(qps[a]) / best
            }
            a = "nolbd" SUBSEP "www" SUBSEP "udp"; g = "gdnsd" SUBSEP "www" SUBSEP "udp"
            if ((a in rss) && (g in rss))
                printf "- RSS (bench zone, after UDP www): nolbd / gdnsd = %.2f (target <= 1.00; the target is about the demo config)\n", median(rss[a]) / median(rss[g])
        }' "$out/rounds.csv"
}

start_and_check() {  # every server started, its answers checked and described
    local name
    for name in "${servers[@]}"; do start_server "$name"; done
    sleep 1
    for name in "${servers[@]}"; do
        idle_rss[$name]=$(rss_kib "${pid[$name]}")
        idle_mem[$name]=$(mem_parts "${pid[$name]}")
    done
    for name in "${servers[@]}"; do check_answers "$name"; done
    describe_answers >"$out/answers.md"
    idle_lines >"$out/idle.md"
}

demo_rss() {  # KiB: nolbd serving conf/demo.toml (moved to a high port, control socket off), idle
    local dir=$out/nolbd-demo kib i
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -r conf/zones "$dir/"
    sed -e "s/^listen = .*/listen = [\"127.0.0.1:$demo_port\"]/" -e 's/^socket = .*/socket = ""/' conf/demo.toml >"$dir/demo.toml"
    build/nolbd --check-config "$dir/demo.toml" >&2
    taskset -c "$server_cpu" build/nolbd -c "$dir/demo.toml" $( ((EUID != 0)) || echo '--user root') >"$dir/stdout.log" 2>"$dir/stderr.log" &
    pid[nolbd-demo]=$!
    for ((i = 0; i < 100; i++)); do
        dig @127.0.0.1 -p "$demo_port" +short +time=1 +tries=1 demo.test SOA 2>/dev/null | grep -q . && break
        sleep 0.2
    done
    sleep 1
    kib=$(rss_kib "${pid[nolbd-demo]}")
    echo "$(mem_parts "${pid[nolbd-demo]}")" >"$dir/mem"
    stop_server nolbd-demo
    echo "$kib"
}

idle_lines() {  # markdown: RSS of each server once it answers, before any load
    local name demo
    echo "## RSS before any load"
    echo
    for name in "${servers[@]}"; do
        # shellcheck disable=SC2086
        echo "- $name: $(awk -v k="${idle_rss[$name]}" 'BEGIN { printf "%.1f", k / 1024 }') MiB (bench.test; $(mem_text ${idle_mem[$name]}))"
    done
    demo=$(demo_rss)
    # shellcheck disable=SC2046
    echo "- nolbd with conf/demo.toml (its 2 nodes health-checked, nothing listening there): $(awk -v k="$demo" 'BEGIN { printf "%.1f", k / 1024 }') MiB ($(mem_text $(cat "$out/nolbd-demo/mem")))$(
        [[ -n "${idle_rss[gdnsd]:-}" ]] && awk -v k="$demo" -v g="${idle_rss[gdnsd]}" 'BEGIN { printf "; / gdnsd with bench.test = %.2f (target <= 1.00)", k / g }')"
}

mode_check() {
    local name
    start_and_check
    for name in "${servers[@]}"; do stop_server "$name"; done
}

mode_perf() {
    local r mix transport name
    mkdir -p "$out/reports"
    echo "round,server,mix,transport,qps,avg_latency_ms,max_latency_ms,sent,completed,lost,reconnections,dnsperf_cpu_pct,server_cpu_us,server_us_per_query,server_rss_kib" >"$out/rounds.csv"
    start_and_check
    for ((r = 1; r <= rounds; r++)); do
        for mix in www mixed; do
            for transport in udp tcp; do
                for name in "${servers[@]}"; do perf_round "$r" "$name" "$mix" "$transport"; done
            done
        done
    done
    for name in "${servers[@]}"; do stop_server "$name"; done
}

describe_answers() {  # markdown: order of www A per server, and each server's responses
    local name
    echo "## Answer order of www.bench.test A"
    echo
    for name in "${servers[@]}"; do echo "- $name: $(answer_order "$name")"; done
    echo
    echo "## Responses (dig +norec +noedns)"
    for name in "${servers[@]}"; do
        echo
        echo "### $name"
        echo
        echo '```'
        answer_sections "$name" www.bench.test A
        answer_sections "$name" nothere.bench.test A
        echo '```'
    done
}

# ---- mode callgrind --------------------------------------------------------------------------

callgrind_ir_sum() {  # NAME RUN: the summary line of each file, summed
    local f total=0 ir
    for f in "$out/callgrind/$1-$2".*.out; do
        [[ -e "$f" ]] || continue
        ir=$(awk '/^summary:/ { print $2; exit } /^totals:/ { t = $2 } END { if (t != "") print t }' "$f" | head -1)
        total=$((total + ${ir:-0}))
    done
    echo "$total"
}

callgrind_run() {  # NAME RUN(queries|idle) WALL: a server under callgrind for WALL s after it
    # answers; sets answered and lost (queries run) from dnsperf's report
    local name=$1 run=$2 wall=$3 report start
    rm -f "$out/callgrind/$name-$run".*.out
    start_server "$name" valgrind --tool=callgrind --trace-children=yes \
        --callgrind-out-file="$out/callgrind/$name-$run.%p.out"
    check_answers "$name"
    start=$SECONDS
    if [[ "$run" == queries ]]; then
        report=$out/callgrind/$name-dnsperf.txt
        run_dnsperf "$name" "$report" "$out/queries/callgrind.txt" udp -n 1 -Q "$callgrind_qps" -l "$wall"
        answered=$(awk '/Queries completed:/ { print $3 }' "$report")
        lost=$(awk '/Queries lost:/ { print $3 }' "$report")
    fi
    while ((SECONDS - start < wall)); do sleep 0.2; done
    stop_server "$name"
}

mode_callgrind() {
    local name wall answered=0 lost=0 ir_q ir_idle
    wall=$((callgrind_queries / callgrind_qps + 5))
    mkdir -p "$out/callgrind"
    echo "server,answered,lost,ir_with_queries,ir_idle,instructions_per_query" >"$out/callgrind.csv"
    for name in "${servers[@]}"; do
        log "callgrind $name: $callgrind_queries queries at $callgrind_qps/s, then idle, $wall s each"
        callgrind_run "$name" queries "$wall"
        callgrind_run "$name" idle "$wall"
        ir_q=$(callgrind_ir_sum "$name" queries)
        ir_idle=$(callgrind_ir_sum "$name" idle)
        ((answered > 0)) || die "$name answered nothing under callgrind"
        echo "$name,$answered,$lost,$ir_q,$ir_idle,$(awk -v a="$ir_q" -v b="$ir_idle" -v n="$answered" 'BEGIN { printf "%.0f", (a - b) / n }')" >>"$out/callgrind.csv"
        log "callgrind $name: $(tail -1 "$out/callgrind.csv")"
    done
}

callgrind_table() {
    awk -F, '
        NR == 1 { next }
        { name[++n] = $1; row[$1] = $0; ipq[$1] = $6 }
        END {
            print "| server | answered | lost | Ir with queries | Ir idle | instructions/query | vs nolbd |"
            print "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
            for (i = 1; i <= n; i++) {
                split(row[name[i]], f, ",")
                printf "| %s | %d | %d | %.0f | %.0f | %d | %s |\n", f[1], f[2], f[3], f[4], f[5], f[6], (ipq["nolbd"] > 0) ? sprintf("%.2f", f[6] / ipq["nolbd"]) : "-"
            }
            if (("nolbd" in ipq) && ("gdnsd" in ipq) && ipq["gdnsd"] > 0)
                printf "\n- nolbd instructions per query / gdnsd = %.2f (target <= 0.50)\n", ipq["nolbd"] / ipq["gdnsd"]
        }' "$out/callgrind.csv"
}

# ---- report ----------------------------------------------------------------------------------

write_report() {
    local name
    {
        echo "# DNS benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
        echo
        echo "Command: contrib/bench.sh --rounds $rounds --seconds $seconds --servers $servers_arg --mode $mode --out $out"
        if [[ -s "$out/rounds.csv" ]]; then
            echo
            echo "## Medians per server, mix and transport ($rounds rounds of $seconds s)"
            echo
            median_table
            echo
            echo "vs nolbd: the server's median divided by nolbd's. Lost: queries dnsperf had no answer for within 5 s."
            echo
            target_lines
        fi
        if [[ -s "$out/callgrind.csv" ]]; then
            echo
            echo "## Callgrind: user-space instructions per answered query"
            echo
            echo "$callgrind_queries www A queries over UDP at $callgrind_qps/s; (Ir with queries - Ir idle for the same time) / answered."
            echo
            callgrind_table
        fi
        echo
        echo "## Settings"
        echo
        echo "- Each server on CPU 0 (taskset -c $server_cpu), dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }') on CPU $client_cpu, 127.0.0.1, one answering thread per server."
        for name in "${servers[@]}"; do echo "- $(server_settings "$name"); command: \`$(server_command "$name" "$out/$name")\`"; done
        echo "- dnsperf UDP: $(dnsperf_args udp); TCP: $(dnsperf_args tcp); -l $seconds; no EDNS."
        echo "- Query mixes: www = www.bench.test A only; mixed = 70 % www A, 20 % www AAAA, 10 % names that do not exist (100,000 lines, seed 42)."
        echo "- Server CPU per query: utime+stime of the server's processes (/proc/PID/stat, $clk_tck ticks/s) over the round / dnsperf's completed queries. RSS: VmRSS summed over the server's processes after the round."
        if [[ -s "$out/idle.md" ]]; then
            echo
            cat "$out/idle.md"
        fi
        if [[ -s "$out/answers.md" ]]; then
            echo
            cat "$out/answers.md"
        fi
    } >"$out/bench.md"
    cat "$out/bench.md"
}

main() {
    local name
    prepare
    mkdir -p "$out/queries"
    write_queries "$out/queries"
    rm -f "$out/rounds.csv" "$out/callgrind.csv" "$out/answers.md" "$out/idle.md"
    for name in "${servers[@]}"; do
        rm -rf "${out:?}/$name"
        mkdir -p "$out/$name"
        "config_$name" "$out/$name"
    done
    case "$mode" in
    perf) mode_perf ;;
    callgrind) mode_callgrind ;;
    all) mode_perf; mode_callgrind ;;
    check) mode_check ;;
    esac
    write_report
}

main
