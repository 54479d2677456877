#!/usr/bin/env bash
# secondaries: nolbd as the primary of real secondaries, NSD, Knot and BIND, each on a loopback
# port of its own with transfers signed with xfr.demo.test. (hmac-sha256). Each takes the zone
# and answers as nolbd does: its serial, www's addresses. A drain changes the zone: each
# secondary follows to the new serial without london's address, by IXFR (as its own log says),
# and comes back after the undrain. After each, the zone file each secondary wrote passes
# named-checkzone and holds, record for record, the zone nolbd sends by AXFR. Two changes between
# two refreshes come in one IXFR; a burst of four, past the journal, as the whole zone. An NSD
# with a wrong secret, a Knot with a key nolbd does not know and a BIND that does not sign never
# get the zone: nolbd logs each refusal and each secondary says why.
#
# Two modes, SECONDARIES_MODE. "refresh" (this scenario): nolbd notifies no one, and the
# secondaries learn of a change by their SOA refresh, which the zone sets to 2 s (Knot's floor)
# and each secondary is told to honour. "notify" (tests/system/secondaries-notify, which runs
# this script): nolbd lists the three as notify endpoints and the refresh and retry are an hour,
# so that only a NOTIFY explains a transfer within seconds; each secondary's log shows the NOTIFY
# that told it, and ten changes in two seconds cost each only a few, nolbd keeping notify_gap
# between two. Every wait for a serial is bounded: wait_until_secondary_serial for one secondary,
# wait_until_all_at for all at once. After each change, nolbctl status lists each secondary by
# the address it asks from, sent the newest serial and not behind.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/health.sh"

MODE=${SECONDARIES_MODE:-refresh}
[[ "$MODE" == refresh || "$MODE" == notify ]] || die "SECONDARIES_MODE is refresh or notify" \
    "SECONDARIES_MODE=$MODE"
