#!/usr/bin/env bash
# The soak benchmark: nolbd under steady query load for a long time while everything around it
# moves. Not part of contrib/test.sh; run it by hand (ten minutes by default):
#
#     contrib/soak.sh [BUILD-DIR]      (default build/; needs nolbd, nolbctl and
#                                       tests/tools/nolb-testhttp built there, and dnsperf)
#
# nolbd (2 workers, DNS on 127.0.0.1) serves soak.test: three HTTP-checked services of two nodes
# each (www, api, cdn), every node a nolb-testhttp of its own on 127.0.0.11-16 (probed every
# 1 s, timeout 0.5 s, rise 2, fall 2), and a few static names. First a baseline: dnsperf at QPS
# queries a second for BASELINE_SECONDS with nothing else going on, for dnsperf's own losses on
# this machine. Then, for SOAK_SECONDS, the same dnsperf load while
#   - backends flap: every FLAP_EVERY s the next node (round robin, consecutive ones in different
#     services, so a service always keeps a node) fails for FAULT_S s, in turn by answering 503,
#     by refusing connections (its process stopped, then started again) and by hanging; each
#     fault and each recovery lasts long enough to cross fall and rise;
#   - the configuration is rewritten and nolbd sent SIGHUP every RELOAD_EVERY s; every
#     INVALID_EVERY-th file is invalid (an unknown key, a TOML syntax error, a value out of range,
#     a record that does not parse, in turn) and must be rejected. After each reload the static
#     TXT record version.soak.test tells which file is served: the last good one;
#   - control clients come and go every CTL_EVERY s: nolbctl status, explain, drain, undrain,
#     stats and watch (cut off after a second), and raw clients that hang up in the middle of a
#     request line or before reading their reply.
# The report (Markdown, in SOAK_OUT, default build/bench/soak.md, and on stdout): nolbd alive at
# the end and its exit status on SIGTERM; its resident memory (VmRSS) at the start, every minute
# and at the end; queries sent, completed and lost against the baseline; reloads made by the loop
# against those nolbd logged as accepted and rejected, and whether the right file was served
# after each; every transition the flaps caused against those nolbd logged (each line of its log
# is stamped as it is read); control clients served; the load average.
#
# Settings (environment): SOAK_SECONDS (600), BASELINE_SECONDS (a tenth of SOAK_SECONDS, at
# least 10), QPS (20000), FLAP_EVERY (2), FAULT_S (4), RELOAD_EVERY (1), INVALID_EVERY (5),
# CTL_EVERY (0.5), BENCH_NICE (0; as root, -10 gives nolbd, the backends and dnsperf precedence
# on a shared machine), SOAK_OUT. NOLB_KEEP_TMP=1 keeps the run's folder (logs, configs).
# All traffic stays on loopback; every loop is bounded in time and count; every process started
# is stopped by its PID on exit.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=contrib/bench-lib.sh
source contrib/bench-lib.sh
bench_programs soak "${1:-build}"
bench_tools dnsperf dig jq ss perl awk

SOAK_SECONDS=${SOAK_SECONDS:-600}
BASELINE_SECONDS=${BASELINE_SECONDS:-$((SOAK_SECONDS / 10 < 10 ? 10 : SOAK_SECONDS / 10))}
QPS=${QPS:-20000}
FLAP_EVERY=${FLAP_EVERY:-2}
FAULT_S=${FAULT_S:-4}
RELOAD_EVERY=${RELOAD_EVERY:-1}
INVALID_EVERY=${INVALID_EVERY:-5}
CTL_EVERY=${CTL_EVERY:-0.5}
BENCH_NICE=${BENCH_NICE:-0}
SOAK_OUT=${SOAK_OUT:-build/bench/soak.md}
if ((SOAK_SECONDS < 30 || FAULT_S < 3 || FLAP_EVERY < 1 || INVALID_EVERY < 2)); then
    echo "soak: SOAK_SECONDS at least 30, FAULT_S at least 3, FLAP_EVERY at least 1, INVALID_EVERY at least 2" >&2
    exit 2
fi

