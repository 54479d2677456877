# Helpers for the system scenarios. Each tests/system/<scenario>/test.sh sources this file, then
# reads like prose: write a config, start nolbd, ask real clients, state what must hold, finish.
#
# From the environment (tests/CMakeLists.txt sets both): NOLBD, the nolbd binary; NOLB_SOURCE_DIR,
# the source tree. NOLB_KEEP_TMP=1 keeps the scenario's temporary folder for a post-mortem.
#
# Assertions never abort the script: every failure is reported (scenario, check, command,
# expected, actual) and counted; `finish` stops the daemons, checks that they exited cleanly
# and without sanitizer reports, prints "N passed, M failed" and sets the exit status.

set -uo pipefail

# The scenario is the script bash was started with, tests/system/<scenario>/test.sh, also when
# that script runs another scenario's script as a variant of it (secondaries-notify runs
# secondaries/test.sh): its folder names the scenario, its temporary folder and its messages.
SCENARIO_DIR=$(cd "$(dirname "${BASH_SOURCE[-1]}")" && pwd)
SCENARIO=$(basename "$SCENARIO_DIR")
NOLB_SOURCE_DIR=${NOLB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DATA="$NOLB_SOURCE_DIR/tests/system/data"
if [[ -z "${NOLBD:-}" && -x "$NOLB_SOURCE_DIR/build/nolbd" ]]; then
    NOLBD="$NOLB_SOURCE_DIR/build/nolbd"
fi
: "${NOLBD:?set NOLBD to the nolbd binary}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/nolb-$SCENARIO.XXXXXX")
PASSED=0
FAILED=0
FINISHED=0
STARTED=0      # nolbd instances started, to name their logs
LAST_CMD=""    # the last client command run, named in failure messages
OUT=""         # its output
RC=0           # its exit status
declare -a TRACKED_PIDS=()
declare -A PID_NAME=()
declare -A PID_LOG=()

# Started as root (as CI runs), nolbd refuses to run without a user to become; the scenarios'
# files live in private temporary folders, so nolbd keeps root for them, said explicitly.
# tests/system/privileges checks the switch itself.
NOLBD_USER_ARGS=()
((EUID == 0)) && NOLBD_USER_ARGS=(--user root)

# Whether [::1] can be used: the scenarios skip their IPv6 checks where the host has none.
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then HAVE_IPV6=1; else HAVE_IPV6=0; fi

# ---------------------------------------------------------------------------- reporting

say() { printf '[%s] %s\n' "$SCENARIO" "$*"; }

pass() {
    PASSED=$((PASSED + 1))
    printf '[%s] ok    %s\n' "$SCENARIO" "$1"
}

# fail DESCRIPTION [DETAIL...]: one failure, with the last command and any details given.
fail() {
    FAILED=$((FAILED + 1))
    printf '[%s] FAIL  %s\n' "$SCENARIO" "$1" >&2
    shift
    [[ -n "$LAST_CMD" ]] && printf '        command:  %s\n' "$LAST_CMD" >&2
    local d
    for d in "$@"; do sed 's/^/        /' <<<"$d" >&2; done
}

# block TEXT: TEXT indented and fenced, to quote output in a failure message.
block() { head -n "${2:-40}" <<<"$1" | sed 's/^/  | /'; }

# The last command's output, indented, for failure messages.
out_excerpt() { printf 'output:\n%s' "$(block "$OUT")"; }

expect_eq() {  # DESCRIPTION EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then pass "$1"; else
        fail "$1" "expected: $2" "actual:   $3" "$(out_excerpt)"
    fi
}

expect_ne() {  # DESCRIPTION UNEXPECTED ACTUAL
    if [[ "$2" != "$3" ]]; then pass "$1"; else
        fail "$1" "expected anything but: $2" "$(out_excerpt)"
    fi
}

expect_match() {  # DESCRIPTION EXTENDED-REGEX TEXT: some line of TEXT matches
    if grep -Eq -- "$2" <<<"$3"; then pass "$1"; else
        fail "$1" "expected a line matching: $2" "in:" "$(block "$3")"
    fi
}

expect_no_match() {  # DESCRIPTION EXTENDED-REGEX TEXT: no line of TEXT matches
    if ! grep -Eq -- "$2" <<<"$3"; then pass "$1"; else
        fail "$1" "expected no line matching: $2" "in:" "$(block "$3")"
    fi
}

expect_true() {  # DESCRIPTION COMMAND...: COMMAND succeeds
    local d=$1
    shift
    if "$@"; then pass "$d"; else fail "$d" "this did not hold: $*"; fi
}

# A setup step that must work for the rest to mean anything: fail and stop.
die() {
    fail "$1" "${@:2}"
    finish
}

# ---------------------------------------------------------------------------- ports, configs

