"""The statistics every benchmark reports, computed once: the median of repeated measurements,
its quartiles, a distribution-free interval for the median, and ratios to a reference (nolbd).

Rounds of a benchmark are few (3 to 20) and their distribution is unknown (a shared machine
adds a long tail), so the interval for the median is the one order statistics give without any
assumption: the k-th smallest and k-th largest values, with k the largest for which the
binomial probability of the median lying between them is at least the level asked. With fewer
than 6 values no such pair reaches 95 %; the interval is then the whole range and its actual
coverage (1 - 2 / 2^n) is reported with it, never a figure that claims more.
"""

from dataclasses import dataclass
from math import comb
import statistics


@dataclass(frozen=True)
class Summary:
    """What is reported of a list of measurements."""
    n: int
    median: float
    q1: float
    q3: float
    low: float        # the interval for the median
    high: float
    coverage: float   # its actual confidence, from 0 to 1
    minimum: float
    maximum: float


def median(values):
    return statistics.median(_checked(values))


def quartiles(values):
    """(q1, median, q3), quartiles as the inclusive method interpolates them (the median of each
    half's values and their neighbours); one value is its own quartiles."""
    v = sorted(_checked(values))
    if len(v) == 1:
        return v[0], v[0], v[0]
    q1, q2, q3 = statistics.quantiles(v, n=4, method='inclusive')
    return q1, q2, q3


def median_interval(values, level=0.95):
    """(low, high, coverage): order statistics bracketing the median with at least `level`
    confidence, or the whole range and its coverage when too few values reach it."""
    v = sorted(_checked(values))
    n = len(v)
    best = None
    # P(X_(k) <= median <= X_(n+1-k)) = 1 - 2 * P(Binomial(n, 1/2) <= k - 1)
    for k in range(1, n // 2 + 1):
        tail = sum(comb(n, i) for i in range(k)) / 2 ** n
        coverage = 1 - 2 * tail
        if coverage >= level:
            best = (v[k - 1], v[n - k], coverage)
        else:
            break
    if best is None:
        return v[0], v[-1], 1 - 2 / 2 ** n if n > 1 else 0.0
    return best


def summarize(values, level=0.95):
    v = _checked(values)
    q1, med, q3 = quartiles(v)
    low, high, coverage = median_interval(v, level)
    return Summary(len(v), med, q1, q3, low, high, coverage, min(v), max(v))


def ratio(value, reference):
    """value / reference, or None when either is missing or the reference is not positive."""
    if value is None or reference is None or reference <= 0:
        return None
    return value / reference


def ratios_to(summaries, reference_key):
    """{key: median / the reference's median} for a dict of Summary; None where undefined."""
    ref = summaries.get(reference_key)
    base = ref.median if ref else None
    return {k: ratio(s.median, base) for k, s in summaries.items()}


def group(rows, keys, field):
    """{(row[k] for k in keys): [float(row[field]), ...]} over rows (dicts), in first-seen
    order; rows where the field is empty are left out."""
    out = {}
    for row in rows:
        value = row.get(field)
        if value is None or value == '':
            continue
        out.setdefault(tuple(row[k] for k in keys), []).append(float(value))
    return out


def _checked(values):
    v = [float(x) for x in values]
    if not v:
        raise ValueError('no values to summarize')
    return v
