#!/usr/bin/python3
"""How src/ is shaped: lines per folder, the longest functions, and the source files that have no
unit test of the same name (src/F/x.cpp -> tests/unit/F/x_test.cpp). Run from the repository's
root; prints Markdown. The longest functions come from Universal Ctags (its `end:` field)."""

import collections
import json
import pathlib
import subprocess
import sys

SOURCE = pathlib.Path("src")
TESTS = pathlib.Path("tests/unit")
SUFFIXES = (".cpp", ".hpp")
# A program's folder and the folder of its unit tests.
TEST_FOLDER = {"nolb-compare": "compare", "nolb-stats": "stats", "nolb-docs": "docs"}


def sources():
    return sorted(p for p in SOURCE.rglob("*") if p.suffix in SUFFIXES)


def lines_per_folder(files):
    counts = collections.Counter()
    for path in files:
        counts[path.parent.relative_to(SOURCE).as_posix()] += len(path.read_text().splitlines())
    return counts


def longest_functions(files, count=10):
    cpp = [str(p) for p in files if p.suffix == ".cpp"]
    out = subprocess.run(
        ["ctags", "--output-format=json", "--fields=+ne", "--kinds-C++=f", "--language-force=C++",
         "-f", "-", *cpp], check=True, capture_output=True, text=True).stdout
    functions = []
    for line in out.splitlines():
        tag = json.loads(line)
        if "end" not in tag:
            continue
        scope = tag.get("scope", "")
        name = f"{scope}::{tag['name']}" if scope else tag["name"]
        functions.append((tag["end"] - tag["line"] + 1, f"{tag['path']}:{tag['line']}", name))
    return sorted(functions, reverse=True)[:count]


def without_unit_test(files):
    missing = []
    for path in files:
        if path.suffix != ".cpp":
            continue
        folder = path.parent.relative_to(SOURCE).as_posix()
        test = TESTS / TEST_FOLDER.get(folder, folder) / f"{path.stem}_test.cpp"
        if not test.exists():
            missing.append(path.as_posix())
    return missing


def main():
    # --without FOLDER (repeatable): leave a folder out of the functions and the test list.
    args, left_out = sys.argv[1:], set()
    while args[:1] == ["--without"] and len(args) >= 2:
        left_out.add(args[1])
        args = args[2:]
    if args:
        sys.exit("usage: contrib/code-stats.py [--without FOLDER]...")
    files = sources()
    counts = lines_per_folder(files)
    print("| Folder | Lines |\n|---|--:|")
    for folder, lines in sorted(counts.items()):
        print(f"| {folder} | {lines} |")
    print(f"| all | {sum(counts.values())} |\n")
    files = [p for p in files if p.parent.relative_to(SOURCE).as_posix() not in left_out]
    if left_out:
        print(f"Below, without {', '.join(sorted(left_out))}.\n")
    print("| Lines | Function | Where |\n|--:|---|---|")
    for lines, where, name in longest_functions(files):
        print(f"| {lines} | `{name}` | {where} |")
    missing = without_unit_test(files)
    print(f"\n{len(missing)} source files without a unit test of the same name:\n")
    for path in missing:
        print(f"- {path}")


if __name__ == "__main__":
    sys.exit(main())