# A port free for both UDP and TCP on loopback, below the ephemeral range so that no client
# socket takes it between now and the bind.
free_port() {
    local lo _hi port i
    read -r lo _hi </proc/sys/net/ipv4/ip_local_port_range
    ((lo > 12000)) || lo=32768
    for ((i = 0; i < 200; i++)); do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
        if [[ -z "$(ss -Hlnu "sport = :$port" 2>/dev/null)" &&
            -z "$(ss -Hlnt "sport = :$port" 2>/dev/null)" &&
            -z "$(ss -Hant "sport = :$port" 2>/dev/null)" ]]; then
            echo "$port"
            return 0
        fi
    done
    echo "free_port: no free port found" >&2
    return 1
}

# listen_list PORT: the TOML array body for `listen`: IPv4 loopback, plus [::1] when present.
listen_list() {
    if ((HAVE_IPV6)); then
        printf '"127.0.0.1:%s", "[::1]:%s"' "$1" "$1"
    else
        printf '"127.0.0.1:%s"' "$1"
    fi
}

# write_config TEMPLATE DEST PORT [NAME=VALUE...]: copies TEMPLATE to DEST, replacing @PORT@,
# @LISTEN@ (from listen_list), @DATA@ (tests/system/data), @HERE@ (the scenario's folder),
# @TMP@ (the temporary folder), @CONTROL@ (a control socket path of DEST's own, so that two
# daemons of one scenario never share one) and every @NAME@ given. Unfilled placeholders are an
# error.
write_config() {
    local template=$1 dest=$2 port=$3
    shift 3
    local text
    text=$(<"$template") || die "read config template $template"
    text=${text//@LISTEN@/$(listen_list "$port")}
    text=${text//@PORT@/$port}
    text=${text//@DATA@/$DATA}
    text=${text//@HERE@/$SCENARIO_DIR}
    text=${text//@TMP@/$TMP}
    text=${text//@CONTROL@/$TMP/$(basename "$dest" .toml).sock}
    local pair
    for pair in "$@"; do
        text=${text//@${pair%%=*}@/${pair#*=}}
    done
    if grep -Eq '@[A-Z_]+@' <<<"$text"; then
        die "config template $template filled" "left: $(grep -Eo '@[A-Z_]+@' <<<"$text" | sort -u | tr '\n' ' ')"
    fi
    printf '%s\n' "$text" >"$dest"
}

# ---------------------------------------------------------------------------- processes

# track PID NAME LOG: remember a background process so that cleanup can stop it.
track() {
    TRACKED_PIDS+=("$1")
    PID_NAME[$1]=$2
    PID_LOG[$1]=$3
}

# untrack PID: forget a process the scenario has stopped and reaped itself.
untrack() {
    local i
    for i in "${!TRACKED_PIDS[@]}"; do
        [[ "${TRACKED_PIDS[$i]}" == "$1" ]] && unset 'TRACKED_PIDS[i]'
    done
}

# alive PID: the process exists and has not exited (a zombie awaiting `wait` counts as gone).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    [[ "${stat##*) }" != Z* ]]
}

# run_tracked LOG COMMAND...: runs a long command (nolb-compare) in the background, tracked so
# that cleanup stops it if the scenario is cut short, and waits for it; its output is in LOG
# and OUT, its status in RC.
run_tracked() {
    local log=$1 pid
    shift
    LAST_CMD="$*"
    "$@" >"$log" 2>&1 &
    pid=$!
    track "$pid" "$(basename "$1")" "$log"
    wait "$pid"
    RC=$?
    untrack "$pid"
    OUT=$(cat "$log")
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds or time runs out.
wait_for() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# Whether a DNS server answers on 127.0.0.1:PORT over UDP (any response counts).
answers_on() {
    dig @127.0.0.1 -p "$1" +time=1 +tries=1 +norec +noall +comments "${2:-demo.test.}" SOA 2>/dev/null |
        grep -q 'status:'
}

# start_nolbd CONFIG PORT [EXTRA-ARGS...]: starts nolbd in the background and waits (bounded)
# until it logs msg=ready and answers on PORT. Sets NOLBD_PID and NOLBD_LOG.
start_nolbd() {
    local conf=$1 port=$2
    shift 2
    STARTED=$((STARTED + 1))
    NOLBD_LOG="$TMP/nolbd.$STARTED.log"
    "$NOLBD" -c "$conf" "${NOLBD_USER_ARGS[@]}" "$@" >"$NOLBD_LOG" 2>&1 &
    NOLBD_PID=$!
    track "$NOLBD_PID" nolbd "$NOLBD_LOG"
    ready() { ! alive "$NOLBD_PID" || grep -qs 'msg=ready' "$NOLBD_LOG"; }
    if ! wait_for 20 ready || ! alive "$NOLBD_PID"; then
        LAST_CMD="$NOLBD -c $conf $*"
        die "nolbd starts and logs msg=ready" "log:" "$(block "$(<"$NOLBD_LOG")")"
    fi
    if ! wait_for 10 answers_on "$port"; then
        LAST_CMD="dig @127.0.0.1 -p $port demo.test. SOA"
        die "nolbd answers on port $port after msg=ready"
    fi
}

# sanitizer_clean LOG: no AddressSanitizer, LeakSanitizer or UBSan report in LOG.
sanitizer_clean() {
    ! grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$1"
}

# stop PID [EXPECTED-STATUS]: SIGTERM, wait up to 15 s, then check the exit status (default 0)
# and the log for sanitizer reports. A process that does not stop is killed and reported.
stop() {
    local pid=$1 expected=${2:-0} name=${PID_NAME[$1]:-process} log=${PID_LOG[$1]:-/dev/null}
    local status=0
    LAST_CMD="kill -TERM $pid ($name)"
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        if ! wait_for 15 eval "! alive $pid"; then
            kill -KILL "$pid" 2>/dev/null
            fail "$name (pid $pid) stops within 15 s of SIGTERM"
        fi
    fi
    wait "$pid" 2>/dev/null
    status=$?
    untrack "$pid"
    if [[ "$name" == nolbd ]]; then
        if ((status == expected)); then pass "nolbd (pid $pid) exits $expected on SIGTERM"; else
            fail "nolbd (pid $pid) exits $expected on SIGTERM" "actual exit status: $status" \
                "log:" "$(block "$(tail -n 30 "$log")")"
        fi
        if sanitizer_clean "$log"; then pass "nolbd (pid $pid) log has no sanitizer report"; else
            fail "nolbd (pid $pid) log has no sanitizer report" \
                "$(block "$(grep -E -A30 'Sanitizer|runtime error' "$log")" 60)"
        fi
    fi
    return 0
}

# ---------------------------------------------------------------------------- DNS clients

# run COMMAND...: runs a client command, keeping its output in OUT, its status in RC.
run() {
    LAST_CMD="$*"
    OUT=$("$@" 2>&1)
    RC=$?
}

# dig_q [dig arguments...]: dig with bounded waiting; server and port are the caller's.
dig_q() { run dig +time=2 +tries=1 "$@"; }
kdig_q() { run kdig +timeout=2 +retry=0 "$@"; }

# The response code in OUT (dig and kdig): NOERROR, NXDOMAIN, REFUSED, BADVERS, ...
status_of() { grep -Eo 'status: [A-Z0-9]+' <<<"$OUT" | head -n 1 | cut -d' ' -f2; }

# The header flags in OUT, sorted, space separated: "aa qr rd".
flags_of() {
    grep -Ei '^;; flags:' <<<"$OUT" | head -n 1 | sed -E 's/^;; [Ff]lags:([^;]*);.*/\1/' |
        tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//'
}
has_flag() { [[ " $(flags_of) " == *" $1 "* ]]; }

# section NAME: the records of one section of OUT (ANSWER, AUTHORITY, ADDITIONAL, QUESTION),
# one per line, fields separated by single spaces: "owner ttl class type rdata".
section() {
    awk -v want=";; $1 SECTION:" '
        $0 == want { on = 1; next }
        on && (/^$/ || /^;; [A-Z]+ SECTION:/ || /^;; (Received|Query time|MSG SIZE|SERVER)/) { on = 0 }
        on {
            line = $0
            if (want ~ /QUESTION/) sub(/^;+ ?/, "", line)   # dig: ";name", kdig: ";; name"
            else if (line ~ /^;/) next
            gsub(/[ \t]+/, " ", line)
            print line
        }
    ' <<<"$OUT"
}

# count SECTION [TYPE]: records in SECTION, of TYPE if given.
count() {
    if [[ -n "${2:-}" ]]; then
        section "$1" | awk -v t="$2" '$4 == t' | grep -c .
    else
        section "$1" | grep -c .
    fi
}

# rdata SECTION TYPE: the rdata of the records of TYPE in SECTION, one per line, sorted.
rdata() { section "$1" | awk -v t="$2" '$4 == t { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' | sort; }

# ttls SECTION TYPE: the distinct TTLs of the records of TYPE in SECTION.
ttls() { section "$1" | awk -v t="$2" '$4 == t { print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# ---------------------------------------------------------------------------- the end

finish() {
    ((FINISHED)) && exit $((FAILED > 0))
    FINISHED=1
    local pid
    for pid in "${TRACKED_PIDS[@]}"; do stop "$pid"; done
    echo "[$SCENARIO] $PASSED passed, $FAILED failed"
    exit $((FAILED > 0))
}

cleanup() {
    local rc=$? pid
    if ((!FINISHED)); then
        FAILED=$((FAILED + 1))
        printf '[%s] FAIL  the scenario stopped before its end (status %s)\n' "$SCENARIO" "$rc" >&2
        for pid in "${TRACKED_PIDS[@]}"; do
            kill -TERM "$pid" 2>/dev/null
        done
        for pid in "${TRACKED_PIDS[@]}"; do
            wait_for 5 eval "! alive $pid" || kill -KILL "$pid" 2>/dev/null
        done
        echo "[$SCENARIO] $PASSED passed, $FAILED failed"
        rc=1
    fi
    if [[ "${NOLB_KEEP_TMP:-0}" == 1 ]]; then
        echo "[$SCENARIO] kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