# The configuration templates are this script's neighbours, whichever scenario runs it.
TEMPLATES=${TEMPLATES:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

NSD=${NSD:-/usr/sbin/nsd}
KNOTD=${KNOTD:-/usr/sbin/knotd}
NAMED=${NAMED:-/usr/sbin/named}
need_program nolbctl "$NOLBCTL"
# The secondaries come from Debian's nsd, knot and bind9 (contrib/install-deps.sh test); without
# them the scenario fails, saying so, rather than pass with nothing checked.
need_program nsd "$NSD"
need_program knotd "$KNOTD"
need_program named "$NAMED"
command -v named-checkzone >/dev/null || die "named-checkzone is installed (bind9-utils)"

if [[ "$MODE" == notify ]]; then
    REFRESH=3600         # the SOA's refresh and retry, seconds: never within the scenario
    PROPAGATION_MS=10000 # how long a secondary may take to follow a change, told by NOTIFY
else
    REFRESH=2
    PROPAGATION_MS=30000 # three refreshes, with room for a slow machine
fi
SECRET=$(head -c 32 /dev/urandom | base64)
WRONG_SECRET=$(head -c 32 /dev/urandom | base64)

# Ports are taken one after the other before anything binds them: each must differ from those
# already taken.
declare -a TAKEN_PORTS=()
take_port() {
    local port i
    for ((i = 0; i < 20; i++)); do
        port=$(free_port) || return 1
        if [[ " ${TAKEN_PORTS[*]} " != *" $port "* ]]; then
            TAKEN_PORTS+=("$port")
            echo "$port"
            return 0
        fi
    done
    return 1
}
# take_port runs in a subshell when its output is captured: the caller adds the port to the list.
DNS_PORT=$(take_port) || die "find a free port for nolbd"
TAKEN_PORTS+=("$DNS_PORT")
# The secondaries' ports are known before nolbd's config is written, so that it can name them
# as the secondaries to notify (in the notify mode).
declare -A SEC_PORT=()
for name in nsd knot bind; do
    SEC_PORT[$name]=$(take_port) || die "find a free port for $name"
    TAKEN_PORTS+=("${SEC_PORT[$name]}")
done
# Each asks nolbd from a loopback address of its own, so that nolbctl status (one line per
# address) and nolbd's log tell them apart. NOTIFY comes to each from 127.0.0.1, whatever this.
declare -A SEC_SOURCE=([nsd]=127.0.0.11 [knot]=127.0.0.12 [bind]=127.0.0.13)
notify_list=""
if [[ "$MODE" == notify ]]; then
    notify_list=$(printf '"127.0.0.1:%s", ' "${SEC_PORT[nsd]}" "${SEC_PORT[knot]}" "${SEC_PORT[bind]}")
    notify_list=${notify_list%, }
fi
CONTROL_SOCKET="$TMP/run/nolbd.sock"
printf '%s\n' "$SECRET" >"$TMP/xfr.key"
BULK_NAMES=2000
bulk=$(for ((i = 1; i <= BULK_NAMES; i++)); do
    printf ', "h%04d.bulk A 198.51.100.%d"' "$i" $((i % 250 + 1))
done)
write_config "$TEMPLATES/nolbd.toml.in" "$TMP/nolbd.toml" "$DNS_PORT" "REFRESH=$REFRESH" \
    "BULK=$bulk" "NOTIFY=$notify_list"
# At debug level nolbd logs each NOTIFY it sends ("notify sent"), counted against what each
# secondary says it received.
start_nolbd "$TMP/nolbd.toml" "$DNS_PORT" --log-level debug

# ---------------------------------------------------------------------------- secondaries

declare -A SEC_LOG=() SEC_DIR=() SEC_KIND=()
SECONDARIES=()

# start_secondary NAME KIND SOURCE KEY SECRET: starts a secondary of KIND (nsd, knot, bind) in
# the foreground of a background job, with its own port (SEC_PORT[NAME], or a free one), folder
# and log, asking nolbd from the loopback address SOURCE with the TSIG key KEY and its SECRET
# (KEY "-": unsigned, BIND only), and waits (bounded) until it answers on its port. It has the
# zone or not: that is for the checks to say.
start_secondary() {
    local name=$1 kind=$2 source=$3 key=$4 secret=$5 port dir log conf primary_key
    port=${SEC_PORT[$name]:-}
    if [[ -z "$port" ]]; then
        port=$(take_port) || die "find a free port for $name"
        TAKEN_PORTS+=("$port")
    fi
    dir="$TMP/$name"
    log="$TMP/$name.log"
    mkdir -p "$dir"
    local -a cmd
    if [[ "$key" == - ]]; then
        [[ "$kind" == bind ]] || die "start $name: only BIND is started unsigned"
        key=unused.demo.test. primary_key=""
    else
        primary_key=" key \"$key\""
    fi
    local -a fill=("DIR=$dir" "SOURCE=$source" "KEY=$key" "SECRET=$secret"
        "PRIMARY_PORT=$DNS_PORT" "PRIMARY_KEY=$primary_key")
    case "$kind" in
    nsd)
        conf="$dir/nsd.conf"
        write_config "$TEMPLATES/nsd.conf.in" "$conf" "$port" "${fill[@]}"
        cmd=("$NSD" -d -c "$conf")
        ;;
    knot)
        conf="$dir/knot.conf"
        write_config "$TEMPLATES/knot.conf.in" "$conf" "$port" "${fill[@]}"
        cmd=("$KNOTD" -c "$conf")
        ;;
    bind)
        conf="$dir/named.conf"
        write_config "$TEMPLATES/named.conf.in" "$conf" "$port" "${fill[@]}"
        # -g: the foreground, logging to stderr; -d 3: the level at which it says whether a
        # transfer was incremental; -4: IPv4 alone, as it listens; -n 1: one worker is plenty
        # for one zone. As root it stays root (no -u): its folder is the scenario's own.
        cmd=("$NAMED" -g -d 3 -4 -n 1 -c "$conf")
        ;;
    esac
    "${cmd[@]}" >"$log" 2>&1 &
    local pid=$!
    track "$pid" "$name" "$log"
    SEC_PORT[$name]=$port SEC_LOG[$name]=$log SEC_DIR[$name]=$dir
    SEC_KIND[$name]=$kind
    SECONDARIES+=("$name")
    secondary_up() { ! alive "$pid" || answers_on "$port"; }
    if ! wait_for 20 secondary_up || ! alive "$pid"; then
        LAST_CMD="${cmd[*]}"
        die "$name ($kind) starts and answers on port $port" "log:" "$(block "$(tail -n 30 "$log")")"
    fi
}

