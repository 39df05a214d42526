"""Time of a stdlib-only build for each target CPython on the machine: the
first ever (an empty cache: the target's runtime library is compiled,
the bytecode made), with the runtime library cached but an empty build
cache, and warm (both cached).

    python3.11 bench/first_build.py INBUILT [RUNS]

Each run of each kind uses fresh temporary cache directories
(XDG_CACHE_HOME for the runtime library, INBUILT_BUILD_CACHE for the
build cache), so the user's caches are neither used nor touched.  Prints
a markdown table: the median wall seconds with every run's wall time,
and the median CPU seconds (user + system, children included), since
wall time on a shared machine depends on its load; and the load average
before and after.  Never passes or fails on the numbers.
"""
import glob
import os
import shutil
import statistics
import sys
import tempfile

from rebuild import timed  # bench/rebuild.py

TARGETS = ["/usr/bin/python3.11"] + sorted(
    glob.glob("/root/.pyenv/versions/3.1[0-9].*/bin/python3.1[0-9]"))


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    inbuilt = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print("load average at the start: %s" % load())
    print()
    print("| target | first ever (empty caches) | runtime cached, empty build "
          "cache | warm |")
    print("| --- | ---: | ---: | ---: |")
    for python in TARGETS:
        if not os.path.exists(python):
            continue
        res = {"first": [], "runtime": [], "warm": []}
        for _ in range(runs):
            tmp = tempfile.mkdtemp(prefix="inbuilt-first-build-")
            try:
                env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "x"),
                           INBUILT_BUILD_CACHE=os.path.join(tmp, "b1"))
                env.pop("INBUILT_RUNTIME", None)
                argv = [inbuilt, "build", "--python", python, "-o",
                        os.path.join(tmp, "app")]
                res["first"].append(timed(argv, env))
                env["INBUILT_BUILD_CACHE"] = os.path.join(tmp, "b2")
                res["runtime"].append(timed(argv, env))
                res["warm"].append(timed(argv, env))
            finally:
                shutil.rmtree(tmp)
        cells = []
        for key in ("first", "runtime", "warm"):
            walls = [w for w, _ in res[key]]
            cells.append("%.1f s (%s; CPU %.1f s)" % (
                statistics.median(walls),
                ", ".join("%.1f" % w for w in walls),
                statistics.median(c for _, c in res[key])))
        print("| %s | %s |" % (python, " | ".join(cells)))
        sys.stdout.flush()
    print()
    print("load average at the end: %s" % load())


if __name__ == "__main__":
    main()
