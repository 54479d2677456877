#!/usr/bin/python3
"""Writes the parts of nolb's reference that are generated from the code, or checks them.

The configuration keys (src/config/schema.cpp), the metric families (src/control/metrics.cpp)
and nolbctl's verbs (src/control/protocol.hpp) are declared once, in code; nolb-docs prints them
in each form the reference needs. This writes its output into the committed files below: the
marked blocks of README.md and of the manual pages' sources (between the lines that name
nolb-docs, a section, and begin or end), and conf/nolb.toml from its template,
conf/nolb.toml.in. With --check it writes nothing, shows how each stale file differs from what
the code says and exits 1: the test docs.fresh.

    contrib/docs.py --nolb-docs build/nolb-docs           # or: cmake --build build --target docs
    contrib/docs.py --nolb-docs build/nolb-docs --check
"""

import argparse
import difflib
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Each generated file, and the nolb-docs command that prints it (paths from the repository root).
FILES = [
    ("README.md", ["fill", "README.md"]),
    ("contrib/man/nolbd.8.scd", ["fill", "contrib/man/nolbd.8.scd"]),
    ("contrib/man/nolbctl.8.scd", ["fill", "contrib/man/nolbctl.8.scd"]),
    ("contrib/man/nolb.toml.5.scd", ["fill", "contrib/man/nolb.toml.5.scd"]),
    ("conf/nolb.toml", ["config", "conf/nolb.toml.in"]),
]
REFRESH = "cmake --build build --target docs (or contrib/docs.py --nolb-docs build/nolb-docs)"


def generate(nolb_docs, args):
    run = subprocess.run([nolb_docs, *args], cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"docs: nolb-docs {' '.join(args)} failed:\n{run.stderr}")
    return run.stdout


def show_difference(path, committed, generated):
    sys.stdout.writelines(difflib.unified_diff(
        committed.splitlines(keepends=True), generated.splitlines(keepends=True),
        f"{path} (committed)", f"{path} (generated from the code)"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nolb-docs", required=True, help="the nolb-docs binary")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when stale")
    options = parser.parse_args()
    stale = []
    for path, args in FILES:
        generated = generate(options.nolb_docs, args)
        committed = (ROOT / path).read_text()
        if generated == committed:
            continue
        stale.append(path)
        if options.check:
            show_difference(path, committed, generated)
        else:
            (ROOT / path).write_text(generated)
            print(f"docs: wrote {path}")
    if options.check and stale:
        print(f"\ndocs: stale, not what the code says: {', '.join(stale)}\n"
              f"Refresh with {REFRESH}, and commit the result.")
        return 1
    if not stale:
        print(f"docs: {len(FILES)} files as the code says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