# serial_at PORT: the zone's serial as the server on PORT answers it ("" without an answer).
serial_at() {
    dig @127.0.0.1 -p "$1" +time=1 +tries=1 +norec +short demo.test SOA 2>/dev/null | awk '{ print $3 }'
}
# addresses_at PORT NAME TYPE: the addresses the server on PORT answers, sorted, one line.
addresses_at() {
    dig @127.0.0.1 -p "$1" +time=1 +tries=1 +norec +short "$2" "$3" 2>/dev/null | sort |
        tr '\n' ' ' | sed 's/ $//'
}
secondary_serial() { serial_at "${SEC_PORT[$1]}"; }

# wait_until_secondary_serial NAME SERIAL [LIMIT-MS]: polls the secondary NAME until it answers
# with SERIAL, at most LIMIT-MS (PROPAGATION_MS), measuring from T0_MS when the caller set it.
# ELAPSED_MS is the time it took (or the time given up after).
at_serial() { [[ "$(secondary_serial "$1")" == "$2" ]]; }
wait_until_secondary_serial() {
    time_until "${3:-$PROPAGATION_MS}" at_serial "$1" "$2"
}

# wait_until_all_at SERIAL SINCE-MS: polls every secondary until each answers with SERIAL or
# PROPAGATION_MS pass since SINCE-MS, each in a poller of its own, so that neither a slow one nor
# the time dig takes to ask the others (some 100 ms each on a busy machine) adds to the time
# measured for one. REACHED_MS[NAME] is how long after SINCE-MS it was first seen at SERIAL;
# unset for one that never was.
declare -A REACHED_MS=()
wait_until_all_at() {
    local serial=$1 since=$2 name
    local -A poller=()
    REACHED_MS=()
    for name in "${SECONDARIES[@]}"; do
        rm -f "$TMP/reached.$name"
        (
            until at_serial "$name" "$serial"; do
                (($(now_ms) - since > PROPAGATION_MS)) && exit 0
                sleep 0.02
            done
            echo $(($(now_ms) - since)) >"$TMP/reached.$name"
        ) &
        poller[$name]=$!
    done
    for name in "${SECONDARIES[@]}"; do
        wait "${poller[$name]}"
        [[ -s "$TMP/reached.$name" ]] && REACHED_MS[$name]=$(<"$TMP/reached.$name")
    done
}

# log_lines NAME: how many lines the secondary NAME has logged, to read only what follows.
log_lines() { wc -l <"${SEC_LOG[$1]}"; }
log_after() { tail -n "+$(($2 + 1))" "${SEC_LOG[$1]}"; }   # NAME LINE
# log_excerpt NAME LINE: the same, without BIND's line for every query it answered (named -d 3),
# the last 30 lines.
log_excerpt() { log_after "$1" "$2" | grep -v ': client @' | tail -n 30; }

# How each secondary says, in its log, that it took a change by IXFR.
declare -A IXFR_LOGGED=(
    # NSD names no transfer's kind; with store-ixfr it keeps an IXFR it received (and nothing
    # for an AXFR), saying so.
    [nsd]='writing zone demo\.test\. IXFR data to file'
    [knot]='\[demo\.test\.\] IXFR, incoming, remote 127\.0\.0\.1@[0-9]+, finished'
    # At debug level 3 (named -d 3); "got nonincremental response" for an AXFR.
    [bind]="transfer of 'demo\.test/IN' from 127\.0\.0\.1#[0-9]+: got incremental response"
)

# What each secondary logs of every transfer, IXFR or AXFR, for the cases where either will do.
declare -A TRANSFER_LOGGED=(
    [nsd]='writing zone demo\.test\. IXFR data|committed "received update to serial [0-9]+'
    [knot]='(IXFR|AXFR), incoming, [^,]*, (finished|.*AXFR[^,]*)'
    [bind]='got (non)?incremental response'
)

