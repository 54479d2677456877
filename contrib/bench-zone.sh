#!/usr/bin/env bash
# The zone-scale benchmark: how long nolbd takes to load a large configuration, and how long a
# single health change takes to reach the workers. Not part of contrib/test.sh; run it by hand
# on a quiet machine:
#
#     contrib/bench-zone.sh [BUILD-DIR]      (default build/; needs nolbd, nolbctl and
#                                             tests/tools/nolb-testhttp built there)
#
# The configuration: one zone, SERVICES services (s00000.bench.test., ...) of NODES nodes with
# one IPv4 address each (127.1.x.y), so 40,000 addresses with the defaults.
#
#  1. `nolbd --check-config` on it (load, zone model, one whole rendering): RUNS times.
#  2. Load to serving: nolbd started with every service `health = "none"` (no probes, so no
#     network wait), timed from the start of the process to the first dig answer; RUNS times.
#     nolbd's debug log gives the parts: config (TOML + schema), zone model, first rendering.
#  3. The same with HTTP health checks (`startup = "up"`, every 30 s) against one nolb-testhttp
#     on 0.0.0.0 that serves every 127.1.x.y: start to the first answer includes the first
#     probe round of every address; once.
#  4. Publishing a change, on that running nolbd. s00000's node n0 is probed (every 0.2 s, rise
#     and fall 1) on a second port, served by a second nolb-testhttp whose answers the script
#     switches between 503 and 200: each switch takes one address out of, or back into, the
#     answers. FLIPS times each way; the time nolbd took to publish (from planning to the swap,
#     `nolbctl stats` publish.last_ms) for each, checked against dig. Then FLIPS drains and
#     undrains of s00000/n1 through `nolbctl drain`, which publish the same way.
#
# Settings (environment): SERVICES (10000), NODES (4), RUNS (3), FLIPS (20), DEADLINE_S (240),
# BENCH_NICE (0; on a machine shared with other work, -10 as root gives nolbd and the backends
# precedence, and the CPU times printed beside the wall-clock ones show what nolbd itself spent).
# All traffic stays on loopback: DNS on 127.0.0.1 and two HTTP backends on 0.0.0.0 at random
# high ports for the length of the run. Every wait is bounded, and the whole run stops starting
# new steps after DEADLINE_S seconds; every process started is stopped by its PID on exit.
# Prints a Markdown table on stdout, progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=contrib/bench-lib.sh
source contrib/bench-lib.sh
bench_programs bench-zone "${1:-build}"
bench_tools dig jq ss awk

SERVICES=${SERVICES:-10000}
NODES=${NODES:-4}
RUNS=${RUNS:-3}
FLIPS=${FLIPS:-20}
DEADLINE_S=${DEADLINE_S:-240}
BENCH_NICE=${BENCH_NICE:-0}
clk_tck=$(getconf CLK_TCK)
if ((SERVICES < 1 || SERVICES > 99999 || NODES < 2 || SERVICES * NODES > 62500)); then
    echo "bench-zone: SERVICES 1..99999, NODES at least 2, at most 62,500 addresses" >&2
    exit 2
fi

bench_run_folder
ms_since() { awk -v a="$1" -v b="$(now_us)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
late() { ((SECONDS > DEADLINE_S)); }

# Field KEY of the first log line matching REGEX in FILE.
log_field() {
    grep -E -- "$2" "$1" | head -n 1 | grep -Eo "(^| )$3=[^ ]+" | head -n 1 | cut -d= -f2
}

dns_port=$(free_port) && http_port=$(free_port) && flip_port=$(free_port) || { note "no free port"; exit 1; }
while [[ "$flip_port" == "$http_port" ]]; do flip_port=$(free_port) || exit 1; done
socket=$run/control.sock

# write_config FILE HEALTH: HEALTH is "none" or "http".
write_config() {
    awk -v services="$SERVICES" -v nodes="$NODES" -v dns="$dns_port" -v http="$http_port" \
        -v flip="$flip_port" -v sock="$socket" -v health="$2" 'BEGIN {
        printf "[server]\nlisten = [\"127.0.0.1:%s\"]\nworkers = 1\n\n[control]\nsocket = \"%s\"\n\n", dns, sock
        printf "[[zone]]\norigin = \"bench.test.\"\nttl = 300\n\n[zone.soa]\nserial = \"auto\"\n\n"
        printf "[[zone.ns]]\nname = \"ns1\"\naddresses = [\"127.0.0.1\"]\n\n"
        a = 0
        for (s = 0; s < services; s++) {
            printf "[[service]]\nname = \"s%05d.bench.test.\"\nttl = 20\n", s
            if (health == "none") {
                printf "health = \"none\"\n"
            } else {
                printf "startup = \"up\"\n\n[service.health]\ntype = \"http\"\nport = %s\npath = \"/health\"\n", http
                printf "interval = 30\ntimeout = 2\n"
            }
            for (n = 0; n < nodes; n++) {
                printf "\n[[service.node]]\nname = \"n%d\"\naddresses = [\"127.1.%d.%d\"]\n", n, int(a / 250), a % 250 + 1
                if (health == "http" && s == 0 && n == 0)
                    printf "\n[service.node.health]\nport = %s\ninterval = 0.2\ntimeout = 0.1\nrise = 1\nfall = 1\n", flip
                a++
            }
            printf "\n"
        }
    }' >"$1"
}

