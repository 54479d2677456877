#!/usr/bin/python3
"""nolb's manual pages, checked as a reader meets them.

Each page, rendered by scdoc into <build>/man/, must go through man and groff without a warning
(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l PAGE), and must name what it documents: every
option and subcommand its program's --help lists, and each subcommand's own options; for
nolb.toml(5), every table and key of the schema (nolb-docs section key-paths). The lists come
from the programs at test time, so an option added to a program and not to its page fails here.

    tests/docs/check_man.py MAN_DIR --pages nolbd.8 ... --program nolbd.8=BUILD/nolbd ...
        --nolb-docs BUILD/nolb-docs
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys

# "  -c,--config FILE     Configuration file": CLI11's option lines, the names in the first column.
OPTION_LINE = re.compile(r"^  (-\S.*?)(?:\s{2,}|$)")
# "  status      every address: ...", under "Subcommands:".
SUBCOMMAND_LINE = re.compile(r"^  ([a-z][a-z-]*)(?:\s{2,}|$)")


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=60, **kwargs)


def help_of(program, *subcommand):
    return run([program, *subcommand, "--help"]).stdout


def option_names(help_text):
    names = set()
    for line in help_text.splitlines():
        match = OPTION_LINE.match(line)
        if match:
            # "-c,--config FILE" -> -c, --config; "--log-level LEVEL:{debug,info}" -> --log-level
            names.update(part.split()[0] for part in match.group(1).split(",")
                         if part.strip().startswith("-"))
    return names


def subcommand_names(help_text):
    names, inside = set(), False
    for line in help_text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
        elif inside and not line.strip():
            inside = False
        elif inside and (match := SUBCOMMAND_LINE.match(line)):
            names.add(match.group(1))
    return names


def rendered(page):
    """The page as text (no overstrikes), and what man and groff said on stderr."""
    warned = run(["man", "--warnings", "-l", str(page)],
                 env=dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80"))
    plain = run(["man", "-l", str(page)], env=dict(os.environ, LC_ALL="C", MANWIDTH="200"))
    text = re.sub(r".\x08", "", plain.stdout)
    # A word hyphenated at the end of a line is one word again ("--check-" "config").
    text = re.sub(r"(\w-)\n\s+(?=\w)", r"\1", text)
    problems = warned.stderr.strip()
    if warned.returncode != 0:
        problems += f"\n(man exited with status {warned.returncode})"
    return text, problems.strip()


def names_in(text, names, what):
    missing = [n for n in sorted(names) if not re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
    return [f"does not name the {what} {name}" for name in missing]


def program_problems(text, program):
    top = help_of(program)
    problems = names_in(text, option_names(top), "option")
    subcommands = subcommand_names(top)
    problems += names_in(text, subcommands, "subcommand")
    for subcommand in sorted(subcommands):
        problems += names_in(text, option_names(help_of(program, subcommand)),
                             f"option of {subcommand}:")
    if not option_names(top):
        problems.append(f"found no option in {program} --help; has its format changed?")
    return problems


def schema_problems(text, nolb_docs):
    paths = run([nolb_docs, "section", "key-paths"]).stdout.split()
    if not paths:
        return [f"{nolb_docs} section key-paths printed nothing"]
    problems = []
    for path in paths:
        key = path.rsplit(".", 1)[-1].removesuffix("[]")
        if not re.search(rf"^\s*{re.escape(key)} \(", text, re.MULTILINE) and \
                f".{key}]" not in text and f"[{key}]" not in text:
            problems.append(f"does not describe {path}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("man_dir", type=pathlib.Path)
    parser.add_argument("--pages", nargs="+", required=True)
    parser.add_argument("--program", action="append", default=[], help="PAGE=BINARY")
    parser.add_argument("--nolb-docs", required=True)
    options = parser.parse_args()
    if not shutil.which("man"):
        sys.exit("man is not installed: contrib/install-deps.sh test (man-db, groff-base)")
    programs = dict(item.split("=", 1) for item in options.program)
    failures = 0
    for page in options.pages:
        path = options.man_dir / page
        if not path.exists():
            print(f"{page}: not rendered in {options.man_dir}; is scdoc installed? "
                  "(contrib/install-deps.sh build, then build again)")
            failures += 1
            continue
        text, warnings = rendered(path)
        problems = [f"man --warnings: {warnings}"] if warnings else []
        if page in programs:
            problems += program_problems(text, programs[page])
        if page.startswith("nolb.toml."):
            problems += schema_problems(text, options.nolb_docs)
        for problem in problems:
            print(f"{page}: {problem}")
        failures += bool(problems)
        if not problems:
            print(f"{page}: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
