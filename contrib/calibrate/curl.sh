#!/usr/bin/env bash
# One client, the system curl (Debian 12: curl 7.88), in a closed loop: a new curl process per
# request, `curl -s -v -o BODY -w ... URL`, with curl's defaults for everything that is measured
# (name resolution through getaddrinfo, the addresses in the order it returns them, curl's own
# connect-timeout rule: 300 s in all, half of what is left for each address but the last; no
# transfer timeout, no retry, and no connection reuse across requests, since each is a process).
# -v only writes a trace, read for the reason of a failed connect.
#
#     contrib/calibrate/curl.sh URL PERIOD_MS DURATION_S
#
# Request k+1 starts at max(start_k + PERIOD_MS, end_k); no request starts after DURATION_S
# seconds; the one in flight then ends the run. SIGTERM or SIGINT stops the curl in flight and
# the driver at once. On stdout, one line per event (see README.md):
#     S <id> <epoch_ms>
#     E <id> <epoch_ms> <status> <site> <error> <took_ms>
set -u

if (($# != 3)) || [[ ! "$2" =~ ^[0-9]+$ ]] || [[ ! "$3" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "usage: $0 URL PERIOD_MS DURATION_S" >&2
    exit 2
fi
url=$1
period_us=$(($2 * 1000))
duration_us=$(awk -v s="$3" 'BEGIN { printf "%d", s * 1000000 }')
command -v curl >/dev/null || { echo "$0: curl is not installed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/nolb-cal-curl.XXXXXX") || exit 2
child=""
finish() {
    [[ -n "$child" ]] && kill "$child" 2>/dev/null
    rm -rf "$work"
}
trap 'finish; exit 143' TERM
trap 'finish; exit 130' INT
trap finish EXIT

# Wall-clock microseconds and milliseconds (with three decimals), without a fork.
now_us() {
    local t=$EPOCHREALTIME
    echo $((${t%[.,]*} * 1000000 + 10#${t#*[.,]}))
}
ms_of() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# The error token from curl's exit code, its message and, for a failed connect, the reason
# its -v trace gives for the last address tried (7.88's message says only "Couldn't connect").
error_token() {
    local code=$1 message=$2 reason
    reason=$(grep -E '^\* (connect to .* failed: |.*connect timeout after)' "$work/trace" 2>/dev/null | tail -n 1)
    case "$code" in
    0) echo - ;;
    6) echo dns ;;
    7)
        case "$reason$message" in
        *"Connection refused"*) echo refused ;;
        *"timed out"* | *"timeout after"* | *"Timeout was reached"*) echo timeout ;;
        *"No route to host"*) echo unreachable ;;
        *) echo connect_failed ;;
        esac
        ;;
    28) echo timeout ;;
    52) echo empty_reply ;;
    56)
        case "$message" in
        *"reset by peer"*) echo reset ;;
        *) echo recv_error ;;
        esac
        ;;
    *) echo "curl_$code" ;;
    esac
}

begin=$(now_us)
id=0
while :; do
    start=$(now_us)
    ((start - begin >= duration_us)) && break
    echo "S $id $(ms_of "$start")"
    rm -f "$work/body" "$work/out" "$work/trace"
    # Backgrounded and waited for, so that a trapped SIGTERM interrupts the wait and stops it.
    # -v only writes a trace (for the error's reason); it changes nothing curl does.
    curl -s -v -o "$work/body" -w '%{http_code} %{exitcode} %{time_total} %{errormsg}' "$url" >"$work/out" 2>"$work/trace" &
    child=$!
    wait "$child"
    child=""
    end=$(now_us)
    read -r status code total message <"$work/out"
    [[ "$status" =~ ^[0-9]+$ ]] || status=0
    status=$((10#$status))
    site=-
    if [[ -f "$work/body" ]]; then
        body=$(head -c 65536 "$work/body")
        [[ "$body" =~ \"site\"[[:space:]]*:[[:space:]]*\"([^\"]*)\" ]] && site=${BASH_REMATCH[1]}
        [[ -z "$site" || "$site" =~ [[:space:]] ]] && site=-
    fi
    # curl's own time for the request, without the fork and exec the driver adds.
    took=$(awk -v t="${total:-0}" 'BEGIN { printf "%.3f", t * 1000 }')
    echo "E $id $(ms_of "$end") $status $site $(error_token "${code:-999}" "${message:-}") $took"
    id=$((id + 1))
    next=$((start + period_us))
    if ((next > end)); then
        wait_us=$((next - end))
        sleep "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))" &
        child=$!
        wait "$child"
        child=""
    fi
done
