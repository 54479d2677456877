"""The processes a benchmark starts, and what /proc says about them.

Every child (a server, a backend, a load generator) is started in a process group of its own,
so that a Ctrl-C at the terminal reaches the harness alone and the harness decides what stops
when. Children are tracked by PID in one registry and stopped by PID: SIGTERM to the child,
a bounded wait for it and every process it forked (NSD forks; callgrind writes its profiles
when told to stop), then SIGKILL to whatever PID of that tree is left. stop_all() runs at exit
and on SIGTERM/SIGINT, so an interrupted run leaves nothing behind. Nothing is ever signalled
by name.

Readings are summed over a process tree (the child and its descendants): CPU time (utime and
stime from /proc/PID/stat), memory (VmRSS, RssAnon and RssFile from /proc/PID/status, Pss from
/proc/PID/smaps_rollup) and threads.
"""

import atexit
import os
import signal
import subprocess
import threading
import time

CLK_TCK = os.sysconf('SC_CLK_TCK')

_children = {}      # pid -> Child
_lock = threading.Lock()


class Child:
    """One started program. argv runs under `nice -n NICE` and `taskset -c CPU` when given
    (both exec, so the PID is the program's). Output goes to `log` (stdout and stderr together),
    or, with stamp=True, stderr goes through a thread that prefixes each line with the epoch
    milliseconds at which it was read."""

    def __init__(self, name, argv, log, cpu=None, nice=0, stamp=False, cwd=None, env=None):
        prefix = []
        if nice:
            prefix += ['nice', '-n', str(nice)]
        if cpu is not None:
            prefix += ['taskset', '-c', str(cpu)]
        self.name = name
        self.argv = prefix + [str(a) for a in argv]
        self.log = log
        self.rusage = None
        self._logfile = open(log, 'ab')
        stderr = subprocess.PIPE if stamp else subprocess.STDOUT
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._logfile,
                                      stderr=stderr, process_group=0, cwd=cwd, env=env)
        self.pid = self.popen.pid
        self._stamper = None
        if stamp:
            self._stamper = threading.Thread(target=self._stamp, daemon=True)
            self._stamper.start()
        with _lock:
            _children[self.pid] = self

    def _stamp(self):
        for line in self.popen.stderr:
            t = int(time.time() * 1000)
            self._logfile.write(b'%d ' % t + line)
            self._logfile.flush()
        self._logfile.close()

    def alive(self):
        return self.popen.returncode is None and alive(self.pid)

    def wait(self, timeout):
        """Waits up to `timeout` seconds for the child to exit; its exit status, or None. Keeps
        its resource usage (self.rusage: user and system CPU of the child) when it exits."""
        deadline = time.monotonic() + timeout
        while self.popen.returncode is None:
            try:
                pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.popen.returncode = -1
                break
            if pid == self.pid:
                self.rusage = rusage
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        self._forget()
        return self.popen.returncode

    def stop(self, grace=10.0):
        """SIGTERM, up to `grace` seconds for it and its descendants to end, then SIGKILL to
        each PID left; returns the exit status (None if it had to be killed and did not reap)."""
        tree = tree_pids(self.pid) if self.popen.returncode is None else []
        if self.popen.returncode is None:
            _signal(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            self.wait(0)
            if self.popen.returncode is not None and not any(alive(p) for p in tree if p != self.pid):
                break
            time.sleep(0.05)
        for p in tree:
            if alive(p):
                _signal(p, signal.SIGKILL)
        if self.popen.returncode is None:
            _signal(self.pid, signal.SIGKILL)
        status = self.wait(5.0)
        self._forget()
        return status

    def signal(self, sig):
        if self.popen.returncode is None:
            _signal(self.pid, sig)

    def _forget(self):
        if self.popen.returncode is not None:
            with _lock:
                _children.pop(self.pid, None)
            if self._stamper is None:
                self._logfile.close()


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_all():
    with _lock:
        children = list(_children.values())
    for child in reversed(children):
        child.stop(grace=10.0)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def install_cleanup():
    """Stop every child at exit, and turn SIGTERM into an exit so that happens."""
    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _on_signal)


def run(argv, timeout, **kwargs):
    """A short command (a check, a control client), bounded in time: CompletedProcess, or one
    with returncode 124 if it had to be killed (as timeout(1) reports it)."""
    try:
        return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, **kwargs)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(e.cmd, 124, e.stdout or '', e.stderr or '')


# ---- /proc readings ---------------------------------------------------------------------------

def _stat_fields(pid):
    """/proc/PID/stat after the command name: fields 3 onwards (state first)."""
    with open(f'/proc/{pid}/stat') as f:
        text = f.read()
    return text[text.rindex(')') + 2:].split()


def alive(pid):
    """The process exists and has not exited (a zombie counts as gone)."""
    try:
        return _stat_fields(pid)[0] != 'Z'
    except (OSError, ValueError):
        return False


def tree_pids(root):
    """root and all its descendants."""
    parent = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                parent[int(entry)] = int(_stat_fields(entry)[1])
            except (OSError, ValueError, IndexError):
                pass
    children = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_ticks(root):
    """utime + stime of the process tree, in clock ticks (CLK_TCK a second)."""
    total = 0
    for pid in tree_pids(root):
        try:
            f = _stat_fields(pid)
            total += int(f[11]) + int(f[12])   # fields 14 and 15 of stat
        except (OSError, ValueError, IndexError):
            pass
    return total


def cpu_seconds(pid):
    return cpu_ticks(pid) / CLK_TCK


def _status_kib(pid, keys):
    out = {}
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            key, _, rest = line.partition(':')
            if key in keys:
                out[key] = int(rest.split()[0])
    return out


def memory(root):
    """KiB summed over the tree: rss (VmRSS), anon (RssAnon: what the server allocated or wrote),
    file (RssFile: program and library pages, mostly shared), pss (Pss: each shared page divided
    among the processes mapping it, so forking servers are not counted several times), and the
    number of processes. PSS is the figure to compare between servers."""
    total = {'rss': 0, 'anon': 0, 'file': 0, 'pss': 0, 'processes': 0}
    for pid in tree_pids(root):
        try:
            s = _status_kib(pid, ('VmRSS', 'RssAnon', 'RssFile'))
        except OSError:
            continue
        total['rss'] += s.get('VmRSS', 0)
        total['anon'] += s.get('RssAnon', 0)
        total['file'] += s.get('RssFile', 0)
        total['processes'] += 1
        try:
            with open(f'/proc/{pid}/smaps_rollup') as f:
                for line in f:
                    if line.startswith('Pss:'):
                        total['pss'] += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def threads(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('Threads:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_busy_ticks(cpu):
    """CPU number `cpu`'s busy ticks (all but idle and iowait), from /proc/stat."""
    with open('/proc/stat') as f:
        for line in f:
            parts = line.split()
            if parts[0] == f'cpu{cpu}':
                v = [int(x) for x in parts[1:]]
                return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return 0
