"""Plot bench/storm.py's CSV: median launch-to-exit time against N, one
line per setup (solid: fork/exec, dashed: mpirun), log scales, one panel
per (workload, M); and print two markdown tables of it: the median times
with setups as rows and N as columns, and the model's fit on the rows
where the server is the bottleneck.

    /usr/bin/python3 bench/storm_plot.py STORM.csv OUT.png

Needs Debian's python3-matplotlib (make deps installs it).  The PNG is
written through a temporary file.
"""

import csv
import os
import sys

try:
    import matplotlib
except ImportError:
    sys.exit("storm_plot: matplotlib is missing: run it with Debian's "
             "/usr/bin/python3 after `make deps` (python3-matplotlib)")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# One colour per setup, the same in every panel.
COLOURS = {"stock": "tab:red", "tuned": "tab:orange", "zip": "tab:olive",
           "squashfs": "tab:purple", "bcast": "tab:brown",
           "inbuilt": "tab:blue", "stock-local": "tab:gray",
           "inbuilt-local": "tab:cyan"}
STYLES = {"fork": "-", "mpirun": "--"}


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("storm_plot: %s has no rows" % path)
    for r in rows:
        for k in ("N", "M", "L", "K"):
            r[k] = int(r[k])
        r["median_s"] = float(r["median_s"])
    return rows


def ordered(values):
    """values in first-seen order, without repeats."""
    return list(dict.fromkeys(values))


def plot(rows, out):
    workloads = ordered(r["workload"] for r in rows)
    ms = sorted(set(r["M"] for r in rows))
    fig, axes = plt.subplots(len(workloads), len(ms), squeeze=False,
                             figsize=(max(8.5, 5.5 * len(ms)),
                                      4.2 * len(workloads)))
    for i, workload in enumerate(workloads):
        for j, m in enumerate(ms):
            ax = axes[i][j]
            sel = [r for r in rows if r["workload"] == workload
                   and r["M"] == m]
            for setup in ordered(r["setup"] for r in sel):
                for launcher in ordered(r["launcher"] for r in sel):
                    pts = sorted((r["N"], r["median_s"]) for r in sel
                                 if r["setup"] == setup
                                 and r["launcher"] == launcher)
                    if not pts:
                        continue
                    ax.plot([p[0] for p in pts], [p[1] for p in pts],
                            STYLES.get(launcher, ":"), marker="o",
                            markersize=3, color=COLOURS.get(setup),
                            label="%s (%s)" % (setup, launcher))
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("N processes")
            ax.set_ylabel("median launch-to-exit time, s")
            ax.set_title("%s, M = %d node%s" % (
                {"numpy": "import numpy",
                 "stdlib": "stdlib import set"}.get(workload, workload),
                m, "s" if m > 1 else ""))
            ax.grid(True, which="both", alpha=0.3)
            ns = sorted(set(r["N"] for r in sel))
            ax.set_xticks(ns)
            ax.set_xticklabels([str(n) for n in ns])
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    r0 = rows[0]
    cache = float(r0.get("cache") or 0)
    fig.suptitle("Import storm, one mdsfs server:\n"
                 "L = %d us, K = %d, %s" % (
                     r0["L"], r0["K"], "node caches kept %g s" % cache
                     if cache else "metadata caches off, file data kept per node"
                     if r0.get("data_cache") == "1" else "caches off"))
    # room at the bottom for the legend's rows
    fig.tight_layout(rect=(0, 0.03 + 0.025 * ((len(labels) + 3) // 4)
                           / len(workloads), 1, 1))
    tmp = out + ".tmp.png"
    # "tight" grows the canvas to the title and the legend, whatever the
    # number of panels.
    fig.savefig(tmp, dpi=90, bbox_inches="tight")
    os.replace(tmp, out)


def print_medians(rows):
    """Per (workload, launcher, M): setups down, N across, median seconds
    (server operations per process in brackets)."""
    ns = sorted(set(r["N"] for r in rows))
    for workload in ordered(r["workload"] for r in rows):
        for launcher in ordered(r["launcher"] for r in rows):
            for m in sorted(set(r["M"] for r in rows)):
                sel = [r for r in rows if r["workload"] == workload
                       and r["launcher"] == launcher and r["M"] == m]
                if not sel:
                    continue
                print("\n%s, %s, M = %d: median seconds (server ops per "
                      "process)\n" % (workload, launcher, m))
                print("| setup | " + " | ".join("N = %d" % n for n in ns)
                      + " |")
                print("| --- |" + " ---: |" * len(ns))
                for setup in ordered(r["setup"] for r in sel):
                    cells = []
                    for n in ns:
                        r = [x for x in sel if x["setup"] == setup
                             and x["N"] == n]
                        cells.append("%.3f (%s)" % (
                            r[0]["median_s"], r[0]["ops_per_proc"])
                            if r else "-")
                    print("| %s | %s |" % (setup, " | ".join(cells)))


def print_model(rows, min_ops=100):
    """The model's fit, server_ops x L / K against the measured total, on
    the rows of setups that send at least min_ops operations per process
    (below that the model says milliseconds and CPU time rules)."""
    sel = [r for r in rows if int(r["ops_per_proc"]) >= min_ops]
    if not sel:
        return
    print("\nModel check (rows with >= %d server ops per process): "
          "total time against server ops x L / K\n" % min_ops)
    print("| workload | launcher | setup | N | M | server ops | model s "
          "| measured total s | measured / model |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = []
    for r in sel:
        model, total = float(r["model_s"]), float(r["total_s"])
        ratios.append((r["N"], total / model))
        print("| %s | %s | %s | %d | %d | %s | %.2f | %.2f | %.3f |" % (
            r["workload"], r["launcher"], r["setup"], r["N"], r["M"],
            r["server_ops"], model, total, total / model))
    for lo, hi in ((1, 1), (2, 10 ** 9)):
        rs = sorted(x for n, x in ratios if lo <= n <= hi)
        if rs:
            print("\nmeasured / model, N %s: median %.3f, range %.3f to "
                  "%.3f over %d rows" % ("= 1" if hi == 1 else ">= 2",
                                         rs[len(rs) // 2], rs[0], rs[-1],
                                         len(rs)))


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: storm_plot.py STORM.csv OUT.png")
    rows = load(argv[0])
    plot(rows, argv[1])
    print_medians(rows)
    print_model(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
