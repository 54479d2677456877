#!/usr/bin/env bash
# metrics: the Prometheus endpoint, scraped with curl. GET /metrics is text exposition format
# with HELP and TYPE lines; nolb_address_up{service,node,address} is 1 for an address that is up
# and turns 0 when its backend fails (and so does nolb_address_published); the DNS query and
# response counters move by the queries sent; probe counters move on their own; any other path
# is 404.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../../tools/health.sh"

need_program nolb-testhttp "$NOLB_TESTHTTP"
command -v curl >/dev/null || die "curl is installed (contrib/install-deps.sh)"

DNS_PORT=$(free_port) || die "find a free port for DNS"
HTTP_PORT=$(free_port) || die "find a free port for the backends"
METRICS_PORT=$(free_port) || die "find a free port for the metrics"
LONDON=127.0.0.2 GENEVA=127.0.0.3
CONTROL_SOCKET="$TMP/nolbd.sock"
METRICS="http://127.0.0.1:$METRICS_PORT"
write_config "$SCENARIO_DIR/nolbd.toml.in" "$TMP/nolbd.toml" "$DNS_PORT" \
    "HTTP_PORT=$HTTP_PORT" "METRICS_PORT=$METRICS_PORT"

start_backend london "$LONDON:$HTTP_PORT"
start_backend geneva "$GENEVA:$HTTP_PORT"
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT"

# scrape [PATH]: GET PATH (default /metrics); body in OUT, status code in CODE, content type in
# CTYPE.
scrape() {
    local path=${1:-/metrics}
    LAST_CMD="curl $METRICS$path"
    OUT=$(curl -sS --max-time 5 -D "$TMP/headers" "$METRICS$path" 2>&1)
    RC=$?
    CODE=$(awk 'NR == 1 { print $2 }' "$TMP/headers" 2>/dev/null)
    CTYPE=$(grep -i '^content-type:' "$TMP/headers" 2>/dev/null | cut -d: -f2- | tr -d ' \r')
}

# sample NAME LABEL=VALUE...: the value of the one sample of NAME carrying these labels (in any
# order), from the last scrape.
sample() {
    local name=$1 line
    shift
    local lines
    lines=$(grep -E "^$name\{" <<<"$OUT")
    local pair
    for pair in "$@"; do
        lines=$(grep -F -- "${pair%%=*}=\"${pair#*=}\"" <<<"$lines")
    done
    line=$(head -n 1 <<<"$lines")
    [[ -n "$line" ]] && awk '{ print $NF }' <<<"$line"
}

# sum NAME: the sum of every sample of NAME (any labels), from the last scrape.
sum() {
    grep -E "^$1(\{| )" <<<"$OUT" | awk '{ s += $NF } END { printf "%d\n", s }'
}

address_up() {  # NODE ADDRESS: nolb_address_up for it, from a fresh scrape
    scrape
    sample nolb_address_up service=www.demo.test. node="$1" address="$2"
}

# --- the endpoint and its format
scrape
expect_eq "GET /metrics succeeds" 0 "$RC"
expect_eq "GET /metrics is 200" 200 "$CODE"
expect_match "in text exposition format" '^text/plain' "$CTYPE"
expect_match "nolb_address_up has a HELP line" '^# HELP nolb_address_up ' "$OUT"
expect_match "nolb_address_up is a gauge" '^# TYPE nolb_address_up gauge' "$OUT"
expect_eq "nolb_address_up for london is 1" 1 "$(sample nolb_address_up service=www.demo.test. node=london address=$LONDON)"
expect_eq "nolb_address_up for geneva is 1" 1 "$(sample nolb_address_up service=www.demo.test. node=geneva address=$GENEVA)"
expect_no_match "every sample line is NAME{labels} VALUE or NAME VALUE" \
    '^[^#].*[^0-9.e+-]$|^[^#a-z]' "$OUT"

# --- a backend going down moves its gauge
backend_mode london 503
if wait_for 5 eval '[[ "$(address_up london $LONDON)" == 0 ]]'; then
    pass "nolb_address_up for london turns 0 when it answers 503"
else
    scrape
    fail "nolb_address_up for london turns 0 when it answers 503" "$(block "$(grep nolb_address_up <<<"$OUT")")"
fi
scrape   # address_up ran in a subshell: scrape again here for the checks below
expect_eq "nolb_address_published for london is 0 too" 0 "$(sample nolb_address_published service=www.demo.test. node=london address=$LONDON)"
expect_eq "nolb_address_up for geneva stays 1" 1 "$(sample nolb_address_up service=www.demo.test. node=geneva address=$GENEVA)"
backend_mode london ok
if wait_for 5 eval '[[ "$(address_up london $LONDON)" == 1 ]]'; then
    pass "and back to 1 when it recovers"
else
    scrape
    fail "and back to 1 when it recovers" "$(block "$(grep nolb_address_up <<<"$OUT")")"
fi

# --- query counters follow the queries
scrape
expect_match "nolb_dns_queries_total is a counter" '^# TYPE nolb_dns_queries_total counter' "$OUT"
expect_match "nolb_dns_responses_total is a counter" '^# TYPE nolb_dns_responses_total counter' "$OUT"
a_before=$(sample nolb_dns_queries_total qtype=A)
noerror_before=$(sample nolb_dns_responses_total rcode=NOERROR)
for ((i = 0; i < 20; i++)); do
    dig @127.0.0.1 -p "$DNS_PORT" +time=1 +tries=1 +short www.demo.test A >/dev/null
done
scrape
expect_eq "nolb_dns_queries_total{qtype=\"A\"} grew by the 20 queries sent" 20 \
    $(($(sample nolb_dns_queries_total qtype=A) - ${a_before:-0}))
expect_eq "nolb_dns_responses_total{rcode=\"NOERROR\"} grew by the 20 answers" 20 \
    $(($(sample nolb_dns_responses_total rcode=NOERROR) - ${noerror_before:-0}))
probes_before=$(sum nolb_probes_total)
sleep 1
scrape
expect_true "probe counters move on their own (nolb_probes_total: $probes_before -> $(sum nolb_probes_total))" \
    eval "(($(sum nolb_probes_total) > probes_before))"

# --- anything else is 404
scrape /nope
expect_eq "GET /nope is 404" 404 "$CODE"
scrape /metrics/extra
expect_eq "GET /metrics/extra is 404" 404 "$CODE"

expect_true "nolbd is still running" alive "$NOLBD_PID"
finish