NODES=6                # node k: 127.0.0.(11+k), service k mod 3, so consecutive nodes differ
SERVICES=(www api cdn)
KINDS=(503 refuse hang)
BAD_KINDS=(key syntax range record)
UP_GRACE_MS=6000       # a recovery must be logged within this of the backend's return
DOWN_GRACE_MS=1000     # a failure must be logged before the fault ends, or within this after

bench_run_folder

# Backends are restarted by the flap loop, a subshell: their PIDs live in files, not in `pids`.
bench_cleanup() {
    local k pid
    for ((k = 0; k < NODES; k++)); do
        pid=$(cat "$run/backend-$k.pid" 2>/dev/null) || continue
        alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
sleep_until() {  # EPOCH-MS
    local left=$(($1 - $(now_ms)))
    ((left > 0)) && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
    return 0
}

# Each line stamped with the epoch milliseconds at which it was read.
stamp_lines() {
    local line t
    while IFS= read -r line; do
        t=${EPOCHREALTIME/[.,]/}
        printf '%s %s\n' $((t / 1000)) "$line"
    done
}

DNS_PORT=$(free_port) || { note "no free port"; exit 1; }
HTTP_PORT=$(free_port) || { note "no free port"; exit 1; }
SOCKET=$run/nolbd.sock
node_address() { echo "127.0.0.$((11 + $1))"; }
node_name() { local letter=(a b); echo "${SERVICES[$1 % 3]}-${letter[$1 / 3]}"; }

# ---------------------------------------------------------------------------- configuration

# soak_config FILE VERSION [BAD-KIND]: the configuration; VERSION is the TXT of
# version.soak.test; BAD-KIND makes it invalid in one way (one problem, so one log line).
soak_config() {
    local file=$1 version=$2 bad=${3:-} s n k ttl=5
    [[ "$bad" == range ]] && ttl=-5
    {
        printf '[server]\nlisten = ["127.0.0.1:%s"]\nworkers = 2\n' "$DNS_PORT"
        [[ "$bad" == key ]] && printf 'bogus_soak_key = 1\n'
        [[ "$bad" == syntax ]] && printf 'tcp_idle_timeout = \n'
        printf '\n[[zone]]\norigin = "soak.test."\nttl = 300\nrecords = [\n'
        printf "    'version TXT \"%s\"',\n    'static A 192.0.2.10',\n    'mail A 192.0.2.25',\n" "$version"
        [[ "$bad" == record ]] && printf "    'broken A 300.1.2.3',\n"
        printf ']\n\n[[zone.ns]]\nname = "ns1"\naddresses = ["127.0.0.1"]\n\n'
        for ((s = 0; s < 3; s++)); do
            printf '[[service]]\nname = "%s.soak.test."\nttl = %s\n\n' "${SERVICES[s]}" "$ttl"
            printf '[service.health]\ntype = "http"\nport = %s\npath = "/health"\n' "$HTTP_PORT"
            printf 'interval = 1\ntimeout = 0.5\nrise = 2\nfall = 2\n\n'
            for ((n = 0; n < 2; n++)); do
                k=$((n * 3 + s))
                printf '[[service.node]]\nname = "%s"\naddresses = ["%s"]\n\n' "$(node_name "$k")" "$(node_address "$k")"
            done
        done
        printf '[control]\nsocket = "%s"\n' "$SOCKET"
    } >"$file"
}

install_config() {  # SOURCE: the live file, replaced atomically
    cp "$1" "$run/nolbd.toml.new" && mv -f "$run/nolbd.toml.new" "$run/nolbd.toml"
}

# ---------------------------------------------------------------------------- processes

# start_backend K: node K's backend, answering 200 unless its mode file says otherwise; waits
# (bounded) for it to be ready.
start_backend() {
    local k=$1 log="$run/backend-$1.log" before
    touch "$log"
    before=$(grep -c '^nolb-testhttp: ready' "$log")
    nice -n "$BENCH_NICE" "$TESTHTTP" --listen "$(node_address "$k"):$HTTP_PORT" \
        --control-file "$run/backend-$k.mode" >>"$log" 2>&1 &
    echo $! >"$run/backend-$k.pid"
    local i
    for ((i = 0; i < 100; i++)); do
        (($(grep -c '^nolb-testhttp: ready' "$log") > before)) && return 0
        sleep 0.1
    done
    note "backend $k did not start: $(tail -n 3 "$log")"
    return 1
}

stop_backend() {  # K: SIGTERM, then waits (bounded) until it is gone; connections are refused
    local pid i
    pid=$(<"$run/backend-$1.pid")
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
}

backend_mode() {  # K MODE: atomically, as nolb-testhttp asks
    printf '%s\n' "$2" >"$run/backend-$1.mode.new" && mv -f "$run/backend-$1.mode.new" "$run/backend-$1.mode"
}

ctl() { timeout 10 "$NOLBCTL" --socket "$SOCKET" "$@"; }

# run_dnsperf SECONDS REPORT
run_dnsperf() {
    nice -n "$BENCH_NICE" timeout $(($1 + 60)) dnsperf -s 127.0.0.1 -p "$DNS_PORT" -d "$run/queries.txt" \
        -l "$1" -Q "$QPS" -c 1 -q 200 -t 5 >"$2" 2>&1
}
dnsperf_fields() {  # REPORT: sent completed lost qps avg_ms max_ms
    awk '
        /Queries sent:/ { sent = $3 }
        /Queries completed:/ { done = $3 }
        /Queries lost:/ { lost = $3 }
        /Queries per second:/ { qps = $4 }
        /Average Latency/ && !seen++ { avg = $4 * 1000; max = $8; sub(/\)/, "", max); max *= 1000 }
        END { printf "%d %d %d %.0f %.3f %.3f\n", sent, done, lost, qps, avg, max }' "$1"
}

