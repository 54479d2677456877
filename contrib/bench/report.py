"""Tables as every benchmark writes them: one list of rows, printed as Markdown for people and
the README, and saved as CSV with the raw values for anything that reads them again. A missing
value is "-" in Markdown and empty in CSV; numbers are rounded only in Markdown.
"""

import csv
from dataclasses import dataclass
import os


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    fmt: str = '{}'     # how Markdown shows a value: '{:.2f}', '{:,.0f}', ...
    left: bool = False  # text columns align left, numbers right


class Table:
    def __init__(self, columns):
        self.columns = list(columns)
        self.rows = []

    def add(self, **row):
        unknown = set(row) - {c.key for c in self.columns}
        if unknown:
            raise KeyError(f'no column {sorted(unknown)}')
        self.rows.append(row)

    def markdown(self):
        lines = ['| ' + ' | '.join(c.title for c in self.columns) + ' |',
                 '| ' + ' | '.join('---' if c.left else '---:' for c in self.columns) + ' |']
        for row in self.rows:
            lines.append('| ' + ' | '.join(cell(row.get(c.key), c.fmt) for c in self.columns) + ' |')
        return '\n'.join(lines) + '\n'

    def write_csv(self, path):
        os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
        with open(path, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow([c.key for c in self.columns])
            for row in self.rows:
                w.writerow(['' if row.get(c.key) is None else row.get(c.key) for c in self.columns])


def cell(value, fmt='{}'):
    if value is None or value == '':
        return '-'
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def write_rows_csv(path, fields, rows):
    """Raw measurements (one dict per round or sample), every field in `fields` order."""
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
        w.writeheader()
        for row in rows:
            w.writerow(row)


def read_rows_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def write_text(path, text):
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
