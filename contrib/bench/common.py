"""What every benchmark needs around its measurements: where the repository and the build are,
the programs it runs (checked before anything starts), free loopback ports, bounded waits, a
deadline for the whole run, progress messages on stderr, and a line describing the machine for
the report (a figure is only as good as the machine it was measured on).
"""

import os
import random
import shutil
import socket
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_name = 'bench'


def set_name(name):
    global _name
    _name = name


def note(message):
    print(f'{_name}: {message}', file=sys.stderr, flush=True)


class Fatal(Exception):
    """A benchmark cannot go on; the message says why. The entry point prints it and exits 1."""


class Usage(Exception):
    """Wrong settings or a missing program: exit 2."""


def now_ms():
    return int(time.time() * 1000)


class Deadline:
    """The whole run stops starting new steps after `seconds`."""

    def __init__(self, seconds):
        self.start = time.monotonic()
        self.seconds = seconds

    def elapsed(self):
        return time.monotonic() - self.start

    def passed(self, extra=0.0):
        """True if a step needing `extra` seconds more would end after the deadline."""
        return self.elapsed() + extra > self.seconds


def wait_until(condition, timeout, interval=0.05):
    """Polls `condition` until it is true (returns True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def wait_log(path, pattern, timeout, count=1):
    """Until the file has `count` lines containing `pattern` (a plain substring)."""
    def seen():
        try:
            with open(path, errors='replace') as f:
                return sum(pattern in line for line in f) >= count
        except OSError:
            return False
    return wait_until(seen, timeout, 0.1)


def count_lines(path, pattern):
    try:
        with open(path, errors='replace') as f:
            return sum(pattern in line for line in f)
    except OSError:
        return 0


def free_port(taken=()):
    """A port in 20000-29999 that nothing holds on any address, UDP or TCP."""
    for _ in range(200):
        port = random.randint(20000, 29999)
        if port in taken:
            continue
        if port_free(port):
            return port
    raise Fatal('no free port in 20000-29999')


def port_free(port, address='0.0.0.0'):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((address, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def build_dir(path):
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        raise Usage(f'no build folder {path} (cmake -S . -B build && cmake --build build)')
    return path


def program(build, relative):
    path = os.path.join(build, relative)
    if not os.access(path, os.X_OK):
        raise Usage(f'{path} is not built (cmake --build {build})')
    return path


def need_tools(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise Usage(f'{", ".join(missing)} needed (contrib/install-deps.sh bench)')


def nolbd_user_args():
    """As root nolbd wants a user to become; the benchmarks keep root, said explicitly, so that
    their files need not be readable by another user."""
    return ['--user', 'root'] if os.geteuid() == 0 else []


def loadavg():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def machine():
    model = '?'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{os.cpu_count()} CPUs ({model}), load average {loadavg()}'


def utc_now():
    return time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())


def out_dir(build, benchmark, given=None):
    path = os.path.abspath(given or os.path.join(build, 'bench', benchmark))
    os.makedirs(path, exist_ok=True)
    return path


def atomic_write(path, text):
    """Replaces the file in one rename, as nolb-testhttp and nolbd's reload expect."""
    tmp = path + '.new'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)
