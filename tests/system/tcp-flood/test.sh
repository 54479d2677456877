#!/usr/bin/env bash
# tcp-flood: clients that take TCP connections and do not use them cost nolbd nothing it needs
# for everyone else. nolb-tcpflood holds 1,000 connections from 25 loopback addresses, 40 each
# (the per-client cap): 800 silent, 200 trickling a query a byte every 0.5 s. While they are
# held, UDP and fresh TCP clients are answered; a 41st connection from a flooding address is
# refused; the trickling ones are cut off once tcp_io_timeout has passed since their first
# byte. Then 600 more idle connections overfill tcp_max_connections = 1200: the longest idle
# make room for them (eviction, RFC 7766 6.2.3), and a fresh client is still answered.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

NOLB_TCPFLOOD=${NOLB_TCPFLOOD:-$NOLB_BUILD_DIR/tests/tools/nolb-tcpflood}
need_program nolbctl "$NOLBCTL"
need_program nolb-tcpflood "$NOLB_TCPFLOOD"
command -v jq >/dev/null || die "jq is installed (contrib/install-deps.sh)"
# Both sides hold over a thousand descriptors.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= 4096)) || die "4096 descriptors may be opened (ulimit -n is $(ulimit -n))"

IO=3
PORT=$(free_port) || die "find a free port"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$PORT" IDLE=60 IO=$IO MAX=1200 PER=40
start_nolbd "$TMP/nolbd.toml" "$PORT"
SOCKET="$TMP/nolbd.sock"

tcp_stat() { "$NOLBCTL" --socket "$SOCKET" stats --json | jq -r ".tcp.$1"; }
served_udp() {
    dig @127.0.0.1 -p "$PORT" +time=1 +tries=1 +short www.demo.test A | grep -q 127.0.0.2
}
served_tcp_from() {  # SOURCE
    dig @127.0.0.1 -p "$PORT" -b "$1" +tcp +time=2 +tries=1 +short www.demo.test A |
        grep -q 127.0.0.2
}
# wait_line FILE PATTERN SECONDS: FILE has a line matching PATTERN within SECONDS.
wait_line() { wait_for "$3" grep -Eq "$2" "$1"; }
report_value() { grep -Eo "(^| )$2=-?[0-9]+" "$1" | tail -n 1 | cut -d= -f2; }

say "--- 1,000 connections from 25 addresses: 800 idle, 200 trickling"
FLOOD="$TMP/flood.out"
LAST_CMD="nolb-tcpflood --server 127.0.0.1:$PORT --source 127.0.1.1 --sources 25 --per-source 40 --trickle 5 --interval-ms 500 --hold 40"
"$NOLB_TCPFLOOD" --server "127.0.0.1:$PORT" --source 127.0.1.1 --sources 25 --per-source 40 \
    --trickle 5 --interval-ms 500 --hold 40 >"$FLOOD" 2>&1 &
FLOOD_PID=$!
track "$FLOOD_PID" nolb-tcpflood "$FLOOD"
wait_line "$FLOOD" '^ready ' 20 || die "nolb-tcpflood connects within 20 s" "$(block "$(<"$FLOOD")")"
OUT=$(<"$FLOOD")
expect_eq "1,000 connections open" "1000 0" "$(report_value "$FLOOD" opened) $(report_value "$FLOOD" failed)"
LAST_CMD="nolbctl stats --json: tcp.accepted"
expect_true "nolbd accepted all of them" wait_for 5 eval '(($(tcp_stat accepted) == 1000))'

udp_ok=0 tcp_ok=0
for i in 1 2 3 4 5; do
    served_udp && udp_ok=$((udp_ok + 1))
    served_tcp_from "127.0.9.$i" && tcp_ok=$((tcp_ok + 1))
done
LAST_CMD="dig @127.0.0.1 -p $PORT [+tcp -b 127.0.9.N] www.demo.test A, 5 times each"
expect_eq "UDP queries are answered while the flood holds its connections" 5 "$udp_ok"
expect_eq "fresh TCP clients are answered while the flood holds its connections" 5 "$tcp_ok"

LAST_CMD="dig +tcp -b 127.0.1.2 @127.0.0.1 -p $PORT www.demo.test A (a 41st connection)"
expect_true "a 41st connection from a flooding address gets no answer" \
    eval '! served_tcp_from 127.0.1.2'
expect_true "it is counted as refused per client" eval '(($(tcp_stat refused_per_client) >= 1))'
expect_eq "no connection was evicted: 1,000 of 1,200 is not full" 0 "$(tcp_stat evicted)"

say "--- the trickling connections after tcp_io_timeout = $IO s"
LAST_CMD="nolbctl stats --json: tcp.io_timed_out"
expect_true "all 200 trickling connections are cut off by the io timeout" \
    wait_for $((IO + 5)) eval '(($(tcp_stat io_timed_out) == 200))'
expect_eq "no idle connection timed out" 0 "$(tcp_stat timed_out)"

say "--- 600 more idle connections overfill tcp_max_connections = 1200"
MORE="$TMP/more.out"
LAST_CMD="nolb-tcpflood --server 127.0.0.1:$PORT --source 127.0.2.1 --sources 15 --per-source 40 --hold 30"
"$NOLB_TCPFLOOD" --server "127.0.0.1:$PORT" --source 127.0.2.1 --sources 15 --per-source 40 \
    --hold 30 >"$MORE" 2>&1 &
MORE_PID=$!
track "$MORE_PID" nolb-tcpflood "$MORE"
wait_line "$MORE" '^ready ' 20 || die "the second nolb-tcpflood connects within 20 s" "$(block "$(<"$MORE")")"
OUT=$(<"$MORE")
expect_eq "600 more connections open" "600 0" "$(report_value "$MORE" opened) $(report_value "$MORE" failed)"
sleep 0.5
evicted=$(tcp_stat evicted)
LAST_CMD="nolbctl stats --json: tcp.evicted"
expect_true "idle connections made room for new ones (evicted: $evicted, at least 200)" \
    eval "((evicted >= 200))"
expect_true "a fresh TCP client is answered with the cap full of idle connections" \
    served_tcp_from 127.0.9.9
expect_true "and UDP still is" served_udp
expect_eq "nothing was refused for want of an idle connection" 0 "$(tcp_stat refused)"

for pid in "$MORE_PID" "$FLOOD_PID"; do
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    untrack "$pid"
done
OUT=$(<"$FLOOD")
say "flood: $(tail -n 1 "$FLOOD")"
say "more:  $(tail -n 1 "$MORE")"
expect_eq "the flood saw its 200 trickling connections closed" 200 "$(report_value "$FLOOD" trickle_closed)"
low=$(report_value "$FLOOD" trickle_close_min_ms) high=$(report_value "$FLOOD" trickle_close_max_ms)
expect_true "each about $IO s after its first byte (${low}..${high} ms)" \
    eval "((low >= IO * 1000 - 300 && high <= IO * 1000 + 1500))"
expect_true "the evicted were the flood's, the longest idle: $(report_value "$FLOOD" idle_closed) closed" \
    eval "(($(report_value "$FLOOD" idle_closed) >= 200))"
OUT=$(<"$MORE")
expect_eq "none of the newer connections was closed" 0 "$(report_value "$MORE" idle_closed)"
expect_eq "nolbd closed nothing at once: no cap reset a flood connection" \
    "0 0" "$(report_value "$FLOOD" early_closed) $(report_value "$MORE" early_closed)"

finish
