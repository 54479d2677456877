"""The zone-scale benchmark: how long nolbd takes to load a large configuration, and how long a
single health change takes to reach the workers.

The configuration: one zone, --services services (s00000.bench.test., ...) of --nodes nodes with
one IPv4 address each (127.1.x.y): 40,000 addresses with the defaults.

 1. `nolbd --check-config` on it (load, zone model, one whole rendering): --runs times, and the
    CPU time of one run.
 2. Load to serving: nolbd started with every service health = "none" (no probes, so no network
    wait), timed from the start of the process to the first answer; --runs times. nolbd's debug
    log gives the parts: config (TOML + schema), zone model, first rendering.
 3. The same with HTTP health checks (startup = "up", every 30 s) against one nolb-testhttp on
    0.0.0.0 that serves every 127.1.x.y: start to the first answer includes the first probe
    round of every address; once.
 4. Publishing a change, on that running nolbd. s00000's node n0 is probed (every 0.2 s, rise and
    fall 1) on a second port, served by a second nolb-testhttp whose answers the benchmark
    switches between 503 and 200: each switch takes one address out of, or back into, the
    answers. --flips times each way; the time nolbd took to publish (from planning to the swap,
    nolbctl stats publish.last_ms) for each, checked against DNS. Then --flips drains and
    undrains of s00000/n1 through nolbctl drain, which publish the same way.

All traffic stays on loopback. Every wait is bounded, and no step starts after --deadline-s.
Output in OUT (default BUILD/bench/zone): report.md, samples.csv (every measurement),
summary.csv, and the plots load and publish (PNG, SVG).
"""

import argparse
import json
import os
import re
import time

from . import common, dnswire, plots, procs, report, stats