# ---------------------------------------------------------------------------- the loops

# The flaps: flap f starts at T0 + f * FLAP_EVERY on node f mod NODES, of kind
# KINDS[(f / NODES) mod 3], and ends FAULT_S later. None starts that could not end, and be
# seen to recover, before the deadline. Each is written to flaps.txt when it ends:
# "START-MS END-MS ADDRESS KIND".
flap_loop() {
    local t0=$1 deadline=$2 f=0 max=$((SOAK_SECONDS / FLAP_EVERY + 1)) guard=0
    local -a active_node=() active_kind=() active_start=() active_end=()
    local now i k kind start
    while ((guard++ < SOAK_SECONDS * 100)); do
        now=$(now_ms)
        # Recover what is due.
        for i in "${!active_node[@]}"; do
            ((active_end[i] <= now)) || continue
            k=${active_node[i]}
            if [[ ${active_kind[i]} == refuse ]]; then start_backend "$k"; else backend_mode "$k" ok; fi
            echo "${active_start[i]} $(now_ms) $(node_address "$k") ${active_kind[i]}" >>"$run/flaps.txt"
            unset 'active_node[i]' 'active_kind[i]' 'active_start[i]' 'active_end[i]'
        done
        start=$((t0 + f * FLAP_EVERY * 1000))
        if ((f < max && start + FAULT_S * 1000 + UP_GRACE_MS + 1000 < deadline)); then
            if ((start <= now)); then
                k=$((f % NODES))
                kind=${KINDS[(f / NODES) % 3]}
                now=$(now_ms)
                if [[ $kind == refuse ]]; then stop_backend "$k"; else backend_mode "$k" "$kind"; fi
                active_node[f]=$k active_kind[f]=$kind active_start[f]=$now active_end[f]=$((now + FAULT_S * 1000))
                f=$((f + 1))
                continue
            fi
        elif ((${#active_node[@]} == 0)); then
            break
        fi
        sleep 0.05
    done
    echo "flaps=$f" >"$run/flap.result"
}

# The reloads: every RELOAD_EVERY s a new file and SIGHUP; every INVALID_EVERY-th file invalid.
# After each, once nolbd has logged its outcome, version.soak.test must be the last good file's.
reload_loop() {
    local deadline=$1 i=0 good=0 bad=0 served=0 wrong=0 unlogged=0 last_good=v0 got before next
    local max=$((SOAK_SECONDS * 2)) period_ms
    period_ms=$(awk -v s="$RELOAD_EVERY" 'BEGIN { printf "%d", s * 1000 }')
    next=$(now_ms)
    while ((i < max)) && (($(now_ms) + period_ms < deadline)); do
        i=$((i + 1))
        if ((i % INVALID_EVERY == 0)); then
            soak_config "$run/next.toml" "v$i" "${BAD_KINDS[(i / INVALID_EVERY) % ${#BAD_KINDS[@]}]}"
            bad=$((bad + 1))
        else
            soak_config "$run/next.toml" "v$i"
            good=$((good + 1))
            last_good=v$i
        fi
        install_config "$run/next.toml"
        before=$(grep -cE 'msg=reloaded|msg="reload rejected"' "$run/nolbd.log")
        kill -HUP "$NOLBD_PID"
        local w
        for ((w = 0; w < 100; w++)); do
            (($(grep -cE 'msg=reloaded|msg="reload rejected"' "$run/nolbd.log") > before)) && break
            sleep 0.05
        done
        ((w == 100)) && unlogged=$((unlogged + 1))
        got=$(dig @127.0.0.1 -p "$DNS_PORT" +time=1 +tries=2 +short version.soak.test TXT 2>/dev/null)
        if [[ "$got" == "\"$last_good\"" ]]; then
            served=$((served + 1))
        else
            wrong=$((wrong + 1))
            echo "reload $i: expected \"$last_good\", got '$got'" >>"$run/reload-wrong.txt"
        fi
        next=$((next + period_ms))
        sleep_until "$next"
    done
    echo "sent=$i good=$good bad=$bad served=$served wrong=$wrong unlogged=$unlogged" >"$run/reload.result"
}

# Raw control clients: one that sends half a request line and hangs up, one that sends a whole
# request and hangs up before the reply.
half_line_client() {
    perl -MIO::Socket::UNIX -e '
        my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 3;
        syswrite($s, $ARGV[1]);
        select(undef, undef, undef, 0.05);
        exit 0' "$SOCKET" "$1"
}

# The control clients, in turn; counts per kind of those that did what they should.
ctl_loop() {
    local deadline=$1 j=0 max=$((SOAK_SECONDS * 10)) period_ms next rc
    local -A ok=() failed=()
    period_ms=$(awk -v s="$CTL_EVERY" 'BEGIN { printf "%d", s * 1000 }')
    next=$(now_ms)
    while ((j < max)) && (($(now_ms) < deadline)); do
        local kind
        case $((j % 8)) in
        0) kind=status; ctl status >/dev/null 2>&1; rc=$? ;;
        1) kind=explain; ctl explain www.soak.test A >/dev/null 2>&1; rc=$? ;;
        2) kind=drain; ctl drain cdn-b >/dev/null 2>&1; rc=$? ;;
        3) kind=undrain; ctl undrain cdn-b >/dev/null 2>&1; rc=$? ;;
        4) kind=stats; ctl stats --json >/dev/null 2>&1; rc=$? ;;
        5) kind=watch; timeout 1 "$NOLBCTL" --socket "$SOCKET" watch >/dev/null 2>&1; rc=$?
           ((rc == 124)) && rc=0 ;;  # still watching when cut off: as it should be
        6) kind=half-line; half_line_client '{"verb": "sta'; rc=$? ;;
        7) kind=no-read; half_line_client $'{"verb": "status", "args": {}}\n'; rc=$? ;;
        esac
        if ((rc == 0)); then ok[$kind]=$((${ok[$kind]:-0} + 1)); else
            failed[$kind]=$((${failed[$kind]:-0} + 1))
            echo "$(now_ms) $kind exit $rc" >>"$run/ctl-failed.txt"
        fi
        j=$((j + 1))
        next=$((next + period_ms))
        sleep_until "$next"
    done
    ctl undrain cdn-b >/dev/null 2>&1
    for kind in status explain drain undrain stats watch half-line no-read; do
        echo "$kind ${ok[$kind]:-0} ${failed[$kind]:-0}"
    done >"$run/ctl.result"
}

