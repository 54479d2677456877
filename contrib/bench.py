#!/usr/bin/python3
"""The benchmarks, from one entry point:

    contrib/bench.py dns    [options]   answering speed, CPU per query and memory: nolbd, gdnsd,
                                        NSD, Knot DNS and the kernel floor (modes perf,
                                        callgrind, all, check)
    contrib/bench.py health [options]   what probing costs, beside gdnsd, and how fast answers
                                        follow a failing node
    contrib/bench.py zone   [options]   loading and publishing at 10,000 services
    contrib/bench.py soak   [options]   a long steady load while backends flap, the config is
                                        reloaded and control clients come and go

`contrib/bench.py BENCHMARK --help` lists each one's settings. Results go to
build/bench/BENCHMARK/ (report.md, CSV tables, PNG and SVG plots); progress goes to stderr.
Every process started is stopped by its PID on exit, and every wait is bounded. The harness
installs and builds nothing: it needs contrib/install-deps.sh bench (the servers, dnsperf,
valgrind, Debian's python3 and python3-matplotlib) and a build (cmake --build build), and says
what is missing. Run the measurements on a quiet machine.
"""

import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import common, procs  # noqa: E402

BENCHMARKS = ('dns', 'health', 'zone', 'soak')


def main(argv):
    if not argv or argv[0] in ('-h', '--help') or argv[0] not in BENCHMARKS:
        print(__doc__.strip(), file=sys.stderr if argv and argv[0] not in ('-h', '--help') else sys.stdout)
        return 0 if argv and argv[0] in ('-h', '--help') else 2
    common.set_name(f'bench {argv[0]}')
    module = importlib.import_module(f'bench.{argv[0]}')
    procs.install_cleanup()
    try:
        return module.main(argv[1:])
    except common.Usage as e:
        common.note(str(e))
        return 2
    except common.Fatal as e:
        common.note(str(e))
        return 1
    except KeyboardInterrupt:
        common.note('interrupted')
        return 130
    finally:
        procs.stop_all()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
