#!/usr/bin/python3
"""The folder rules of docs/architecture.md, checked against the sources.

docs/architecture.md holds a table with one row per folder of src/: its job and the folders it
may include ("| `zone/` | ... | `config/` `dns/` `util/` |"). This reads that table, walks every
source file under src/, and fails on a quoted include of another folder that the row does not
allow, or on a folder the table does not describe. The table is the one statement of the rules;
this keeps the code to it.

    tests/layout/check_includes.py [REPO_ROOT]
"""

import pathlib
import re
import sys

ROW = re.compile(r"^\|\s*`([a-z-]+)/`\s*\|.*\|([^|]*)\|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z-]+)/', re.MULTILINE)


def rules(document):
    allowed = {}
    for line in document.splitlines():
        match = ROW.match(line)
        if match:
            folders = re.findall(r"`([a-z-]+)/`", match.group(2))
            allowed[match.group(1)] = set(folders)
    return allowed


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    allowed = rules((root / "docs/architecture.md").read_text())
    if not allowed:
        sys.exit("docs/architecture.md: no folder table found")
    problems = []
    source = root / "src"
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        name = folder.name
        if name not in allowed:
            problems.append(f"src/{name}/: not described in docs/architecture.md's folder table")
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".in") or not path.is_file():
                continue
            for target in INCLUDE.findall(path.read_text()):
                if target != name and target not in allowed[name]:
                    problems.append(f"{path.relative_to(root)}: includes {target}/, which "
                                    f"{name}/ may not (docs/architecture.md)")
    for problem in problems:
        print(problem)
    checked = sum(1 for _ in source.rglob("*.?pp"))
    print(f"{checked} files, {len(allowed)} folders: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
