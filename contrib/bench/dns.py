"""The DNS benchmark: nolbd side by side with gdnsd, NSD and Knot DNS serving the same zone
(dns_servers.py) on the loopback with one answering thread each, and the kernel floor beside
them, so that each server's CPU per query reads both as a whole and as its own work above what
the kernel costs.

Modes:
  perf       Servers pinned to CPU 0, dnsperf to CPU 1. Two query mixes, "www" (every query
             www.bench.test A) and "mixed" (70 % www A, 20 % www AAAA, 10 % random names that do
             not exist; 100,000 lines, seed 42), over UDP (one socket, 100 outstanding) and TCP
             (10 connections, 100 outstanding: about 10 pipelined per connection). Rounds
             interleave the servers. Per round: queries/s, average and maximum latency, lost
             queries (dnsperf's report), dnsperf's own CPU (near 100 % of its core: the client,
             not the server, was the limit), the server's CPU time per answered query (utime +
             stime of its processes over the round, /proc/PID/stat, over dnsperf's completed
             queries) and its memory after the round.
  callgrind  Each server under valgrind --tool=callgrind (children traced, CPU 0) twice for the
             same wall time: answering a fixed number of www A queries over UDP at a fixed rate,
             and idle. User-space instructions per answered query = (Ir with queries - Ir idle)
             / answered, Ir summed over every process of the server.
  all        perf, then callgrind.
  check      Starts each server, compares their answers, reports them; no load.

Before any measurement every real server must answer www A and AAAA with the same 4 addresses
and a missing name with NXDOMAIN (the floor: its one fixed A record); the run stops otherwise.

Memory is read from /proc for every process of a server and summed: anonymous (RssAnon),
file-backed (RssFile) and PSS (smaps_rollup), once each server answers (idle) and after every
round. Ratios to nolbd use PSS, which counts a page shared by NSD's forked processes once, so
forking and threaded servers compare like with like.

Statistics (stats.py) per server, mix and transport over rounds: the median, the quartiles and
an interval for the median; ratios are the server's median over nolbd's from the same run.
"Above floor" is the server's median CPU per query less the floor's for the same mix and
transport.

Output in OUT (default BUILD/bench/dns): report.md (also printed), rounds.csv (every round),
summary.csv (every statistic), callgrind.csv, answers.md, and plots speed-www and speed-mixed
(queries/s and CPU per query per server, error bars over rounds, the floor as a dashed line)
and callgrind, each as PNG and SVG. --rrl N (or BENCH_RRL=N) gives nolbd an [rrl] section with
responses_per_second = N, to measure what response rate limiting costs.

Run as root on a quiet machine with at least 2 CPUs; --rate caps dnsperf's queries per second
(dnsperf -Q), for a short try on a busy one.
"""

import argparse
import os
import random
import re
import shutil
import time

from . import common, dnsperf, dnswire, plots, procs, report, stats
from .dns_servers import NAMES, REAL, Server

SERVER_CPU = 0
CLIENT_CPU = 1
MIXES = ['www', 'mixed']
TRANSPORTS = ['udp', 'tcp']
ROUND_FIELDS = ['round', 'server', 'mix', 'transport'] + dnsperf.FIELDS + [
    'server_cpu_us', 'server_us_per_query', 'rss_kib', 'anon_kib', 'file_kib', 'pss_kib', 'processes']
MEASURES = [  # (field, title, Markdown format, ratio to nolbd)
    ('qps', 'queries/s', '{:,.0f}', True),
    ('avg_latency_ms', 'avg latency ms', '{:.3f}', False),
    ('max_latency_ms', 'max latency ms', '{:.3f}', False),
    ('lost', 'lost', '{:,.0f}', False),
    ('dnsperf_cpu_pct', 'dnsperf CPU %', '{:.0f}', False),
    ('server_us_per_query', 'server CPU us/query', '{:.2f}', True),
    ('pss_kib', 'PSS KiB', '{:,.0f}', True),
    ('anon_kib', 'anonymous KiB', '{:,.0f}', False),
    ('file_kib', 'file-backed KiB', '{:,.0f}', False),
]


