#!/usr/bin/env bash
# The health-check benchmark: what probing costs nolbd, and how fast its answers follow a
# failing node. Not part of contrib/test.sh; run it by hand on a quiet machine:
#
#     contrib/bench-health.sh [BUILD-DIR]      (default build/; needs nolbd, nolbctl and
#                                               tests/tools/nolb-testhttp built there)
#
# Part 1, scale. One nolb-testhttp on 0.0.0.0 at SCALE_PORTS ports (pinned to the last CPU)
# serves every 127.1.x.y address. For each N addresses and each probe interval, the server
# (pinned to CPU 0) gets N addresses (services of 10 nodes of one address each, service S probed
# at port S mod SCALE_PORTS; timeout interval / 2) and is left to warm up; then, over SAMPLE_S
# seconds: probes per second achieved (nolbctl stats, probes.sent) and seen by the backend (its
# accepted connections, from the counters it prints on SIGUSR1), the server's CPU time (user +
# system, /proc/PID/stat) as a share of one core and per probe, its resident memory (VmRSS) and
# threads, late and failed probes, health transitions (every backend is healthy, so each one is
# a false alarm), the backend's CPU, how long startup took and how many addresses it left down,
# the latency of SCALE_QPS queries a second sent meanwhile, and how much of the server's CPU
# other processes took (a shared machine shows there). At COMPARE_INTERVAL (2 s, gdnsd's
# smallest), nolbd and gdnsd 3.8 (contrib/install-deps.sh bench) run one after the other on the
# same backends, without queries, so that their CPU is probing's; then nolbd alone at
# SCALE_INTERVALS (0.1 s, its smallest) with the query load. gdnsd runs as this user in the
# foreground with its own config folder under the run's temporary folder: http_status service
# types with the same interval, timeout and thresholds, one multifo resource per service; it is
# stopped by its PID. gdnsd counts no probes itself: the backend counts them. The ratios
# nolbd / gdnsd close the table.
#
# Part 2, detection. Two nodes probed every 0.25 s (timeout 0.2 s, rise 2, fall 2, fast_interval
# its default, a fifth of interval, or FAST_INTERVAL), TRIALS times: a backend answering 503,
# refusing connections (stopped), or never answering (hang) -> gone from the answers; healthy
# again -> back. Median, minimum and maximum, in milliseconds, from the change to the first dig
# answer that reflects it (dig polled about every 10 ms); for the hang also from the start of
# the first probe left unanswered (found in nolbd's debug log, each line stamped as it is read).
#
# Settings (environment): SCALE_N ("1000 10000"), SCALE_INTERVALS ("0.1": 0.1 s is the
# smallest allowed), SCALE_QPS (1000), SCALE_PORTS (4), COMPARE_INTERVAL (2; empty: no
# comparison runs), COMPARE ("gdnsd"; empty: nolbd alone at COMPARE_INTERVAL), JITTER (0.1) and
# STARTUP ("probe") for the scale runs, SAMPLE_S (12), WARMUP_S (4), TRIALS (20), BENCH_NICE (0),
# DEADLINE_S (290).
# SCALE_N="" skips part 1; FAST_INTERVAL (seconds; empty: nolbd's default) is part 2's fast_interval.
#
# All traffic goes to loopback addresses; the scale backend listens on 0.0.0.0 at random high
# ports for the length of its run (one socket per port for all of 127.1.x.y). The whole run is
# bounded (under 5 minutes with the defaults); every process started is stopped by its PID on
# exit.
# Prints Markdown tables on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=contrib/bench-lib.sh
source contrib/bench-lib.sh
bench_programs bench-health "${1:-build}" tests/tools/nolb-queryload
QUERYLOAD=$build/tests/tools/nolb-queryload
bench_tools dig jq taskset ss

