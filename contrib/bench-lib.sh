# Shell helpers shared by contrib/bench-health.sh and contrib/bench-zone.sh: the child
# processes a benchmark starts (tracked in the array `pids`, stopped by PID only), free
# loopback ports, and waiting for a log line. Sourced, not run.

declare -a pids=()

# As root, nolbd refuses to start without a user to become; the benchmarks keep root, said
# explicitly, so that their files need not be readable by another user.
NOLBD_USER_ARGS=()
((EUID == 0)) && NOLBD_USER_ARGS=(--user root)

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
