# shellcheck shell=bash
# Shell helpers shared by contrib/bench-health.sh, bench-zone.sh and soak.sh: their setup and
# cleanup, the child processes a benchmark starts (tracked in the array `pids`, stopped by PID
# only), free loopback ports, and waiting for a log line. Sourced from the repository root, not
# run.

declare -a pids=()

# As root, nolbd refuses to start without a user to become; the benchmarks keep root, said
# explicitly, so that their files need not be readable by another user.
NOLBD_USER_ARGS=()
((EUID == 0)) && NOLBD_USER_ARGS=(--user root)

bench_name=bench

# bench_programs NAME BUILD [PATH...]: names the benchmark in messages, and finds nolbd, nolbctl
# and nolb-testhttp in the build folder BUILD (setting build, NOLBD, NOLBCTL, TESTHTTP), with
# each PATH under it too; exits 2 saying what is missing.
bench_programs() {
    bench_name=$1
    build=$(cd "$2" 2>/dev/null && pwd) || { echo "$bench_name: no build folder $2" >&2; exit 2; }
    shift 2
    NOLBD=$build/nolbd
    NOLBCTL=$build/nolbctl
    TESTHTTP=$build/tests/tools/nolb-testhttp
    local program
    for program in "$NOLBD" "$NOLBCTL" "$TESTHTTP" "${@/#/$build/}"; do
        [[ -x "$program" ]] || { echo "$bench_name: $program is not built" >&2; exit 2; }
    done
}

bench_tools() {  # TOOL...: exits 2 unless each is installed
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null ||
            { echo "$bench_name: $tool is needed (contrib/install-deps.sh bench)" >&2; exit 2; }
    done
}

# bench_run_folder: makes the run folder `run`; on exit every process in `pids` is stopped,
# bench_cleanup is called if the script defines one, and `run` is removed (NOLB_KEEP_TMP=1
# keeps it).
bench_run_folder() {
    run=$(mktemp -d "${TMPDIR:-/tmp}/nolb-$bench_name.XXXXXX")
    trap bench_end EXIT
    trap 'exit 130' INT TERM
}

bench_end() {
    stop_all
    if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi
    if [[ "${NOLB_KEEP_TMP:-0}" == 1 ]]; then echo "$bench_name: kept $run" >&2; else rm -rf "$run"; fi
}

note() { printf '%s: %s\n' "$bench_name" "$*" >&2; }
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
now_ms() { echo $(($(now_us) / 1000)); }

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

stop_all() {  # every process in `pids`
    local pid
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
}

free_port() {  # a port in 20000-29999 with nothing bound on it, UDP or TCP
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

wait_log() {  # FILE REGEX SECONDS: until FILE has a line matching REGEX
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