SCALE_N=${SCALE_N-"1000 10000"}   # set but empty: part 1 is skipped
SCALE_INTERVALS=${SCALE_INTERVALS-"0.1"}   # nolbd alone, with SCALE_QPS queries a second
SCALE_QPS=${SCALE_QPS:-1000}
SCALE_PORTS=${SCALE_PORTS:-4}
COMPARE_INTERVAL=${COMPARE_INTERVAL-2}   # nolbd, then gdnsd; empty: no comparison
COMPARE=${COMPARE-gdnsd}                  # empty: nolbd alone at COMPARE_INTERVAL
SAMPLE_S=${SAMPLE_S:-12}
WARMUP_S=${WARMUP_S:-4}
TRIALS=${TRIALS:-20}
JITTER=${JITTER:-0.1}
STARTUP=${STARTUP:-probe}
DEADLINE_S=${DEADLINE_S:-290}   # parts that would start later than this are skipped
# On a machine shared with other work, BENCH_NICE=-10 (as root) gives nolbd, the backends and the
# load generator precedence over it; the "used by others" column shows what was left.
BENCH_NICE=${BENCH_NICE:-0}
if [[ -n "$SCALE_N" && -n "$COMPARE_INTERVAL" && -n "$COMPARE" ]] && ! command -v gdnsd >/dev/null; then
    echo "bench-health: gdnsd is needed for the comparison (contrib/install-deps.sh bench), or COMPARE=''" >&2
    exit 2
fi

cpus=$(nproc 2>/dev/null || echo 1)
nolbd_cpu=0
helper_cpu=$((cpus > 1 ? cpus - 1 : 0))
clk_tck=$(getconf CLK_TCK)
bench_run_folder

# start_testhttp LOG CONTROL-FILE LISTEN...: one backend pinned to the helper CPU; sets BACKEND.
start_testhttp() {
    local log=$1 control=$2
    shift 2
    local args=() l
    for l in "$@"; do args+=(--listen "$l"); done
    nice -n "$BENCH_NICE" taskset -c "$helper_cpu" "$TESTHTTP" "${args[@]}" --control-file "$control" >"$log" 2>&1 &
    BACKEND=$!
    pids+=("$BACKEND")
    wait_log "$log" '^nolb-testhttp: ready' 10 || { note "nolb-testhttp did not start:"; cat "$log" >&2; exit 1; }
}

# start_nolbd CONFIG LOG: pinned to CPU 0; sets NOLBD_PID and STARTUP_MS (start to msg=ready).
start_nolbd() {
    local t0
    t0=$(now_ms)
    nice -n "$BENCH_NICE" taskset -c "$nolbd_cpu" "$NOLBD" -c "$1" "${NOLBD_USER_ARGS[@]}" >"$2" 2>&1 &
    NOLBD_PID=$!
    pids+=("$NOLBD_PID")
    if ! wait_log "$2" 'msg=ready' 60; then
        note "nolbd did not become ready:"
        tail -n 20 "$2" >&2
        exit 1
    fi
    STARTUP_MS=$(($(now_ms) - t0))
}