# How each secondary, logging as its config here says, tells of a NOTIFY it received for the
# zone: one line per message, so that one sent again is counted again.
declare -A NOTIFY_LOGGED=(
    [nsd]='notify for demo\.test\. from 127\.0\.0\.1 serial [0-9]+'
    [knot]='\[demo\.test\.\] notify, incoming, remote 127\.0\.0\.1@[0-9]+'
    [bind]="received notify for zone 'demo\.test'"
)
# notifies_logged NAME LINE: how many NOTIFY the secondary NAME logged after line LINE.
notifies_logged() { log_after "$1" "$2" | grep -Ec -- "${NOTIFY_LOGGED[${SEC_KIND[$1]}]}"; }
# notifies_sent NAME LINE: how many NOTIFY nolbd logged sending to NAME after its log's line LINE.
notifies_sent() {
    log_since "$2" | grep -F 'msg="notify sent"' | grep -Fc " target=127.0.0.1:${SEC_PORT[$1]} "
}

# status_checks SERIAL: nolbctl status --json lists each secondary by the address it asks from,
# last sent SERIAL and not behind.
status_checks() {
    local serial=$1 name
    ctl_json status
    for name in "${SECONDARIES[@]}"; do
        # shellcheck disable=SC2016  # $a is jq's, given with --arg
        expect_eq "status --json: $name (${SEC_SOURCE[$name]}) was sent serial $serial, not behind" \
            "$serial false" "$(jqo --arg a "${SEC_SOURCE[$name]}" \
            '.zones[0].secondaries[] | select(.address == $a) | "\(.sent) \(.behind)"')"
    done
}

# zone_file_checks NAME SERIAL: the zone file the secondary NAME wrote passes named-checkzone
# (BIND's with its journal, -j), is at SERIAL and holds, record for record, the zone nolbd sends
# by AXFR now: what the IXFRs built is the primary's zone. Secondaries write the file a moment
# after the transfer (NSD within zonefiles-write's second): bounded, the check is repeated until
# then.
checkzone() {
    local file="${SEC_DIR[$1]}/demo.test.zone" journal=()
    [[ -e "$file.jnl" ]] && journal=(-j)
    run named-checkzone "${journal[@]}" demo.test "$file"
}
zone_file_at() { checkzone "$1" && grep -q "loaded serial $2\$" <<<"$OUT"; }
# canonical FILE [-j]: the zone in FILE as named-checkzone dumps it, one record a line, sorted.
canonical() {
    named-checkzone -q "${@:2}" -D -o - demo.test "$1" 2>&1 | tr -s ' \t' ' ' | sort
}
# primary_zone: PRIMARY_ZONE is nolbd's zone as its AXFR gives it now, canonical; fetched once
# per serial.
PRIMARY_SERIAL="" PRIMARY_ZONE=""
primary_zone() {
    local serial
    serial=$(serial_at "$DNS_PORT")
    if [[ "$serial" != "$PRIMARY_SERIAL" ]]; then
        PRIMARY_SERIAL=$serial
        PRIMARY_ZONE=$(primary_axfr)
    fi
}
primary_axfr() {
    dig @127.0.0.1 -p "$DNS_PORT" +time=2 +tries=1 -y "hmac-sha256:xfr.demo.test.:$SECRET" \
        demo.test AXFR 2>/dev/null | grep -Ev '^(;|$)' | grep -v 'TSIG' | sed '$d' >"$TMP/primary.zone"
    canonical "$TMP/primary.zone"
}
zone_file_checks() {
    local name=$1 serial=$2 file="${SEC_DIR[$1]}/demo.test.zone" journal=()
    if ! wait_for 10 zone_file_at "$name" "$serial"; then
        fail "named-checkzone accepts the zone file $name wrote, at serial $serial" \
            "files: $(ls "${SEC_DIR[$name]}" | tr '\n' ' ')" "$(out_excerpt)"
        return
    fi
    pass "named-checkzone accepts the zone file $name wrote, at serial $serial"
    [[ -e "$file.jnl" ]] && journal=(-j)
    local theirs ours
    theirs=$(canonical "$file" "${journal[@]}")
    primary_zone
    ours=$PRIMARY_ZONE
    if [[ -n "$ours" && "$theirs" == "$ours" ]]; then
        pass "$name's zone file holds nolbd's zone record for record ($(grep -c . <<<"$ours") records)"
    else
        fail "$name's zone file holds nolbd's zone record for record" \
            "diff (nolbd's AXFR, $name's file):" "$(block "$(diff <(echo "$ours") <(echo "$theirs"))")"
    fi
}

