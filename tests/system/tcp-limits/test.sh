#!/usr/bin/env bash
# tcp-limits: DNS over TCP (RFC 7766) as clients use it and abuse it, spoken byte by byte
# through bash's /dev/tcp so nothing hides what is sent. Ten queries written at once on one
# connection come back as ten responses in order; a connection left idle, or holding half a
# message, is closed after tcp_idle_timeout. With tcp_max_connections = 4: a fifth connection
# while the four are idle is served, the longest idle of them closed to make room (RFC 7766
# 6.2.3); a fifth while all four are half-way through a query gets no answer, and the four
# finish theirs undisturbed; once they close new ones are served again.
source "$(dirname "$0")/../lib.sh"

# tcp_query ID NAME QTYPE: one query with its 2-byte length prefix, as printf escapes.
tcp_query() {
    local id=$1 name=$2 qtype=$3 body label len
    body=$(printf '\\x%02x\\x%02x' $((id >> 8)) $((id & 255)))
    body+='\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00'  # RD; one question
    len=12
    IFS=. read -ra labels <<<"$name"
    for label in "${labels[@]}"; do
        body+=$(printf '\\x%02x' ${#label})$label
        len=$((len + 1 + ${#label}))
    done
    body+=$(printf '\\x00\\x%02x\\x%02x\\x00\\x01' $((qtype >> 8)) $((qtype & 255)))
    len=$((len + 5))
    printf '\\x%02x\\x%02x%s' $((len >> 8)) $((len & 255)) "$body"
}

# read_exact FD N: N bytes from FD as decimal numbers, within 3 s; fails on EOF or timeout.
read_exact() {
    local got
    got=$(timeout 3 dd bs="$2" count=1 iflag=fullblock status=none <&"$1" | od -An -v -tu1 | xargs)
    [[ $(wc -w <<<"$got") -eq $2 ]] || return 1
    echo "$got"
}

# read_response FD: one length-prefixed response; sets RESP_ID, RESP_RCODE, RESP_QR, RESP_AN.
read_response() {
    local bytes len prefix msg
    bytes=$(read_exact "$1" 2) || return 1
    read -ra prefix <<<"$bytes"
    len=$((prefix[0] * 256 + prefix[1]))
    bytes=$(read_exact "$1" "$len") || return 1
    read -ra msg <<<"$bytes"
    RESP_ID=$((msg[0] * 256 + msg[1]))
    RESP_QR=$((msg[2] >> 7))
    RESP_RCODE=$((msg[3] & 15))
    RESP_AN=$((msg[6] * 256 + msg[7]))
}

# parse_stream FILE: every length-prefixed message in FILE as "id rcode ancount", one a line.
parse_stream() {
    od -An -v -tu1 "$1" | xargs -n1 | awk '
        { b[n++] = $1 }
        END {
            for (i = 0; i + 2 <= n; i += 2 + len) {
                len = b[i] * 256 + b[i + 1]
                if (i + 2 + len > n) { print "short"; break }
                print b[i + 2] * 256 + b[i + 3], b[i + 5] % 16, b[i + 8] * 256 + b[i + 9]
            }
        }'
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- nolbd with a 1 s idle timeout
PORT=$(free_port) || die "find a free port"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/idle.toml" "$PORT" IDLE=1 IO=2 MAX=64
start_nolbd "$TMP/idle.toml" "$PORT"

say "--- ten pipelined queries, one write"
stream=""
expected=""
for ((i = 0; i < 10; i++)); do
    id=$((1000 + i))
    case $((i % 3)) in
        0) stream+=$(tcp_query "$id" www.demo.test 1); expected+="$id 0 2"$'\n' ;;
        1) stream+=$(tcp_query "$id" nonexistent.demo.test 1); expected+="$id 3 0"$'\n' ;;
        2) stream+=$(tcp_query "$id" example.com 1); expected+="$id 5 0"$'\n' ;;
    esac
done
LAST_CMD="printf <10 length-prefixed queries> >/dev/tcp/127.0.0.1/$PORT; cat until EOF"
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || die "connect to 127.0.0.1:$PORT over TCP"
start=$(now_ms)
printf "$stream" >&3
timeout 8 cat <&3 >"$TMP/pipelined.bin"
elapsed=$(($(now_ms) - start))
exec 3<&-
OUT=$(parse_stream "$TMP/pipelined.bin")
expect_eq "ten pipelined queries get ten responses, in order: id rcode answers" "${expected%$'\n'}" "$OUT"
expect_true "the connection stays open until idle, then closes (after ${elapsed} ms, timeout 1 s)" \
    eval "((elapsed >= 700 && elapsed < 6000))"

say "--- idle and half-open connections"
exec 4<>"/dev/tcp/127.0.0.1/$PORT" || die "connect to 127.0.0.1:$PORT over TCP"
LAST_CMD="connect to 127.0.0.1:$PORT, send nothing, read until EOF"
start=$(now_ms)
timeout 8 cat <&4 >/dev/null
elapsed=$(($(now_ms) - start))
exec 4<&-
expect_true "a silent connection is closed after the idle timeout (after ${elapsed} ms)" \
    eval "((elapsed >= 700 && elapsed < 6000))"

exec 4<>"/dev/tcp/127.0.0.1/$PORT" || die "connect to 127.0.0.1:$PORT over TCP"
LAST_CMD="connect, send 1 byte of a length prefix, read until EOF"
start=$(now_ms)
printf '\x00' >&4
timeout 8 cat <&4 >/dev/null
elapsed=$(($(now_ms) - start))
exec 4<&-
expect_true "a connection holding half a length prefix is closed (after ${elapsed} ms)" \
    eval "((elapsed >= 700 && elapsed < 6000))"

exec 4<>"/dev/tcp/127.0.0.1/$PORT" || die "connect to 127.0.0.1:$PORT over TCP"
LAST_CMD="connect, send a length prefix of 40 and 10 bytes, read until EOF"
start=$(now_ms)
printf '\x00\x28\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00' >&4
timeout 8 cat <&4 >/dev/null
elapsed=$(($(now_ms) - start))
exec 4<&-
expect_true "a connection holding half a message is closed (after ${elapsed} ms)" \
    eval "((elapsed >= 700 && elapsed < 6000))"

dig_q @127.0.0.1 -p "$PORT" +tcp www.demo.test A
expect_eq "TCP still answers after the idle closes" "NOERROR 2" "$(status_of) $(count ANSWER A)"

# --- nolbd with at most 4 TCP connections
PORT=$(free_port) || die "find a free port"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/cap.toml" "$PORT" IDLE=30 IO=20 MAX=4
start_nolbd "$TMP/cap.toml" "$PORT"

say "--- tcp_max_connections = 4"
ask_on() {  # FD ID: one query for www.demo.test A on FD, its response read back
    LAST_CMD="query id $2 on connection fd $1 to 127.0.0.1:$PORT"
    # shellcheck disable=SC2261  # stdout goes to the connection, stderr (EPIPE) nowhere
    printf "$(tcp_query "$2" www.demo.test 1)" >&"$1" 2>/dev/null && read_response "$1" &&
        ((RESP_ID == $2 && RESP_QR == 1 && RESP_RCODE == 0 && RESP_AN == 2))
}
exec 3<>"/dev/tcp/127.0.0.1/$PORT" 4<>"/dev/tcp/127.0.0.1/$PORT" \
    5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT" || die "open four TCP connections"
for fd in 3 4 5 6; do
    expect_true "connection $((fd - 2)) of 4 is served" ask_on "$fd" $((2000 + fd))
done
LAST_CMD="a fifth connection to 127.0.0.1:$PORT while the four are idle, one query"
exec 7<>"/dev/tcp/127.0.0.1/$PORT" || die "open a fifth TCP connection"
expect_true "a fifth connection is served while the four are idle" ask_on 7 2007
LAST_CMD="read connection 1 (the longest idle) until EOF"
start=$(now_ms)
timeout 5 cat <&3 >/dev/null
elapsed=$(($(now_ms) - start))
expect_true "connection 1, idle the longest, was closed to make room (EOF after ${elapsed} ms)" \
    eval "((elapsed < 2000))"
exec 3<&-
for fd in 4 5 6; do
    expect_true "connection $((fd - 2)) is still served" ask_on "$fd" $((2100 + fd))
done

# half_on FD ID / rest_on FD ID: the first 3 bytes of a query (12 printf escapes), then the
# rest, and its response.
half_on() { printf "$(tcp_query "$2" www.demo.test 1 | cut -c1-12)" >&"$1"; }
rest_on() {
    LAST_CMD="the rest of query $2 on connection fd $1"
    printf "$(tcp_query "$2" www.demo.test 1 | cut -c13-)" >&"$1" && read_response "$1" &&
        ((RESP_ID == $2 && RESP_QR == 1 && RESP_RCODE == 0 && RESP_AN == 2))
}
for fd in 4 5 6 7; do half_on "$fd" $((2200 + fd)); done
fifth_answered=0
if { exec 8<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null; then
    ask_on 8 2008 && fifth_answered=1
    exec 8<&-
fi
LAST_CMD="another connection to 127.0.0.1:$PORT while all four are half-way through a query"
expect_eq "with none idle, another connection gets no answer" 0 "$fifth_answered"
for fd in 4 5 6 7; do
    expect_true "the busy connection on fd $fd finishes its query" rest_on "$fd" $((2200 + fd))
done
expect_true "and is served after" ask_on 4 2304
dig_q @127.0.0.1 -p "$PORT" www.demo.test A
expect_eq "UDP is served while TCP is at its cap" "NOERROR 2" "$(status_of) $(count ANSWER A)"
exec 4<&- 5<&- 6<&- 7<&-
tcp_served() { dig @127.0.0.1 -p "$PORT" +tcp +time=1 +tries=1 +short www.demo.test A | grep -q 127.0.0.2; }
LAST_CMD="dig +tcp @127.0.0.1 -p $PORT www.demo.test A (after closing the four)"
expect_true "after the four close, new connections are served again" wait_for 10 tcp_served

finish
