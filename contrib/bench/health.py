"""The health-check benchmark: what probing costs nolbd, beside gdnsd, and how fast its answers
follow a failing node.

Part 1, scale. One nolb-testhttp on 0.0.0.0 at --scale-ports ports (pinned to the last CPU)
serves every 127.1.x.y address. For each N addresses and each probe interval, the server
(pinned to CPU 0) gets N addresses (services of 10 nodes of one address each, service S probed
at port S mod ports; timeout interval / 2) and is left to warm up; then, over --sample-s
seconds: probes per second done (nolbctl stats, probes.sent) and seen by the backend (its
accepted connections, from the counters it prints on SIGUSR1), the server's CPU time (user +
system, /proc/PID/stat) as a share of one core and per probe, its memory (PSS, anonymous,
file-backed) and threads, late and failed probes, health transitions (every backend is healthy,
so each one is a false alarm), the backend's CPU, how long startup took and how many addresses
it left down, the latency of --scale-qps queries a second sent meanwhile (nolb-queryload), and
how much of the server's CPU other processes took (a shared machine shows there). At
--compare-interval (2 s, gdnsd's smallest) nolbd and gdnsd 3.8 run one after the other on the
same backends without queries, so that their CPU is probing's; then nolbd alone at
--scale-intervals (0.1 s, its smallest) with the query load. gdnsd runs in the foreground with
its own config folder: http_status service types with the same interval, timeout and
thresholds, one multifo resource per service. gdnsd counts no probes itself: the backend counts
them. The ratios nolbd / gdnsd close the table.

Part 2, detection. Two nodes probed every 0.25 s (timeout 0.2 s, rise 2, fall 2, fast_interval
nolbd's default, a fifth of the interval, or --fast-interval), --trials times: a backend
answering 503, refusing connections (stopped), or never answering (hang) -> gone from the
answers; healthy again -> back. Median, quartiles, interval for the median, minimum and maximum
in milliseconds, from the change to the first answer that reflects it (DNS polled about every
10 ms); for the hang also from the start of the first probe left unanswered (found in nolbd's
debug log, each line stamped as it is read).

All traffic goes to loopback addresses. The whole run is bounded by --deadline-s; every process
started is stopped by its PID on exit. Output in OUT (default BUILD/bench/health): report.md,
scale.csv, detection.csv (every trial), detection-summary.csv, and the plots probe-cost and
detection (PNG, SVG).
"""

import argparse
import json
import os
import random
import re
import signal
import time

from . import common, dnswire, plots, procs, report, stats

SCALE_COLUMNS = [
    report.Column('server', 'server', left=True), report.Column('addresses', 'addresses', '{:,}'),
    report.Column('interval', 'interval s', '{:g}'), report.Column('due', 'probes/s due', '{:,.0f}'),
    report.Column('done', 'probes/s done', '{:,.0f}'), report.Column('backend', 'backend saw /s', '{:,.0f}'),
    report.Column('cpu_pct', 'CPU %', '{:.1f}'), report.Column('us_per_probe', 'CPU us/probe', '{:.1f}'),
    report.Column('pss_kib', 'PSS KiB', '{:,}'), report.Column('anon_kib', 'anonymous KiB', '{:,}'),
    report.Column('file_kib', 'file-backed KiB', '{:,}'), report.Column('threads', 'threads', '{}'),
    report.Column('late', 'late /s', '{:.1f}'), report.Column('failed', 'failed /s', '{:.1f}'),
    report.Column('transitions', 'transitions', '{}'), report.Column('backend_cpu_pct', 'backend CPU %', '{:.1f}'),
    report.Column('startup_s', 'startup s', '{:.1f}'), report.Column('down_after_startup', 'down after startup', '{}'),
    report.Column('dns_p50_us', 'DNS p50 us', '{}'), report.Column('dns_p99_us', 'DNS p99 us', '{}'),
    report.Column('queries_lost', 'queries lost', '{}'), report.Column('others_pct', 'CPU 0 used by others %', '{:.0f}'),
]
EVENTS = [('503', '503 -> out'), ('refused', 'refused -> out'), ('hang', 'hang (timeout) -> out'),
          ('hang_probe', 'hang, from its first unanswered probe -> out'),
          ('back', 'healthy -> back (503 or hang -> ok)'), ('restart', 'restarted -> back (from its start)')]