# ---------------------------------------------------------------------------- the zone, taken

start_secondary nsd nsd "${SEC_SOURCE[nsd]}" xfr.demo.test. "$SECRET"
start_secondary knot knot "${SEC_SOURCE[knot]}" xfr.demo.test. "$SECRET"
start_secondary bind bind "${SEC_SOURCE[bind]}" xfr.demo.test. "$SECRET"

first=$(serial_at "$DNS_PORT")
[[ -n "$first" ]] || die "nolbd answers its SOA" "dig @127.0.0.1 -p $DNS_PORT demo.test SOA: no serial"
www_all=$(addresses_at "$DNS_PORT" www.demo.test A)
# The AXFR the secondaries take is a stream of signed messages, not one.
dig_q @127.0.0.1 -p "$DNS_PORT" -y "hmac-sha256:xfr.demo.test.:$SECRET" demo.test AXFR
messages=$(grep -Eo 'messages [0-9]+' <<<"$OUT" | awk '{ print $2 }')
expect_true "nolbd's AXFR takes several messages (${messages:-?})" test "${messages:-0}" -gt 1

expect_eq "nolbd answers www with its three nodes" "127.0.0.2 127.0.0.3 127.0.0.4" "$www_all"

for name in "${SECONDARIES[@]}"; do
    if wait_until_secondary_serial "$name" "$first"; then
        pass "$name serves demo.test. at nolbd's serial $first (waited ${ELAPSED_MS} ms)"
    else
        LAST_CMD="dig @127.0.0.1 -p ${SEC_PORT[$name]} demo.test SOA"
        fail "$name serves demo.test. at nolbd's serial $first" \
            "serial after ${ELAPSED_MS} ms: '$(secondary_serial "$name")'" \
            "log:" "$(block "$(log_excerpt "$name" 0)")"
        continue
    fi
    expect_eq "$name answers www's A as nolbd does" "$www_all" \
        "$(addresses_at "${SEC_PORT[$name]}" www.demo.test A)"
    expect_eq "$name answers www's AAAA as nolbd does" \
        "$(addresses_at "$DNS_PORT" www.demo.test AAAA)" \
        "$(addresses_at "${SEC_PORT[$name]}" www.demo.test AAAA)"
    expect_eq "$name answers the static mail A" 192.0.2.25 \
        "$(addresses_at "${SEC_PORT[$name]}" mail.demo.test A)"
    expect_eq "$name answers the last of the bulk names" "198.51.100.$((BULK_NAMES % 250 + 1))" \
        "$(addresses_at "${SEC_PORT[$name]}" "h$(printf %04d "$BULK_NAMES").bulk.demo.test" A)"
done
for name in "${SECONDARIES[@]}"; do zone_file_checks "$name" "$first"; done

# ---------------------------------------------------------------------------- a change, followed

