#!/usr/bin/env bash
# answers-kdig: the demo.test. zone again, this time through kdig (Knot DNS's client), with
# the CHAOS names switched on. Besides the everyday answers it exercises EDNS (OPT echoed with
# our payload size, BADVERS for version 1, unknown options ignored), UDP truncation to whole
# RRsets with TC at 512 bytes without EDNS and at 1232 with it, and TCP carrying everything.
source "$(dirname "$0")/../lib.sh"

PORT=$(free_port) || die "find a free port"
write_config "$DATA/demo.toml.in" "$TMP/nolbd.toml" "$PORT" CHAOS=true
start_nolbd "$TMP/nolbd.toml" "$PORT"

lines() { printf '%s\n' "$@" | sort; }
ask() { kdig_q @127.0.0.1 -p "$PORT" "$@"; }
received() { grep -Eo '^;; Received [0-9]+ B' <<<"$OUT" | awk '{ print $3 }' | tail -n 1; }
edns_line() { grep -E '^;; Version: ' <<<"$OUT" | head -n 1; }
transport() { grep -Eo '^;; From .*\((UDP|TCP)\)' <<<"$OUT" | grep -Eo 'UDP|TCP' | tail -n 1; }

# --- The everyday answers, over each transport.
for t in udp4 tcp4 udp6 tcp6; do
    case $t in
        *6) ((HAVE_IPV6)) || continue; addr=::1 ;;
        *) addr=127.0.0.1 ;;
    esac
    case $t in tcp*) tcp=+tcp ;; *) tcp=+notcp ;; esac
    say "--- $t"
    kdig_q @"$addr" -p "$PORT" "$tcp" www.demo.test A
    expect_eq "$t: www A is NOERROR" NOERROR "$(status_of)"
    expect_true "$t: www A has aa" has_flag aa
    expect_true "$t: www A has no ra" eval '! has_flag ra'
    expect_eq "$t: www A lists both nodes" "$(lines 127.0.0.2 127.0.0.3)" "$(rdata ANSWER A)"
    expect_eq "$t: www A has the service TTL" 20 "$(ttls ANSWER A)"
    expect_eq "$t: answered over $t" "$(tr '[:lower:]' '[:upper:]' <<<"${t%?}")" "$(transport)"
    kdig_q @"$addr" -p "$PORT" "$tcp" www.demo.test AAAA
    expect_eq "$t: www AAAA lists both nodes" "$(lines 2001:db8::2 2001:db8::3)" "$(rdata ANSWER AAAA)"
    kdig_q @"$addr" -p "$PORT" "$tcp" nonexistent.demo.test A
    expect_eq "$t: nonexistent name is NXDOMAIN" NXDOMAIN "$(status_of)"
    expect_eq "$t: NXDOMAIN carries the SOA with TTL 60" "SOA 60" "$(section AUTHORITY | awk '{ print $4, $2 }')"
    kdig_q @"$addr" -p "$PORT" "$tcp" mail.demo.test TXT
    expect_eq "$t: existing name, other type is NODATA" "NOERROR 0" "$(status_of) $(count ANSWER)"
    expect_eq "$t: NODATA carries the SOA with TTL 60" "SOA 60" "$(section AUTHORITY | awk '{ print $4, $2 }')"
    kdig_q @"$addr" -p "$PORT" "$tcp" b.c.demo.test A
    expect_eq "$t: empty non-terminal is NODATA" "NOERROR 0 1" "$(status_of) $(count ANSWER) $(count AUTHORITY SOA)"
    kdig_q @"$addr" -p "$PORT" "$tcp" host.sub.demo.test A
    expect_eq "$t: delegated name gets a referral" "NOERROR 0 2" "$(status_of) $(count ANSWER) $(count AUTHORITY NS)"
    expect_true "$t: referral is not authoritative" eval '! has_flag aa'
    expect_eq "$t: referral glue" 127.0.0.53 "$(rdata ADDITIONAL A)"
    kdig_q @"$addr" -p "$PORT" "$tcp" alias.demo.test AAAA
    expect_eq "$t: CNAME chain to the service's AAAA" "CNAME CNAME AAAA AAAA" \
        "$(section ANSWER | awk '{ print $4 }' | tr '\n' ' ' | sed 's/ $//')"
    kdig_q @"$addr" -p "$PORT" "$tcp" deep.er.wild.demo.test TXT
    expect_eq "$t: wildcard TXT" 'deep.er.wild.demo.test. "wildcard"' "$(section ANSWER | awk '{ print $1, $5 }')"
    kdig_q @"$addr" -p "$PORT" "$tcp" unknown.demo.test TYPE65534
    expect_eq "$t: unknown type in RFC 3597 form" '\# 3 abcdef' "$(rdata ANSWER TYPE65534 | tr '[:upper:]' '[:lower:]')"
    kdig_q @"$addr" -p "$PORT" "$tcp" example.org SOA
    expect_eq "$t: outside every zone is REFUSED" REFUSED "$(status_of)"
    kdig_q @"$addr" -p "$PORT" "$tcp" demo.test ANY
    expect_eq "$t: ANY gives one RRset" 1 "$(section ANSWER | awk '{ print $1, $4 }' | sort -u | grep -c .)"
done

