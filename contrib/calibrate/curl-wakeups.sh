#!/usr/bin/env bash
# How long the system curl takes to leave a refused first address, against how long its name
# lookup took: the measurement behind the curl profile's curl_wakeups rule (profiles.hpp).
# In a network namespace of its own (root), a small DNS server answers x.test with 127.0.0.11
# (nothing listens: refused) then 127.0.0.12 (an HTTP server), each answer held DELAY ms; curl
# fetches http://x.test:18080/ RUNS times per delay and the script prints, per delay, curl's
# time_namelookup and time_connect (median, ms). curl 7.88 connects 200 ms after a lookup under
# 3 ms and a few ms after a longer one.
#
#     sudo contrib/calibrate/curl-wakeups.sh [RUNS] [DELAY_MS...]
set -euo pipefail

runs=${1:-5}
shift || true
delays=("$@")
((${#delays[@]})) || delays=(0 1 2 3 5 10 20 60)
((EUID == 0)) || { echo "$0: needs root (a network namespace of its own)" >&2; exit 2; }
for tool in curl python3 ip; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is not installed" >&2; exit 2; }
done

ns=nolbcw$$
work=$(mktemp -d "${TMPDIR:-/tmp}/nolb-curl-wakeups.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns" "$work"
}
trap cleanup EXIT
mkdir -p "/etc/netns/$ns"
echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

cat >"$work/dns.py" <<'EOF'
# A DNS server for one name: A 127.0.0.11, 127.0.0.12 (empty for other types), held DELAY s.
import socket, struct, sys, threading, time
delay = float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
def answer(query, peer):
    if delay:
        time.sleep(delay)
    end = 12
    while query[end] != 0:
        end += 1 + query[end]
    qtype = struct.unpack(">H", query[end + 1:end + 3])[0]
    records = b""
    count = 0
    if qtype == 1:
        for address in ("127.0.0.11", "127.0.0.12"):
            records += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(address)
            count += 1
    header = query[:2] + b"\x84\x00" + struct.pack(">HHHH", 1, count, 0, 0)
    s.sendto(header + query[12:end + 5] + records, peer)
while True:
    query, peer = s.recvfrom(512)
    if delay:
        threading.Thread(target=answer, args=(query, peer), daemon=True).start()
    else:
        answer(query, peer)
EOF

ip netns exec "$ns" python3 -m http.server 18080 --bind 127.0.0.12 >/dev/null 2>&1 &
pids+=($!)
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR ? v[int((NR + 1) / 2)] : 0 }'; }
printf '%-10s %-14s %-14s\n' "delay ms" "lookup ms" "connect ms"
for delay in "${delays[@]}"; do
    ip netns exec "$ns" python3 "$work/dns.py" "$(awk -v d="$delay" 'BEGIN { print d / 1000 }')" &
    dns=$!
    pids+=("$dns")
    sleep 1
    : >"$work/times"
    for ((i = 0; i < runs; i++)); do
        ip netns exec "$ns" curl -s -o /dev/null --connect-timeout 5 \
            -w '%{time_namelookup} %{time_connect}\n' http://x.test:18080/ >>"$work/times" ||
            echo "$0: curl failed (delay $delay ms)" >&2
    done
    lookup=$(awk '{ print $1 * 1000 }' "$work/times" | median)
    connect=$(awk '{ print $2 * 1000 }' "$work/times" | median)
    printf '%-10s %-14s %-14s\n' "$delay" "$lookup" "$connect"
    kill "$dns" 2>/dev/null || true
    wait "$dns" 2>/dev/null || true
done