# follow_change WHAT EXPECTED-A [any]: after a change nolbd has published, each secondary
# answers its new serial and EXPECTED-A for www within PROPAGATION_MS, having logged an IXFR
# (with "any", whatever it took: the log's lines about it are shown).
follow_change() {
    local what=$1 expected=$2 how=${3:-ixfr} serial name
    serial=$(serial_at "$DNS_PORT")
    wait_until_all_at "$serial" "$CHANGE_MS"
    expect_eq "nolbd answers www after $what" "$expected" "$(addresses_at "$DNS_PORT" www.demo.test A)"
    for name in "${SECONDARIES[@]}"; do
        if [[ -n "${REACHED_MS[$name]:-}" ]] && ((REACHED_MS[$name] <= PROPAGATION_MS)); then
            pass "$name follows $what to serial $serial in ${REACHED_MS[$name]} ms (bound $PROPAGATION_MS ms)"
            PROPAGATION+=("$name, $what: ${REACHED_MS[$name]} ms")
            TAKEN_MS[$name]+=" ${REACHED_MS[$name]}"
        else
            LAST_CMD="dig @127.0.0.1 -p ${SEC_PORT[$name]} demo.test SOA"
            fail "$name follows $what to serial $serial within $PROPAGATION_MS ms" \
                "seen at it: ${REACHED_MS[$name]:+after ${REACHED_MS[$name]} ms}${REACHED_MS[$name]:-never}" \
                "serial now: '$(secondary_serial "$name")'" \
                "log since the change:" "$(block "$(log_excerpt "$name" "${MARK[$name]}")")"
            continue
        fi
        expect_eq "$name answers www after $what as nolbd does" "$expected" \
            "$(addresses_at "${SEC_PORT[$name]}" www.demo.test A)"
        expect_eq "$name answers www's AAAA after $what as nolbd does" \
            "$(addresses_at "$DNS_PORT" www.demo.test AAAA)" \
            "$(addresses_at "${SEC_PORT[$name]}" www.demo.test AAAA)"
        # With a refresh of an hour, only a NOTIFY can have sent it to nolbd so soon.
        if [[ "$MODE" == notify ]]; then
            if (($(notifies_logged "$name" "${MARK[$name]}") > 0)); then
                pass "$name was told of $what by NOTIFY: $(log_after "$name" "${MARK[$name]}" |
                    grep -E -- "${NOTIFY_LOGGED[${SEC_KIND[$name]}]}" | head -n 1 | cut -c1-160)"
            else
                fail "$name was told of $what by NOTIFY (its log says so)" \
                    "expected a line matching: ${NOTIFY_LOGGED[${SEC_KIND[$name]}]}" \
                    "log since the change:" "$(block "$(log_excerpt "$name" "${MARK[$name]}")")"
            fi
        fi
        if [[ "$how" == any ]]; then
            say "$name took $what by: $(log_after "$name" "${MARK[$name]}" | grep -v ': client @' |
                grep -Eo "${TRANSFER_LOGGED[${SEC_KIND[$name]}]}" | sort | uniq -c |
                awk '{ n = $1; $1 = ""; printf "%s%s x%s", sep, $0, n; sep = ";" }')"
            continue
        fi
        # The log line may follow the answer by a moment.
        ixfr_logged() { log_after "$1" "${MARK[$1]}" | grep -Eq -- "${IXFR_LOGGED[${SEC_KIND[$1]}]}"; }
        if wait_for 5 ixfr_logged "$name"; then
            pass "$name took $what by IXFR: $(log_after "$name" "${MARK[$name]}" |
                grep -E -- "${IXFR_LOGGED[${SEC_KIND[$name]}]}" | tail -n 1 | cut -c1-160)"
        else
            fail "$name took $what by IXFR (its log says so)" \
                "expected a line matching: ${IXFR_LOGGED[${SEC_KIND[$name]}]}" \
                "log since the change:" "$(block "$(log_excerpt "$name" "${MARK[$name]}")")"
        fi
    done
    status_checks "$serial"
}

declare -A MARK=() TAKEN_MS=()
PROPAGATION=() FLAP_COUNTS=()
mark_logs() { local n; for n in "${SECONDARIES[@]}"; do MARK[$n]=$(log_lines "$n"); done; }
# median_max MS...: "median M ms, max X ms" (of an even count, the lower of the two middle ones).
median_max() {
    local -a sorted
    mapfile -t sorted < <(printf '%s\n' "$@" | sort -n)
    printf 'median %s ms, max %s ms' "${sorted[$(((${#sorted[@]} - 1) / 2))]}" "${sorted[-1]}"
}

# change LABEL ADDRESSES "VERB NODE"...: makes the changes with nolbctl, one after the other,
# then waits for every secondary to answer www with ADDRESSES at nolbd's new serial and checks
# the zone file each wrote.
change() {
    local label=$1 addresses=$2 one
    shift 2
    mark_logs
    CHANGE_MS=$(now_ms)
    for one in "$@"; do
        # shellcheck disable=SC2086  # a verb and a node
        ctl $one
        expect_eq "nolbctl $one" 0 "$RC"
    done
    follow_change "$label" "$addresses"
    for name in "${SECONDARIES[@]}"; do zone_file_checks "$name" "$(serial_at "$DNS_PORT")"; done
}

change "the drain" "127.0.0.3 127.0.0.4" "drain london"
expect_ne "the drain moved nolbd's serial" "$first" "$(serial_at "$DNS_PORT")"
change "the undrain" "127.0.0.2 127.0.0.3 127.0.0.4" "undrain london"