SHORT = {'503': '503 out', 'refused': 'refused out', 'hang': 'hang out', 'hang_probe': 'hang out\n(from probe)',
         'back': 'back', 'restart': 'restarted back'}


def parser():
    p = argparse.ArgumentParser(prog='contrib/bench.py health', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--scale-n', default='1000,10000', help='addresses per scale run (1000,10000; empty: no part 1)')
    p.add_argument('--scale-intervals', default='0.1', help='nolbd-alone intervals, with queries (0.1)')
    p.add_argument('--scale-qps', type=int, default=1000, help='queries a second during those runs (1000)')
    p.add_argument('--scale-ports', type=int, default=4, help='backend ports (4)')
    p.add_argument('--compare-interval', default='2', help='interval of the nolbd/gdnsd comparison (2; empty: none)')
    p.add_argument('--compare', default='gdnsd', help='gdnsd, or empty: nolbd alone at --compare-interval')
    p.add_argument('--jitter', default='0.1', help='nolbd jitter in the scale runs (0.1)')
    p.add_argument('--startup', default='probe', help='nolbd startup in the scale runs (probe)')
    p.add_argument('--sample-s', type=float, default=12, help='sampling time per scale run (12)')
    p.add_argument('--warmup-s', type=float, default=4, help='warm-up before sampling (4)')
    p.add_argument('--trials', type=int, default=20, help='detection trials (20; 0: no part 2)')
    p.add_argument('--fast-interval', default='', help="detection fast_interval in s (empty: nolbd's default)")
    p.add_argument('--deadline-s', type=float, default=290, help='no part starts after this (290)')
    p.add_argument('--nice', type=int, default=0, help='nice increment for servers, backends and load (0)')
    p.add_argument('--build', default=os.path.join(common.ROOT, 'build'))
    p.add_argument('--out', help='output folder (BUILD/bench/health)')
    return p


def _split(text):
    return [x for x in re.split(r'[ ,]+', text.strip()) if x]


class Run:
    def __init__(self, args):
        self.args = args
        self.build = common.build_dir(args.build)
        self.out = common.out_dir(self.build, 'health', args.out)
        self.nolbd = common.program(self.build, 'nolbd')
        self.nolbctl = common.program(self.build, 'nolbctl')
        self.testhttp = common.program(self.build, 'tests/tools/nolb-testhttp')
        self.queryload = common.program(self.build, 'tests/tools/nolb-queryload')
        self.work = os.path.join(self.out, 'work')
        os.makedirs(self.work, exist_ok=True)
        cpus = os.cpu_count() or 1
        self.server_cpu = 0
        self.helper_cpu = cpus - 1 if cpus > 1 else 0
        self.deadline = common.Deadline(args.deadline_s)
        self.scale = report.Table(SCALE_COLUMNS)
        self.scale_by = {}
        self.detection = {k: [] for k, _ in EVENTS}

    # ---- processes ----------------------------------------------------------------------------

    def start_testhttp(self, log, control, listens):
        argv = [self.testhttp] + [a for l in listens for a in ('--listen', l)] + ['--control-file', control]
        before = common.count_lines(log, 'nolb-testhttp: ready')
        child = procs.Child('nolb-testhttp', argv, log, cpu=self.helper_cpu, nice=self.args.nice)
        if not common.wait_log(log, 'nolb-testhttp: ready', 10, before + 1):
            raise common.Fatal('nolb-testhttp did not start:\n' + open(log, errors='replace').read()[-2000:])
        return child

    def start_nolbd(self, config, log, stamp=False):
        t0 = time.monotonic()
        child = procs.Child('nolbd', [self.nolbd, '-c', config] + common.nolbd_user_args(), log,
                            cpu=self.server_cpu, nice=self.args.nice, stamp=stamp)
        if not common.wait_log(log, 'msg=ready', 60):
            raise common.Fatal('nolbd did not become ready:\n' + open(log, errors='replace').read()[-2000:])
        return child, time.monotonic() - t0

    def start_gdnsd(self, folder, log):
        t0 = time.monotonic()
        child = procs.Child('gdnsd', ['gdnsd', '-c', folder, 'start'], log, cpu=self.server_cpu, nice=self.args.nice)
        if not common.wait_log(log, 'DNS listeners started', 60):
            raise common.Fatal('gdnsd did not start:\n' + open(log, errors='replace').read()[-2000:])
        return child, time.monotonic() - t0

    def ctl_stats(self, socket):
        r = procs.run([self.nolbctl, '--socket', socket, 'stats', '--json'], 10)
        try:
            return json.loads(r.stdout) if r.returncode == 0 else {}
        except ValueError:
            return {}

    @staticmethod
    def backend_requests(child):
        """Connections the backend has accepted so far (one per probe), from its SIGUSR1 counters."""
        before = common.count_lines(child.log, 'nolb-testhttp: counters ')
        child.signal(signal.SIGUSR1)
        common.wait_until(lambda: common.count_lines(child.log, 'nolb-testhttp: counters ') > before, 2, 0.02)
        last = [l for l in open(child.log, errors='replace') if l.startswith('nolb-testhttp: counters ')]
        m = re.search(r'connections=(\d+)', last[-1]) if last else None
        return int(m.group(1)) if m else 0

    # ---- part 1: scale ------------------------------------------------------------------------

    @staticmethod
    def address(i):
        return f'127.1.{i // 250}.{i % 250 + 1}'

    @staticmethod
    def timeout_for(interval):
        t = float(interval) / 2
        return t if t >= 0.1 else float(interval)

    def nolbd_scale_config(self, path, n, interval, dns_port, socket, ports):
        a = self.args
        out = [f'[server]\nlisten = ["127.0.0.1:{dns_port}"]\nworkers = 1\n\n',
               '[[zone]]\norigin = "bench.test."\nttl = 300\n\n[[zone.ns]]\nname = "ns1"\naddresses = ["127.0.0.1"]\n\n',
               f'[control]\nsocket = "{socket}"\n\n']
        for s in range((n + 9) // 10):
            out.append(f'[[service]]\nname = "s{s:05d}.bench.test."\nttl = 20\nstartup = "{a.startup}"\n'
                       f'[service.health]\ntype = "http"\nport = {ports[s % len(ports)]}\npath = "/health"\n'
                       f'interval = {interval}\ntimeout = {self.timeout_for(interval):g}\njitter = {a.jitter}\n'
                       'rise = 2\nfall = 2\n')
            for i in range(min(10, n - s * 10)):
                out.append(f'[[service.node]]\nname = "n{i}"\naddresses = ["{self.address(s * 10 + i)}"]\n')
            out.append('\n')
        report.write_text(path, ''.join(out))

    def gdnsd_scale_config(self, folder, n, interval, dns_port, ports):
        for sub in ('zones', 'run', 'state'):
            os.makedirs(f'{folder}/{sub}', exist_ok=True)
        timeout = self.timeout_for(interval)
        out = [f'options => {{\n    listen => [ 127.0.0.1:{dns_port} ]\n    udp_threads => 1\n    tcp_threads => 1\n'
               f'    run_dir => {folder}/run\n    state_dir => {folder}/state\n}}\nservice_types => {{\n']
        for k, port in enumerate(ports):
            out.append(f'    hc{k} => {{ plugin => http_status, port => {port}, url_path => /health, interval => {interval}, '
                       f'timeout => {timeout:g}, up_thresh => 2, ok_thresh => 2, down_thresh => 2 }}\n')
        out.append('}\nplugins => {\n    multifo => {\n')
        for s in range((n + 9) // 10):
            addrs = ', '.join(self.address(s * 10 + i) for i in range(min(10, n - s * 10)))
            out.append(f'        s{s:05d} => {{ service_types => hc{s % len(ports)}, addrs_v4 => [ {addrs} ] }}\n')
        out.append('    }\n}\n')
        report.write_text(f'{folder}/config', ''.join(out))
        zone = ['$TTL 300\n@ SOA ns1 hostmaster 1 7200 1800 259200 900\n@ NS ns1\nns1 A 127.0.0.1\n']
        zone += [f's{s:05d} 20 DYNA multifo!s{s:05d}\n' for s in range((n + 9) // 10)]
        report.write_text(f'{folder}/zones/bench.test', ''.join(zone))

    def scale_run(self, server, n, interval, qps):
        a = self.args
        dns_port = common.free_port()
        ports = []
        while len(ports) < a.scale_ports:
            p = common.free_port(taken=ports + [dns_port])
            ports.append(p)
        tag = f'{server}-{n}-{interval}'
        socket = os.path.join(self.work, 'scale.sock')
        backend = self.start_testhttp(os.path.join(self.work, f'scale-http-{tag}.log'),
                                      os.path.join(self.work, 'scale-http.mode'), [f'0.0.0.0:{p}' for p in ports])
        common.note(f'scale: {server} N={n} interval={interval}s: starting')
        log = os.path.join(self.work, f'scale-{tag}.log')
        if server == 'gdnsd':
            folder = os.path.join(self.work, f'gdnsd-{tag}')
            self.gdnsd_scale_config(folder, n, interval, dns_port, ports)
            child, startup = self.start_gdnsd(folder, log)
        else:
            config = os.path.join(self.work, 'scale.toml')
            self.nolbd_scale_config(config, n, interval, dns_port, socket, ports)
            child, startup = self.start_nolbd(config, log)
        try:
            time.sleep(a.warmup_s)
            s0 = self.ctl_stats(socket) if server == 'nolbd' else {}
            r0, c0, h0 = self.backend_requests(backend), procs.cpu_ticks(child.pid), procs.cpu_ticks(backend.pid)
            b0, t0 = procs.cpu_busy_ticks(self.server_cpu), time.monotonic()
            load = ''
            if qps > 0:
                out = os.path.join(self.work, 'scale-load.out')
                if os.path.exists(out):
                    os.remove(out)
                lc = procs.Child('nolb-queryload', [self.queryload, '--server', f'127.0.0.1:{dns_port}', '--name',
                                                    's00000.bench.test', '--rate', qps, '--duration', a.sample_s,
                                                    '--timeout-ms', 1000], out, cpu=self.helper_cpu, nice=a.nice)
                if lc.wait(a.sample_s + 30) is None:
                    lc.stop()
                load = open(out, errors='replace').read()
            else:
                time.sleep(a.sample_s)
            s1 = self.ctl_stats(socket) if server == 'nolbd' else {}
            r1, c1, h1 = self.backend_requests(backend), procs.cpu_ticks(child.pid), procs.cpu_ticks(backend.pid)
            b1, seconds = procs.cpu_busy_ticks(self.server_cpu), time.monotonic() - t0
            mem, nthreads = procs.memory(child.pid), procs.threads(child.pid)
        finally:
            child.stop()
            backend.stop()
        logtext = open(log, errors='replace').read()

        def delta(key, sub=None):
            v0, v1 = s0.get(key, {}), s1.get(key, {})
            if sub:
                v0, v1 = v0.get(sub, 0) if isinstance(v0, dict) else 0, v1.get(sub, 0) if isinstance(v1, dict) else 0
            return (v1 or 0) - (v0 or 0)

        if server == 'nolbd':
            sent, late, failed = delta('probes', 'sent'), delta('probes', 'late') / seconds, delta('probes', 'failed') / seconds
            transitions = delta('transitions')
            down = sum(1 for l in logtext.splitlines() if re.search(r'msg="?address down', l) and 'from=unknown' in l)
        else:
            sent, late, failed = r1 - r0, None, None
            transitions = logtext.count('changed from')
            down = logtext.count('initialized to DOWN')
        cpu = (c1 - c0) / procs.CLK_TCK
        us = 1e6 * cpu / sent if sent > 0 else 0
        field = lambda k: (re.search(rf'{k}=(\d+)', load) or [None, None])[1]  # noqa: E731
        row = dict(server=server, addresses=n, interval=float(interval), due=n / float(interval), done=sent / seconds,
                   backend=(r1 - r0) / seconds, cpu_pct=100 * cpu / seconds, us_per_probe=us, pss_kib=mem['pss'],
                   anon_kib=mem['anon'], file_kib=mem['file'], threads=nthreads, late=late, failed=failed,
                   transitions=transitions, backend_cpu_pct=100 * (h1 - h0) / procs.CLK_TCK / seconds,
                   startup_s=startup, down_after_startup=down,
                   dns_p50_us=field('p50_us') if qps else None, dns_p99_us=field('p99_us') if qps else None,
                   queries_lost=field('lost') if qps else None,
                   others_pct=100 * max(0, (b1 - b0) - (c1 - c0)) / procs.CLK_TCK / seconds)
        self.scale.add(**row)
        self.scale_by[(server, n, interval)] = row
        common.note(f'scale: {server} N={n} interval={interval}s: {row["done"]:.0f} probes/s, {us:.1f} us/probe')

    # ---- part 2: detection --------------------------------------------------------------------

    def detection_run(self):
        a = self.args
        dns_port, http_port = common.free_port(), common.free_port()
        fast = f'fast_interval = {a.fast_interval}\n' if a.fast_interval else ''
        config = os.path.join(self.work, 'det.toml')
        report.write_text(config, f"""[server]
listen = ["127.0.0.1:{dns_port}"]
log_level = "debug"

[control]
socket = "{self.work}/det.sock"

[[zone]]
origin = "bench.test."
ttl = 300

[[zone.ns]]
name = "ns1"
addresses = ["127.0.0.1"]

[[service]]
name = "det.bench.test."
ttl = 20

[service.health]
type = "http"
port = {http_port}
path = "/health"
interval = 0.25
timeout = 0.2
jitter = 0.1
rise = 2
fall = 2
{fast}
[[service.node]]
name = "a"
addresses = ["127.2.0.1"]

[[service.node]]
name = "b"
addresses = ["127.2.0.2"]
""")
        mode_a = os.path.join(self.work, 'det-a.mode')
        log_a = os.path.join(self.work, 'det-a.log')
        common.atomic_write(mode_a, 'ok\n')
        backend_a = self.start_testhttp(log_a, mode_a, [f'127.2.0.1:{http_port}'])
        self.start_testhttp(os.path.join(self.work, 'det-b.log'), os.path.join(self.work, 'det-b.mode'),
                            [f'127.2.0.2:{http_port}'])   # stays healthy
        nolbd_log = os.path.join(self.work, 'det-nolbd.log')
        nolbd, _ = self.start_nolbd(config, nolbd_log, stamp=True)

        def has_a():
            return '127.2.0.1' in dnswire.addresses(dns_port, 'det.bench.test', timeout=1)

        def lacks_a():
            got = dnswire.addresses(dns_port, 'det.bench.test', timeout=1)
            return bool(got) and '127.2.0.1' not in got

        def measure(condition, key, t0):
            if common.wait_until(condition, 5.0, 0.01):
                self.detection[key].append(common.now_ms() - t0)
                return True
            return False

        trial = 0
        for trial in range(1, a.trials + 1):
            if self.deadline.passed():
                common.note(f'detection: deadline reached after {trial - 1} trials')
                trial -= 1
                break
            if not has_a():
                time.sleep(1)
                if not has_a():
                    common.note(f'trial {trial}: node a not answered at the start')
            time.sleep(random.uniform(0.3, 0.55))   # a random phase against the probe schedule
            t0 = common.now_ms(); common.atomic_write(mode_a, '503\n'); measure(lacks_a, '503', t0)
            t0 = common.now_ms(); common.atomic_write(mode_a, 'ok\n'); measure(has_a, 'back', t0)
            time.sleep(random.uniform(0.3, 0.55))
            t0 = common.now_ms(); backend_a.stop(); measure(lacks_a, 'refused', t0)
            t0 = common.now_ms()
            backend_a = self.start_testhttp(log_a, mode_a, [f'127.2.0.1:{http_port}'])
            measure(has_a, 'restart', t0)
            time.sleep(random.uniform(0.3, 0.55))
            t0 = common.now_ms(); common.atomic_write(mode_a, 'hang\n')
            if measure(lacks_a, 'hang', t0):
                started = self.first_unanswered_ms(nolbd_log, t0)
                if started is not None:
                    self.detection['hang_probe'].append(t0 + self.detection['hang'][-1] - started)
            t0 = common.now_ms(); common.atomic_write(mode_a, 'ok\n'); measure(has_a, 'back', t0)
        common.note(f'detection: {trial} trials')
        procs.stop_all()

    @staticmethod
    def first_unanswered_ms(log, since):
        """When the first probe of 127.2.0.1 that timed out after `since` started: the stamp of
        its result less its latency, in epoch milliseconds."""
        for line in open(log, errors='replace'):
            parts = line.split(' ', 1)
            if len(parts) < 2 or not parts[0].isdigit() or int(parts[0]) < since:
                continue
            if re.search(r' msg="?probe"? ', line) and ' address=127.2.0.1 ' in line and ' outcome=timeout' in line:
                m = re.search(r'latency_ms=([\d.]+)', line)
                if m:
                    return round(int(parts[0]) - float(m.group(1)))
        return None

    # ---- report -------------------------------------------------------------------------------

    def write_report(self, load_at_start):
        a = self.args
        parts = [f'# Health-check benchmark: {common.utc_now()}, {common.machine()}\n']
        if self.scale.rows:
            self.scale.write_csv(os.path.join(self.out, 'scale.csv'))
            parts.append(f'## Probing cost (server on CPU {self.server_cpu}, HTTP probes to nolb-testhttp on '
                         f'{a.scale_ports} ports; timeout interval / 2; nolbd jitter {a.jitter}, startup "{a.startup}")\n\n'
                         + self.scale.markdown() +
                         '\nProbes done: nolbd\'s own count (nolbctl stats); gdnsd reports none, so its figure is the '
                         'backend\'s accepted connections ("backend saw"). gdnsd\'s smallest interval is 2 s; nolbd\'s is 0.1 s.\n')
            lines = []
            for n in _split(a.scale_n):
                k = a.compare_interval
                x, g = self.scale_by.get(('nolbd', int(n), k)), self.scale_by.get(('gdnsd', int(n), k))
                if x and g:
                    lines.append(f'- {int(n):,} addresses at {k} s: nolbd / gdnsd CPU per probe = '
                                 f'{_r(x["us_per_probe"], g["us_per_probe"])} ({x["us_per_probe"]:.1f} / {g["us_per_probe"]:.1f} us; '
                                 f'target <= 0.50), PSS = {_r(x["pss_kib"], g["pss_kib"])}, threads {x["threads"]} / {g["threads"]}, '
                                 f'probes done / due {x["done"] / x["due"]:.2f} / {g["done"] / g["due"]:.2f}')
            parts.append('\n'.join(lines) + '\n' if lines else '')
            if plots.available():
                plots.bars(self.out, 'probe-cost', 'CPU per probe (one sample per run)', [
                    ('CPU us/probe', 'us', [(f'{r["server"]} {r["addresses"]:,} @{r["interval"]:g}s', r['us_per_probe'], None, None)
                                            for r in self.scale.rows])])
        if any(self.detection.values()):
            fast_ms = int(float(a.fast_interval or 0.05) * 1000)
            bounds = {'503': 275 + fast_ms, 'refused': 275 + fast_ms, 'hang': 275 + 200 + fast_ms,
                      'hang_probe': 200 + fast_ms, 'back': 275 + fast_ms, 'restart': None}
            t = report.Table([report.Column('event', 'event', left=True), report.Column('trials', 'trials', '{}'),
                              report.Column('median', 'median ms', '{:.0f}'), report.Column('q1', 'q1 ms', '{:.0f}'),
                              report.Column('q3', 'q3 ms', '{:.0f}'), report.Column('low', 'interval low', '{:.0f}'),
                              report.Column('high', 'interval high', '{:.0f}'), report.Column('min', 'min ms', '{:.0f}'),
                              report.Column('max', 'max ms', '{:.0f}'), report.Column('bound', 'bound ms', '{}')])
            rows = []
            for key, label in EVENTS:
                values = self.detection[key]
                rows += [{'event': key, 'ms': v} for v in values]
                if values:
                    s = stats.summarize(values)
                    t.add(event=label, trials=s.n, median=s.median, q1=s.q1, q3=s.q3, low=s.low, high=s.high,
                          min=s.minimum, max=s.maximum, bound=bounds[key])
                else:
                    t.add(event=label, trials=0, bound=bounds[key])
            report.write_rows_csv(os.path.join(self.out, 'detection.csv'), ['event', 'ms'], rows)
            t.write_csv(os.path.join(self.out, 'detection-summary.csv'))
            parts.append(f'## Detection (interval 0.25 s, timeout 0.2 s, rise 2, fall 2, fast_interval {fast_ms} ms; '
                         'ms from the change to a DNS answer showing it)\n\n' + t.markdown() +
                         f'\nBounds: the first probe to see a change comes within interval x (1 + jitter) = 275 ms; then '
                         f'fall - 1 (rise - 1) re-probes each fast_interval after the previous result: out within 275 + '
                         f'{fast_ms} ms, back within 275 + {fast_ms} ms. A hang fails a probe only at its timeout, but the next '
                         f'probe starts fast_interval after an unanswered one, overlapping it: out within 275 + 200 + {fast_ms} '
                         f'ms, or 200 + {fast_ms} ms from the start of the first unanswered probe (the target: timeout + 100 ms). '
                         'Measured times also hold the backend\'s switch (control file polled every 20 ms) and the DNS polling '
                         '(about 10-20 ms). "restarted -> back" counts from before nolb-testhttp is started again, so it also '
                         'holds the backend\'s own start-up. The interval for each median is in detection-summary.csv with '
                         'its coverage.\n')
            if plots.available():
                plots.boxes(self.out, 'detection', 'detection: ms from the change to the answers showing it', 'ms',
                            [(SHORT[key], self.detection[key]) for key, _ in EVENTS])
        parts.append(f'Load average at the start: {load_at_start}; at the end: {common.loadavg()}; servers, backends and '
                     f'load at a nice increment of {a.nice}. "CPU 0 used by others": time other processes (and interrupts) took on the '
                     'server\'s CPU during the sample; above a few per cent the figures measure a shared machine. '
                     f'Total time: {self.deadline.elapsed():.0f} s.\n')
        if not plots.available():
            parts.append('No plots: python3-matplotlib is not installed (contrib/install-deps.sh bench).\n')
        text = '\n'.join(parts)
        report.write_text(os.path.join(self.out, 'report.md'), text)
        print(text)


def _r(x, y):
    r = stats.ratio(x, y)
    return '-' if r is None else f'{r:.2f}'


def main(argv):
    a = parser().parse_args(argv)
    if a.compare not in ('', 'gdnsd'):
        raise common.Usage('--compare takes gdnsd, or nothing')
    common.need_tools('taskset')
    run = Run(a)
    if _split(a.scale_n) and a.compare_interval and a.compare:
        common.need_tools('gdnsd')
    common.note(f'servers on CPU {run.server_cpu}, backends and load on CPU {run.helper_cpu}; sampling '
                f'{a.sample_s} s after {a.warmup_s} s of warm-up')
    load_at_start = common.loadavg()
    plan = []
    for n in _split(a.scale_n):
        if a.compare_interval:
            plan.append(('nolbd', int(n), a.compare_interval, 0))
            if a.compare:
                plan.append((a.compare, int(n), a.compare_interval, 0))
    for interval in _split(a.scale_intervals):
        plan += [('nolbd', int(n), interval, a.scale_qps) for n in _split(a.scale_n)]
    for step in plan:
        if run.deadline.passed(a.warmup_s + a.sample_s + 20 + a.trials * 4):
            common.note(f'scale: skipping {step} (time budget)')
            continue
        run.scale_run(*step)
    if a.trials > 0:
        run.detection_run()
    run.write_report(load_at_start)
    return 0
