# Helpers for the scenarios about health checks and operation: HTTP backends (nolb-testhttp)
# whose answers a scenario switches, nolbctl, steady query load (nolb-queryload), and timing how
# long nolbd's answers take to follow a change. Sourced after tests/system/lib.sh:
#
#     source "$(dirname "$0")/../lib.sh"
#     source "$(dirname "$0")/../../tools/health.sh"
#
# The programs are found next to nolbd's build (NOLBD=build/nolbd: build/nolbctl,
# build/tests/tools/nolb-testhttp, ...) unless NOLBCTL, NOLB_TESTHTTP or NOLB_QUERYLOAD say
# otherwise.

NOLB_BUILD_DIR=$(cd "$(dirname "$NOLBD")" && pwd)
NOLBCTL=${NOLBCTL:-$NOLB_BUILD_DIR/nolbctl}
NOLB_TESTHTTP=${NOLB_TESTHTTP:-$NOLB_BUILD_DIR/tests/tools/nolb-testhttp}
NOLB_QUERYLOAD=${NOLB_QUERYLOAD:-$NOLB_BUILD_DIR/tests/tools/nolb-queryload}

need_program() {  # NAME PATH: a program the scenario cannot do without
    [[ -x "$2" ]] || die "$1 is built" "not found or not executable: $2"
}

# Milliseconds since the epoch, from bash 5's EPOCHREALTIME (no process started to read it).
now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# ---------------------------------------------------------------------------- backends

declare -A BACKEND_PID=()
declare -A BACKEND_MODE=()

# start_backend NAME ADDR:PORT [MODE]: starts nolb-testhttp in MODE (default ok) and waits until
# it is ready. Its mode is then switched with backend_mode NAME MODE.
start_backend() {
    local name=$1 listen=$2 mode=${3:-ok}
    local log="$TMP/backend-$name.log"
    local before
    before=$(grep -cs '^nolb-testhttp: ready' "$log")
    rm -f "$TMP/backend-$name.mode"
    "$NOLB_TESTHTTP" --listen "$listen" --mode "$mode" --control-file "$TMP/backend-$name.mode" \
        >>"$log" 2>&1 &
    local pid=$!
    BACKEND_PID[$name]=$pid
    BACKEND_MODE[$name]=$mode
    track "$pid" "backend $name" "$log"
    backend_ready() { ! alive "$pid" || (($(grep -c '^nolb-testhttp: ready' "$log") > $1)); }
    if ! wait_for 10 backend_ready "${before:-0}" || ! alive "$pid"; then
        LAST_CMD="$NOLB_TESTHTTP --listen $listen --mode $mode"
        die "backend $name starts on $listen" "log:" "$(block "$(<"$log")")"
    fi
}

# backend_mode NAME MODE: switches a backend (ok, 503, hang, close) and waits, bounded, until it
# reports the new mode. Writes the control file atomically (the backend polls it every 20 ms).
backend_mode() {
    local name=$1 mode=$2 log="$TMP/backend-$1.log" before i
    [[ "${BACKEND_MODE[$name]:-}" == "$mode" ]] && return 0
    BACKEND_MODE[$name]=$mode
    before=$(grep -c "^nolb-testhttp: mode $mode\$" "$log")
    printf '%s\n' "$mode" >"$TMP/backend-$name.mode.new"
    mv -f "$TMP/backend-$name.mode.new" "$TMP/backend-$name.mode"
    for ((i = 0; i < 200; i++)); do
        (($(grep -c "^nolb-testhttp: mode $mode\$" "$log") > before)) && return 0
        sleep 0.01
    done
    fail "backend $name switches to mode $mode" "log:" "$(block "$(tail -n 5 "$log")")"
    return 1
}

# stop_backend NAME: SIGTERM, as a crashed or stopped backend (connections then refused).
stop_backend() {
    stop "${BACKEND_PID[$1]}"
}

# ---------------------------------------------------------------------------- DNS answers

# addresses NAME [TYPE]: the addresses nolbd answers now for NAME, sorted, space separated
# ("" for NODATA). Uses DNS_PORT.
addresses() {
    dig @127.0.0.1 -p "$DNS_PORT" +time=1 +tries=1 +short "$1" "${2:-A}" 2>/dev/null | sort |
        tr '\n' ' ' | sed 's/ $//'
}

answers_include() { [[ " $(addresses "$1") " == *" $2 "* ]]; }   # NAME ADDRESS
answers_exclude() {                                                 # NAME ADDRESS
    local got
    got=$(addresses "$1") || return 1
    [[ -n "$got" && " $got " != *" $2 "* ]]
}

# time_until LIMIT-MS COMMAND...: polls COMMAND about every 25 ms until it succeeds or LIMIT-MS
# pass. Sets ELAPSED_MS (from the call, or from T0_MS when the caller set it) and returns 0 when
# COMMAND held.
T0_MS=""
time_until() {
    local limit=$1 start end
    shift
    start=${T0_MS:-$(now_ms)}
    T0_MS=""
    while true; do
        if "$@"; then
            end=$(now_ms)
            ELAPSED_MS=$((end - start))
            return 0
        fi
        end=$(now_ms)
        if ((end - start > limit)); then
            ELAPSED_MS=$((end - start))
            return 1
        fi
        sleep 0.025
    done
}

# within DESCRIPTION BOUND-MS LIMIT-MS COMMAND...: times COMMAND like time_until (polling up to
# LIMIT-MS) and passes when it held within BOUND-MS, naming the measured time either way.
within() {
    local description=$1 bound=$2 limit=$3
    shift 3
    if time_until "$limit" "$@"; then
        if ((ELAPSED_MS <= bound)); then
            pass "$description: ${ELAPSED_MS} ms (bound ${bound} ms)"
        else
            fail "$description" "took ${ELAPSED_MS} ms, bound ${bound} ms"
        fi
    else
        fail "$description" "still not so after ${ELAPSED_MS} ms (bound ${bound} ms)" \
            "answers now: $(addresses www.demo.test)"
    fi
}

# ---------------------------------------------------------------------------- nolbctl

# ctl ARGS...: nolbctl against this scenario's daemon (CONTROL_SOCKET), bounded in time; output
# (stdout and stderr) in OUT, status in RC.
ctl() {
    LAST_CMD="nolbctl --socket $CONTROL_SOCKET $*"
    OUT=$(timeout 20 "$NOLBCTL" --socket "$CONTROL_SOCKET" "$@" 2>&1)
    RC=$?
}

# ctl_json ARGS...: like ctl with --json; the parsed output is then queried with `jqo FILTER`.
ctl_json() { ctl "$@" --json; }
jqo() { jq -r "$@" <<<"$OUT" 2>/dev/null; }

# ---------------------------------------------------------------------------- logs

# log_since LINE: the nolbd log from line LINE+1 on (LINE from log_mark).
log_mark() { wc -l <"$NOLBD_LOG"; }
log_since() { tail -n "+$(($1 + 1))" "$NOLBD_LOG"; }

# transitions_since LINE: the transition lines logged since LINE.
transitions_since() { log_since "$1" | grep -E 'msg="?address (up|down)' || true; }

# logged_since LINE REGEX: some line logged since LINE matches REGEX.
logged_since() { log_since "$1" | grep -Eq -- "$2"; }
