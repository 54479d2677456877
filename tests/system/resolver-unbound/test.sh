#!/usr/bin/env bash
# resolver-unbound: a real recursive resolver (unbound) knows demo.test. only through a stub
# zone pointing at nolbd. A client asking unbound gets nolbd's data: the service's addresses
# with a TTL no longer than the service's, a static record, NXDOMAIN passed on. Once nolbd is
# stopped, a name unbound has not cached fails: the answers really came from nolbd.
source "$(dirname "$0")/../lib.sh"

PORT=$(free_port) || die "find a free port for nolbd"
UNBOUND_PORT=$(free_port) || die "find a free port for unbound"
[[ "$UNBOUND_PORT" != "$PORT" ]] || UNBOUND_PORT=$(free_port)

write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$PORT"
start_nolbd "$TMP/nolbd.toml" "$PORT"

write_config "$SCENARIO_DIR/unbound.conf.in" "$TMP/unbound.conf" "$PORT" UNBOUND_PORT="$UNBOUND_PORT"
run unbound-checkconf "$TMP/unbound.conf"
expect_eq "unbound accepts its config" 0 "$RC"
unbound -d -c "$TMP/unbound.conf" >"$TMP/unbound.log" 2>&1 &
UNBOUND_PID=$!
track "$UNBOUND_PID" unbound "$TMP/unbound.log"
resolver_up() { alive "$UNBOUND_PID" && answers_on "$UNBOUND_PORT" example.invalid; }
wait_for 20 resolver_up || die "unbound starts on 127.0.0.1:$UNBOUND_PORT" "log:" "$(block "$(<"$TMP/unbound.log")")"

ask() { dig_q @127.0.0.1 -p "$UNBOUND_PORT" "$@"; }

ask www.demo.test A
expect_eq "the service through unbound is NOERROR" NOERROR "$(status_of)"
expect_eq "the service through unbound has both addresses" "$(printf '127.0.0.2\n127.0.0.3')" "$(rdata ANSWER A)"
ttl=$(ttls ANSWER A)
expect_true "the service through unbound has a TTL of at most 20 (got '$ttl')" test "${ttl:-999}" -le 20
expect_true "unbound offers recursion (ra)" has_flag ra
expect_true "unbound's answer is not authoritative" eval '! has_flag aa'

ask info.demo.test TXT
expect_eq "a static record through unbound" '"served by nolbd"' "$(rdata ANSWER TXT)"

ask nonexistent.demo.test A
expect_eq "NXDOMAIN is passed on" NXDOMAIN "$(status_of)"
expect_eq "NXDOMAIN comes with nolbd's SOA" 1 "$(count AUTHORITY SOA)"

ask info.demo.test AAAA
expect_eq "NODATA is passed on" "NOERROR 0" "$(status_of) $(count ANSWER)"

# The proof that unbound asked nolbd: nolbd gives the same data directly, and once nolbd is
# stopped unbound has no answer for a name it has not cached (SERVFAIL, or none within 3 s:
# it keeps retrying an unresponsive server for longer than that).
dig_q @127.0.0.1 -p "$PORT" info.demo.test TXT
expect_eq "nolbd itself serves that record" '"served by nolbd"' "$(rdata ANSWER TXT)"
stop "$NOLBD_PID"
run dig @127.0.0.1 -p "$UNBOUND_PORT" +time=3 +tries=1 uncached.demo.test A
expect_match "with nolbd stopped, an uncached name gets no answer" '^(SERVFAIL|)$' "$(status_of)"

finish
