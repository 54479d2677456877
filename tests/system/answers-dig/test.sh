#!/usr/bin/env bash
# answers-dig: nolbd serves the rich demo.test. zone (tests/system/data) and dig asks it every
# kind of question an operator would, over UDP and TCP, on IPv4 and IPv6. Each answer is
# checked against the answering rules in README.md. Last, 200 queries for a four-node service
# show that every node comes first sometimes.
source "$(dirname "$0")/../lib.sh"

PORT=$(free_port) || die "find a free port"
write_config "$DATA/demo.toml.in" "$TMP/nolbd.toml" "$PORT" CHAOS=false
start_nolbd "$TMP/nolbd.toml" "$PORT"

SOA_RDATA="ns1.demo.test. hostmaster.demo.test. 2024060101 3600 600 1209600 60"

# lines: the arguments joined one per line, sorted (to compare with rdata's output).
lines() { printf '%s\n' "$@" | sort; }
lower() { tr '[:upper:]' '[:lower:]'; }
types_in() { section "$1" | awk '{ print $4 }' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# A negative answer (NXDOMAIN or NODATA): our SOA alone in authority, with the negative TTL
# min(SOA TTL 3600, minimum 60) = 60 (RFC 2308 section 3), and nothing in the answer.
expect_negative() {  # LABEL RCODE
    expect_eq "$1: rcode" "$2" "$(status_of)"
    expect_true "$1: authoritative" has_flag aa
    expect_eq "$1: empty answer" 0 "$(count ANSWER)"
    expect_eq "$1: the zone's SOA in authority" "$SOA_RDATA" "$(rdata AUTHORITY SOA)"
    expect_eq "$1: SOA TTL is min(SOA TTL, minimum)" 60 "$(ttls AUTHORITY SOA)"
}

check_answers() {  # LABEL ADDRESS DIG-TRANSPORT-OPTION
    local t=$1 addr=$2 tcp=$3
    ask() { dig_q @"$addr" -p "$PORT" "$tcp" "$@"; }

    say "--- $t"
    # A service: every address of the family, the service TTL, authoritative, no recursion.
    ask www.demo.test A
    expect_eq "$t: www A is NOERROR" NOERROR "$(status_of)"
    expect_true "$t: www A has aa" has_flag aa
    expect_true "$t: www A has no ra" eval '! has_flag ra'
    expect_true "$t: www A copies rd from the query" has_flag rd
    expect_eq "$t: www A lists both nodes" "$(lines 127.0.0.2 127.0.0.3)" "$(rdata ANSWER A)"
    expect_eq "$t: www A has the service TTL" 20 "$(ttls ANSWER A)"
    expect_eq "$t: www A answer holds only A" A "$(types_in ANSWER)"

    ask www.demo.test AAAA
    expect_eq "$t: www AAAA lists both nodes" "$(lines 2001:db8::2 2001:db8::3)" "$(rdata ANSWER AAAA)"
    expect_eq "$t: www AAAA has the service TTL" 20 "$(ttls ANSWER AAAA)"

    ask api.demo.test AAAA
    expect_negative "$t: api AAAA (service without IPv6) is NODATA" NOERROR

    # The apex: SOA and NS from the TOML, glue for the in-zone name server.
    ask demo.test SOA
    expect_eq "$t: apex SOA" "$SOA_RDATA" "$(rdata ANSWER SOA)"
    expect_eq "$t: apex SOA TTL is the zone TTL" 3600 "$(ttls ANSWER SOA)"
    expect_true "$t: apex SOA has aa" has_flag aa

    ask demo.test NS
    expect_eq "$t: apex NS" "$(lines ns1.demo.test. ns2.example.net.)" "$(rdata ANSWER NS)"
    expect_match "$t: glue A for ns1 in additional" '^ns1\.demo\.test\. [0-9]+ IN A 127\.0\.0\.1$' "$(section ADDITIONAL)"
    if ((HAVE_IPV6)); then
        expect_match "$t: glue AAAA for ns1 in additional" '^ns1\.demo\.test\. [0-9]+ IN AAAA ::1$' "$(section ADDITIONAL)"
    fi
    expect_no_match "$t: no glue for the out-of-zone ns2" '^ns2\.example\.net\.' "$(section ADDITIONAL)"

    # Static records, from `records` in the TOML and from the master file, as written.
    ask demo.test MX
    expect_eq "$t: apex MX from records" "10 mail.demo.test." "$(rdata ANSWER MX)"
    ask mail.demo.test A
    expect_eq "$t: mail A from records" 192.0.2.25 "$(rdata ANSWER A)"
    expect_eq "$t: mail A has the zone TTL" 3600 "$(ttls ANSWER A)"
    ask note.demo.test TXT
    expect_eq "$t: note TXT from records" '"from the config"' "$(rdata ANSWER TXT)"
    expect_eq "$t: note TXT keeps its own TTL" 120 "$(ttls ANSWER TXT)"
    ask filemx.demo.test MX
    expect_eq "$t: filemx MX from the zone file" "20 mail.demo.test." "$(rdata ANSWER MX)"
    ask txt.demo.test TXT
    expect_eq "$t: txt TXT from the zone file" '"from the zone file"' "$(rdata ANSWER TXT)"
    expect_eq "$t: txt TXT keeps its own TTL" 300 "$(ttls ANSWER TXT)"
    ask _http._tcp.demo.test SRV
    expect_eq "$t: SRV" "10 60 8080 www.demo.test." "$(rdata ANSWER SRV)"
    ask sshfp.demo.test SSHFP
    expect_eq "$t: SSHFP" "1 1 0123456789abcdef0123456789abcdef01234567" "$(rdata ANSWER SSHFP | lower | tr -d ' ' | sed 's/^11/1 1 /')"
    ask hinfo.demo.test HINFO
    expect_eq "$t: HINFO" '"PC" "Linux"' "$(rdata ANSWER HINFO)"
    ask demo.test CAA
    expect_eq "$t: apex CAA" '0 issue "ca.example.net"' "$(rdata ANSWER CAA)"
    ask unknown.demo.test TYPE65534
    expect_eq "$t: unknown type in RFC 3597 form" '\# 3 abcdef' "$(rdata ANSWER TYPE65534 | lower)"

    # CNAME: followed inside the zone (to a service, shuffled), not out of it.
    ask alias.demo.test A
    expect_eq "$t: alias A is NOERROR" NOERROR "$(status_of)"
    expect_eq "$t: alias A chain" "alias.demo.test. CNAME alias2.demo.test.
alias2.demo.test. CNAME www.demo.test." "$(section ANSWER | awk '$4 == "CNAME" { print $1, $4, $5 }')"
    expect_eq "$t: alias A ends in the service's addresses" "$(lines 'www.demo.test. 127.0.0.2' 'www.demo.test. 127.0.0.3')" \
        "$(section ANSWER | awk '$4 == "A" { print $1, $5 }' | sort)"
    ask alias.demo.test CNAME
    expect_eq "$t: alias CNAME is the CNAME alone" "alias.demo.test. CNAME alias2.demo.test." \
        "$(section ANSWER | awk '{ print $1, $4, $5 }')"
    ask ext.demo.test A
    expect_eq "$t: CNAME out of the zone is not followed" "ext.demo.test. CNAME www.example.net." \
        "$(section ANSWER | awk '{ print $1, $4, $5 }')"
    expect_eq "$t: CNAME out of the zone is NOERROR" NOERROR "$(status_of)"

    # Wildcards (RFC 4592).
    ask foo.wild.demo.test A
    expect_eq "$t: wildcard A, owner is the query name" "foo.wild.demo.test. A 192.0.2.80" \
        "$(section ANSWER | awk '{ print $1, $4, $5 }')"
    expect_true "$t: wildcard answer has aa" has_flag aa
    ask x.y.wild.demo.test TXT
    expect_eq "$t: wildcard covers deeper names" 'x.y.wild.demo.test. TXT "wildcard"' \
        "$(section ANSWER | awk '{ print $1, $4, $5 }')"
    ask foo.wild.demo.test AAAA
    expect_negative "$t: wildcard with no AAAA is NODATA" NOERROR
    ask real.wild.demo.test A
    expect_eq "$t: a name beside the wildcard answers itself" 192.0.2.81 "$(rdata ANSWER A)"
    ask below.real.wild.demo.test A
    expect_negative "$t: below an existing name the wildcard does not apply (NXDOMAIN)" NXDOMAIN

    # Negative answers.
    ask mail.demo.test TXT
    expect_negative "$t: existing name, other type is NODATA" NOERROR
    ask mail.demo.test NS
    expect_negative "$t: NS below the apex where there is none is NODATA" NOERROR
    ask nonexistent.demo.test A
    expect_negative "$t: nonexistent name is NXDOMAIN" NXDOMAIN
    ask b.c.demo.test A
    expect_negative "$t: empty non-terminal b.c is NODATA" NOERROR
    ask c.demo.test A
    expect_negative "$t: empty non-terminal c is NODATA" NOERROR
    ask wild.demo.test A
    expect_negative "$t: the wildcard's parent (an ENT) is NODATA" NOERROR

    # Delegation: a referral, not an answer.
    local q
    for q in "host.sub.demo.test A" "sub.demo.test NS" "ns.sub.demo.test A"; do
        # shellcheck disable=SC2086
        ask $q
        expect_eq "$t: $q is a NOERROR referral" NOERROR "$(status_of)"
        expect_true "$t: $q referral has no aa" eval '! has_flag aa'
        expect_eq "$t: $q referral has an empty answer" 0 "$(count ANSWER)"
        expect_eq "$t: $q referral has the NS set in authority" \
            "$(lines 'sub.demo.test. ns.example.net.' 'sub.demo.test. ns.sub.demo.test.')" \
            "$(section AUTHORITY | awk '$4 == "NS" { print $1, $5 }' | sort)"
        expect_match "$t: $q referral has the glue" '^ns\.sub\.demo\.test\. [0-9]+ IN A 127\.0\.0\.53$' "$(section ADDITIONAL)"
    done

    # Outside every zone, and other classes.
    ask example.com A
    expect_eq "$t: a name outside every zone is REFUSED" REFUSED "$(status_of)"
    ask test. SOA
    expect_eq "$t: the parent of a zone is REFUSED" REFUSED "$(status_of)"
    ask version.bind TXT CH
    expect_eq "$t: CHAOS version.bind is REFUSED when chaos = false" REFUSED "$(status_of)"
    ask www.demo.test A HS
    expect_eq "$t: class HS is REFUSED" REFUSED "$(status_of)"

    # The query name comes back with the case it was sent in.
    ask WwW.DeMo.TeSt A
    expect_eq "$t: mixed-case question echoed" "WwW.DeMo.TeSt. IN A" "$(section QUESTION)"
    expect_eq "$t: mixed-case question still answered" 2 "$(count ANSWER A)"

    # ANY: one RRset (RFC 8482).
    ask www.demo.test ANY
    expect_eq "$t: ANY at a service is NOERROR" NOERROR "$(status_of)"
    expect_eq "$t: ANY at a service gives one RRset" 1 "$(section ANSWER | awk '{ print $1, $4 }' | sort -u | grep -c .)"
    ask demo.test ANY
    expect_eq "$t: ANY at the apex gives one RRset" 1 "$(section ANSWER | awk '{ print $1, $4 }' | sort -u | grep -c .)"
}

check_answers udp4 127.0.0.1 +notcp
check_answers tcp4 127.0.0.1 +tcp
if ((HAVE_IPV6)); then
    check_answers udp6 ::1 +notcp
    check_answers tcp6 ::1 +tcp
else
    say "no ::1 on this host: IPv6 transports skipped"
fi

# Shuffle: each response draws a fresh order. 200 queries in one dig run (-f); with 4 addresses
# the chance that one never comes first is 4 * (3/4)^200, about 1e-25.
say "--- shuffle"
shuffle_orders() {  # NAME TYPE N PER: sets ORDERS, one line per response, its PER addresses in order
    local name=$1 type=$2 n=$3 per=$4 i
    for ((i = 0; i < n; i++)); do echo "$name $type"; done >"$TMP/batch"
    run dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +noall +answer +nottlid +noclass -f "$TMP/batch"
    # One answer per query, each a run of lines with the same owner: cut at the query count.
    ORDERS=$(awk -v per="$per" '{ order = order (order ? "," : "") $3; if (++k == per) { print order; order = ""; k = 0 } }' <<<"$OUT")
}
shuffle_orders pool.demo.test A 200 4
orders=$ORDERS
expect_eq "shuffle: 200 responses of 4 addresses" 200 "$(grep -c . <<<"$orders")"
expect_eq "shuffle: every address comes first at least once" \
    "$(lines 127.0.1.1 127.0.1.2 127.0.1.3 127.0.1.4)" "$(cut -d, -f1 <<<"$orders" | sort -u)"
expect_eq "shuffle: every address comes last at least once" \
    "$(lines 127.0.1.1 127.0.1.2 127.0.1.3 127.0.1.4)" "$(cut -d, -f4 <<<"$orders" | sort -u)"
distinct=$(sort -u <<<"$orders" | grep -c .)
expect_true "shuffle: at least 12 of the 24 orders seen in 200 responses (saw $distinct)" test "$distinct" -ge 12
sets=$(while IFS= read -r order; do tr , '\n' <<<"$order" | sort | paste -sd, -; done <<<"$orders" | sort -u)
expect_eq "shuffle: every response holds each address exactly once" \
    "127.0.1.1,127.0.1.2,127.0.1.3,127.0.1.4" "$sets"
shuffle_orders www.demo.test AAAA 50 2
orders=$ORDERS
expect_eq "shuffle: both www AAAA addresses come first in 50 responses" \
    "$(lines 2001:db8::2 2001:db8::3)" "$(cut -d, -f1 <<<"$orders" | sort -u)"

finish
