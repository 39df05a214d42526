"""Embedding (`inbuilt build --library`, docs/EMBEDDING.md): what linking
the library costs a host, and what a call from C into Python costs, inbuilt
against stock libpython3.11.so.  Prints a markdown table; never passes or
fails on the figures.

  - link: the same host object (bench/embed_calls.c) linked against the
    library (its pkg-config flags) and against stock libpython3.11.so
    (python3.11-config --embed), and a host without Python (main returning
    0), with the default linker (GNU ld) and with gold: median wall time
    and CPU time (user + system of the linker processes) of LINKS links
    each, alternating;
  - calls: bench/embed_calls.c times batches of 1,000 calls of
    insitu.noop(7) (tests/fixtures/pkgs) with PyObject_CallOneArg; the
    median of its 201 batches, median over RUNS processes per side, and
    the fastest batch of all.

Usage: python3.11 bench/embed.py --build-dir build   (`make bench` runs it)
"""
import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKGS = os.path.join(REPO, "tests", "fixtures", "pkgs")
SOURCE = os.path.join(REPO, "bench", "embed_calls.c")
LINKS = 7
RUNS = 11


def out(argv, env=None):
    """stdout of argv, which must succeed."""
    r = subprocess.run(argv, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("%s failed (%d):\n%s" % (shlex.join(map(str, argv)),
                                          r.returncode, r.stderr))
    return r.stdout


def timed_links(commands, runs):
    """Median (wall, CPU) seconds of each command (label -> argv), run
    alternately runs times after one warm-up each."""
    times = {label: [] for label in commands}
    order = list(commands)
    for i in range(runs + 1):
        for label in order if i % 2 == 0 else reversed(order):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            out(commands[label])
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime +
                   after.ru_stime - before.ru_stime)
            if i > 0:
                times[label].append((wall, cpu))
    return {label: (statistics.median(w for w, _ in t),
                    statistics.median(c for _, c in t))
            for label, t in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--python", default=measure.STOCK_PYTHON)
    args = ap.parse_args()
    inbuilt = os.path.abspath(os.path.join(args.build_dir, "inbuilt"))
    work = os.path.abspath(os.path.join(args.build_dir, "bench", "embed"))
    os.makedirs(work, exist_ok=True)
    lib = os.path.join(work, "libinsitu.a")
    secs = measure.build(inbuilt, lib, "--library", "--path", PKGS,
                         "--include", "insitu")
    pc_env = dict(os.environ, PKG_CONFIG_PATH=work)
    cflags = out(["pkg-config", "--cflags", "libinsitu"], pc_env).split()
    libs = out(["pkg-config", "--libs", "libinsitu"], pc_env).split()
    config = args.python + "-config"
    stock_flags = out([config, "--cflags"]).split()
    stock_libs = out([config, "--ldflags", "--embed"]).split()

    obj = os.path.join(work, "host.o")
    stock_obj = os.path.join(work, "host-stock.o")
    plain_obj = os.path.join(work, "plain.o")
    out(["cc", "-O2", "-c", "-o", obj, SOURCE, *cflags])
    out(["cc", "-O2", "-DSTOCK", "-c", "-o", stock_obj, SOURCE,
         *stock_flags])
    with tempfile.NamedTemporaryFile("w", suffix=".c") as f:
        f.write("int main(void) { return 0; }\n")
        f.flush()
        out(["cc", "-O2", "-c", "-o", plain_obj, f.name])
    exe = os.path.join(work, "host")
    stock_exe = os.path.join(work, "host-stock")
    links = {}
    for ld in ("bfd", "gold"):
        use = ["-fuse-ld=" + ld]
        links.update({
            ("inbuilt", ld): ["cc", *use, "-o", exe, obj, *libs],
            ("stock", ld): ["cc", *use, "-o", stock_exe, stock_obj,
                            *stock_libs],
            ("plain", ld): ["cc", *use, "-o", os.path.join(work, "plain"),
                            plain_obj],
        })
    link = timed_links(links, LINKS)

    env = measure.run_env({"PYTHONPATH": PKGS})
    calls = {"inbuilt": [], "stock": []}
    best = {"inbuilt": [], "stock": []}
    for i in range(RUNS):
        for side in ("inbuilt", "stock") if i % 2 == 0 else ("stock",
                                                             "inbuilt"):
            line = out([exe if side == "inbuilt" else stock_exe], env)
            calls[side].append(float(line.split()[0]))
            best[side].append(float(line.split()[1]))
    median = {side: statistics.median(v) for side, v in calls.items()}
    fastest = {side: min(v) for side, v in best.items()}

    size = os.path.getsize(lib) / 1e6
    print("\n## Embedding (bench/embed.py)\n")
    print("Library: `inbuilt build --library --path tests/fixtures/pkgs "
          "--include insitu` (stdlib, insitu, numpy): %.1f MB, built in "
          "%.1f s.\n" % (size, secs))
    print("| measure | inbuilt | stock libpython3.11.so | inbuilt / stock |")
    print("| --- | ---: | ---: | ---: |")
    for ld in ("bfd", "gold"):
        for k, what in ((0, "wall"), (1, "CPU")):
            inb, stock, plain = (link[side, ld][k]
                                 for side in ("inbuilt", "stock", "plain"))
            print("| link of the host, `cc -fuse-ld=%s -o host host.o` + "
                  "flags, median %s time of %d | %s | %s | %.2f |" % (
                      ld, what, LINKS, measure.ms(inb), measure.ms(stock),
                      inb / stock))
            print("| %s time the library adds to it (a host without "
                  "Python: %s) | %s | %s | - |" % (
                      what, measure.ms(plain), measure.ms(inb - plain),
                      measure.ms(stock - plain)))
    print("| 1,000 calls of `insitu.noop(7)` from C, median of %d "
          "processes x 201 batches | %.1f us | %.1f us | %.2f |" % (
              RUNS, median["inbuilt"] * 1e6, median["stock"] * 1e6,
              median["inbuilt"] / median["stock"]))
    print("| the same, fastest batch of all (least disturbed by other "
          "load) | %.1f us | %.1f us | %.2f |" % (
              fastest["inbuilt"] * 1e6, fastest["stock"] * 1e6,
              fastest["inbuilt"] / fastest["stock"]))


if __name__ == "__main__":
    main()
