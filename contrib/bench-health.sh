#!/usr/bin/env bash
# The health-check benchmark: what probing costs nolbd, and how fast its answers follow a
# failing node. Not part of contrib/test.sh; run it by hand on a quiet machine:
#
#     contrib/bench-health.sh [BUILD-DIR]      (default build/; needs nolbd, nolbctl and
#                                               tests/tools/nolb-testhttp built there)
#
# Part 1, scale. One nolb-testhttp on 0.0.0.0:PORT (pinned to the last CPU) serves every
# 127.1.x.y address. For each N addresses and each probe interval, nolbd (pinned to CPU 0) gets
# N addresses (services of 10 nodes of one address each) and is left to warm up; then, over
# SAMPLE_S seconds: probes per second achieved (nolbctl stats, probes.sent), nolbd's CPU time
# (user + system, /proc/PID/stat) as a share of one core and per probe, its resident memory
# (VmRSS), late and failed probes, health transitions (every backend is healthy, so each one is
# a false alarm), the backend's CPU, how long startup took and how many addresses it left down,
# the latency of 1,000 queries a second sent meanwhile, and how much of nolbd's CPU other
# processes took (a shared machine shows there).
#
# Part 2, detection. Two nodes probed every 0.25 s (timeout 0.2 s, rise 2, fall 2), TRIALS
# times: a backend answering 503, refusing connections (stopped), or never answering (hang) ->
# gone from the answers; healthy again -> back. Median, minimum and maximum, in milliseconds,
# from the change to the first dig answer that reflects it (dig polled about every 10 ms).
#
# Settings (environment): SCALE_N ("1000 10000"), SCALE_INTERVALS ("1 0.1": 0.1 s is the
# smallest allowed), JITTER (0.1) and STARTUP ("probe") for the scale runs, SAMPLE_S (20),
# WARMUP_S (5), TRIALS (20), BENCH_NICE (0), DEADLINE_S (290).
#
# All traffic goes to loopback addresses; the scale backend listens on 0.0.0.0 at a random high
# port for the length of its run (one socket for all of 127.1.x.y). The whole run is bounded
# (under 5 minutes with the defaults); every process started is stopped by its PID on exit.
# Prints Markdown tables on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
build=$(cd "${1:-build}" 2>/dev/null && pwd) || { echo "bench-health: no build folder ${1:-build}" >&2; exit 2; }
NOLBD=$build/nolbd
NOLBCTL=$build/nolbctl
TESTHTTP=$build/tests/tools/nolb-testhttp
QUERYLOAD=$build/tests/tools/nolb-queryload
for program in "$NOLBD" "$NOLBCTL" "$TESTHTTP" "$QUERYLOAD"; do
    [[ -x "$program" ]] || { echo "bench-health: $program is not built" >&2; exit 2; }
done
for tool in dig jq taskset ss; do
    command -v "$tool" >/dev/null || { echo "bench-health: $tool is needed (contrib/install-deps.sh)" >&2; exit 2; }
done

SCALE_N=${SCALE_N:-"1000 10000"}
SCALE_INTERVALS=${SCALE_INTERVALS:-"1 0.1"}
SAMPLE_S=${SAMPLE_S:-20}
WARMUP_S=${WARMUP_S:-5}
TRIALS=${TRIALS:-20}
JITTER=${JITTER:-0.1}
STARTUP=${STARTUP:-probe}
DEADLINE_S=${DEADLINE_S:-290}   # parts that would start later than this are skipped
# On a machine shared with other work, BENCH_NICE=-10 (as root) gives nolbd, the backends and the
# load generator precedence over it; the "used by others" column shows what was left.
BENCH_NICE=${BENCH_NICE:-0}

cpus=$(nproc 2>/dev/null || echo 1)
nolbd_cpu=0
helper_cpu=$((cpus > 1 ? cpus - 1 : 0))
clk_tck=$(getconf CLK_TCK)
run=$(mktemp -d "${TMPDIR:-/tmp}/nolb-bench-health.XXXXXX")
declare -a pids=()

alive() {  # PID: exists and has not exited (a zombie awaiting `wait` counts as gone)
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    [[ "${stat##*) }" != Z* ]]
}
stop_pid() {  # PID: SIGTERM, wait up to 10 s, then SIGKILL; reaps it and forgets it
    local pid=$1 i keep=()
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    for i in "${pids[@]}"; do [[ "$i" == "$pid" ]] || keep+=("$i"); done
    pids=("${keep[@]}")
    return 0
}
stop_all() {
    local pid
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
}
on_exit() {
    stop_all
    if [[ "${NOLB_KEEP_TMP:-0}" == 1 ]]; then echo "bench-health: kept $run" >&2; else rm -rf "$run"; fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

note() { printf 'bench-health: %s\n' "$*" >&2; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

free_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 10000))
        if [[ -z "$(ss -Hlnu "sport = :$port")$(ss -Hant "sport = :$port")" ]]; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# wait_log FILE REGEX SECONDS: until FILE has a line matching REGEX.