# Two changes between two refreshes: the IXFR that follows carries both (nolbd's journal has
# one change per serial), unless a refresh happened to fall between them. Told by NOTIFY, a
# secondary takes the first at once and the second at the next NOTIFY, notify_gap (1 s) later.
change "two drains" "127.0.0.2" "drain geneva" "drain paris"
change "two undrains" "127.0.0.2 127.0.0.3 127.0.0.4" "undrain geneva" "undrain paris"

# A burst of four changes, past the journal's three (journal_changes): a secondary still at the
# serial before the burst is sent the whole zone in answer to its IXFR (RFC 1995 section 4), one
# whose refresh fell within the burst the changes it lacks. Either way it ends at nolbd's zone.
# Told by NOTIFY, a secondary asks at the first change and again a notify_gap later, by when the
# rest are still within the journal: an IXFR most likely, the whole zone only on a slow machine.
mark_logs
CHANGE_MS=$(now_ms)
for change in "drain london" "drain geneva" "undrain london" "drain paris"; do
    # shellcheck disable=SC2086  # a verb and a node
    ctl $change
    expect_eq "nolbctl $change" 0 "$RC"
done
follow_change "a burst of four changes" "127.0.0.2" any
for name in "${SECONDARIES[@]}"; do zone_file_checks "$name" "$(serial_at "$DNS_PORT")"; done

for name in "${SECONDARIES[@]}"; do
    # shellcheck disable=SC2086  # the times, one word each
    [[ -n "${TAKEN_MS[$name]:-}" ]] && say "$name followed the changes above ($MODE mode)," \
        "from the nolbctl command to the new serial: $(median_max ${TAKEN_MS[$name]})" \
        "(each, ms:${TAKEN_MS[$name]})"
done

# ---------------------------------------------------------------------------- a flap

