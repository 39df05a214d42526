"""Compare two executables running the same code: before and after a change.

    python3.11 bench/ab.py [--runs N] BEFORE AFTER CODE

Runs `BEFORE -c CODE`, `AFTER -c CODE` and stock `python3.11 -c CODE` in
turn, N times each (20 by default, after 3 warm-up rounds), and prints the
median wall time and the median CPU time (user + system, from wait4) of
each, and the ratios after/before and after/stock.  CPU time is the steadier
figure on a shared machine.  Environment as bench/measure.py's run_env().
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "scripts"))
from fscalls import run_env  # noqa: E402

STOCK_PYTHON = "/usr/bin/python3.11"


def once(argv, env):
    """(wall seconds, CPU seconds) of one run of argv."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit("%s failed (status %d)" % (" ".join(argv), status))
    return wall, usage.ru_utime + usage.ru_stime


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("code")
    a = p.parse_args(argv)
    env = run_env()
    cmds = {"before": [a.before, "-c", a.code],
            "after": [a.after, "-c", a.code],
            "stock": [STOCK_PYTHON, "-c", a.code]}
    times = {k: [] for k in cmds}
    for i in range(3 + a.runs):
        for k, cmd in cmds.items():
            t = once(cmd, env)
            if i >= 3:
                times[k].append(t)
    wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
    cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
    for name, m in (("wall", wall), ("cpu", cpu)):
        print("%s: before %.1f ms, after %.1f ms, stock %.1f ms; "
              "after/before %.3f, after/stock %.2f"
              % (name, m["before"] * 1e3, m["after"] * 1e3, m["stock"] * 1e3,
                 m["after"] / m["before"], m["after"] / m["stock"]))


if __name__ == "__main__":
    main(sys.argv[1:])
