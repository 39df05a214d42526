"""Build times of the edit-run loop: a clean build into an empty build
cache, a rebuild with nothing changed, and a rebuild after editing one
module of the application, for the stdlib plus a small application
package (tests/fixtures/pkgs/mypkg) and for numpy plus the same.

    python3.11 bench/rebuild.py BUILD_DIR      # `make bench` runs it

Prints a markdown table: wall seconds (median of RUNS rebuilds) and the
CPU seconds (user + system, children included) of the same runs, since
the wall time of a shared machine depends on its load.  Never passes or
fails on the numbers.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = 3


def timed(argv, env):
    """(wall seconds, CPU seconds) of running argv to success."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit("%s failed:\n%s" % (" ".join(argv), r.stderr))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime -
                                                 before.ru_stime)
    return wall, cpu


def measure(inbuilt, tmp, name, extra):
    """{clean, noop, edit: (wall, cpu)} for one configuration."""
    src = os.path.join(tmp, name, "src")
    shutil.copytree(os.path.join(REPO, "tests", "fixtures", "pkgs"), src,
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, INBUILT_BUILD_CACHE=os.path.join(tmp, name,
                                                            "cache"))
    out = os.path.join(tmp, name, "exe")
    argv = [inbuilt, "build", "--path", src, "--include", "mypkg"] + extra \
        + ["-o", out]
    res = {"clean": timed(argv, env)}
    noop = [timed(argv, env) for _ in range(RUNS)]
    util = os.path.join(src, "mypkg", "util.py")
    edits = []
    for i in range(RUNS):
        with open(util, "a") as f:
            f.write("\nEDIT_%d = %d\n" % (i, i))
        edits.append(timed(argv, env))
    for key, runs in (("noop", noop), ("edit", edits)):
        res[key] = (statistics.median(w for w, _ in runs),
                    statistics.median(c for _, c in runs))
    size = os.path.getsize(out)
    return res, size


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: %s BUILD_DIR" % argv[0])
    inbuilt = os.path.abspath(os.path.join(argv[1], "inbuilt"))
    tmp = tempfile.mkdtemp(prefix="inbuilt-rebuild-")
    try:
        rows = []
        for name, label, extra in (
            ("stdlib", "stdlib + mypkg", []),
            ("numpy", "stdlib + numpy + mypkg", ["--include", "numpy"]),
        ):
            rows.append((label, *measure(inbuilt, tmp, name, extra)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("Rebuilds (`python3.11 bench/rebuild.py %s`, %s, load average "
          "%.1f): `inbuilt build --path SRC --include mypkg [--include numpy]"
          " -o OUT`, each with a build cache of its own; wall seconds (CPU "
          "seconds, user + system), medians of %d rebuilds."
          % (argv[1], time.strftime("%Y-%m-%d"), os.getloadavg()[0], RUNS))
    print()
    print("| executable | size | clean build, empty cache | nothing changed "
          "| one module of mypkg edited |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, res, size in rows:
        print("| %s | %.1f MB | %s | %s | %s |" % (
            label, size / 1e6,
            *("%.2f s (%.2f)" % res[k] for k in ("clean", "noop", "edit"))))


if __name__ == "__main__":
    main(sys.argv)