# Ten changes as fast as nolbctl makes them, about two seconds (geneva undrained and drained
# again, five times, nolbd's serial read after each): nolbd sends a secondary one NOTIFY at the
# first and then at most one per notify_gap (1 s), the newest serial at the time, so each
# secondary receives a few, not ten, and ends at the last serial. The counts are taken from each
# secondary's log and from nolbd's ("notify sent", at debug level), once notify_gap has passed
# after the last serial was reached, for a NOTIFY still due. The refresh mode sends no NOTIFY:
# there is nothing to count.
if [[ "$MODE" == notify ]]; then
    FLAP_NOTIFIES=6    # the most NOTIFY a secondary may get for the ten changes
    mark_logs
    nolbd_mark=$(log_mark)
    flap_start=$(now_ms)
    flap_failed=() flap_serials=()
    for ((i = 0; i < 5; i++)); do
        for verb in undrain drain; do
            ctl "$verb" geneva
            ((RC == 0)) || flap_failed+=("nolbctl $verb geneva: exit $RC: $OUT")
            flap_serials+=("$(serial_at "$DNS_PORT")")
        done
    done
    CHANGE_MS=$(now_ms)
    if ((${#flap_failed[@]} == 0)); then pass "the ten nolbctl commands of the flap exit 0"; else
        fail "the ten nolbctl commands of the flap exit 0" "${flap_failed[@]}"
    fi
    # One serial per change, each newer than the one before: ten serials to coalesce.
    expect_eq "the flap published ten serials, one after the other (in $((CHANGE_MS - flap_start)) ms)" \
        10 "$(printf '%s\n' "${flap_serials[@]}" | sort -un | grep -c .)"
    follow_change "the flap's last change" "127.0.0.2" any
    sleep 2
    for name in "${SECONDARIES[@]}"; do
        received=$(notifies_logged "$name" "${MARK[$name]}")
        sent=$(notifies_sent "$name" "$nolbd_mark")
        FLAP_COUNTS+=("$name: $received received, $sent sent")
        if ((received >= 1 && received <= FLAP_NOTIFIES && sent <= FLAP_NOTIFIES)); then
            pass "$name received $received NOTIFY for the ten changes, nolbd sent it $sent (at most $FLAP_NOTIFIES)"
        else
            fail "$name received between 1 and $FLAP_NOTIFIES NOTIFY for the ten changes, nolbd sent it at most $FLAP_NOTIFIES" \
                "received (its log): $received; sent (nolbd's log): $sent" \
                "its NOTIFY:" "$(block "$(log_after "$name" "${MARK[$name]}" |
                    grep -E -- "${NOTIFY_LOGGED[${SEC_KIND[$name]}]}")")"
        fi
    done
    say "NOTIFY for the ten changes of the flap: $(printf '%s; ' "${FLAP_COUNTS[@]}" | sed 's/; $//')"
    # Nothing arrived meanwhile to move them: each is still at nolbd's last serial.
    final=$(serial_at "$DNS_PORT")
    expect_eq "the flap's last serial is nolbd's serial" "${flap_serials[-1]}" "$final"
    for name in "${SECONDARIES[@]}"; do
        expect_eq "$name ends the flap at nolbd's serial" "$final" "$(secondary_serial "$name")"
    done
fi

# ---------------------------------------------------------------------------- refused

# Three secondaries nolbd must refuse, each asking from a loopback address of its own, since
# nolbd logs a refusal once a minute per client address: an NSD with the right key's name and a
# wrong secret (BADSIG), a Knot with a key nolbd does not know (BADKEY) and a BIND that does not
# sign (REFUSED). None gets the zone; nolbd logs each, and each says why in its own log.
# refused NAME KIND SOURCE KEY SECRET NOLBD-LOG-REGEX OWN-LOG-REGEX
refused() {
    local name=$1 source=$3 nolbd_says=$6 own_says=$7 mark
    mark=$(log_mark)
    start_secondary "$@"
    refusal_logged() { log_since "$mark" | grep -F "client=$source" | grep -Eq -- "$nolbd_says"; }
    if wait_for 15 refusal_logged; then
        pass "nolbd logs the refusal of $name: $(log_since "$mark" | grep -F "client=$source" |
            grep -E -- "$nolbd_says" | head -n 1 | cut -c1-200)"
    else
        fail "nolbd logs the refusal of $name ($nolbd_says, client=$source) within 15 s" \
            "nolbd's log since:" "$(block "$(log_since "$mark")")"
    fi
    own_logged() { log_excerpt "$name" 0 | grep -Eq -- "$own_says"; }
    if wait_for 10 own_logged; then
        pass "$name says why it has no zone: $(log_excerpt "$name" 0 | grep -E -- "$own_says" |
            head -n 1 | cut -c1-200)"
    else
        fail "$name says why it has no zone ($own_says)" "log:" "$(block "$(log_excerpt "$name" 0)")"
    fi
}
refused nsd-wrong-secret nsd 127.0.0.21 xfr.demo.test. "$WRONG_SECRET" \
    'msg="TSIG signature rejected".*detail="BADSIG, key xfr\.demo\.test\."' \
    'bad tsig signature|tsig error \(Bad Signature\)'
refused knot-unknown-key knot 127.0.0.22 other.demo.test. "$SECRET" \
    'msg="TSIG signature rejected".*detail="BADKEY, key other\.demo\.test\."' \
    'refresh, remote nolbd, .*failed \((failed to verify TSIG|.*BADKEY.*)\)'
refused bind-unsigned bind 127.0.0.23 - "$SECRET" \
    'msg="zone transfer refused".*not signed' \
    "transfer of 'demo\.test/IN' from .*(REFUSED|refused)|zone demo\.test/IN: refresh: .*(REFUSED|refused)"
# By now each has tried, and been refused: more than once in the refresh mode (their retry is
# the SOA's 2 s), at least once in the notify mode (the one try a secondary without the zone
# makes at start, its retry being an hour).
sleep 2
for name in nsd-wrong-secret knot-unknown-key bind-unsigned; do
    dig_q @127.0.0.1 -p "${SEC_PORT[$name]}" +norec demo.test SOA
    expect_ne "$name has no zone to answer from" NOERROR "$(status_of)"
    expect_eq "$name answers no www" "" "$(addresses_at "${SEC_PORT[$name]}" www.demo.test A)"
done

say "propagation, from the nolbctl command to the new serial: $(printf '%s; ' "${PROPAGATION[@]}" | sed 's/; $//')"
finish