# ---------------------------------------------------------------------------- the run

note "run folder $run; DNS on 127.0.0.1:$DNS_PORT, backends on 127.0.0.11-16:$HTTP_PORT"
for ((k = 0; k < NODES; k++)); do
    start_backend "$k" || exit 1
done
soak_config "$run/v0.toml" v0
install_config "$run/v0.toml"
for bad in "${BAD_KINDS[@]}"; do   # each invalid kind must be refused by --check-config too
    soak_config "$run/bad-$bad.toml" bad "$bad"
    if "$NOLBD" --check-config "$run/bad-$bad.toml" >"$run/bad-$bad.check" 2>&1; then
        note "the $bad file passes --check-config: not an invalid file"
        exit 1
    fi
done

{
    for s in "${SERVICES[@]}"; do echo "$s.soak.test A"; done
    echo "www.soak.test AAAA"
    echo "static.soak.test A"
    echo "mail.soak.test A"
    echo "version.soak.test TXT"
    echo "soak.test SOA"
    echo "soak.test NS"
    echo "nothing.soak.test A"
} >"$run/queries.txt"

nice -n "$BENCH_NICE" "$NOLBD" -c "$run/nolbd.toml" "${NOLBD_USER_ARGS[@]}" 2> >(stamp_lines >"$run/nolbd.log") &
NOLBD_PID=$!
pids+=("$NOLBD_PID")
wait_log "$run/nolbd.log" 'msg=ready' 60 || { note "nolbd did not become ready:"; tail -n 20 "$run/nolbd.log" >&2; exit 1; }
for ((i = 0; i < 100; i++)); do ctl check >/dev/null 2>&1 && break; sleep 0.2; done
ctl check >/dev/null 2>&1 || { note "not every node is up at the start"; ctl status >&2; exit 1; }

