"""dnsperf, run the one way the benchmarks need: against a loopback port, from a query file,
for a bounded time, optionally rate-limited (-Q) and pinned to a CPU; and its report read into
numbers. Its own CPU time (user + system over wall time) comes from the kernel's accounting of
the child (wait4), so a round can say whether the client, not the server, was the limit
(near 100 % of its core).
"""

import re
import shutil
import subprocess
import time

from . import procs

TRANSPORT_ARGS = {
    # one socket with 100 queries outstanding
    'udp': ['-m', 'udp', '-c', '1', '-q', '100'],
    # 10 connections, 100 outstanding: about 10 pipelined per connection
    'tcp': ['-m', 'tcp', '-c', '10', '-q', '100'],
}

FIELDS = ['qps', 'avg_latency_ms', 'max_latency_ms', 'sent', 'completed', 'lost',
          'reconnections', 'dnsperf_cpu_pct']


def version():
    if shutil.which('dnsperf') is None:
        return '?'
    out = subprocess.run(['dnsperf', '-h'], capture_output=True, text=True, timeout=10)
    m = re.search(r'^Version:?\s+(\S+)', out.stdout + out.stderr, re.M)
    return m.group(1) if m else '?'


def run(port, queries, seconds, report, transport='udp', rate=None, clients=None, outstanding=None,
        cpu=None, nice=0, extra=(), timeout_s=5, passes=None):
    """Runs dnsperf to completion (killed if it overruns its time by a minute) and returns its
    report as a dict of FIELDS; the full text is kept in the file `report`."""
    args = list(TRANSPORT_ARGS[transport])
    if clients is not None:
        args[args.index('-c') + 1] = str(clients)
    if outstanding is not None:
        args[args.index('-q') + 1] = str(outstanding)
    argv = ['dnsperf', '-s', '127.0.0.1', '-p', str(port), '-d', queries, '-l', str(seconds),
            '-t', str(timeout_s)] + args
    if rate:
        argv += ['-Q', str(rate)]
    if passes:
        argv += ['-n', str(passes)]   # through the query file at most this many times
    argv += list(extra)
    start = time.monotonic()
    child = procs.Child('dnsperf', argv, report, cpu=cpu, nice=nice)
    if child.wait(seconds * 3 + 60) is None:
        child.stop(grace=5)
    wall = time.monotonic() - start
    with open(report, errors='replace') as f:
        fields = parse(f.read())
    if child.rusage is not None and wall > 0:
        fields['dnsperf_cpu_pct'] = round((child.rusage.ru_utime + child.rusage.ru_stime) / wall * 100)
    return fields


def parse(text):
    """The figures of dnsperf's closing report; zeros where a line is missing."""
    def number(pattern, default=0.0):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else default

    avg = re.search(r'Average Latency \(s\):\s+([\d.]+)\s+\(min [\d.]+, max ([\d.]+)\)', text)
    return {
        'qps': number(r'Queries per second:\s+([\d.]+)'),
        'avg_latency_ms': float(avg.group(1)) * 1000 if avg else 0.0,
        'max_latency_ms': float(avg.group(2)) * 1000 if avg else 0.0,
        'sent': int(number(r'Queries sent:\s+(\d+)')),
        'completed': int(number(r'Queries completed:\s+(\d+)')),
        'lost': int(number(r'Queries lost:\s+(\d+)')),
        'reconnections': int(number(r'Reconnections:\s+(\d+)')),
        'dnsperf_cpu_pct': 0,
    }
