"""Plots every benchmark draws, as PNG (for reading) and SVG (for the README), through
matplotlib's non-interactive Agg backend, so no display is needed. Three shapes cover the
benchmarks: bars with error bars (a median per server and its interval over rounds), boxes (the
spread of many samples, e.g. detection times), and lines (a value over time, e.g. memory in a
soak). Each function writes NAME.png and NAME.svg in a folder and returns the two paths.

matplotlib is imported when a plot is drawn, not when the harness loads: without it (Debian's
python3-matplotlib, in contrib/install-deps.sh bench and test) the benchmarks still run and
write their tables, and say that the plots are missing.
"""

import os


def available():
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return False


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _save(fig, folder, name):
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, name + ext) for ext in ('.png', '.svg')]
    fig.tight_layout()
    # A fixed date keeps SVG output the same for the same figures.
    fig.savefig(paths[0], dpi=110)
    fig.savefig(paths[1], metadata={'Date': None})
    return paths


def bars(folder, name, title, panels, reference_lines=None):
    """panels: [(panel title, y label, [(label, median, low, high), ...])]; low and high are the
    error bar's ends (None: no bar). reference_lines: {panel title: (value, label)}, drawn as a
    dashed line (e.g. the kernel floor's CPU per query)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.6), squeeze=False)
    for ax, (ptitle, ylabel, items) in zip(axes[0], panels):
        labels = [i[0] for i in items]
        values = [i[1] if i[1] is not None else 0 for i in items]
        lower = [max(0.0, v - i[2]) if i[2] is not None else 0 for v, i in zip(values, items)]
        upper = [max(0.0, i[3] - v) if i[3] is not None else 0 for v, i in zip(values, items)]
        ax.bar(range(len(items)), values, yerr=[lower, upper], capsize=4, color='#4c72b0')
        ax.set_xticks(range(len(items)), labels, rotation=30, ha='right')
        ax.set_title(ptitle, fontsize=10)
        ax.set_ylabel(ylabel)
        line = (reference_lines or {}).get(ptitle)
        if line is not None:
            ax.axhline(line[0], linestyle='--', color='#c44e52', label=line[1])
            ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    paths = _save(fig, folder, name)
    plt.close(fig)
    return paths


def boxes(folder, name, title, ylabel, groups):
    """groups: [(label, [values])]; empty groups are drawn as gaps."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(groups)), 3.8))
    data = [g[1] if g[1] else [float('nan')] for g in groups]
    ax.boxplot(data)
    ax.set_xticks(range(1, len(groups) + 1), [g[0] for g in groups], rotation=30, ha='right')
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    paths = _save(fig, folder, name)
    plt.close(fig)
    return paths


def lines(folder, name, title, xlabel, ylabel, series):
    """series: [(label, [x], [y])]."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, xs, ys in series:
        ax.plot(xs, ys, marker='o', label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    if len(series) > 1:
        ax.legend(fontsize=8)
    paths = _save(fig, folder, name)
    plt.close(fig)
    return paths