note "baseline: dnsperf -Q $QPS for $BASELINE_SECONDS s, nothing else"
load_before=$(loadavg)
run_dnsperf "$BASELINE_SECONDS" "$run/baseline.txt"
read -r b_sent b_done b_lost b_qps b_avg b_max < <(dnsperf_fields "$run/baseline.txt")

note "soak: $SOAK_SECONDS s of dnsperf -Q $QPS with flaps, reloads and control clients"
mark=$(wc -l <"$run/nolbd.log")
t0=$(now_ms)
deadline=$((t0 + SOAK_SECONDS * 1000))
declare -a rss_at=() rss_label=() load_at=()
rss_label+=(start) rss_at+=("$(rss_kib "$NOLBD_PID")") load_at+=("$(loadavg)")
run_dnsperf "$SOAK_SECONDS" "$run/soak.txt" &
DNSPERF_PID=$!
pids+=("$DNSPERF_PID")
flap_loop "$t0" "$deadline" &
FLAP_PID=$!
reload_loop "$deadline" &
RELOAD_PID=$!
ctl_loop "$deadline" &
CTL_PID=$!
pids+=("$FLAP_PID" "$RELOAD_PID" "$CTL_PID")

for ((minute = 1; minute * 60 < SOAK_SECONDS; minute++)); do
    sleep_until $((t0 + minute * 60000))
    alive "$NOLBD_PID" || break
    rss_label+=("${minute} min") rss_at+=("$(rss_kib "$NOLBD_PID")") load_at+=("$(loadavg)")
    note "minute $minute: RSS ${rss_at[-1]} KiB, load ${load_at[-1]}"
done
for pid in "$DNSPERF_PID" "$FLAP_PID" "$RELOAD_PID" "$CTL_PID"; do
    for ((i = 0; i < 1200; i++)); do alive "$pid" || break; sleep 0.1; done
    wait "$pid" 2>/dev/null
done
sleep 2   # the last recoveries' log lines
alive "$NOLBD_PID" && nolbd_alive=yes || nolbd_alive=no
rss_label+=(end) rss_at+=("$(rss_kib "$NOLBD_PID")") load_at+=("$(loadavg)")
stats=$(ctl stats --json 2>/dev/null)
soak_end=$(wc -l <"$run/nolbd.log")

kill -TERM "$NOLBD_PID" 2>/dev/null
for ((i = 0; i < 150; i++)); do alive "$NOLBD_PID" || break; sleep 0.1; done
if alive "$NOLBD_PID"; then
    kill -KILL "$NOLBD_PID"
    exit_status="did not stop within 15 s of SIGTERM (killed)"
