#!/usr/bin/env bash
# transfer: nolbd as a zone's primary, asked by dig and kdig. AXFR signed with the zone's TSIG
# key gives the zone with its SOA first and last, every message verified by the client; unsigned,
# or signed with a wrong secret, it is refused (NOTAUTH with BADSIG for the wrong secret). A
# drain changes the zone: IXFR from the old serial carries exactly what left, between the SOAs
# of both serials; IXFR from the current serial gets the SOA alone, and over UDP too. The
# whole zone as AXFR gave it passes ldns-read-zone, and a name outside the zone gets NOTAUTH.
# nolbctl status then shows the secondary (here dig) with the serial it was sent, and stats
# counts the transfers, the refusal and the rejected signature.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolbctl "$NOLBCTL"

DNS_PORT=$(free_port) || die "find a free port for DNS"
CONTROL_SOCKET="$TMP/run/nolbd.sock"
SECRET=$(head -c 32 /dev/urandom | base64)
printf '%s\n' "$SECRET" >"$TMP/xfr.key"
KEY="hmac-sha256:xfr.demo.test.:$SECRET"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$DNS_PORT"
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT"

serial() { dig @127.0.0.1 -p "$DNS_PORT" +time=2 +tries=1 +short demo.test SOA | awk '{ print $3 }'; }
# The records of a transfer as dig prints them, without comments.
records() { grep -Ev '^(;|$)' <<<"$OUT"; }
soa_serials() { records | awk '$4 == "SOA" { print $7 }' | tr '\n' ' ' | sed 's/ $//'; }

# --- AXFR
dig_q @127.0.0.1 -p "$DNS_PORT" -y "$KEY" demo.test AXFR
AXFR=$(records)
first=$(serial)
expect_eq "signed AXFR: SOA first and last, at the current serial" "$first $first" \
    "$(soa_serials | awk '{ print $1, $NF }')"
expect_match "signed AXFR: london's address is in it" '^www\.demo\.test\..*A[[:space:]]+127\.0\.0\.2$' "$AXFR"
expect_match "signed AXFR: the static records are in it" '^mail\.demo\.test\..*192\.0\.2\.25$' "$AXFR"
expect_no_match "signed AXFR: dig verified every message" 'tsig|TSIG.*(error|fail)|Transfer failed' "$OUT"
expect_eq "signed AXFR: every record once" "$(sort <<<"$AXFR" | uniq -d | grep -v SOA)" ""

printf '%s\n' "$AXFR" | grep -v 'TSIG' | sed '$d' >"$TMP/demo.test.zone"
run ldns-read-zone -z "$TMP/demo.test.zone"
expect_eq "ldns-read-zone reads the transferred zone" 0 "$RC"

kdig_q @127.0.0.1 -p "$DNS_PORT" -y "$KEY" demo.test AXFR
expect_eq "kdig's signed AXFR has as many records as dig's" \
    "$(grep -vc TSIG <<<"$AXFR")" "$(grep -Ev '^(;|$)' <<<"$OUT" | grep -vc TSIG)"
expect_no_match "kdig verified every message" 'failed|error|NOTAUTH|REFUSED' "$OUT"

dig_q @127.0.0.1 -p "$DNS_PORT" demo.test AXFR
expect_match "unsigned AXFR is refused" 'Transfer failed|REFUSED' "$OUT"
dig_q @127.0.0.1 -p "$DNS_PORT" -y "hmac-sha256:xfr.demo.test.:$(head -c 32 /dev/urandom | base64)" demo.test SOA
expect_eq "a wrong secret gets NOTAUTH" NOTAUTH "$(status_of)"
expect_match "with BADSIG" 'BADSIG|tsig.*(17|16)|bad signature|Couldn.t verify' "$OUT"
dig_q @127.0.0.1 -p "$DNS_PORT" -y "$KEY" www.demo.test AXFR
expect_match "AXFR of a name that is not a zone: NOTAUTH" 'NOTAUTH|Transfer failed' "$OUT"

# --- IXFR after a change
ctl drain london
expect_eq "drain london" 0 "$RC"
second=$(serial)
expect_true "the drain moved the serial ($first -> $second)" test "$second" != "$first"
dig_q @127.0.0.1 -p "$DNS_PORT" -y "$KEY" demo.test "IXFR=$first"
expect_eq "IXFR: new, old, new, new SOA" "$second $first $second $second" "$(soa_serials)"
expect_eq "IXFR: only london's addresses left" "127.0.0.2 2001:db8::2" \
    "$(records | awk '$4 == "A" || $4 == "AAAA" { print $5 }' | sort | tr '\n' ' ' | sed 's/ $//')"
expect_no_match "IXFR: dig verified it" 'Transfer failed|tsig' "$OUT"

dig_q @127.0.0.1 -p "$DNS_PORT" -y "$KEY" demo.test "IXFR=$second"
expect_eq "IXFR from the current serial: the SOA alone" "$second" "$(soa_serials)"
dig_q @127.0.0.1 -p "$DNS_PORT" -y "$KEY" +notcp demo.test "IXFR=$first"
expect_eq "IXFR over UDP: the SOA alone" "$second" "$(soa_serials)"

# --- What nolbctl shows of it
ctl_json status
expect_eq "status --json: the zone's serial" "$second" "$(jqo '.zones[0].serial')"
expect_eq "status --json: 127.0.0.1 was last sent the current serial, not behind" "$second false" \
    "$(jqo '.zones[0].secondaries[] | select(.address == "127.0.0.1") | "\(.sent) \(.behind)"')"
ctl stats
expect_match "stats counts the transfers and the refusal" \
    '^transfers: axfr [2-9][0-9]*, ixfr [1-9][0-9]*, up to date [1-9][0-9]*, refused [1-9]' "$OUT"
expect_match "stats counts the rejected signature" 'tsig errors [1-9]' "$OUT"

finish