# --- EDNS (RFC 6891).
say "--- EDNS"
ask +noedns www.demo.test A
expect_eq "no EDNS in the query: no OPT in the response" "" "$(edns_line)"
ask +edns www.demo.test A
expect_match "EDNS query: OPT echoed, version 0, our payload size 1232" '^;; Version: 0; .*UDP size: 1232 B' "$(edns_line)"
expect_eq "EDNS query is answered" "NOERROR 2" "$(status_of) $(count ANSWER A)"
ask +bufsize=4096 www.demo.test A
expect_match "client offers 4096: OPT still says 1232" 'UDP size: 1232 B' "$(edns_line)"
ask +edns=1 www.demo.test A
expect_eq "EDNS version 1 is BADVERS" BADVERS "$(status_of)"
expect_match "BADVERS response carries an OPT of version 0" '^;; Version: 0;.*ext-rcode: BADVERS' "$(edns_line)"
expect_eq "BADVERS response has no answer" 0 "$(count ANSWER)"
ask +cookie www.demo.test A
expect_eq "an EDNS option nolbd does not implement (COOKIE) is ignored" "NOERROR 2" "$(status_of) $(count ANSWER A)"
ask +nsid +dnssec www.demo.test A
expect_eq "NSID and DO in the query still get the answer" "NOERROR 2" "$(status_of) $(count ANSWER A)"

# --- Truncation: UDP responses over the client's limit lose whole RRsets and set TC.
say "--- truncation"
ask +notcp +ignore +noedns big.demo.test TXT
expect_true "big TXT (about 650 B) without EDNS over UDP sets TC" has_flag tc
expect_true "big TXT without EDNS fits 512 bytes (got $(received) B)" test "$(received)" -le 512
expect_match "big TXT without EDNS holds none or all 3 TXT records" '^(0|3)$' "$(count ANSWER TXT)"
ask +notcp +ignore +noedns bigalias.demo.test TXT
expect_true "CNAME to big TXT without EDNS sets TC" has_flag tc
expect_match "CNAME to big TXT: the TXT RRset is whole or absent" '^(0|3)$' "$(count ANSWER TXT)"
expect_true "CNAME to big TXT fits 512 bytes (got $(received) B)" test "$(received)" -le 512
ask +noedns big.demo.test TXT
expect_eq "kdig retries a truncated answer over TCP and gets it whole" "TCP 3" "$(transport) $(count ANSWER TXT)"
ask +tcp +noedns big.demo.test TXT
expect_eq "big TXT over TCP is complete" 3 "$(count ANSWER TXT)"
expect_true "big TXT over TCP has no TC" eval '! has_flag tc'
ask +notcp +ignore +bufsize=1232 big.demo.test TXT
expect_eq "big TXT with EDNS 1232 over UDP is complete" 3 "$(count ANSWER TXT)"
expect_true "big TXT with EDNS 1232 has no TC" eval '! has_flag tc'
expect_true "big TXT with EDNS is over 512 bytes (got $(received) B)" test "$(received)" -gt 512
ask +notcp +ignore +bufsize=1232 huge.demo.test TXT
expect_true "huge TXT (about 2,100 B) with EDNS 1232 over UDP sets TC" has_flag tc
expect_match "huge TXT with EDNS 1232 holds none or all 8 TXT records" '^(0|8)$' "$(count ANSWER TXT)"
expect_true "huge TXT with EDNS fits 1232 bytes (got $(received) B)" test "$(received)" -le 1232
ask +notcp +ignore +bufsize=4096 huge.demo.test TXT
expect_true "client offers 4096: nolbd still keeps UDP to its own 1232 (got $(received) B)" test "$(received)" -le 1232
ask +tcp huge.demo.test TXT
expect_eq "huge TXT over TCP is complete" 8 "$(count ANSWER TXT)"
expect_true "huge TXT over TCP has no TC" eval '! has_flag tc'
ask +notcp +ignore +bufsize=100 txt.demo.test TXT
expect_eq "a buffer size under 512 counts as 512 (RFC 6891 6.2.5): small answer whole" "NOERROR 1" "$(status_of) $(count ANSWER TXT)"
expect_true "a buffer size under 512: no TC for a small answer" eval '! has_flag tc'

# --- Several queries on one TCP connection, one after another.
say "--- TCP, connection kept open"
ask +tcp +keepopen www.demo.test A pool.demo.test A demo.test SOA
expect_eq "three queries on a kept-open TCP connection get three responses" 3 "$(grep -c '^;; ->>HEADER<<-' <<<"$OUT")"
expect_eq "the three responses are NOERROR" "NOERROR NOERROR NOERROR" "$(grep -Eo 'status: [A-Z]+' <<<"$OUT" | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')"

# --- CHAOS class (chaos = true in this config).
say "--- CHAOS"
ask version.bind TXT CH
expect_eq "version.bind CH TXT is answered" NOERROR "$(status_of)"
expect_match "version.bind names nolbd" '^version\.bind\. [0-9]+ CH TXT "nolbd' "$(section ANSWER)"
ask id.server TXT CH
expect_eq "id.server CH TXT is answered" "NOERROR 1" "$(status_of) $(count ANSWER TXT)"
ask hostname.bind TXT CH
expect_eq "hostname.bind CH TXT is answered" "NOERROR 1" "$(status_of) $(count ANSWER TXT)"
ask www.demo.test A CH
expect_eq "a zone name in class CH is REFUSED" REFUSED "$(status_of)"

finish