# start_testhttp LOG CONTROL-FILE LISTEN: sets BACKEND.
start_testhttp() {
    nice -n "$BENCH_NICE" "$TESTHTTP" --listen "$3" --control-file "$2" >"$1" 2>&1 &
    BACKEND=$!
    pids+=("$BACKEND")
    wait_log "$1" '^nolb-testhttp: ready' 10 || { note "nolb-testhttp did not start:"; cat "$1" >&2; exit 1; }
}

# answered NAME: dig gets at least one address for NAME.
answered() {
    dig @127.0.0.1 -p "$dns_port" +time=1 +tries=1 +short "$1" A 2>/dev/null | grep -Eq '^127\.1\.'
}
addresses_of() {
    dig @127.0.0.1 -p "$dns_port" +time=1 +tries=1 +short "$1" A 2>/dev/null | grep -Ec '^127\.1\.'
}

# CPU time (user + system) PID has used, in milliseconds.
cpu_ms() { awk -v tck="$clk_tck" '{ printf "%.0f", ($14 + $15) * 1000 / tck }' "/proc/$1/stat"; }

# start_nolbd CONFIG LOG SECONDS: sets NOLBD_PID, SERVING_MS (start to the first answer) and
# SERVING_CPU_MS (nolbd's CPU time by then).
start_nolbd() {
    local t0 i
    rm -f "$socket"
    t0=$(now_us)
    nice -n "$BENCH_NICE" "$NOLBD" -c "$1" "${NOLBD_USER_ARGS[@]}" --log-level debug >"$2" 2>&1 &
    NOLBD_PID=$!
    pids+=("$NOLBD_PID")
    for ((i = 0; i < $3 * 100; i++)); do
        if answered s00001.bench.test; then
            SERVING_MS=$(ms_since "$t0")
            SERVING_CPU_MS=$(cpu_ms "$NOLBD_PID")
            return 0
        fi
        alive "$NOLBD_PID" || break
        sleep 0.01
    done
    note "nolbd did not answer within $3 s:"
    tail -n 20 "$2" >&2
    exit 1
}

ctl() { timeout 10 "$NOLBCTL" --socket "$socket" "$@"; }
stat_field() { ctl --json stats 2>/dev/null | jq -r "$1"; }