else
    wait "$NOLBD_PID"
    exit_status=$?
fi
keep=()
for pid in "${pids[@]}"; do [[ "$pid" == "$NOLBD_PID" ]] || keep+=("$pid"); done
pids=("${keep[@]}")
sleep 0.5

# ---------------------------------------------------------------------------- the report

read -r s_sent s_done s_lost s_qps s_avg s_max < <(dnsperf_fields "$run/soak.txt")
soak_log() { sed -n "$((mark + 1)),${soak_end}p" "$run/nolbd.log"; }
read -r accepted rejected < <(soak_log | awk '
    / msg=reloading / { pending = 1 }
    / msg=reloaded / && pending { accepted++; pending = 0 }
    / msg="reload rejected" / && pending { rejected++; pending = 0 }
    END { print accepted + 0, rejected + 0 }')
rejected_lines=$(soak_log | grep -c 'msg="reload rejected"')
# shellcheck disable=SC1090
source <(tr ' ' '\n' <"$run/reload.result" | sed 's/^/reload_/')
# shellcheck disable=SC1090
source <(sed 's/^/flap_/' "$run/flap.result")
flaps_done=$(wc -l <"$run/flaps.txt" 2>/dev/null || echo 0)

# Every flap must show as one "address down" for its address between its start and its end
# (plus DOWN_GRACE_MS), and one "address up" after its end (within UP_GRACE_MS). Transitions
# that no flap explains are counted apart.
soak_log | grep -E 'msg="address (down|up)"' >"$run/transitions.txt"
read -r downs_seen ups_seen unexplained logged < <(awk -v dg="$DOWN_GRACE_MS" -v ug="$UP_GRACE_MS" '
    FNR == NR { fs[NR] = $1; fe[NR] = $2; fa[NR] = $3; n = NR; next }
    {
        addr = ""; if (match($0, / address=[0-9.]+/)) addr = substr($0, RSTART + 9, RLENGTH - 9)
        dir = ($0 ~ /msg="address down"/) ? "down" : "up"
        t[++m] = $1; a[m] = addr; d[m] = dir; used[m] = 0
    }
    END {
        for (i = 1; i <= n; i++) {
            for (j = 1; j <= m; j++)
                if (!used[j] && a[j] == fa[i] && d[j] == "down" && t[j] >= fs[i] && t[j] <= fe[i] + dg) { used[j] = 1; down++; break }
            for (j = 1; j <= m; j++)
                if (!used[j] && a[j] == fa[i] && d[j] == "up" && t[j] >= fe[i] - 100 && t[j] <= fe[i] + ug) { used[j] = 1; up++; break }
        }
        for (j = 1; j <= m; j++) if (!used[j]) other++
        print down + 0, up + 0, other + 0, m + 0
    }' "$run/flaps.txt" "$run/transitions.txt")
by_kind=$(awk '{ n[$4]++ } END { for (k in n) { printf "%s%s %d", sep, k, n[k]; sep = ", " } }' "$run/flaps.txt")
ctl_ok=$(awk '{ s += $2 } END { print s + 0 }' "$run/ctl.result")
ctl_failed=$(awk '{ s += $3 } END { print s + 0 }' "$run/ctl.result")
other_problems=$(soak_log | grep -E 'level=(error|warning)' | grep -vc 'msg="reload rejected"')
lost_pct() { awk -v l="$1" -v s="$2" 'BEGIN { printf "%.4f", (s > 0 ? l / s * 100 : 0) }'; }

rss_start=${rss_at[0]} rss_end=${rss_at[-1]} rss_minute=${rss_at[1]:-${rss_at[0]}}
rss_delta=$((rss_end - rss_minute))
rss_flat=$(awk -v d="$rss_delta" -v m="$rss_minute" 'BEGIN { a = d < 0 ? -d : d; print ((a <= 512 || a <= m * 0.03) ? "yes" : "no") }')
loss_ok=$(awk -v bl="$b_lost" -v bs="$b_sent" -v sl="$s_lost" -v ss="$s_sent" \
    'BEGIN { b = bs > 0 ? bl / bs : 0; s = ss > 0 ? sl / ss : 1; print ((s <= b + 0.0001) ? "yes" : "no") }')

mkdir -p "$(dirname "$SOAK_OUT")"
{
    echo "# nolbd soak: $SOAK_SECONDS s"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average before $load_before, at the end ${load_at[-1]}."
    echo "nolbd $("$NOLBD" --version 2>/dev/null | head -n 1) from $build, 2 workers; dnsperf -Q $QPS -c 1 -q 200 -t 5."
    echo "Flaps: a node fails every $FLAP_EVERY s for $FAULT_S s (503, refused, hung in turn; probes every 1 s, timeout 0.5 s, rise 2, fall 2)."
    echo "Reloads: SIGHUP every $RELOAD_EVERY s, every ${INVALID_EVERY}th file invalid. Control clients: one every $CTL_EVERY s."
    echo
    echo "| check | result |"
    echo "|---|---|"
    echo "| nolbd alive at the end | $nolbd_alive |"
    echo "| exit status on SIGTERM | $exit_status |"
    echo "| RSS start / 1 min / end (KiB) | $rss_start / $rss_minute / $rss_end (end - 1 min: $rss_delta KiB; flat: $rss_flat) |"
    echo "| queries, baseline ($BASELINE_SECONDS s): sent / completed / lost | $b_sent / $b_done / $b_lost ($(lost_pct "$b_lost" "$b_sent") %), $b_qps q/s, avg $b_avg ms, max $b_max ms |"
    echo "| queries, soak ($SOAK_SECONDS s): sent / completed / lost | $s_sent / $s_done / $s_lost ($(lost_pct "$s_lost" "$s_sent") %), $s_qps q/s, avg $s_avg ms, max $s_max ms |"
    echo "| loss no worse than the baseline | $loss_ok |"
    echo "| reloads made: good / invalid | ${reload_good:-0} / ${reload_bad:-0} (of ${reload_sent:-0}) |"
    echo "| reloads logged: accepted / rejected | $accepted / $rejected ($rejected_lines \"reload rejected\" lines) |"
    echo "| after each reload the last good file served | ${reload_served:-0} of ${reload_sent:-0} (wrong: ${reload_wrong:-0}, outcome not logged within 5 s: ${reload_unlogged:-0}) |"
    echo "| flaps made (by kind) | $flaps_done ($by_kind) |"
    echo "| transitions caused / logged for them | $((2 * flaps_done)) / $((downs_seen + ups_seen)) (down $downs_seen, up $ups_seen) |"
    echo "| transitions no flap explains | $unexplained (of $logged logged) |"
    echo "| control clients served / failed | $ctl_ok / $ctl_failed ($(awk '{ printf "%s%s %d/%d", sep, $1, $2, $2 + $3; sep = ", " }' "$run/ctl.result")) |"
    echo "| other warnings and errors logged | $other_problems |"
    if [[ -n "$stats" ]]; then
        echo "| nolbd's counters at the end | $(jq -r '"queries \(.queries.total), udp received \(.udp.received) sent \(.udp.sent) errors \(.udp.errors), probes \(.probes.sent) (failed \(.probes.failed), late \(.probes.late)), transitions \(.transitions), generation \(.generation)"' <<<"$stats") |"
    fi
    echo
    echo "RSS (KiB) and load average over the run:"
    echo
    echo "| when | RSS KiB | load average |"
    echo "|---|--:|---|"
    for i in "${!rss_at[@]}"; do echo "| ${rss_label[i]} | ${rss_at[i]} | ${load_at[i]} |"; done
    if [[ -s "$run/reload-wrong.txt" || -s "$run/ctl-failed.txt" ]]; then
        echo
        echo "First problems:"
        echo
        head -n 5 "$run/reload-wrong.txt" "$run/ctl-failed.txt" 2>/dev/null | sed 's/^/    /'
    fi
    if ((other_problems > 0)); then
        echo
        echo "Other warnings and errors (first 5):"
        echo
        soak_log | grep -E 'level=(error|warning)' | grep -v 'msg="reload rejected"' | head -n 5 | sed 's/^/    /'
    fi
} >"$SOAK_OUT"
cat "$SOAK_OUT"
[[ "$nolbd_alive" == yes && "$exit_status" == 0 ]]