def parser():
    p = argparse.ArgumentParser(prog='contrib/bench.py dns', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--mode', choices=['perf', 'callgrind', 'all', 'check'], default='perf')
    p.add_argument('--rounds', type=int, default=3, help='rounds of every server, mix and transport (3)')
    p.add_argument('--seconds', type=int, default=10, help='dnsperf run length per round (10)')
    p.add_argument('--servers', default=','.join(NAMES), help=f'comma-separated, from {",".join(NAMES)} (all)')
    p.add_argument('--mixes', default=','.join(MIXES), help='www,mixed (both)')
    p.add_argument('--transports', default=','.join(TRANSPORTS), help='udp,tcp (both)')
    p.add_argument('--rate', type=int, default=0, help='dnsperf -Q: queries/s cap (0: none, the default)')
    p.add_argument('--rrl', type=int, default=int(os.environ.get('BENCH_RRL', '0') or 0),
                   help="nolbd's [rrl] responses_per_second (0: off; BENCH_RRL in the environment)")
    p.add_argument('--callgrind-queries', type=int, default=20000)
    p.add_argument('--callgrind-qps', type=int, default=1000)
    p.add_argument('--port-base', type=int, default=15351, help='nolbd, gdnsd, nsd, knot, floor, demo from here (15351)')
    p.add_argument('--nice', type=int, default=0, help='nice increment for servers and dnsperf (0)')
    p.add_argument('--build', default=os.path.join(common.ROOT, 'build'))
    p.add_argument('--out', help='output folder (BUILD/bench/dns)')
    return p


class Run:
    def __init__(self, args):
        self.args = args
        self.build = common.build_dir(args.build)
        self.out = common.out_dir(self.build, 'dns', args.out)
        self.names = _list(args.servers, NAMES, 'server')
        self.mixes = _list(args.mixes, MIXES, 'mix')
        self.transports = _list(args.transports, TRANSPORTS, 'transport')
        if args.rounds < 1 or args.seconds < 1:
            raise common.Usage('--rounds and --seconds take positive integers')
        self.servers = {n: Server(n, args.port_base + NAMES.index(n), os.path.join(self.out, n), self.build, args.rrl)
                        for n in self.names}
        self.children = {}
        self.idle = {}
        self.rows = []
        self.callgrind_rows = []
        self.notes = []

    # ---- processes ----------------------------------------------------------------------------

    def start(self, name, prefix=()):
        s = self.servers[name]
        if dnswire.query(s.port, 'bench.test', 'SOA', timeout=0.3) is not None:
            raise common.Fatal(f'something already answers on 127.0.0.1:{s.port}')
        child = procs.Child(name, list(prefix) + s.argv(), os.path.join(s.folder, 'server.log'),
                            cpu=SERVER_CPU, nice=self.args.nice)
        self.children[name] = child
        probe = ('www.bench.test', 'A') if s.is_floor else ('bench.test', 'SOA')
        if not common.wait_until(lambda: not child.alive() or dnswire.query(s.port, *probe, timeout=0.3),
                                 120, 0.2) or not child.alive():
            raise common.Fatal(f'{name} did not start answering:\n' + _tail(child.log))
        time.sleep(0.5)
        if not child.alive():
            raise common.Fatal(f'{name} exited at start:\n' + _tail(child.log))

    def stop(self, name):
        child = self.children.pop(name, None)
        if child:
            child.stop(grace=60)   # callgrind writes its profiles on the way out

    # ---- answers ------------------------------------------------------------------------------

    def check_answers(self, name):
        port = self.servers[name].port
        if self.servers[name].is_floor:
            got = dnswire.addresses(port, 'www.bench.test', 'A')
            if got != ['192.0.2.1']:
                raise common.Fatal(f'floor answers www.bench.test A with {got}, not its fixed 192.0.2.1')
            return
        want = {'A': [f'192.0.2.{i}' for i in range(1, 5)], 'AAAA': [f'2001:db8::{i}' for i in range(1, 5)]}
        for rtype, addrs in want.items():
            got = dnswire.addresses(port, 'www.bench.test', rtype)
            if got != addrs:
                raise common.Fatal(f'{name} answers www.bench.test {rtype} with {got}, not {addrs}')
        r = dnswire.query(port, 'nothere.bench.test', 'A')
        if r is None or r.rcode != 'NXDOMAIN':
            raise common.Fatal(f'{name} answers nothere.bench.test with {r.rcode if r else "nothing"}, not NXDOMAIN')

    def compare_answers(self):
        """Markdown: each question's answer per real server, and whether they agree."""
        questions = [('www.bench.test', 'A'), ('www.bench.test', 'AAAA'), ('mail.bench.test', 'A'),
                     ('txt.bench.test', 'TXT'), ('bench.test', 'SOA'), ('bench.test', 'NS'),
                     ('nothere.bench.test', 'A'), ('www.bench.test', 'TXT')]
        real = [n for n in self.names if n in REAL]
        t = report.Table([report.Column('question', 'question', left=True)] +
                         [report.Column(n, n, left=True) for n in real] +
                         [report.Column('same', 'same', left=True)])
        differ = 0
        for qname, rtype in questions:
            seen = {}
            for n in real:
                r = dnswire.query(self.servers[n].port, qname, rtype)
                seen[n] = _answer_text(r)
            same = len(set(seen.values())) == 1
            differ += not same
            t.add(question=f'{qname} {rtype}', same='yes' if same else 'NO', **seen)
        return t, differ

    def answer_order(self, name):
        port = self.servers[name].port
        orders = []
        for _ in range(20):
            r = dnswire.query(port, 'www.bench.test', 'A')
            orders.append(tuple(r.values('A')) if r else ())
        firsts = {}
        for o in orders:
            if o:
                firsts[o[0]] = firsts.get(o[0], 0) + 1
        if len(set(orders)) == 1:
            return f'fixed: always {", ".join(orders[0])} (20 of 20 queries)'
        return (f'varies: {len(set(orders))} different orders in 20 queries; first address ' +
                ' '.join(f'{a}:{c}' for a, c in sorted(firsts.items())))

    def dig_sections(self, name):
        if shutil.which('dig') is None:
            return '(dig not installed)\n'
        out = ''
        for qname, rtype in (('www.bench.test', 'A'), ('nothere.bench.test', 'A')):
            r = procs.run(['dig', '@127.0.0.1', '-p', self.servers[name].port, '+norec', '+nocookie', '+noedns',
                           '+time=1', '+tries=1', '+nocmd', '+nostats', '+noquestion', '+multiline', qname, rtype], 10)
            for line in r.stdout.splitlines():
                if line and not line.startswith(';; Got answer'):
                    out += re.sub(r'id: \d+', 'id: N', line) + '\n'
        return out

    def start_and_check(self):
        for name in self.names:
            self.start(name)
        time.sleep(1)
        for name in self.names:
            self.idle[name] = procs.memory(self.children[name].pid)
        for name in self.names:
            self.check_answers(name)
        table, differ = self.compare_answers()
        text = '## Answers compared (real servers; dnswire queries, no EDNS)\n\n' + table.markdown()
        text += f'\n{differ} question(s) answered differently.\n' if differ else '\nEvery real server gives the same answers (record order aside for www, which nolbd and gdnsd shuffle).\n'
        text += '\n## Answer order of www.bench.test A\n\n'
        text += ''.join(f'- {n}: {self.answer_order(n)}\n' for n in self.names if n in REAL)
        text += '\n## Responses (dig +norec +noedns)\n'
        for n in self.names:
            text += f'\n### {n}\n\n```\n{self.dig_sections(n)}```\n'
        report.write_text(os.path.join(self.out, 'answers.md'), text)
        return differ

    def demo_memory(self):
        """nolbd serving conf/demo.toml (its listen moved, control socket off), idle."""
        folder = os.path.join(self.out, 'nolbd-demo')
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        shutil.copytree(os.path.join(common.ROOT, 'conf/zones'), os.path.join(folder, 'zones'))
        port = self.args.port_base + len(NAMES)
        lines = []
        with open(os.path.join(common.ROOT, 'conf/demo.toml')) as f:
            for line in f:
                if line.startswith('listen = '):
                    line = f'listen = ["127.0.0.1:{port}"]\n'
                elif line.startswith('socket = '):
                    line = 'socket = ""\n'
                lines.append(line)
        report.write_text(os.path.join(folder, 'demo.toml'), ''.join(lines))
        nolbd = os.path.join(self.build, 'nolbd')
        check = procs.run([nolbd, '--check-config', os.path.join(folder, 'demo.toml')], 60, cwd=folder)
        if check.returncode != 0:
            return None
        child = procs.Child('nolbd-demo', [nolbd, '-c', os.path.join(folder, 'demo.toml')] + common.nolbd_user_args(),
                            os.path.join(folder, 'server.log'), cpu=SERVER_CPU, nice=self.args.nice, cwd=folder)
        try:
            common.wait_until(lambda: dnswire.query(port, 'demo.test', 'SOA', timeout=0.3) is not None, 20, 0.2)
            time.sleep(1)
            return procs.memory(child.pid) if child.alive() else None
        finally:
            child.stop()

    # ---- perf ---------------------------------------------------------------------------------

    def write_queries(self):
        q = os.path.join(self.out, 'queries')
        os.makedirs(q, exist_ok=True)
        report.write_text(f'{q}/www.txt', 'www.bench.test A\n')
        rng = random.Random(42)
        lines = []
        for _ in range(100000):
            r = rng.random()
            lines.append('www.bench.test A' if r < 0.7 else 'www.bench.test AAAA' if r < 0.9
                         else f'nx{rng.randrange(100000000):08d}.bench.test A')
        report.write_text(f'{q}/mixed.txt', '\n'.join(lines) + '\n')
        report.write_text(f'{q}/callgrind.txt', 'www.bench.test A\n' * self.args.callgrind_queries)

    def perf_round(self, rnd, name, mix, transport):
        child = self.children[name]
        path = os.path.join(self.out, 'reports', f'{name}-{mix}-{transport}-{rnd}.txt')
        before = procs.cpu_ticks(child.pid)
        fields = dnsperf.run(self.servers[name].port, os.path.join(self.out, 'queries', f'{mix}.txt'),
                             self.args.seconds, path, transport, rate=self.args.rate or None,
                             cpu=CLIENT_CPU, nice=self.args.nice)
        after = procs.cpu_ticks(child.pid)
        if not child.alive():
            raise common.Fatal(f'{name} exited during round {rnd} ({mix} {transport}):\n' + _tail(child.log))
        if fields['completed'] <= 0:
            raise common.Fatal(f'{name} answered nothing in round {rnd} ({mix} {transport}):\n' + _tail(path))
        cpu_us = (after - before) * 1e6 / procs.CLK_TCK
        mem = procs.memory(child.pid)
        row = dict(fields, round=rnd, server=name, mix=mix, transport=transport, server_cpu_us=round(cpu_us),
                   server_us_per_query=round(cpu_us / fields['completed'], 3), rss_kib=mem['rss'],
                   anon_kib=mem['anon'], file_kib=mem['file'], pss_kib=mem['pss'], processes=mem['processes'])
        self.rows.append(row)
        common.note(f'round {rnd} {name} {mix}/{transport}: {fields["qps"]:.0f} q/s, '
                    f'{row["server_us_per_query"]} us/query, lost {fields["lost"]}, dnsperf CPU {fields["dnsperf_cpu_pct"]} %')

    def perf(self):
        self.start_and_check()
        for rnd in range(1, self.args.rounds + 1):
            for mix in self.mixes:
                for transport in self.transports:
                    for name in self.names:
                        self.perf_round(rnd, name, mix, transport)
                        report.write_rows_csv(os.path.join(self.out, 'rounds.csv'), ROUND_FIELDS, self.rows)
        for name in list(self.children):
            self.stop(name)

    # ---- callgrind ----------------------------------------------------------------------------

    def callgrind_ir(self, name, run):
        total = 0
        folder = os.path.join(self.out, 'callgrind')
        for f in sorted(os.listdir(folder)):
            if f.startswith(f'{name}-{run}.') and f.endswith('.out'):
                summary = totals = None
                with open(os.path.join(folder, f), errors='replace') as fh:
                    for line in fh:
                        if line.startswith('summary:'):
                            summary = int(line.split()[1])
                        elif line.startswith('totals:'):
                            totals = int(line.split()[1])
                total += summary if summary is not None else (totals or 0)
        return total

    def callgrind_run(self, name, run, wall):
        folder = os.path.join(self.out, 'callgrind')
        for f in os.listdir(folder):
            if f.startswith(f'{name}-{run}.'):
                os.remove(os.path.join(folder, f))
        self.start(name, ['valgrind', '--tool=callgrind', '--trace-children=yes',
                          f'--callgrind-out-file={folder}/{name}-{run}.%p.out'])
        self.check_answers(name)
        start = time.monotonic()
        fields = None
        if run == 'queries':
            fields = dnsperf.run(self.servers[name].port, os.path.join(self.out, 'queries', 'callgrind.txt'),
                                 wall, os.path.join(folder, f'{name}-dnsperf.txt'), 'udp', rate=self.args.callgrind_qps,
                                 clients=1, cpu=CLIENT_CPU, nice=self.args.nice, passes=1)
        while time.monotonic() - start < wall:
            time.sleep(0.2)
        self.stop(name)
        return fields

    def callgrind(self):
        wall = self.args.callgrind_queries // self.args.callgrind_qps + 5
        os.makedirs(os.path.join(self.out, 'callgrind'), exist_ok=True)
        for name in self.names:
            common.note(f'callgrind {name}: {self.args.callgrind_queries} queries at {self.args.callgrind_qps}/s, '
                        f'then idle, {wall} s each')
            fields = self.callgrind_run(name, 'queries', wall)
            self.callgrind_run(name, 'idle', wall)
            if not fields or fields['completed'] <= 0:
                raise common.Fatal(f'{name} answered nothing under callgrind')
            ir_q, ir_idle = self.callgrind_ir(name, 'queries'), self.callgrind_ir(name, 'idle')
            self.callgrind_rows.append({'server': name, 'answered': fields['completed'], 'lost': fields['lost'],
                                        'ir_with_queries': ir_q, 'ir_idle': ir_idle,
                                        'instructions_per_query': round((ir_q - ir_idle) / fields['completed'])})
            common.note(f'callgrind {name}: {self.callgrind_rows[-1]}')
        report.write_rows_csv(os.path.join(self.out, 'callgrind.csv'), list(self.callgrind_rows[0]), self.callgrind_rows)

    # ---- report -------------------------------------------------------------------------------

    def summaries(self):
        """{(server, mix, transport): {field: Summary}}"""
        out = {}
        for field, *_ in MEASURES:
            for key, values in stats.group(self.rows, ['server', 'mix', 'transport'], field).items():
                out.setdefault(key, {})[field] = stats.summarize(values)
        return out

    def perf_tables(self, sums):
        cols = [report.Column('mix', 'mix', left=True), report.Column('transport', 'transport', left=True),
                report.Column('server', 'server', left=True), report.Column('rounds', 'rounds', '{:d}')]
        for field, title, fmt, with_ratio in MEASURES:
            cols.append(report.Column(field, title, fmt))
            if with_ratio:
                cols.append(report.Column(field + '_ratio', 'vs nolbd', '{:.2f}'))
            if field == 'server_us_per_query':
                cols.append(report.Column('above_floor_us', 'above floor us/query', '{:.2f}'))
                cols.append(report.Column('above_floor_ratio', 'vs nolbd', '{:.2f}'))
        md = report.Table(cols)
        csv_cols = [report.Column(k, k) for k in ('mix', 'transport', 'server', 'measure', 'n', 'median', 'q1', 'q3',
                                                 'low', 'high', 'coverage', 'min', 'max', 'ratio_to_nolbd')]
        full = report.Table(csv_cols)
        for mix in self.mixes:
            for transport in self.transports:
                base = sums.get(('nolbd', mix, transport), {})
                floor = sums.get(('floor', mix, transport), {}).get('server_us_per_query')
                base_above = (base['server_us_per_query'].median - floor.median
                              if floor and 'server_us_per_query' in base else None)
                for name in self.names:
                    s = sums.get((name, mix, transport))
                    if not s:
                        continue
                    row = {'mix': mix, 'transport': transport, 'server': name, 'rounds': s['qps'].n}
                    for field, _, _, with_ratio in MEASURES:
                        row[field] = s[field].median
                        r = stats.ratio(s[field].median, base[field].median) if field in base else None
                        if with_ratio:
                            row[field + '_ratio'] = r
                        full.add(mix=mix, transport=transport, server=name, measure=field, n=s[field].n,
                                 median=s[field].median, q1=s[field].q1, q3=s[field].q3, low=s[field].low,
                                 high=s[field].high, coverage=round(s[field].coverage, 4), min=s[field].minimum,
                                 max=s[field].maximum, ratio_to_nolbd=r)
                    if floor and name != 'floor':
                        row['above_floor_us'] = s['server_us_per_query'].median - floor.median
                        row['above_floor_ratio'] = stats.ratio(row['above_floor_us'], base_above)
                    md.add(**row)
        return md, full

    def target_lines(self, sums):
        lines = []
        for mix in self.mixes:
            a, g = sums.get(('nolbd', mix, 'udp')), sums.get(('gdnsd', mix, 'udp'))
            if a and g:
                lines.append(f'- UDP {mix}: nolbd CPU per query / gdnsd = '
                             f'{a["server_us_per_query"].median / g["server_us_per_query"].median:.2f} (target <= 0.70)')
            others = [(sums[(n, mix, 'tcp')]['qps'].median, n) for n in ('gdnsd', 'nsd', 'knot') if (n, mix, 'tcp') in sums]
            a = sums.get(('nolbd', mix, 'tcp'))
            if a and others:
                best, who = max(others)
                lines.append(f'- TCP {mix}: nolbd queries/s / best other ({who}) = {a["qps"].median / best:.2f} (target >= 1.20)')
        a, g = sums.get(('nolbd', 'www', 'udp')), sums.get(('gdnsd', 'www', 'udp'))
        if a and g:
            lines.append(f'- PSS (bench zone, after UDP www): nolbd / gdnsd = '
                         f'{a["pss_kib"].median / g["pss_kib"].median:.2f} (target <= 1.00; the target is about the demo config)')
        return '\n'.join(lines) + '\n' if lines else ''

    def perf_plots(self, sums):
        if not plots.available():
            self.notes.append('No plots: python3-matplotlib is not installed (contrib/install-deps.sh bench).')
            return
        for mix in self.mixes:
            panels, refs = [], {}
            for field, label, unit in (('qps', 'queries/s', 'queries/s'), ('server_us_per_query', 'CPU us/query', 'us')):
                for transport in self.transports:
                    items = [(n, s[field].median, s[field].low, s[field].high) for n in self.names if n != 'floor'
                             for s in [sums.get((n, mix, transport))] if s]
                    title = f'{transport.upper()} {label}'
                    panels.append((title, unit, items))
                    floor = sums.get(('floor', mix, transport))
                    if floor:
                        refs[title] = (floor[field].median, 'kernel floor')
            plots.bars(self.out, f'speed-{mix}', f'mix "{mix}": medians over rounds, bars: interval for the median',
                       panels, refs)

    def callgrind_table(self):
        base = next((r['instructions_per_query'] for r in self.callgrind_rows if r['server'] == 'nolbd'), None)
        t = report.Table([report.Column('server', 'server', left=True), report.Column('answered', 'answered', '{:,}'),
                          report.Column('lost', 'lost', '{:,}'), report.Column('ir_with_queries', 'Ir with queries', '{:,}'),
                          report.Column('ir_idle', 'Ir idle', '{:,}'),
                          report.Column('instructions_per_query', 'instructions/query', '{:,}'),
                          report.Column('ratio', 'vs nolbd', '{:.2f}')])
        for r in self.callgrind_rows:
            t.add(ratio=stats.ratio(r['instructions_per_query'], base), **r)
        text = t.markdown()
        g = next((r['instructions_per_query'] for r in self.callgrind_rows if r['server'] == 'gdnsd'), None)
        if base and g:
            text += f'\n- nolbd instructions per query / gdnsd = {base / g:.2f} (target <= 0.50)\n'
        if plots.available():
            plots.bars(self.out, 'callgrind', 'user-space instructions per answered query (callgrind)',
                       [('instructions/query', 'Ir', [(r['server'], r['instructions_per_query'], None, None)
                                                      for r in self.callgrind_rows])])
        return text

    def memory_lines(self):
        lines = ['## Memory once answering, before any load', '']
        for name in self.names:
            m = self.idle.get(name)
            if m:
                lines.append(f'- {name}: {_mem_text(m)}')
        demo = self.demo_memory() if 'nolbd' in self.names else None
        if demo:
            g = self.idle.get('gdnsd')
            vs = f'; PSS / gdnsd with bench.test = {demo["pss"] / g["pss"]:.2f} (target <= 1.00)' if g and g['pss'] else ''
            lines.append(f'- nolbd with conf/demo.toml (its 2 nodes health-checked, nothing listening there): '
                         f'{_mem_text(demo)}{vs}')
        return '\n'.join(lines) + '\n'

    def write_report(self):
        a = self.args
        parts = [f'# DNS benchmark: {common.utc_now()}, {common.machine()}\n',
                 f'Command: contrib/bench.py dns --mode {a.mode}' +
                 (f' --rounds {a.rounds} --seconds {a.seconds}' if a.mode in ('perf', 'all') else '') +
                 f' --servers {",".join(self.names)}' + (f' --rate {a.rate}' if a.rate else '') +
                 (f' --rrl {a.rrl}' if a.rrl else '') + '\n']
        if self.rows:
            sums = self.summaries()
            md, full = self.perf_tables(sums)
            full.write_csv(os.path.join(self.out, 'summary.csv'))
            md.write_csv(os.path.join(self.out, 'medians.csv'))
            n = a.rounds
            cover = stats.median_interval(list(range(n)))[2]
            parts.append(f'## Medians per server, mix and transport ({n} rounds of {a.seconds} s)\n\n' + md.markdown() +
                         '\nvs nolbd: the server\'s median over nolbd\'s (queries/s: higher is better for the server; '
                         'CPU and PSS: lower is better). Above floor: CPU per query less the kernel floor\'s '
                         '(nolb-floor) for the same mix and transport. Lost: no answer within 5 s. '
                         f'summary.csv has quartiles and the interval for each median ({cover * 100:.0f} % '
                         f'coverage with {n} rounds; the plots\' error bars).\n\n' + self.target_lines(sums))
            self.perf_plots(sums)
        if self.callgrind_rows:
            parts.append(f'## Callgrind: user-space instructions per answered query\n\n{a.callgrind_queries} www A '
                         f'queries over UDP at {a.callgrind_qps}/s; (Ir with queries - Ir idle for the same time) / '
                         f'answered.\n\n' + self.callgrind_table())
        settings = [f'- Each server on CPU {SERVER_CPU} (taskset), dnsperf {dnsperf.version()} on CPU {CLIENT_CPU}, '
                    '127.0.0.1, one answering thread per server.']
        settings += [f'- {self.servers[n].settings()}; command: `{" ".join(self.servers[n].argv())}`' for n in self.names]
        settings += [f'- dnsperf UDP: {" ".join(dnsperf.TRANSPORT_ARGS["udp"])}; TCP: {" ".join(dnsperf.TRANSPORT_ARGS["tcp"])}; '
                     f'-l {a.seconds}' + (f'; -Q {a.rate}' if a.rate else '') + '; no EDNS.',
                     '- Query mixes: www = www.bench.test A only; mixed = 70 % www A, 20 % www AAAA, 10 % names '
                     'that do not exist (100,000 lines, seed 42).',
                     f'- Server CPU per query: utime+stime of the server\'s processes (/proc/PID/stat, {procs.CLK_TCK} '
                     'ticks/s) over the round / dnsperf\'s completed queries. Memory: RssAnon, RssFile (/proc/PID/status) '
                     'and Pss (/proc/PID/smaps_rollup) summed over the server\'s processes after the round.']
        parts.append('## Settings\n\n' + '\n'.join(settings) + '\n')
        if self.idle:
            parts.append(self.memory_lines())
        answers = os.path.join(self.out, 'answers.md')
        if os.path.exists(answers):
            with open(answers) as f:
                parts.append(f.read())
        parts += [n + '\n' for n in self.notes]
        text = '\n'.join(parts)
        report.write_text(os.path.join(self.out, 'report.md'), text)
        print(text)


def _list(text, allowed, what):
    items = [x for x in text.split(',') if x]
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        raise common.Usage(f'unknown {what} {",".join(bad) or "(none)"}: choose from {",".join(allowed)}')
    return items


def _tail(path, lines=20):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def _answer_text(r):
    if r is None:
        return 'no answer'
    answer = sorted(f'{t} {v}' for _, t, _, v in r.answer)
    soa = [f'SOA {v.split()[0]}' for _, t, _, v in r.authority if t == 'SOA']
    return ' '.join([r.rcode] + answer + soa)


def _mem_text(m):
    return (f'anonymous {m["anon"] / 1024:.1f}, file-backed {m["file"] / 1024:.1f}, PSS {m["pss"] / 1024:.1f} MiB '
            f'(VmRSS {m["rss"] / 1024:.1f}; {m["processes"]} process{"es" if m["processes"] != 1 else ""})')


def main(argv):
    args = parser().parse_args(argv)
    common.need_tools('taskset', 'dnsperf', *(['valgrind'] if args.mode in ('callgrind', 'all') else []))
    run = Run(args)
    need = {'gdnsd': ('gdnsd',), 'nsd': ('nsd', 'nsd-checkconf'), 'knot': ('knotd', 'knotc')}
    for n in run.names:
        common.need_tools(*need.get(n, ()))
    if 'nolbd' in run.names:
        common.program(run.build, 'nolbd')
    if 'floor' in run.names:
        common.program(run.build, 'tests/tools/nolb-floor')
    if (os.cpu_count() or 1) < 2:
        raise common.Usage('needs 2 CPUs (servers on CPU 0, dnsperf on CPU 1)')
    for name in run.names:
        shutil.rmtree(run.servers[name].folder, ignore_errors=True)
        run.servers[name].configure()
    for stale in os.listdir(run.out):   # a previous run's results, which this one may not remake
        if stale.endswith(('.csv', '.md', '.png', '.svg')):
            os.remove(os.path.join(run.out, stale))
    run.write_queries()
    os.makedirs(os.path.join(run.out, 'reports'), exist_ok=True)
    status = 0
    if args.mode == 'check':
        differ = run.start_and_check()
        for name in list(run.children):
            run.stop(name)
        status = 1 if differ else 0
    if args.mode in ('perf', 'all'):
        run.perf()
    if args.mode in ('callgrind', 'all'):
        run.callgrind()
    run.write_report()
    return status