wait_log() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

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
    nice -n "$BENCH_NICE" taskset -c "$nolbd_cpu" "$NOLBD" -c "$1" >"$2" 2>&1 &
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

# scale_config N INTERVAL DNS-PORT HTTP-PORT SOCKET: N addresses in services of 10 nodes.
scale_config() {
    local n=$1 interval=$2 dns_port=$3 http_port=$4 socket=$5 s i a
    local timeout
    timeout=$(awk -v i="$interval" 'BEGIN { t = i / 2; if (t < 0.1) t = i; print t }')
    {
        printf '[server]\nlisten = ["127.0.0.1:%s"]\nworkers = 1\n\n' "$dns_port"
        printf '[[zone]]\norigin = "bench.test."\nttl = 300\n\n[[zone.ns]]\nname = "ns1"\naddresses = ["127.0.0.1"]\n\n'
        printf '[control]\nsocket = "%s"\n\n' "$socket"
        for ((s = 0; s * 10 < n; s++)); do
            printf '[[service]]\nname = "s%05d.bench.test."\nttl = 20\nstartup = "%s"\n' "$s" "$STARTUP"
            printf '[service.health]\ntype = "http"\nport = %s\npath = "/health"\n' "$http_port"
            printf 'interval = %s\ntimeout = %s\njitter = %s\nrise = 2\nfall = 2\n' "$interval" "$timeout" "$JITTER"
            for ((i = 0; i < 10 && s * 10 + i < n; i++)); do
                a=$((s * 10 + i))
                printf '[[service.node]]\nname = "n%d"\naddresses = ["127.1.%d.%d"]\n' \
                    "$i" $((a / 250)) $((a % 250 + 1))
            done
            printf '\n'
        done
    } >"$run/scale.toml"
}

declare -a scale_rows=()

