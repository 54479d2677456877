"""The DNS servers the DNS benchmark compares, each configured to serve the same zone on its own
loopback port with one answering thread: nolbd, gdnsd 3.8, NSD 4.6 and Knot DNS 3.2 (Debian
12's packages), and the kernel floor (tests/tools/nolb-floor), which answers every query with
the question and one fixed A record and no logic at all.

The zone bench.test: SOA, NS ns1 (A 127.0.0.1), www with 4 A (192.0.2.1-4) and 4 AAAA
(2001:db8::1-4), mail A, txt TXT, TTL 30 everywhere. nolbd serves www as a [[service]] with
health = "none" (4 nodes, one IPv4 and one IPv6 address each), so its answers are shuffled; the
others serve it as static RRsets. Every server runs in the foreground with its config and state
in a folder of its own.
"""

import os
import subprocess

from . import common

ZONE = """$ORIGIN bench.test.
$TTL 30
@     SOA  ns1.bench.test. hostmaster.bench.test. 1 3600 600 1209600 30
@     NS   ns1.bench.test.
ns1   A    127.0.0.1
www   A    192.0.2.1
www   A    192.0.2.2
www   A    192.0.2.3
www   A    192.0.2.4
www   AAAA 2001:db8::1
www   AAAA 2001:db8::2
www   AAAA 2001:db8::3
www   AAAA 2001:db8::4
mail  A    192.0.2.25
txt   TXT  "bench"
"""

NAMES = ['nolbd', 'gdnsd', 'nsd', 'knot', 'floor']
REAL = ['nolbd', 'gdnsd', 'nsd', 'knot']


def _package_version(package):
    try:
        out = subprocess.run(['dpkg-query', '-W', '-f=${Version}', package], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or '?'
    except (OSError, subprocess.SubprocessError):
        return '?'


class Server:
    """One server: writes its config into `folder`, and says how to start it and how it is set."""

    def __init__(self, name, port, folder, build, rrl=0):
        self.name = name
        self.port = port
        self.folder = folder
        self.build = build
        self.rrl = rrl

    @property
    def is_floor(self):
        return self.name == 'floor'

    def configure(self):
        os.makedirs(self.folder, exist_ok=True)
        getattr(self, '_configure_' + self.name)()

    def argv(self):
        f = self.folder
        return {
            'nolbd': [os.path.join(self.build, 'nolbd'), '-c', f'{f}/nolb.toml'] + common.nolbd_user_args(),
            'gdnsd': ['gdnsd', '-c', f, 'start'],
            'nsd': ['nsd', '-d', '-c', f'{f}/nsd.conf'],
            'knot': ['knotd', '-c', f'{f}/knot.conf'],
            'floor': [os.path.join(self.build, 'tests/tools/nolb-floor'), '--listen', f'127.0.0.1:{self.port}'],
        }[self.name]

    def settings(self):
        if self.name == 'nolbd':
            out = subprocess.run([self.argv()[0], '--version'], capture_output=True, text=True, timeout=10)
            version = (out.stdout + out.stderr).split('\n')[0].split()[-1:] or ['?']
            rrl = f', rrl responses_per_second = {self.rrl}' if self.rrl else ''
            return (f'nolbd {version[0]}: workers = 1 (one UDP thread, one TCP thread), www a [[service]] '
                    f'with health = "none" (4 nodes, 1 A + 1 AAAA each), control socket off{rrl}')
        return {
            'gdnsd': f'gdnsd {_package_version("gdnsd")}: udp_threads 1, tcp_threads 1, defaults otherwise',
            'nsd': f'NSD {_package_version("nsd")}: server-count 1, rrl-ratelimit 0 (and whitelist 0), '
                   'minimal-responses yes, round-robin no (default), tcp-count 256',
            'knot': f'Knot {_package_version("knot")}: udp-workers 1, tcp-workers 1, background-workers 1, '
                    'answer-rotation off (default), no modules (no RRL)',
            'floor': 'nolb-floor (tests/tools/floor): one UDP thread (recvmmsg/sendmmsg, batches of 64), '
                     'one TCP thread; copies the question, sets QR and AA, appends A 192.0.2.1 whatever '
                     'was asked: the kernel floor, not a DNS server',
        }[self.name]

    def _write(self, name, text):
        with open(os.path.join(self.folder, name), 'w') as f:
            f.write(text)

    def _check(self, argv):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise common.Fatal(f'{self.name}: {" ".join(argv)} failed:\n{out.stdout}{out.stderr}')

    def _configure_nolbd(self):
        nodes = ''.join(f'\n[[service.node]]\nname = "n{i}"\naddresses = ["192.0.2.{i}", "2001:db8::{i}"]\n'
                        for i in range(1, 5))
        rrl = f'\n[rrl]\nresponses_per_second = {self.rrl}\n' if self.rrl else ''
        self._write('nolb.toml', f"""[server]
listen = ["127.0.0.1:{self.port}"]
workers = 1
log_level = "warning"

[[zone]]
origin = "bench.test."
ttl = 30
records = ["mail A 192.0.2.25", 'txt TXT "bench"']

[[zone.ns]]
name = "ns1"
addresses = ["127.0.0.1"]

[zone.soa]
rname = "hostmaster"
serial = 1
refresh = 3600
retry = 600
expire = 1209600
minimum = 30
ttl = 30

[[service]]
name = "www.bench.test."
ttl = 30
health = "none"
{nodes}
[control]
socket = ""
{rrl}""")
        self._check([self.argv()[0], '--check-config', f'{self.folder}/nolb.toml'])

    def _configure_gdnsd(self):
        f = self.folder
        for sub in ('zones', 'run', 'state'):
            os.makedirs(f'{f}/{sub}', exist_ok=True)
        self._write('zones/bench.test', ZONE)
        self._write('config', f"""options => {{
    listen => [ 127.0.0.1:{self.port} ]
    udp_threads => 1
    tcp_threads => 1
    run_dir => {f}/run
    state_dir => {f}/state
}}
""")
        self._check(['gdnsd', '-c', f, 'checkconf'])

    def _configure_nsd(self):
        f = self.folder
        self._write('bench.test.zone', ZONE)
        self._write('nsd.conf', f"""server:
    ip-address: 127.0.0.1@{self.port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{f}"
    database: ""
    zonelistfile: "{f}/zone.list"
    xfrdfile: "{f}/xfrd.state"
    xfrdir: "{f}"
    pidfile: "{f}/nsd.pid"
    logfile: "{f}/nsd.log"
    verbosity: 0
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    tcp-count: 256
remote-control:
    control-enable: no
zone:
    name: bench.test
    zonefile: bench.test.zone
""")
        self._check(['nsd-checkconf', f'{f}/nsd.conf'])

    def _configure_knot(self):
        f = self.folder
        os.makedirs(f'{f}/db', exist_ok=True)
        self._write('bench.test.zone', ZONE)
        self._write('knot.conf', f"""server:
    rundir: "{f}"
    pidfile: "{f}/knot.pid"
    listen: 127.0.0.1@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{f}/db"
control:
    listen: "{f}/knot.sock"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{f}"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: bench.test
    file: "{f}/bench.test.zone"
""")
        self._check(['knotc', '-c', f'{f}/knot.conf', 'conf-check'])

    def _configure_floor(self):
        pass