def parser():
    p = argparse.ArgumentParser(prog='contrib/bench.py zone', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--services', type=int, default=10000, help='services (10000)')
    p.add_argument('--nodes', type=int, default=4, help='nodes per service, one address each (4)')
    p.add_argument('--runs', type=int, default=3, help='check-config runs and starts (3)')
    p.add_argument('--flips', type=int, default=20, help='health flips and drains, each way (20)')
    p.add_argument('--deadline-s', type=float, default=240, help='no step starts after this (240)')
    p.add_argument('--nice', type=int, default=0, help='nice increment for nolbd and the backends (0)')
    p.add_argument('--build', default=os.path.join(common.ROOT, 'build'))
    p.add_argument('--out', help='output folder (BUILD/bench/zone)')
    return p


class Run:
    def __init__(self, args):
        self.args = args
        self.build = common.build_dir(args.build)
        self.out = common.out_dir(self.build, 'zone', args.out)
        self.nolbd = common.program(self.build, 'nolbd')
        self.nolbctl = common.program(self.build, 'nolbctl')
        self.testhttp = common.program(self.build, 'tests/tools/nolb-testhttp')
        self.work = os.path.join(self.out, 'work')
        os.makedirs(self.work, exist_ok=True)
        self.deadline = common.Deadline(args.deadline_s)
        self.dns_port = common.free_port()
        self.http_port = common.free_port(taken=[self.dns_port])
        self.flip_port = common.free_port(taken=[self.dns_port, self.http_port])
        self.socket = os.path.join(self.work, 'control.sock')
        self.samples = {}   # measure -> [values]
        self.facts = {}

    def add(self, measure, value):
        if value is not None:
            self.samples.setdefault(measure, []).append(float(value))

    def write_config(self, path, health):
        a = self.args
        out = [f'[server]\nlisten = ["127.0.0.1:{self.dns_port}"]\nworkers = 1\n\n[control]\nsocket = "{self.socket}"\n\n',
               '[[zone]]\norigin = "bench.test."\nttl = 300\n\n[zone.soa]\nserial = "auto"\n\n',
               '[[zone.ns]]\nname = "ns1"\naddresses = ["127.0.0.1"]\n\n']
        i = 0
        for s in range(a.services):
            out.append(f'[[service]]\nname = "s{s:05d}.bench.test."\nttl = 20\n')
            if health == 'none':
                out.append('health = "none"\n')
            else:
                out.append(f'startup = "up"\n\n[service.health]\ntype = "http"\nport = {self.http_port}\n'
                           'path = "/health"\ninterval = 30\ntimeout = 2\n')
            for n in range(a.nodes):
                out.append(f'\n[[service.node]]\nname = "n{n}"\naddresses = ["127.1.{i // 250}.{i % 250 + 1}"]\n')
                if health == 'http' and s == 0 and n == 0:
                    out.append(f'\n[service.node.health]\nport = {self.flip_port}\ninterval = 0.2\ntimeout = 0.1\n'
                               'rise = 1\nfall = 1\n')
                i += 1
            out.append('\n')
        report.write_text(path, ''.join(out))

    def start_testhttp(self, log, control, listen):
        child = procs.Child('nolb-testhttp', [self.testhttp, '--listen', listen, '--control-file', control], log,
                            nice=self.args.nice)
        if not common.wait_log(log, 'nolb-testhttp: ready', 10):
            raise common.Fatal('nolb-testhttp did not start')
        return child

    def count(self, name='s00000.bench.test'):
        return sum(a.startswith('127.1.') for a in dnswire.addresses(self.dns_port, name, timeout=1))

    def start_nolbd(self, config, log, seconds):
        """(child, ms from start to the first answer, nolbd's CPU ms by then)"""
        if os.path.exists(self.socket):
            os.remove(self.socket)
        t0 = time.monotonic()
        child = procs.Child('nolbd', [self.nolbd, '-c', config, '--log-level', 'debug'] + common.nolbd_user_args(),
                            log, nice=self.args.nice)
        ok = common.wait_until(lambda: not child.alive() or self.count('s00001.bench.test') > 0, seconds, 0.01)
        if not ok or not child.alive():
            raise common.Fatal(f'nolbd did not answer within {seconds} s:\n' + open(log, errors='replace').read()[-2000:])
        return child, (time.monotonic() - t0) * 1000, procs.cpu_seconds(child.pid) * 1000

    def ctl(self, *args):
        return procs.run([self.nolbctl, '--socket', self.socket] + list(args), 10)

    def stat(self, *path):
        r = self.ctl('--json', 'stats')
        try:
            v = json.loads(r.stdout)
            for p in path:
                v = v[p]
            return v
        except (ValueError, KeyError, TypeError):
            return None

    @staticmethod
    def log_field(path, line_pattern, key):
        for line in open(path, errors='replace'):
            if re.search(line_pattern, line):
                m = re.search(rf'(?:^| ){key}=([^ ]+)', line)
                return m.group(1) if m else None
        return None

    def run(self):
        a = self.args
        none_toml, http_toml = os.path.join(self.work, 'none.toml'), os.path.join(self.work, 'http.toml')
        self.write_config(none_toml, 'none')
        self.write_config(http_toml, 'http')
        self.facts['toml_bytes'] = os.path.getsize(http_toml)
        common.note(f'{a.services} services, {a.services * a.nodes} addresses; {self.facts["toml_bytes"]} bytes of TOML')

        # 1: check-config
        for _ in range(a.runs):
            if self.deadline.passed():
                break
            for kind, path in (('none', none_toml), ('http', http_toml)):
                t0 = time.monotonic()
                r = procs.run([self.nolbd, '--check-config', path], 120)
                if r.returncode != 0:
                    raise common.Fatal('check-config failed:\n' + r.stderr[-2000:])
                self.add(f'check-config, {kind}', (time.monotonic() - t0) * 1000)
        check = procs.Child('check-config', [self.nolbd, '--check-config', http_toml],
                            os.path.join(self.work, 'check.log'), nice=a.nice)
        check.wait(120)
        if check.rusage:
            self.facts['check_cpu_ms'] = round((check.rusage.ru_utime + check.rusage.ru_stime) * 1000)

        # 2: load to serving, health none
        for _ in range(a.runs):
            if self.deadline.passed():
                break
            log = os.path.join(self.work, 'none.log')
            if os.path.exists(log):
                os.remove(log)
            child, ms, cpu_ms = self.start_nolbd(none_toml, log, 60)
            self.add('start to first answer, health none', ms)
            self.add('nolbd CPU by then, health none', cpu_ms)
            self.add('of which config (TOML, schema)', self.log_field(log, 'msg=loaded', 'config_ms'))
            self.add('of which zone model', self.log_field(log, 'msg=loaded', 'zones_ms'))
            self.add('of which first rendering', self.log_field(log, 'msg="publish work"', 'ms'))
            self.facts['mem_none'] = procs.memory(child.pid)
            child.stop()

        # 3 and 4: HTTP checks, changes
        self.start_testhttp(os.path.join(self.work, 'http.log'), os.path.join(self.work, 'http.mode'),
                            f'0.0.0.0:{self.http_port}')
        flip_mode = os.path.join(self.work, 'flip.mode')
        common.atomic_write(flip_mode, 'ok\n')
        self.start_testhttp(os.path.join(self.work, 'flip.log'), flip_mode, f'0.0.0.0:{self.flip_port}')
        log = os.path.join(self.work, 'http-nolbd.log')
        child, ms, cpu_ms = self.start_nolbd(http_toml, log, 120)
        self.add('start to first answer, HTTP checks', ms)
        self.add('nolbd CPU by then, HTTP checks', cpu_ms)
        self.facts['down_after_start'] = sum(bool(re.search(r'msg="?address down', l)) for l in open(log, errors='replace'))
        common.note(f'start to serving with {a.services * a.nodes} HTTP checks (startup up): {ms:.0f} ms')

        wrong = 0
        nodes = a.nodes
        if not common.wait_until(lambda: self.count() == nodes, 2, 0.01):
            common.note(f's00000 does not have its {nodes} addresses at the start')
        for f in range(a.flips):
            if self.deadline.passed():
                common.note(f'deadline reached after {f} health flips')
                break
            for step, want in (('503', nodes - 1), ('ok', nodes)):
                before = self.stat('publish', 'changes') or 0
                common.atomic_write(flip_mode, step + '\n')
                if common.wait_until(lambda: (self.stat('publish', 'changes') or 0) > before, 5, 0.02):
                    self.add('publish one health change', self.stat('publish', 'last_ms'))
                else:
                    common.note(f'no publish after switching to {step}')
                wrong += not common.wait_until(lambda: self.count() == want, 2, 0.01)
        for f in range(a.flips):
            if self.deadline.passed():
                common.note(f'deadline reached after {f} drains')
                break
            for verb, want in (('drain', nodes - 1), ('undrain', nodes)):
                if self.ctl(verb, 's00000.bench.test./n1').returncode != 0:
                    common.note(f'nolbctl {verb} failed')
                    continue
                self.add('publish a drain or undrain', self.stat('publish', 'last_ms'))
                wrong += not common.wait_until(lambda: self.count() == want, 2, 0.01)
        self.facts['wrong'] = wrong
        self.facts['max_ms'] = self.stat('publish', 'max_ms')
        self.facts['full_ms'] = self.stat('publish', 'full_ms')
        self.facts['mem_http'] = procs.memory(child.pid)
        procs.stop_all()

    def write_report(self, load_at_start):
        a = self.args
        t = report.Table([report.Column('measure', 'measure', left=True), report.Column('n', 'samples', '{}'),
                          report.Column('median', 'median ms', '{:.2f}'), report.Column('q1', 'q1', '{:.2f}'),
                          report.Column('q3', 'q3', '{:.2f}'), report.Column('low', 'interval low', '{:.2f}'),
                          report.Column('high', 'interval high', '{:.2f}'), report.Column('max', 'max ms', '{:.2f}')])
        rows = []
        for measure, values in self.samples.items():
            s = stats.summarize(values)
            t.add(measure=measure, n=s.n, median=s.median, q1=s.q1, q3=s.q3, low=s.low, high=s.high, max=s.maximum)
            rows += [{'measure': measure, 'ms': v} for v in values]
        report.write_rows_csv(os.path.join(self.out, 'samples.csv'), ['measure', 'ms'], rows)
        t.write_csv(os.path.join(self.out, 'summary.csv'))
        f = self.facts

        def mem(m):
            return f'PSS {m["pss"] / 1024:.1f} MiB (anonymous {m["anon"] / 1024:.1f}, file-backed {m["file"] / 1024:.1f})' if m else '-'

        text = (f'# Zone scale: {a.services:,} services, {a.services * a.nodes:,} addresses '
                f'({f.get("toml_bytes", 0):,} bytes of TOML)\n\n{common.utc_now()}, {common.machine()}\n\n' + t.markdown() +
                f'\n- CPU time (user + system) of one `nolbd --check-config`, HTTP checks: {f.get("check_cpu_ms", "-")} ms'
                f'\n- longest change publish while running (stats publish.max_ms): {f.get("max_ms")}'
                f'\n- whole rendering at start (stats publish.full_ms): {f.get("full_ms")}'
                f'\n- memory: {mem(f.get("mem_none"))} with health none; {mem(f.get("mem_http"))} with HTTP checks'
                f'\n- addresses down after the first probe round: {f.get("down_after_start")}; answers not seen in DNS '
                f'within 2 s of a change: {f.get("wrong")}\n\n'
                'Publish times are nolbd\'s own (plan, render, swap; `nolbctl stats --json` .publish). '
                f'Load average at the start: {load_at_start}; at the end: {common.loadavg()}; nice increment {a.nice}. '
                f'Total time: {self.deadline.elapsed():.0f} s.\n')
        if plots.available():
            load = [m for m in self.samples if m.startswith(('check-config', 'start to'))]
            plots.boxes(self.out, 'load', 'loading: ms', 'ms', [(m, self.samples[m]) for m in load])
            publish = [m for m in self.samples if m.startswith('publish')]
            plots.boxes(self.out, 'publish', 'publishing one change: ms', 'ms', [(m, self.samples[m]) for m in publish])
        else:
            text += '\nNo plots: python3-matplotlib is not installed (contrib/install-deps.sh bench).\n'
        report.write_text(os.path.join(self.out, 'report.md'), text)
        print(text)


def main(argv):
    a = parser().parse_args(argv)
    if not (1 <= a.services <= 99999 and a.nodes >= 2 and a.services * a.nodes <= 62500):
        raise common.Usage('--services 1..99999, --nodes at least 2, at most 62,500 addresses')
    run = Run(a)
    load_at_start = common.loadavg()
    run.run()
    run.write_report(load_at_start)
    return 0