scale_run() {  # N INTERVAL
    local n=$1 interval=$2
    local dns_port http_port socket="$run/scale.sock"
    dns_port=$(free_port) && http_port=$(free_port) || { note "no free port"; return 1; }
    scale_config "$n" "$interval" "$dns_port" "$http_port" "$socket"
    start_testhttp "$run/scale-http.log" "$run/scale-http.mode" "0.0.0.0:$http_port"
    local http_pid=$BACKEND
    note "scale: N=$n interval=${interval}s: starting nolbd"
    start_nolbd "$run/scale.toml" "$run/scale-nolbd.log"
    sleep "$WARMUP_S"

    local s0 s1 c0 c1 h0 h1 b0 b1 t0 t1 load
    s0=$(ctl_stats "$socket") || { note "nolbctl stats failed"; stop_pid "$NOLBD_PID"; stop_pid "$http_pid"; return 1; }
    c0=$(cpu_ticks "$NOLBD_PID")
    h0=$(cpu_ticks "$http_pid")
    b0=$(cpu_busy "$nolbd_cpu")
    t0=$(now_ms)
    nice -n "$BENCH_NICE" taskset -c "$helper_cpu" "$QUERYLOAD" --server "127.0.0.1:$dns_port" --name s00000.bench.test \
        --rate 1000 --duration "$SAMPLE_S" --timeout-ms 1000 >"$run/scale-load.out" 2>&1 &
    local load_pid=$!
    pids+=("$load_pid")
    wait "$load_pid"
    stop_pid "$load_pid"
    s1=$(ctl_stats "$socket") || s1=""
    c1=$(cpu_ticks "$NOLBD_PID")
    h1=$(cpu_ticks "$http_pid")
    b1=$(cpu_busy "$nolbd_cpu")
    t1=$(now_ms)
    local rss
    rss=$(rss_kib "$NOLBD_PID")
    load=$(<"$run/scale-load.out")

    local sent0 sent1 late0 late1 failed0 failed1 tr0 tr1
    tr0=$(jq -r '.transitions' <<<"$s0")
    tr1=$(jq -r '.transitions // 0' <<<"$s1")
    sent0=$(jq -r '.probes.sent' <<<"$s0")
    late0=$(jq -r '.probes.late' <<<"$s0")
    failed0=$(jq -r '.probes.failed' <<<"$s0")
    sent1=$(jq -r '.probes.sent // 0' <<<"$s1")
    late1=$(jq -r '.probes.late // 0' <<<"$s1")
    failed1=$(jq -r '.probes.failed // 0' <<<"$s1")
    local row
    row=$(awk -v n="$n" -v iv="$interval" -v ds=$((sent1 - sent0)) -v dl=$((late1 - late0)) \
        -v df=$((failed1 - failed0)) -v dc=$((c1 - c0)) -v ms=$((t1 - t0)) -v tck="$clk_tck" \
        -v dh=$((h1 - h0)) -v dt=$((tr1 - tr0)) -v db=$((b1 - b0)) \
        -v sd="$(grep -E 'msg="?address down' "$run/scale-nolbd.log" | grep -c 'from=unknown')" \
        -v rss="$rss" -v up="$STARTUP_MS" \
        -v p50="$(grep -Eo 'p50_us=[0-9]+' <<<"$load" | cut -d= -f2)" \
        -v p99="$(grep -Eo 'p99_us=[0-9]+' <<<"$load" | cut -d= -f2)" \
        -v lost="$(grep -Eo 'lost=[0-9]+' <<<"$load" | cut -d= -f2)" '
        BEGIN {
            s = ms / 1000; cpu = dc / tck
            printf "| %d | %g s | %.0f | %.0f | %.1f %% | %.1f | %.1f | %.1f /s | %.1f /s | %d | %.1f %% | %.1f (%d down) | %s / %s us | %s | %.0f %% |",
                n, iv, n / iv, ds / s, 100 * cpu / s, (ds > 0 ? 1e6 * cpu / ds : 0),
                rss / 1024, dl / s, df / s, dt, 100 * dh / tck / s, up / 1000, sd, p50, p99, lost, (db > dc ? 100 * (db - dc) / tck / s : 0)
        }')
    scale_rows+=("$row")
    note "scale: $row"
    stop_pid "$NOLBD_PID"
    stop_pid "$http_pid"
}

# ---------------------------------------------------------------------------- part 2: detection

declare -a det_503=() det_refused=() det_hang=() det_back=()

detection_run() {
    local dns_port http_port
    dns_port=$(free_port) && http_port=$(free_port) || { note "no free port"; return 1; }
    cat >"$run/det.toml" <<EOF
[server]
listen = ["127.0.0.1:$dns_port"]

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
    start_nolbd "$run/det.toml" "$run/det-nolbd.log"

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
        ms=$(measure has_a) && det_back+=("$ms")
        settle
        T0=$(now_ms); mode hang; ms=$(measure lacks_a) && det_hang+=("$ms")
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
for interval in $SCALE_INTERVALS; do
    for n in $SCALE_N; do
        if ((SECONDS + WARMUP_S + SAMPLE_S + 20 > DEADLINE_S - TRIALS * 4)); then
            note "scale: skipping N=$n interval=$interval (time budget)"
            continue
        fi
        scale_run "$n" "$interval"
    done
done
detection_run

echo
echo "### Probing cost (nolbd pinned to one CPU, HTTP probes to nolb-testhttp; jitter $JITTER, startup \"$STARTUP\")"
echo
echo "| addresses | interval | probes/s due | probes/s done | nolbd CPU | CPU us/probe | RSS MiB | late probes | failed probes | transitions | backend CPU | startup s (addresses down after it) | DNS p50 / p99 (1,000 q/s) | queries lost | CPU $nolbd_cpu used by others |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for row in "${scale_rows[@]}"; do echo "$row"; done
echo
echo "### Detection (interval 0.25 s, timeout 0.2 s, rise 2, fall 2; ms from the change to dig seeing it)"
echo
echo "| event | trials | median ms | min ms | max ms | bound ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
stats_row "503 -> out" 750 "${det_503[@]}"
stats_row "refused -> out" 750 "${det_refused[@]}"
stats_row "hang (timeout) -> out" 750 "${det_hang[@]}"
stats_row "healthy -> back" 550 "${det_back[@]}"
echo
echo "Bounds: out within interval x (1 + jitter) x fall + timeout = 750 ms, back within interval x (1 + jitter) x rise = 550 ms."
echo "Measured times also hold the backend's switch (control file polled every 20 ms) and the dig polling (about 10-20 ms)."
echo "Load average at the start: $load_at_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($cpus CPUs); nolbd, backends and load ran at nice $BENCH_NICE."
echo "\"CPU $nolbd_cpu used by others\": time other processes (and interrupts) took on nolbd's CPU during the sample; above a few per cent the figures measure a shared machine, not nolbd."
echo "Total time: ${SECONDS} s."
