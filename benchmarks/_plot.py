"""benchmarks/ratios.png: every summary row's ratio (peer time / fastnn time) as a
horizontal bar on a log scale, a line at 1.0 and a tick at each row's speedup target."""

COLOURS = {"PASS": "#2e7d32", "MISS": "#c62828", "n/a": "#9e9e9e", "info": "#5c7ea8"}


def plotted(rows):
    """(label, ratio, kind of ratio, row) of the rows with a measured ratio: the median
    paired ratio, or best/best where a suite measured only that."""
    out = []
    for r in rows:
        ratio, kind = r.get("ratio_median"), "median"
        if ratio is None:
            ratio, kind = r.get("ratio_best"), "best"
        if ratio is None or ratio <= 0:
            continue
        threads = f" {r['peer_threads']}t" if r.get("peer_threads") else ""
        label = f"{r['suite']}: {r['case']} | {r['contender']}{threads}"
        if "GB/s" in (r.get("target") or ""):
            label += " [target on GB/s]"
        out.append((label + (" (best/best)" if kind == "best" else ""), ratio, kind, r))
    return out


def plot_ratios(rows, path):
    """Write the plot to `path`; returns the path, or None (with a message on stdout,
    not an exception) when matplotlib is not installed or no row has a ratio."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: {path} not written "
              "(pip install matplotlib, or pip install 'fastnn[plot]', then "
              "python benchmarks/run.py --report)")
        return None
    items = plotted(rows)
    if not items:
        print(f"no measured ratio in the results: {path} not written")
        return None
    items = items[::-1]                 # first row at the top
    fig, ax = plt.subplots(figsize=(13, 1.2 + 0.24 * len(items)))
    y = range(len(items))
    ax.barh(list(y), [it[1] for it in items],
            color=[COLOURS.get(it[3]["status"], COLOURS["info"]) for it in items],
            height=0.7)
    for i, (_, ratio, _, row) in enumerate(items):
        tmin = row.get("target_min")
        if tmin and "GB/s" not in (row.get("target") or ""):
            ax.plot([tmin, tmin], [i - 0.45, i + 0.45], color="black", linewidth=2)
        ax.text(ratio, i, f" {ratio:.2f}x", va="center", fontsize=6)
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ax.set_yticks(list(y))
    ax.set_yticklabels([it[0] for it in items], fontsize=6)
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.set_xlabel("peer time / fastnn time (> 1: fastnn faster), median paired ratio, "
                  "log scale\ndashed line: 1.0; black tick: the row's speedup target")
    ax.set_title("fastnn against its peers (green PASS, red MISS, blue no target)")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