# summary VALUES...: "median / max" of the numbers given.
summary() {
    (($# == 0)) && { echo "-"; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.2f / %.2f (%d)", m, v[NR], NR }'
}

load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
write_config "$run/none.toml" none
write_config "$run/http.toml" http
note "$SERVICES services, $((SERVICES * NODES)) addresses; $(wc -c <"$run/http.toml") bytes of TOML ($run)"

# ---------------------------------------------------------------------------- 1: check-config
declare -a check_none=() check_http=()
for ((r = 0; r < RUNS; r++)); do
    late && break
    for kind in none http; do
        t0=$(now_us)
        nice -n "$BENCH_NICE" "$NOLBD" --check-config "$run/$kind.toml" >/dev/null 2>"$run/check.err" || { note "check-config failed:"; cat "$run/check.err" >&2; exit 1; }
        ms=$(ms_since "$t0")
        if [[ $kind == none ]]; then check_none+=("$ms"); else check_http+=("$ms"); fi
    done
done
# CPU time of one check (user + system), for a machine shared with other work.
check_cpu=$( { TIMEFORMAT='%U %S'; time nice -n "$BENCH_NICE" "$NOLBD" --check-config "$run/http.toml" >/dev/null 2>&1; } 2>&1 | awk '{ printf "%.0f", ($1 + $2) * 1000 }')
note "check-config: none $(summary "${check_none[@]}") ms, http $(summary "${check_http[@]}") ms, CPU ${check_cpu} ms"

# ---------------------------------------------------------------------------- 2: load to serving
declare -a serve_none=() serve_none_cpu=() part_config=() part_zones=() part_render=()
for ((r = 0; r < RUNS; r++)); do
    late && break
    start_nolbd "$run/none.toml" "$run/none.log" 60
    serve_none+=("$SERVING_MS")
    serve_none_cpu+=("$SERVING_CPU_MS")
    part_config+=("$(log_field "$run/none.log" 'msg=loaded' config_ms)")
    part_zones+=("$(log_field "$run/none.log" 'msg=loaded' zones_ms)")
    part_render+=("$(log_field "$run/none.log" 'msg="publish work"' ms)")
    rss_none=$(awk '/^VmRSS:/ { print $2 }' "/proc/$NOLBD_PID/status")
    stop_pid "$NOLBD_PID"
done
note "load to serving (health none): $(summary "${serve_none[@]}") ms"

# ---------------------------------------------------------------------------- 3 and 4: changes
start_testhttp "$run/http.log" "$run/http.mode" "0.0.0.0:$http_port"
printf 'ok\n' >"$run/flip.mode"
start_testhttp "$run/flip.log" "$run/flip.mode" "0.0.0.0:$flip_port"
start_nolbd "$run/http.toml" "$run/http-nolbd.log" 120
serve_http=$SERVING_MS
serve_http_cpu=$SERVING_CPU_MS
down_after_start=$(grep -Ec 'msg="?address down' "$run/http-nolbd.log")
note "start to serving with $((SERVICES * NODES)) HTTP checks (startup up): $serve_http ms"

mode() { printf '%s\n' "$1" >"$run/flip.mode.new"; mv -f "$run/flip.mode.new" "$run/flip.mode"; }
# wait_publish COUNT: until nolbd has published more than COUNT changes (at most 5 s).
wait_publish() {
    local i now
    for ((i = 0; i < 250; i++)); do
        now=$(stat_field '.publish.changes') || now=$1
        ((now > $1)) && return 0
        sleep 0.02
    done
    return 1
}
# wait_count N: until dig sees N addresses for s00000 (at most 2 s).
wait_count() {
    local i
    for ((i = 0; i < 200; i++)); do
        (($(addresses_of s00000.bench.test) == $1)) && return 0
        sleep 0.01
    done
    return 1
}

declare -a health_ms=() drain_ms=()
wrong=0
wait_count "$NODES" || note "s00000 does not have its $NODES addresses at the start"
for ((f = 0; f < FLIPS; f++)); do
    late && { note "deadline reached after $f health flips"; break; }
    for step in 503 ok; do
        before=$(stat_field '.publish.changes')
        mode "$step"
        if wait_publish "$before"; then
            health_ms+=("$(stat_field '.publish.last_ms')")
        else
            note "no publish after switching to $step"
        fi
        if [[ $step == 503 ]]; then wait_count $((NODES - 1)) || ((wrong++)); else wait_count "$NODES" || ((wrong++)); fi
    done
done
for ((f = 0; f < FLIPS; f++)); do
    late && { note "deadline reached after $f drains"; break; }
    for verb in drain undrain; do
        ctl "$verb" s00000.bench.test./n1 >/dev/null 2>&1 || { note "nolbctl $verb failed"; continue; }
        drain_ms+=("$(stat_field '.publish.last_ms')")
        if [[ $verb == drain ]]; then wait_count $((NODES - 1)) || ((wrong++)); else wait_count "$NODES" || ((wrong++)); fi
    done
done
max_ms=$(stat_field '.publish.max_ms')
full_ms=$(stat_field '.publish.full_ms')
rss_http=$(awk '/^VmRSS:/ { print $2 }' "/proc/$NOLBD_PID/status")
stop_pid "$NOLBD_PID"

fmt() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
echo
echo "### Zone scale: $SERVICES services, $((SERVICES * NODES)) addresses ($(wc -c <"$run/http.toml") bytes of TOML)"
echo
echo "| measure | median / max (samples), ms |"
echo "| --- | --: |"
echo "| \`nolbd --check-config\`, health none | $(summary "${check_none[@]}") |"
echo "| \`nolbd --check-config\`, HTTP checks | $(summary "${check_http[@]}") |"
echo "| - its CPU time (user + system), one run | $check_cpu |"
echo "| start to first answer, health none | $(summary "${serve_none[@]}") |"
echo "| - nolbd's CPU time by then | $(summary "${serve_none_cpu[@]}") |"
echo "| - of which config (TOML, schema) | $(summary "${part_config[@]}") |"
echo "| - of which zone model | $(summary "${part_zones[@]}") |"
echo "| - of which first rendering (plan, render, swap) | $(summary "${part_render[@]}") |"
echo "| start to first answer, HTTP checks (first probe round of every address included) | $(fmt "$serve_http") |"
echo "| - nolbd's CPU time by then | $serve_http_cpu |"
echo "| publish one address's health change (503 <-> 200) | $(summary "${health_ms[@]}") |"
echo "| publish a drain or undrain (\`nolbctl drain\`) | $(summary "${drain_ms[@]}") |"
echo "| longest change publish while running (stats publish.max_ms) | $(fmt "$max_ms") |"
echo "| whole rendering at start (stats publish.full_ms) | $(fmt "$full_ms") |"
echo
echo "RSS: $((${rss_none:-0} / 1024)) MiB (health none), $((${rss_http:-0} / 1024)) MiB (HTTP checks). Addresses down after the first probe round: $down_after_start. Answers not seen by dig within 2 s of a change: $wrong."
echo "Publish times are nolbd's own (plan, render, swap; \`nolbctl stats --json\` .publish). Load average at the start: $load_at_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs); nice $BENCH_NICE. Total time: ${SECONDS} s."