ctl_stats() { timeout 10 "$NOLBCTL" --socket "$1" stats --json 2>/dev/null; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime, after "(comm)"
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# CPU N's busy ticks (everything but idle and iowait), from /proc/stat.
cpu_busy() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# ---------------------------------------------------------------------------- part 1: scale

# backend_requests PID LOG: the connections the backend has accepted so far (one per probe), from
# the counters it prints on SIGUSR1.
backend_requests() {
    local before i
    before=$(grep -c '^nolb-testhttp: counters ' "$2")
    kill -USR1 "$1" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        (($(grep -c '^nolb-testhttp: counters ' "$2") > before)) && break
        sleep 0.02
    done
    grep '^nolb-testhttp: counters ' "$2" | tail -n 1 | grep -Eo 'connections=[0-9]+' | cut -d= -f2
}

scale_address() { printf '127.1.%d.%d' $(($1 / 250)) $(($1 % 250 + 1)); }   # the Ith address
scale_timeout() { awk -v i="$1" 'BEGIN { t = i / 2; if (t < 0.1) t = i; print t }'; }

# scale_config N INTERVAL DNS-PORT SOCKET HTTP-PORT...: N addresses in services of 10 nodes,
# service S probed at the (S mod P)th port.
scale_config() {
    local n=$1 interval=$2 dns_port=$3 socket=$4 s i timeout
    shift 4
    local ports=("$@")
    timeout=$(scale_timeout "$interval")
    {
        printf '[server]\nlisten = ["127.0.0.1:%s"]\nworkers = 1\n\n' "$dns_port"
        printf '[[zone]]\norigin = "bench.test."\nttl = 300\n\n[[zone.ns]]\nname = "ns1"\naddresses = ["127.0.0.1"]\n\n'
        printf '[control]\nsocket = "%s"\n\n' "$socket"
        for ((s = 0; s * 10 < n; s++)); do
            printf '[[service]]\nname = "s%05d.bench.test."\nttl = 20\nstartup = "%s"\n' "$s" "$STARTUP"
            printf '[service.health]\ntype = "http"\nport = %s\npath = "/health"\n' "${ports[s % ${#ports[@]}]}"
            printf 'interval = %s\ntimeout = %s\njitter = %s\nrise = 2\nfall = 2\n' "$interval" "$timeout" "$JITTER"
            for ((i = 0; i < 10 && s * 10 + i < n; i++)); do
                printf '[[service.node]]\nname = "n%d"\naddresses = ["%s"]\n' "$i" "$(scale_address $((s * 10 + i)))"
            done
            printf '\n'
        done
    } >"$run/scale.toml"
}

# gdnsd_config DIR N INTERVAL DNS-PORT HTTP-PORT...: the same addresses and checks for gdnsd:
# http_status service types (one per port; timeout interval / 2 as for nolbd, which is also
# gdnsd's default), up/ok/down thresholds 2, one multifo resource of 10 addresses per service.
gdnsd_config() {
    local dir=$1 n=$2 interval=$3 dns_port=$4 s i k timeout
    shift 4
    local ports=("$@")
    timeout=$(scale_timeout "$interval")
    mkdir -p "$dir/zones" "$dir/run" "$dir/state"
    {
        printf 'options => {\n    listen => [ 127.0.0.1:%s ]\n    udp_threads => 1\n    tcp_threads => 1\n' "$dns_port"
        printf '    run_dir => %s/run\n    state_dir => %s/state\n}\nservice_types => {\n' "$dir" "$dir"
        for k in "${!ports[@]}"; do
            printf '    hc%d => { plugin => http_status, port => %s, url_path => /health, interval => %s, timeout => %s, up_thresh => 2, ok_thresh => 2, down_thresh => 2 }\n' \
                "$k" "${ports[k]}" "$interval" "$timeout"
        done
        printf '}\nplugins => {\n    multifo => {\n'
        for ((s = 0; s * 10 < n; s++)); do
            printf '        s%05d => { service_types => hc%d, addrs_v4 => [' "$s" $((s % ${#ports[@]}))
            for ((i = 0; i < 10 && s * 10 + i < n; i++)); do
                ((i > 0)) && printf ','
                printf ' %s' "$(scale_address $((s * 10 + i)))"
            done
            printf ' ] }\n'
        done
        printf '    }\n}\n'
    } >"$dir/config"
    {
        printf '$TTL 300\n@ SOA ns1 hostmaster 1 7200 1800 259200 900\n@ NS ns1\nns1 A 127.0.0.1\n'
        for ((s = 0; s * 10 < n; s++)); do printf 's%05d 20 DYNA multifo!s%05d\n' "$s" "$s"; done
    } >"$dir/zones/bench.test"
}

# start_gdnsd DIR LOG: pinned like nolbd, in the foreground as this user; sets GDNSD_PID and
# STARTUP_MS (start to its DNS listeners, after its initial round of monitoring).
start_gdnsd() {
    local t0
    t0=$(now_ms)
    nice -n "$BENCH_NICE" taskset -c "$nolbd_cpu" gdnsd -c "$1" start >"$2" 2>&1 &
    GDNSD_PID=$!
    pids+=("$GDNSD_PID")
    if ! wait_log "$2" 'DNS listeners started' 60; then
        note "gdnsd did not start:"
        tail -n 20 "$2" >&2
        exit 1
    fi
    STARTUP_MS=$(($(now_ms) - t0))
}

declare -a scale_rows=()
declare -A scale_us=() scale_rss=() scale_threads=() scale_ratio=()

scale_run() {  # SERVER (nolbd or gdnsd) N INTERVAL QUERIES-PER-SECOND (0: none)
    local server=$1 n=$2 interval=$3 qps=$4
    local dns_port port socket="$run/scale.sock" ports=() listens=()
    dns_port=$(free_port) || { note "no free port"; return 1; }
    while ((${#ports[@]} < SCALE_PORTS)); do
        port=$(free_port) || { note "no free port"; return 1; }
        [[ " ${ports[*]} $dns_port " == *" $port "* ]] || { ports+=("$port"); listens+=("0.0.0.0:$port"); }
    done
    # Logs of their own per run: waiting for "ready" must not find the previous run's.
    local tag=$server-$n-$interval
    local http_log=$run/scale-http-$tag.log log=$run/scale-$tag.log
    start_testhttp "$http_log" "$run/scale-http.mode" "${listens[@]}"
    local http_pid=$BACKEND pid
    note "scale: $server N=$n interval=${interval}s: starting"
    if [[ "$server" == gdnsd ]]; then
        gdnsd_config "$run/gdnsd-$tag" "$n" "$interval" "$dns_port" "${ports[@]}"
        start_gdnsd "$run/gdnsd-$tag" "$log"
        pid=$GDNSD_PID
    else
        scale_config "$n" "$interval" "$dns_port" "$socket" "${ports[@]}"
        start_nolbd "$run/scale.toml" "$log"
        pid=$NOLBD_PID
    fi
    sleep "$WARMUP_S"

    local s0='{}' s1='{}' c0 c1 h0 h1 b0 b1 t0 t1 r0 r1 load=""
    if [[ "$server" == nolbd ]]; then
        s0=$(ctl_stats "$socket") || { note "nolbctl stats failed"; stop_pid "$pid"; stop_pid "$http_pid"; return 1; }
    fi
    r0=$(backend_requests "$http_pid" "$http_log")
    c0=$(cpu_ticks "$pid")
    h0=$(cpu_ticks "$http_pid")
    b0=$(cpu_busy "$nolbd_cpu")
    t0=$(now_ms)
    if ((qps > 0)); then
        nice -n "$BENCH_NICE" taskset -c "$helper_cpu" "$QUERYLOAD" --server "127.0.0.1:$dns_port" --name s00000.bench.test \
            --rate "$qps" --duration "$SAMPLE_S" --timeout-ms 1000 >"$run/scale-load.out" 2>&1 &
        local load_pid=$!
        pids+=("$load_pid")
        wait "$load_pid"
        stop_pid "$load_pid"
        load=$(<"$run/scale-load.out")
    else
        sleep "$SAMPLE_S"
    fi
    if [[ "$server" == nolbd ]]; then s1=$(ctl_stats "$socket") || s1='{}'; fi
    r1=$(backend_requests "$http_pid" "$http_log")
    c1=$(cpu_ticks "$pid")
    h1=$(cpu_ticks "$http_pid")
    b1=$(cpu_busy "$nolbd_cpu")
    t1=$(now_ms)
    local rss threads
    rss=$(rss_kib "$pid")
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")

    # nolbd counts its own probes (sent, late, failed); gdnsd's are counted at the backend.
    local ds dl df dt down
    if [[ "$server" == nolbd ]]; then
        ds=$(($(jq -r '.probes.sent // 0' <<<"$s1") - $(jq -r '.probes.sent // 0' <<<"$s0")))
        dl=$(($(jq -r '.probes.late // 0' <<<"$s1") - $(jq -r '.probes.late // 0' <<<"$s0")))
        df=$(($(jq -r '.probes.failed // 0' <<<"$s1") - $(jq -r '.probes.failed // 0' <<<"$s0")))
        dt=$(($(jq -r '.transitions // 0' <<<"$s1") - $(jq -r '.transitions // 0' <<<"$s0")))
        down=$(grep -E 'msg="?address down' "$log" | grep -c 'from=unknown')
    else
        ds=$((r1 - r0))
        dl=-1
        df=-1
        dt=$(grep -c 'changed from' "$log")
        down=$(grep -c 'initialized to DOWN' "$log")
    fi
    local result row us
    result=$(awk -v server="$server" -v n="$n" -v iv="$interval" -v ds="$ds" -v dl="$dl" -v df="$df" \
        -v dr=$((r1 - r0)) -v dc=$((c1 - c0)) -v ms=$((t1 - t0)) -v tck="$clk_tck" \
        -v dh=$((h1 - h0)) -v dt="$dt" -v db=$((b1 - b0)) -v sd="$down" -v threads="$threads" \
        -v rss="$rss" -v up="$STARTUP_MS" -v qps="$qps" \
        -v p50="$(grep -Eo 'p50_us=[0-9]+' <<<"$load" | cut -d= -f2)" \
        -v p99="$(grep -Eo 'p99_us=[0-9]+' <<<"$load" | cut -d= -f2)" \
        -v lost="$(grep -Eo 'lost=[0-9]+' <<<"$load" | cut -d= -f2)" '
        BEGIN {
            s = ms / 1000; cpu = dc / tck; us = (ds > 0 ? 1e6 * cpu / ds : 0)
            late = (dl < 0 ? "-" : sprintf("%.1f /s", dl / s)); failed = (df < 0 ? "-" : sprintf("%.1f /s", df / s))
            dns = (qps > 0 ? sprintf("%s / %s us (%d q/s)", p50, p99, qps) : "-"); lost = (qps > 0 ? lost : "-")
            printf "| %s | %d | %g s | %.0f | %.0f | %.0f | %.1f %% | %.1f | %.1f | %d | %s | %s | %d | %.1f %% | %.1f (%d down) | %s | %s | %.0f %% |\t%.2f\n",
                server, n, iv, n / iv, ds / s, dr / s, 100 * cpu / s, us, rss / 1024, threads, late, failed,
                dt, 100 * dh / tck / s, up / 1000, sd, dns, lost, (db > dc ? 100 * (db - dc) / tck / s : 0), us
        }')
    row=${result%%$'\t'*}
    us=${result##*$'\t'}
    scale_rows+=("$row")
    scale_us[$server,$n,$interval]=$us
    scale_rss[$server,$n,$interval]=$rss
    scale_threads[$server,$n,$interval]=$threads
    scale_ratio[$server,$n,$interval]=$(awk -v d="$ds" -v ms=$((t1 - t0)) -v due="$(awk -v n="$n" -v i="$interval" 'BEGIN { print n / i }')" \
        'BEGIN { printf "%.2f", d / (ms / 1000) / due }')
    note "scale: $row"
    stop_pid "$pid"
    stop_pid "$http_pid"
}

# ---------------------------------------------------------------------------- part 2: detection

declare -a det_503=() det_refused=() det_hang=() det_hang_probe=() det_back=() det_restart=()
FAST_INTERVAL=${FAST_INTERVAL:-}   # seconds; empty: nolbd's default (interval / 5)

# Each line stamped with the epoch milliseconds at which it was read.
stamp_lines() {
    local line t
    while IFS= read -r line; do
        t=${EPOCHREALTIME/[.,]/}
        printf '%s %s\n' $((t / 1000)) "$line"
    done
}

# start_nolbd_stamped CONFIG LOG: as start_nolbd, with every log line stamped.
start_nolbd_stamped() {
    nice -n "$BENCH_NICE" taskset -c "$nolbd_cpu" "$NOLBD" -c "$1" "${NOLBD_USER_ARGS[@]}" 2> >(stamp_lines >"$2") &
    NOLBD_PID=$!
    pids+=("$NOLBD_PID")
    wait_log "$2" 'msg=ready' 60 || { note "nolbd did not become ready:"; tail -n 20 "$2" >&2; exit 1; }
}

# first_unanswered_ms LOG SINCE-MS: when the first probe of 127.2.0.1 that timed out after
# SINCE-MS started (its result's stamp less its latency), in epoch milliseconds.
first_unanswered_ms() {
    awk -v since="$2" '$1 >= since && / msg="?probe"? / && / address=127\.2\.0\.1 / && / outcome=timeout / {
        if (match($0, /latency_ms=[0-9.]+/)) { printf "%.0f\n", $1 - substr($0, RSTART + 11, RLENGTH - 11); exit }
    }' "$1"
}

detection_run() {
    local dns_port http_port
    dns_port=$(free_port) && http_port=$(free_port) || { note "no free port"; return 1; }
    cat >"$run/det.toml" <<EOF
[server]
listen = ["127.0.0.1:$dns_port"]
log_level = "debug"

[control]
socket = "$run/det.sock"

[[zone]]
origin = "bench.test."
ttl = 300

[[zone.ns]]
name = "ns1"
addresses = ["127.0.0.1"]

[[service]]
name = "det.bench.test."
ttl = 20

[service.health]
type = "http"
port = $http_port
path = "/health"
interval = 0.25
timeout = 0.2
jitter = 0.1
rise = 2
fall = 2
${FAST_INTERVAL:+fast_interval = $FAST_INTERVAL}

[[service.node]]
name = "a"
addresses = ["127.2.0.1"]

[[service.node]]
name = "b"
addresses = ["127.2.0.2"]
EOF
    local a_listen="127.2.0.1:$http_port"
    start_testhttp "$run/det-a.log" "$run/det-a.mode" "$a_listen"
    local a_pid=$BACKEND
    start_testhttp "$run/det-b.log" "$run/det-b.mode" "127.2.0.2:$http_port"   # stays healthy
    start_nolbd_stamped "$run/det.toml" "$run/det-nolbd.log"

    answers() { dig @127.0.0.1 -p "$dns_port" +time=1 +tries=1 +short det.bench.test A 2>/dev/null | sort | tr '\n' ' '; }
    has_a() { [[ "$(answers)" == *"127.2.0.1 "* ]]; }
    lacks_a() { local got; got=$(answers); [[ -n "$got" && "$got" != *"127.2.0.1 "* ]]; }
    # measure CONDITION: ms from T0 until CONDITION holds (polled ~every 10 ms; gives up at 5 s).
    measure() {
        local t
        while true; do
            if "$1"; then echo $(($(now_ms) - T0)); return 0; fi
            t=$(($(now_ms) - T0))
            ((t > 5000)) && { echo "$t"; return 1; }
            sleep 0.01
        done
    }
    mode() { printf '%s\n' "$1" >"$run/det-a.mode.new"; mv -f "$run/det-a.mode.new" "$run/det-a.mode"; }
    # Random phase against the probe schedule, so that trials sample it evenly.
    settle() { sleep "0.$((300 + RANDOM % 250))"; }

    mode ok
    local trial ms
    for ((trial = 1; trial <= TRIALS; trial++)); do
        ((SECONDS > DEADLINE_S)) && { note "detection: deadline reached after $((trial - 1)) trials"; break; }
        has_a || { sleep 1; has_a || note "trial $trial: node a not answered at the start"; }
        settle
        T0=$(now_ms); mode 503; ms=$(measure lacks_a) && det_503+=("$ms")
        T0=$(now_ms); mode ok; ms=$(measure has_a) && det_back+=("$ms")
        settle
        T0=$(now_ms); stop_pid "$a_pid"; ms=$(measure lacks_a) && det_refused+=("$ms")
        T0=$(now_ms)
        start_testhttp "$run/det-a.log" "$run/det-a.mode" "$a_listen"
        a_pid=$BACKEND
        ms=$(measure has_a) && det_restart+=("$ms")
        settle
        T0=$(now_ms); mode hang
        if ms=$(measure lacks_a); then
            det_hang+=("$ms")
            local started
            started=$(first_unanswered_ms "$run/det-nolbd.log" "$T0")
            [[ -n "$started" ]] && det_hang_probe+=($((T0 + ms - started)))
        fi
        T0=$(now_ms); mode ok; ms=$(measure has_a) && det_back+=("$ms")
    done
    note "detection: $((trial - 1)) trials"
    stop_all
}

stats_row() {  # LABEL BOUND-MS VALUES...
    local label=$1 bound=$2
    shift 2
    if (($# == 0)); then
        printf '| %s | 0 | - | - | - | %s |\n' "$label" "$bound"
        return
    fi
    printf '%s\n' "$@" | sort -n | awk -v label="$label" -v bound="$bound" '
        { v[NR] = $1 }
        END {
            median = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "| %s | %d | %.0f | %d | %d | %s |\n", label, NR, median, v[1], v[NR], bound
        }'
}

# ---------------------------------------------------------------------------- run

note "nolbd on CPU $nolbd_cpu, backends and load on CPU $helper_cpu ($cpus CPUs), nice $BENCH_NICE; sampling ${SAMPLE_S} s after ${WARMUP_S} s of warm-up"
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
# At COMPARE_INTERVAL, nolbd and gdnsd one after the other on the same backends, without
# queries, so that their CPU is probing's; then nolbd alone at SCALE_INTERVALS, with the query
# load.
scale_plan=()
if [[ -n "$COMPARE_INTERVAL" ]]; then
    for n in $SCALE_N; do
        scale_plan+=("nolbd $n $COMPARE_INTERVAL 0")
        [[ -n "$COMPARE" ]] && scale_plan+=("gdnsd $n $COMPARE_INTERVAL 0")
    done
fi
for interval in $SCALE_INTERVALS; do
    for n in $SCALE_N; do scale_plan+=("nolbd $n $interval $SCALE_QPS"); done
done
for step in "${scale_plan[@]}"; do
    if ((SECONDS + WARMUP_S + SAMPLE_S + 20 > DEADLINE_S - TRIALS * 4)); then
        note "scale: skipping $step (time budget)"
        continue
    fi
    # shellcheck disable=SC2086
    scale_run $step
done
detection_run

echo
echo "### Probing cost (server pinned to CPU $nolbd_cpu, HTTP probes to nolb-testhttp on $SCALE_PORTS ports; timeout interval / 2; nolbd jitter $JITTER, startup \"$STARTUP\")"
echo
echo "| server | addresses | interval | probes/s due | probes/s done | backend saw /s | CPU | CPU us/probe | RSS MiB | threads | late probes | failed probes | transitions | backend CPU | startup s (addresses down after it) | DNS p50 / p99 | queries lost | CPU $nolbd_cpu used by others |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for row in "${scale_rows[@]}"; do echo "$row"; done
echo
echo "Probes done: nolbd's own count (nolbctl stats); gdnsd reports none, so its figure is the backend's accepted connections (\"backend saw\"). gdnsd's smallest interval is 2 s (whole seconds, timeout below the interval); nolbd's is 0.1 s."
if [[ -n "$COMPARE_INTERVAL" && -n "$COMPARE" ]]; then
    for n in $SCALE_N; do
        k=$COMPARE_INTERVAL
        [[ -n "${scale_us[gdnsd,$n,$k]:-}" && -n "${scale_us[nolbd,$n,$k]:-}" ]] || continue
        awk -v n="$n" -v k="$k" -v nu="${scale_us[nolbd,$n,$k]}" -v gu="${scale_us[gdnsd,$n,$k]}" \
            -v nr="${scale_rss[nolbd,$n,$k]}" -v gr="${scale_rss[gdnsd,$n,$k]}" \
            -v nt="${scale_threads[nolbd,$n,$k]}" -v gt="${scale_threads[gdnsd,$n,$k]}" \
            -v ns="${scale_ratio[nolbd,$n,$k]}" -v gs="${scale_ratio[gdnsd,$n,$k]}" 'BEGIN {
            printf "- %d addresses at %g s: nolbd / gdnsd CPU per probe = %.2f (%.1f / %.1f us; target <= 0.50), RSS = %.2f (%.1f / %.1f MiB), threads %d / %d, probes done / due %.2f / %.2f\n",
                n, k, (gu > 0 ? nu / gu : 0), nu, gu, (gr > 0 ? nr / gr : 0), nr / 1024, gr / 1024, nt, gt, ns, gs
        }'
    done
fi
echo
fast_ms=$(awk -v f="${FAST_INTERVAL:-0.05}" 'BEGIN { printf "%d", f * 1000 }')
echo "### Detection (interval 0.25 s, timeout 0.2 s, rise 2, fall 2, fast_interval $fast_ms ms; ms from the change to dig seeing it)"
echo
echo "| event | trials | median ms | min ms | max ms | bound ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
stats_row "503 -> out" $((275 + fast_ms)) "${det_503[@]}"
stats_row "refused -> out" $((275 + fast_ms)) "${det_refused[@]}"
stats_row "hang (timeout) -> out" $((275 + 200 + fast_ms)) "${det_hang[@]}"
stats_row "hang, from its first unanswered probe -> out" $((200 + fast_ms)) "${det_hang_probe[@]}"
stats_row "healthy -> back (503 or hang -> ok)" $((275 + fast_ms)) "${det_back[@]}"
stats_row "restarted -> back (from its start)" "-" "${det_restart[@]}"
echo
echo "Bounds: the first probe to see a change comes within interval x (1 + jitter) = 275 ms; then fall - 1 (rise - 1) re-probes each fast_interval after the previous result: out within 275 + $fast_ms ms, back within 275 + $fast_ms ms. A hang fails a probe only at its timeout, but the next probe starts fast_interval after an unanswered one, overlapping it: out within 275 + 200 + $fast_ms ms, or 200 + $fast_ms ms from the start of the first unanswered probe (the target: timeout + 100 ms)."
echo "Measured times also hold the backend's switch (control file polled every 20 ms) and the dig polling (about 10-20 ms)."
echo "\"restarted -> back\" counts from before nolb-testhttp is started again, so it also holds the backend's own start-up."
echo "Load average at the start: $load_at_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($cpus CPUs); nolbd, backends and load ran at nice $BENCH_NICE."
echo "\"CPU $nolbd_cpu used by others\": time other processes (and interrupts) took on nolbd's CPU during the sample; above a few per cent the figures measure a shared machine, not nolbd."
echo "Total time: ${SECONDS} s."
