"""The soak benchmark: nolbd under steady query load for a long time while everything around it
moves (ten minutes by default).

nolbd (2 workers, DNS on 127.0.0.1) serves soak.test: three HTTP-checked services of two nodes
each (www, api, cdn), every node a nolb-testhttp of its own on 127.0.0.11-16 (probed every 1 s,
timeout 0.5 s, rise 2, fall 2), and a few static names. First a baseline: dnsperf at --qps
queries a second for --baseline-seconds with nothing else going on, for dnsperf's own losses on
this machine. Then, for --seconds, the same dnsperf load while
  - backends flap: every --flap-every s the next node (round robin, consecutive ones in
    different services, so a service always keeps a node) fails for --fault-s s, in turn by
    answering 503, by refusing connections (its process stopped, then started again) and by
    hanging; each fault and each recovery lasts long enough to cross fall and rise;
  - the configuration is rewritten and nolbd sent SIGHUP every --reload-every s; every
    --invalid-every-th file is invalid (an unknown key, a TOML syntax error, a value out of
    range, a record that does not parse, in turn) and must be rejected. After each reload the
    static TXT record version.soak.test tells which file is served: the last good one;
  - control clients come and go every --ctl-every s: nolbctl status, explain, drain, undrain,
    stats and watch (cut off after a second), and raw clients that hang up in the middle of a
    request line or before reading their reply.

The report: nolbd alive at the end and its exit status on SIGTERM; its memory (PSS, anonymous,
file-backed) at the start, every minute and at the end; queries sent, completed and lost against
the baseline; reloads made against those nolbd logged as accepted and rejected, and whether the
right file was served after each; every transition the flaps caused against those nolbd logged
(each line of its log stamped as it is read); control clients served; the load average.

All traffic stays on loopback; every loop is bounded in time and count; every process started
is stopped by its PID on exit. Output in OUT (default BUILD/bench/soak): report.md, memory.csv,
flaps.csv, and the plot memory (PNG, SVG); --keep keeps the run's logs and configs in OUT/work.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket as sockets
import threading
import time

from . import common, dnsperf, dnswire, plots, procs, report

NODES = 6                       # node k: 127.0.0.(11+k), service k mod 3, so consecutive nodes differ
SERVICES = ['www', 'api', 'cdn']
KINDS = ['503', 'refuse', 'hang']
BAD_KINDS = ['key', 'syntax', 'range', 'record']
UP_GRACE_MS = 6000              # a recovery must be logged within this of the backend's return
DOWN_GRACE_MS = 1000            # a failure must be logged before the fault ends, or within this after


def parser():
    p = argparse.ArgumentParser(prog='contrib/bench.py soak', description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seconds', type=int, default=600, help='soak length (600; at least 30)')
    p.add_argument('--baseline-seconds', type=int, help='baseline length (a tenth of --seconds, at least 10)')
    p.add_argument('--qps', type=int, default=20000, help='dnsperf -Q (20000)')
    p.add_argument('--flap-every', type=float, default=2, help='a node fails every this many s (2)')
    p.add_argument('--fault-s', type=float, default=4, help='for this many s (4; at least 3)')
    p.add_argument('--reload-every', type=float, default=1, help='SIGHUP every this many s (1)')
    p.add_argument('--invalid-every', type=int, default=5, help='every Nth file invalid (5)')
    p.add_argument('--ctl-every', type=float, default=0.5, help='a control client every this many s (0.5)')
    p.add_argument('--nice', type=int, default=0, help='nice increment for nolbd, backends and dnsperf (0)')
    p.add_argument('--keep', action='store_true', help="keep the run's folder (OUT/work)")
    p.add_argument('--build', default=os.path.join(common.ROOT, 'build'))
    p.add_argument('--out', help='output folder (BUILD/bench/soak)')
    return p


def node_address(k):
    return f'127.0.0.{11 + k}'


def node_name(k):
    return f'{SERVICES[k % 3]}-{"ab"[k // 3]}'


class Run:
    def __init__(self, a):
        self.a = a
        self.build = common.build_dir(a.build)
        self.out = common.out_dir(self.build, 'soak', a.out)
        self.nolbd = common.program(self.build, 'nolbd')
        self.nolbctl = common.program(self.build, 'nolbctl')
        self.testhttp = common.program(self.build, 'tests/tools/nolb-testhttp')
        self.work = os.path.join(self.out, 'work')
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.dns_port = common.free_port()
        self.http_port = common.free_port(taken=[self.dns_port])
        self.socket = os.path.join(self.work, 'nolbd.sock')
        self.backends = {}
        self.flaps = []          # (start ms, end ms, address, kind)
        self.reload = {}
        self.ctl_counts = {}
        self.ctl_failed = []
        self.reload_wrong = []
        self.lock = threading.Lock()

    # ---- configuration ------------------------------------------------------------------------

    def config(self, version, bad=None):
        ttl = -5 if bad == 'range' else 5
        out = [f'[server]\nlisten = ["127.0.0.1:{self.dns_port}"]\nworkers = 2\n']
        if bad == 'key':
            out.append('bogus_soak_key = 1\n')
        if bad == 'syntax':
            out.append('tcp_idle_timeout = \n')
        out.append('\n[[zone]]\norigin = "soak.test."\nttl = 300\nrecords = [\n')
        out.append(f"    'version TXT \"{version}\"',\n    'static A 192.0.2.10',\n    'mail A 192.0.2.25',\n")
        if bad == 'record':
            out.append("    'broken A 300.1.2.3',\n")
        out.append(']\n\n[[zone.ns]]\nname = "ns1"\naddresses = ["127.0.0.1"]\n\n')
        for s, service in enumerate(SERVICES):
            out.append(f'[[service]]\nname = "{service}.soak.test."\nttl = {ttl}\n\n[service.health]\ntype = "http"\n'
                       f'port = {self.http_port}\npath = "/health"\ninterval = 1\ntimeout = 0.5\nrise = 2\nfall = 2\n\n')
            for n in range(2):
                k = n * 3 + s
                out.append(f'[[service.node]]\nname = "{node_name(k)}"\naddresses = ["{node_address(k)}"]\n\n')
        out.append(f'[control]\nsocket = "{self.socket}"\n')
        return ''.join(out)

    def install(self, text):
        common.atomic_write(os.path.join(self.work, 'nolbd.toml'), text)

    # ---- backends -----------------------------------------------------------------------------

    def start_backend(self, k):
        log = os.path.join(self.work, f'backend-{k}.log')
        before = common.count_lines(log, 'nolb-testhttp: ready')
        child = procs.Child(f'backend-{k}', [self.testhttp, '--listen', f'{node_address(k)}:{self.http_port}',
                                             '--control-file', os.path.join(self.work, f'backend-{k}.mode')],
                            log, nice=self.a.nice)
        self.backends[k] = child
        if not common.wait_log(log, 'nolb-testhttp: ready', 10, before + 1):
            common.note(f'backend {k} did not start')
            return False
        return True

    def backend_mode(self, k, mode):
        common.atomic_write(os.path.join(self.work, f'backend-{k}.mode'), mode + '\n')

    def ctl(self, *args, timeout=10):
        return procs.run([self.nolbctl, '--socket', self.socket] + list(args), timeout)

    # ---- the loops ----------------------------------------------------------------------------

    def flap_loop(self, t0, deadline):
        """Flap f starts at t0 + f * flap_every on node f mod NODES, of kind KINDS[(f / NODES) mod
        3], and ends fault_s later. None starts that could not end, and be seen to recover, before
        the deadline."""
        a = self.a
        active = {}   # f -> (node, kind, start)
        f, limit = 0, int(a.seconds / a.flap_every) + 1
        for _ in range(a.seconds * 100):
            now = common.now_ms()
            for g, (k, kind, start) in list(active.items()):
                if start + a.fault_s * 1000 <= now:
                    if kind == 'refuse':
                        self.start_backend(k)
                    else:
                        self.backend_mode(k, 'ok')
                    self.flaps.append((start, common.now_ms(), node_address(k), kind))
                    del active[g]
            start = t0 + f * a.flap_every * 1000
            if f < limit and start + a.fault_s * 1000 + UP_GRACE_MS + 1000 < deadline:
                if start <= now:
                    k, kind = f % NODES, KINDS[(f // NODES) % 3]
                    began = common.now_ms()
                    if kind == 'refuse':
                        self.backends[k].stop(grace=5)
                    else:
                        self.backend_mode(k, kind)
                    active[f] = (k, kind, began)
                    f += 1
                    continue
            elif not active:
                break
            time.sleep(0.05)

    def reload_loop(self, nolbd, deadline):
        a = self.a
        log = nolbd.log
        counts = dict(sent=0, good=0, bad=0, served=0, wrong=0, unlogged=0)
        last_good = 'v0'
        period = a.reload_every * 1000
        next_at = common.now_ms()
        while counts['sent'] < a.seconds * 2 and common.now_ms() + period < deadline:
            counts['sent'] += 1
            i = counts['sent']
            if i % a.invalid_every == 0:
                self.install(self.config(f'v{i}', BAD_KINDS[(i // a.invalid_every) % len(BAD_KINDS)]))
                counts['bad'] += 1
            else:
                self.install(self.config(f'v{i}'))
                counts['good'] += 1
                last_good = f'v{i}'
            outcome = lambda: common.count_lines(log, 'msg=reloaded') + common.count_lines(log, 'msg="reload rejected"')  # noqa: E731
            before = outcome()
            nolbd.signal(signal.SIGHUP)
            if not common.wait_until(lambda: outcome() > before, 5, 0.05):
                counts['unlogged'] += 1
            r = dnswire.query(self.dns_port, 'version.soak.test', 'TXT', timeout=1, tries=2)
            got = r.values('TXT') if r else []
            if got == [f'"{last_good}"']:
                counts['served'] += 1
            else:
                counts['wrong'] += 1
                self.reload_wrong.append(f'reload {i}: expected "{last_good}", got {got}')
            next_at += period
            time.sleep(max(0, (next_at - common.now_ms()) / 1000))
        self.reload = counts

    def raw_client(self, data):
        """Sends `data` on the control socket and hangs up without reading."""
        try:
            with sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(self.socket)
                s.sendall(data)
                time.sleep(0.05)
            return 0
        except OSError:
            return 3

    def ctl_loop(self, deadline):
        a = self.a
        period = a.ctl_every * 1000
        next_at = common.now_ms()
        j = 0
        while j < a.seconds * 10 and common.now_ms() < deadline:
            kind = ['status', 'explain', 'drain', 'undrain', 'stats', 'watch', 'half-line', 'no-read'][j % 8]
            if kind == 'status':
                rc = self.ctl('status').returncode
            elif kind == 'explain':
                rc = self.ctl('explain', 'www.soak.test', 'A').returncode
            elif kind in ('drain', 'undrain'):
                rc = self.ctl(kind, 'cdn-b').returncode
            elif kind == 'stats':
                rc = self.ctl('stats', '--json').returncode
            elif kind == 'watch':
                rc = self.ctl('watch', timeout=1).returncode
                rc = 0 if rc == 124 else rc   # still watching when cut off: as it should be
            elif kind == 'half-line':
                rc = self.raw_client(b'{"verb": "sta')
            else:
                rc = self.raw_client(b'{"verb": "status", "args": {}}\n')
            ok, failed = self.ctl_counts.get(kind, (0, 0))
            self.ctl_counts[kind] = (ok + (rc == 0), failed + (rc != 0))
            if rc != 0:
                self.ctl_failed.append(f'{common.now_ms()} {kind} exit {rc}')
            j += 1
            next_at += period
            time.sleep(max(0, (next_at - common.now_ms()) / 1000))
        self.ctl('undrain', 'cdn-b')

    # ---- the run ------------------------------------------------------------------------------

    def run(self):
        a = self.a
        common.note(f'run folder {self.work}; DNS on 127.0.0.1:{self.dns_port}, backends on 127.0.0.11-16:{self.http_port}')
        for k in range(NODES):
            if not self.start_backend(k):
                raise common.Fatal(f'backend {k} did not start')
        self.install(self.config('v0'))
        for bad in BAD_KINDS:   # each invalid kind must be refused by --check-config too
            path = os.path.join(self.work, f'bad-{bad}.toml')
            report.write_text(path, self.config('bad', bad))
            if procs.run([self.nolbd, '--check-config', path], 60).returncode == 0:
                raise common.Fatal(f'the {bad} file passes --check-config: not an invalid file')
        queries = os.path.join(self.work, 'queries.txt')
        report.write_text(queries, ''.join(f'{s}.soak.test A\n' for s in SERVICES) + 'www.soak.test AAAA\n'
                          'static.soak.test A\nmail.soak.test A\nversion.soak.test TXT\nsoak.test SOA\nsoak.test NS\n'
                          'nothing.soak.test A\n')
        nolbd = procs.Child('nolbd', [self.nolbd, '-c', os.path.join(self.work, 'nolbd.toml')] + common.nolbd_user_args(),
                            os.path.join(self.work, 'nolbd.log'), nice=a.nice, stamp=True)
        if not common.wait_log(nolbd.log, 'msg=ready', 60):
            raise common.Fatal('nolbd did not become ready')
        if not common.wait_until(lambda: self.ctl('check').returncode == 0, 20, 0.2):
            raise common.Fatal('not every node is up at the start:\n' + self.ctl('status').stdout)

        baseline_s = a.baseline_seconds or max(10, a.seconds // 10)
        common.note(f'baseline: dnsperf -Q {a.qps} for {baseline_s} s, nothing else')
        self.load_before = common.loadavg()
        self.baseline = dnsperf.run(self.dns_port, queries, baseline_s, os.path.join(self.work, 'baseline.txt'),
                                    rate=a.qps, clients=1, outstanding=200, nice=a.nice)
        self.baseline_s = baseline_s

        common.note(f'soak: {a.seconds} s of dnsperf -Q {a.qps} with flaps, reloads and control clients')
        mark = sum(1 for _ in open(nolbd.log, errors='replace'))
        t0 = common.now_ms()
        deadline = t0 + a.seconds * 1000
        self.memory = [('start', 0, procs.memory(nolbd.pid), common.loadavg())]
        result = {}
        threads = [
            threading.Thread(target=lambda: result.update(soak=dnsperf.run(
                self.dns_port, queries, a.seconds, os.path.join(self.work, 'soak.txt'), rate=a.qps, clients=1,
                outstanding=200, nice=a.nice)), daemon=True),
            threading.Thread(target=self.flap_loop, args=(t0, deadline), daemon=True),
            threading.Thread(target=self.reload_loop, args=(nolbd, deadline), daemon=True),
            threading.Thread(target=self.ctl_loop, args=(deadline,), daemon=True),
        ]
        for t in threads:
            t.start()
        minute = 1
        while minute * 60 < a.seconds and nolbd.alive():
            time.sleep(max(0, (t0 + minute * 60000 - common.now_ms()) / 1000))
            if not nolbd.alive():
                break
            self.memory.append((f'{minute} min', minute * 60, procs.memory(nolbd.pid), common.loadavg()))
            common.note(f'minute {minute}: PSS {self.memory[-1][2]["pss"]} KiB, load {self.memory[-1][3]}')
            minute += 1
        for t in threads:
            t.join(timeout=max(1, (deadline - common.now_ms()) / 1000) + 120)
        time.sleep(2)   # the last recoveries' log lines
        self.alive = nolbd.alive()
        self.memory.append(('end', (common.now_ms() - t0) / 1000, procs.memory(nolbd.pid), common.loadavg()))
        r = self.ctl('stats', '--json')
        try:
            self.stats = json.loads(r.stdout) if r.returncode == 0 else None
        except ValueError:
            self.stats = None
        with open(nolbd.log, errors='replace') as f:
            self.soak_log = f.readlines()[mark:]
        nolbd.signal(signal.SIGTERM)
        status = nolbd.wait(15)
        self.exit_status = status if status is not None else 'did not stop within 15 s of SIGTERM (killed)'
        if status is None:
            nolbd.stop(grace=1)
        self.soak = result.get('soak') or dnsperf.parse('')
        procs.stop_all()

    # ---- the report ---------------------------------------------------------------------------

    def transitions(self):
        """(downs matched, ups matched, unexplained, logged): each flap must show as one "address
        down" between its start and its end (plus DOWN_GRACE_MS), and one "address up" within
        UP_GRACE_MS of its end."""
        seen = []
        for line in self.soak_log:
            m = re.match(r'(\d+) ', line)
            d = re.search(r'msg="address (down|up)"', line)
            addr = re.search(r' address=([0-9.]+)', line)
            if m and d:
                seen.append([int(m.group(1)), addr.group(1) if addr else '', d.group(1), False])
        downs = ups = 0
        for start, end, address, _ in self.flaps:
            for t in seen:
                if not t[3] and t[1] == address and t[2] == 'down' and start <= t[0] <= end + DOWN_GRACE_MS:
                    t[3] = True
                    downs += 1
                    break
            for t in seen:
                if not t[3] and t[1] == address and t[2] == 'up' and end - 100 <= t[0] <= end + UP_GRACE_MS:
                    t[3] = True
                    ups += 1
                    break
        return downs, ups, sum(not t[3] for t in seen), len(seen)

    def write_report(self):
        a = self.a
        accepted = rejected = 0
        pending = False
        for line in self.soak_log:
            if ' msg=reloading' in line:
                pending = True
            elif ' msg=reloaded' in line and pending:
                accepted += 1
                pending = False
            elif ' msg="reload rejected"' in line and pending:
                rejected += 1
                pending = False
        rejected_lines = sum('msg="reload rejected"' in l for l in self.soak_log)
        problems = [l for l in self.soak_log if re.search(r'level=(error|warning)', l) and 'msg="reload rejected"' not in l]
        downs, ups, unexplained, logged = self.transitions()
        by_kind = {}
        for f in self.flaps:
            by_kind[f[3]] = by_kind.get(f[3], 0) + 1
        b, s = self.baseline, self.soak
        pct = lambda lost, sent: f'{lost / sent * 100 if sent else 0:.4f}'  # noqa: E731
        loss_ok = (s['lost'] / s['sent'] if s['sent'] else 1) <= (b['lost'] / b['sent'] if b['sent'] else 0) + 0.0001
        m1 = self.memory[1][2] if len(self.memory) > 2 else self.memory[0][2]
        end = self.memory[-1][2]
        delta = end['pss'] - m1['pss']
        flat = abs(delta) <= 512 or abs(delta) <= m1['pss'] * 0.03
        rl = self.reload
        ctl_ok = sum(v[0] for v in self.ctl_counts.values())
        ctl_bad = sum(v[1] for v in self.ctl_counts.values())
        t = report.Table([report.Column('check', 'check', left=True), report.Column('result', 'result', left=True)])
        t.add(check='nolbd alive at the end', result='yes' if self.alive else 'no')
        t.add(check='exit status on SIGTERM', result=self.exit_status)
        t.add(check='PSS start / 1 min / end (KiB)', result=f'{self.memory[0][2]["pss"]} / {m1["pss"]} / {end["pss"]} '
              f'(end - 1 min: {delta} KiB; flat: {"yes" if flat else "no"})')
        t.add(check=f'queries, baseline ({self.baseline_s} s): sent / completed / lost',
              result=f'{b["sent"]} / {b["completed"]} / {b["lost"]} ({pct(b["lost"], b["sent"])} %), {b["qps"]:.0f} q/s, '
                     f'avg {b["avg_latency_ms"]:.3f} ms, max {b["max_latency_ms"]:.3f} ms')
        t.add(check=f'queries, soak ({a.seconds} s): sent / completed / lost',
              result=f'{s["sent"]} / {s["completed"]} / {s["lost"]} ({pct(s["lost"], s["sent"])} %), {s["qps"]:.0f} q/s, '
                     f'avg {s["avg_latency_ms"]:.3f} ms, max {s["max_latency_ms"]:.3f} ms')
        t.add(check='loss no worse than the baseline', result='yes' if loss_ok else 'no')
        t.add(check='reloads made: good / invalid', result=f'{rl.get("good", 0)} / {rl.get("bad", 0)} (of {rl.get("sent", 0)})')
        t.add(check='reloads logged: accepted / rejected', result=f'{accepted} / {rejected} ({rejected_lines} "reload rejected" lines)')
        t.add(check='after each reload the last good file served',
              result=f'{rl.get("served", 0)} of {rl.get("sent", 0)} (wrong: {rl.get("wrong", 0)}, outcome not logged '
                     f'within 5 s: {rl.get("unlogged", 0)})')
        t.add(check='flaps made (by kind)', result=f'{len(self.flaps)} (' + ', '.join(f'{k} {v}' for k, v in sorted(by_kind.items())) + ')')
        t.add(check='transitions caused / logged for them', result=f'{2 * len(self.flaps)} / {downs + ups} (down {downs}, up {ups})')
        t.add(check='transitions no flap explains', result=f'{unexplained} (of {logged} logged)')
        t.add(check='control clients served / failed', result=f'{ctl_ok} / {ctl_bad} (' + ', '.join(
            f'{k} {v[0]}/{v[0] + v[1]}' for k, v in self.ctl_counts.items()) + ')')
        t.add(check='other warnings and errors logged', result=len(problems))
        if self.stats:
            st = self.stats
            g = lambda *p: _dig(st, *p)  # noqa: E731
            t.add(check="nolbd's counters at the end",
                  result=f'queries {g("queries", "total")}, udp received {g("udp", "received")} sent {g("udp", "sent")} '
                         f'errors {g("udp", "errors")}, probes {g("probes", "sent")} (failed {g("probes", "failed")}, '
                         f'late {g("probes", "late")}), transitions {g("transitions")}, generation {g("generation")}')
        mem = report.Table([report.Column('when', 'when', left=True), report.Column('seconds', 's', '{:.0f}'),
                            report.Column('pss', 'PSS KiB', '{:,}'), report.Column('anon', 'anonymous KiB', '{:,}'),
                            report.Column('file', 'file-backed KiB', '{:,}'), report.Column('rss', 'VmRSS KiB', '{:,}'),
                            report.Column('load', 'load average', left=True)])
        for when, sec, m, load in self.memory:
            mem.add(when=when, seconds=sec, pss=m['pss'], anon=m['anon'], file=m['file'], rss=m['rss'], load=load)
        mem.write_csv(os.path.join(self.out, 'memory.csv'))
        report.write_rows_csv(os.path.join(self.out, 'flaps.csv'), ['start_ms', 'end_ms', 'address', 'kind'],
                              [dict(zip(['start_ms', 'end_ms', 'address', 'kind'], f)) for f in self.flaps])
        text = (f'# nolbd soak: {a.seconds} s\n\n{common.utc_now()}, {os.cpu_count()} CPUs, load average before '
                f'{self.load_before}, at the end {self.memory[-1][3]}.\n'
                f'nolbd from {self.build}, 2 workers; dnsperf -Q {a.qps} -c 1 -q 200 -t 5.\n'
                f'Flaps: a node fails every {a.flap_every:g} s for {a.fault_s:g} s (503, refused, hung in turn; probes every '
                f'1 s, timeout 0.5 s, rise 2, fall 2).\nReloads: SIGHUP every {a.reload_every:g} s, every '
                f'{a.invalid_every}th file invalid. Control clients: one every {a.ctl_every:g} s.\n\n' + t.markdown() +
                '\nMemory and load average over the run:\n\n' + mem.markdown())
        if self.reload_wrong or self.ctl_failed:
            text += '\nFirst problems:\n\n' + ''.join(f'    {l}\n' for l in (self.reload_wrong[:5] + self.ctl_failed[:5]))
        if problems:
            text += '\nOther warnings and errors (first 5):\n\n' + ''.join(f'    {l}' for l in problems[:5])
        if plots.available():
            plots.lines(self.out, 'memory', 'nolbd memory during the soak', 's', 'KiB',
                        [(k, [x[1] for x in self.memory], [x[2][k] for x in self.memory]) for k in ('pss', 'anon', 'file')])
        report.write_text(os.path.join(self.out, 'report.md'), text)
        print(text)
        if not a.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            common.note(f'kept {self.work}')
        return self.alive and self.exit_status == 0


def _dig(value, *path):
    for p in path:
        value = value.get(p) if isinstance(value, dict) else None
    return value


def main(argv):
    a = parser().parse_args(argv)
    if a.seconds < 30 or a.fault_s < 3 or a.flap_every < 1 or a.invalid_every < 2:
        raise common.Usage('--seconds at least 30, --fault-s at least 3, --flap-every at least 1, --invalid-every at least 2')
    common.need_tools('dnsperf')
    run = Run(a)
    run.run()
    return 0 if run.write_report() else 1
