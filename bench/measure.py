"""Measure what inbuilt is for: filesystem calls and start-up time.

Used by the target interpreter (/usr/bin/python3.11):

    python3.11 bench/measure.py demo BUILD_DIR    # `make demo`
    python3.11 bench/measure.py bench BUILD_DIR   # `make bench`
    import measure                                # the other bench/*.py

Filesystem calls are counted with scripts/fscalls.py (strace and the
allow-list, shared with tests/e2e).
"""

import os
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "scripts"))
from fscalls import (  # noqa: E402  (also used as measure.X by bench/*.py)
    outside_allow_list, path_calls, run_env, strace_paths)

STOCK_PYTHON = "/usr/bin/python3.11"
IMPORT_SET = "import json, decimal, email.mime.text, asyncio"
# The variables that put an inbuilt executable's heaps on small pages
# (src/runtime/pages.c), for the rows that show what huge pages give.
SMALL_PAGES = {"INBUILT_HUGEPAGES": "0"}

def count_calls(argv, exe):
    """(calls naming a path, calls outside the allow-list) for one run."""
    result, calls = strace_paths(argv)
    if result.returncode != 0:
        raise RuntimeError(
            "%s failed (%d): %s" % (shlex.join(argv), result.returncode,
                                    result.stderr.strip())
        )
    return len(calls), len(outside_allow_list(calls, exe))


def _argv_env(command):
    """A command of wall_medians or minor_faults: an argv, or a pair of an
    argv and the variables to add to run_env() for it."""
    if isinstance(command, tuple):
        return command[0], run_env(command[1])
    return command, run_env()


def wall_medians(commands, runs):
    """Median wall time in seconds of each command (a dict label -> argv,
    or label -> (argv, extra environment)), running them alternately `runs`
    times after one warm-up each, so that drift in machine load hits all of
    them alike."""
    times = {label: [] for label in commands}
    order = list(commands)
    for i in range(runs + 1):
        for label in order if i % 2 == 0 else reversed(order):
            argv, env = _argv_env(commands[label])
            start = time.perf_counter()
            subprocess.run(
                argv, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, env=env, check=True,
            )
            if i > 0:
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(t) for label, t in times.items()}


def minor_faults(command, runs=5):
    """Median number of page faults (minor: no disk read) of a command, as
    the kernel counts them for the child (wait4's rusage)."""
    argv, env = _argv_env(command)
    counts = []
    for _ in range(runs):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError("%s failed (%d)" % (shlex.join(argv),
                                                   proc.returncode))
        counts.append(usage.ru_minflt)
    return statistics.median(counts)


def build(inbuilt, out, *options, echo=False):
    """Run `inbuilt build [options] -o out`; return the seconds it took.
    echo: print the CLI's own report, indented.  Exits on failure."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    argv = [inbuilt, "build", *options, "-o", out]
    start = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True)
    secs = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit("%s failed (%d):\n%s%s" % (shlex.join(argv), r.returncode,
                                            r.stdout, r.stderr))
    if echo:
        for line in (r.stdout + r.stderr).splitlines():
            print("   | " + line)
    return secs


def ms(seconds):
    return "%.1f ms" % (seconds * 1000)


def mb(nbytes):
    return "%.1f MB" % (nbytes / 1e6)


def demo(build_dir):
    inbuilt = os.path.abspath(os.path.join(build_dir, "inbuilt"))
    exe = os.path.abspath(os.path.join(build_dir, "demo", "pydemo"))
    stock = STOCK_PYTHON

    print("== building %s" % exe)
    print("   $ %s build -o %s"
          % (os.path.relpath(inbuilt), os.path.relpath(exe)))
    secs = build(inbuilt, exe, echo=True)
    print("   built in %.1f s, %s (CPython + the whole pure-Python stdlib)"
          % (secs, mb(os.path.getsize(exe))))
    print()
    print("== running:  -c '%s'" % IMPORT_SET)
    print("   (LC_ALL=C.UTF-8; filesystem calls counted with")
    print("   strace -f -e trace=%file)")
    print()

    rows = []
    for label, prog in (("inbuilt  " + os.path.relpath(exe), exe),
                        ("stock    " + stock, stock)):
        total, outside = count_calls([prog, "-c", IMPORT_SET], prog)
        rows.append([label, total, outside])
    medians = wall_medians(
        {"inbuilt": [exe, "-c", IMPORT_SET],
         "stock": [stock, "-c", IMPORT_SET]},
        runs=10,
    )
    rows[0].append(ms(medians["inbuilt"]))
    rows[1].append(ms(medians["stock"]))

    head = ["executable", "fs calls naming a path",
            "outside allow-list", "median wall time (10 runs)"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
    fmt = "   %-*s  %*s  %*s  %*s"
    print(fmt % (widths[0], head[0], widths[1], head[1],
                 widths[2], head[2], widths[3], head[3]))
    for r in rows:
        print(fmt % (widths[0], r[0], widths[1], r[1],
                     widths[2], r[2], widths[3], r[3]))
    print()
    print("   allow-list: the execve itself, the dynamic loader's cache, the")
    print("   linked shared libraries, /proc/self/*, /etc/localtime,")
    print("   OpenSSL's openssl.cnf (read by libssl when ssl is imported).")
    print("   Every other call is a stat/open a rank would send to a shared")
    print("   filesystem; the inbuilt executable makes %d of them."
          % rows[0][2])
    print("   Its C extensions (_decimal, _ssl, ...) and their libraries")
    print("   come from memory files, opened as /proc/self/fd/N.")


def bench(build_dir):
    inbuilt = os.path.abspath(os.path.join(build_dir, "inbuilt"))
    exe = os.path.abspath(os.path.join(build_dir, "bench", "pybench"))
    stock = STOCK_PYTHON
    runs = 40

    secs = build(inbuilt, exe)
    size = os.path.getsize(exe)

    fs = {}
    for key, inb_argv, stock_argv in (
        ("pass", [exe, "-c", "pass"], [stock, "-I", "-S", "-c", "pass"]),
        ("imports", [exe, "-c", IMPORT_SET], [stock, "-c", IMPORT_SET]),
    ):
        fs[key] = (count_calls(inb_argv, exe), count_calls(stock_argv, stock))

    commands = {
        "inb_pass": [exe, "-c", "pass"],
        "small_pass": ([exe, "-c", "pass"], SMALL_PAGES),
        "stock_pass": [stock, "-I", "-S", "-c", "pass"],
        "inb_imports": [exe, "-c", IMPORT_SET],
        "small_imports": ([exe, "-c", IMPORT_SET], SMALL_PAGES),
        "stock_imports": [stock, "-c", IMPORT_SET],
    }
    faults = {label: minor_faults(c) for label, c in commands.items()}
    t = wall_medians(commands, runs=runs)

    def ratio(a, b):
        return "%.2f" % (a / b) if b else "-"

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    version = subprocess.run([inbuilt, "--version"], capture_output=True,
                             text=True).stdout.strip()
    pyversion = subprocess.run([stock, "--version"], capture_output=True,
                               text=True).stdout.strip()
    print("Measured with `make bench` (`sh bench/run.sh %s`), %s:"
          % (build_dir, time.strftime("%Y-%m-%d")))
    print("%s vs stock %s (%s); %s, %d cores; LC_ALL=C.UTF-8, no PYTHON*"
          % (version, stock, pyversion, cpu, os.cpu_count() or 0))
    print("variables.  Wall times: medians of %d runs, commands alternating."
          % runs)
    print()
    print("| measure | inbuilt | stock python3.11 | inbuilt / stock |")
    print("| --- | ---: | ---: | ---: |")
    for key, what, stock_cmd in (
        ("pass", "`-c pass`", "`-I -S -c pass`"),
        ("imports", "`-c '%s'`" % IMPORT_SET, "same"),
    ):
        (it, io), (st, so) = fs[key]
        print("| fs calls naming a path, %s (stock: %s) | %d | %d | %s |"
              % (what, stock_cmd, it, st, ratio(it, st)))
        print("| fs calls outside the allow-list, %s | %d | %d | %s |"
              % (what, io, so, ratio(io, so)))
    print("| median wall time, `-c pass` (stock: `-I -S -c pass`) "
          "| %s | %s | %s |"
          % (ms(t["inb_pass"]), ms(t["stock_pass"]),
             ratio(t["inb_pass"], t["stock_pass"])))
    print("| median wall time, `-c '%s'` | %s | %s | %s |"
          % (IMPORT_SET, ms(t["inb_imports"]), ms(t["stock_imports"]),
             ratio(t["inb_imports"], t["stock_imports"])))
    print("| the same two, `INBUILT_HUGEPAGES=0` (heaps on small pages) "
          "| %s, %s | | %s, %s |"
          % (ms(t["small_pass"]), ms(t["small_imports"]),
             ratio(t["small_pass"], t["stock_pass"]),
             ratio(t["small_imports"], t["stock_imports"])))
    print("| page faults, `-c pass` (`INBUILT_HUGEPAGES=0`) | %d (%d) | %d "
          "| %s |" % (faults["inb_pass"], faults["small_pass"],
                      faults["stock_pass"],
                      ratio(faults["inb_pass"], faults["stock_pass"])))
    print("| page faults, the imports (`INBUILT_HUGEPAGES=0`) | %d (%d) | %d "
          "| %s |" % (faults["inb_imports"], faults["small_imports"],
                      faults["stock_imports"],
                      ratio(faults["inb_imports"], faults["stock_imports"])))
    print("| build time, stdlib only (`inbuilt build -o OUT`) "
          "| %.1f s | - | - |" % secs)
    print("| executable size, stdlib only | %s | - | - |" % mb(size))
    bench_files(exe, stock)
    print()
    print("Allow-list: the execve of the executable, /etc/ld.so.cache, "
          "/etc/ld.so.preload, the shared libraries it links (ldd), "
          "/proc/self/*, /etc/localtime, OpenSSL's openssl.cnf.")
    bench_numpy(build_dir, inbuilt)


# The file layer (vfs.c) on real files: each program times its own loop,
# so start-up is left out, and prints the seconds.
FILE_HEAVY = {
    "walk": ("import os, time\n"
             "t = time.perf_counter()\n"
             "n = sum(len(d) + len(f) for _, d, f in "
             "os.walk('/usr/lib/python3.11'))\n"
             "print(time.perf_counter() - t)\n"),
    "stat": ("import os, time\n"
             "d = '/usr/lib/python3.11'\n"
             "p = [os.path.join(d, n) for n in sorted(os.listdir(d))]\n"
             "p = [x for x in p if os.path.isfile(x)][:100]\n"
             "st = os.stat\n"
             "t = time.perf_counter()\n"
             "for i in range(1000):\n"
             "    for x in p:\n"
             "        st(x)\n"
             "print(time.perf_counter() - t)\n"),
}


def loop_medians(commands, runs):
    """Median of the seconds each command prints (a dict label -> argv,
    or label -> (argv, extra environment)), run alternately `runs` times
    after one warm-up each."""
    times = {label: [] for label in commands}
    order = list(commands)
    for i in range(runs + 1):
        for label in order if i % 2 == 0 else reversed(order):
            argv, env = _argv_env(commands[label])
            out = subprocess.run(argv, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, env=env,
                                 check=True).stdout
            if i > 0:
                times[label].append(float(out))
    return {label: statistics.median(t) for label, t in times.items()}


def bench_files(exe, stock, runs=21):
    """Rows for the file-heavy workloads on real files: inbuilt (and with
    the file layer off, INBUILT_VFS=0) against stock python3."""
    commands = {}
    for key, code in FILE_HEAVY.items():
        commands["inb_" + key] = [exe, "-c", code]
        commands["off_" + key] = ([exe, "-c", code], {"INBUILT_VFS": "0"})
        commands["stock_" + key] = [stock, "-c", code]
    t = loop_medians(commands, runs)
    for key, what in (("walk", "`os.walk('/usr/lib/python3.11')`"),
                      ("stat", "100k `os.stat` of 100 real files")):
        print("| in-process time, %s (`INBUILT_VFS=0`: %s) | %s | %s | %.3f |"
              % (what, ms(t["off_" + key]), ms(t["inb_" + key]),
                 ms(t["stock_" + key]), t["inb_" + key] / t["stock_" + key]))


NUMPY_READY = ("import numpy, sys; sys.stdout.write('ready\\n'); "
               "sys.stdout.flush(); sys.stdin.read()")


def holder_pss():
    """The proportional set size in bytes of this user's holders of shared
    objects (src/runtime/holder.c) that are running, summed."""
    total = 0
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if f.read().split(b"\0")[0] != b"inbuilt-so-holder":
                    continue
            if os.stat("/proc/" + d).st_uid != os.geteuid():
                continue
            with open("/proc/%s/smaps_rollup" % d) as f:
                total += sum(int(l.split()[1]) * 1024 for l in f
                             if l.startswith("Pss:"))
        except (OSError, ValueError):
            pass
    return total


def memory_per_process(argv, env=None, n=8):
    """Start n processes of argv that import numpy and wait; return their
    mean proportional set size and mean peak resident size, in bytes.  The
    PSS of a holder of shared objects, shared by them, is spread over
    them."""
    procs = [subprocess.Popen(argv + ["-c", NUMPY_READY],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=env or run_env(), text=True)
             for _ in range(n)]
    pss, hwm = [], []
    try:
        for p in procs:
            p.stdout.readline()
        for p in procs:
            with open("/proc/%d/smaps_rollup" % p.pid) as f:
                pss += [int(l.split()[1]) * 1024 for l in f
                        if l.startswith("Pss:")]
            with open("/proc/%d/status" % p.pid) as f:
                hwm += [int(l.split()[1]) * 1024 for l in f
                        if l.startswith("VmHWM:")]
        extra = holder_pss() / n
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()
    return statistics.mean(pss) + extra, statistics.mean(hwm)


# The ways of loading shared objects, as INBUILT_SO_MODE chooses them for
# one executable (its default: shared).
SO_MODES = ("shared", "memory", "cache")


def bench_numpy(build_dir, inbuilt, runs=20):
    """The numpy rows (issues 4 and 15): filesystem calls, wall time and
    memory of `import numpy` for each way of loading shared objects, and
    stock."""
    if subprocess.run([STOCK_PYTHON, "-c", "import numpy"],
                      capture_output=True).returncode != 0:
        print("(numpy rows skipped: python3-numpy is not installed)")
        return
    exe = os.path.abspath(os.path.join(build_dir, "bench", "npy"))
    secs = build(inbuilt, exe, "--include", "numpy")
    envs = {m: {"INBUILT_SO_MODE": m} for m in SO_MODES}
    envs["small"] = dict(envs["shared"], **SMALL_PAGES)
    envs["arenas"] = dict(envs["shared"], INBUILT_HUGEPAGES="arenas")
    envs["keep"] = dict(envs["shared"], INBUILT_HUGEPAGES="keep")
    for m in ("shared", "cache"):
        # The first process of a node makes the node's copies.
        subprocess.run([exe, "-c", "import numpy"], env=run_env(envs[m]),
                       check=True)
    code = ["-c", "import numpy"]
    calls = {}
    for m in SO_MODES:
        result, found = strace_paths([exe] + code, env=run_env(envs[m]))
        calls[m] = (len(found), len(outside_allow_list(found, exe)))
    calls["stock"] = count_calls([STOCK_PYTHON] + code, STOCK_PYTHON)
    commands = {m: ([exe] + code, envs[m]) for m in envs}
    commands["stock"] = [STOCK_PYTHON] + code
    t = wall_medians(commands, runs=runs)
    # More imports after numpy's: what giving back its heaps' unused pages
    # (pages.c, step 4) costs a process that goes on growing them.
    more = ["-c", "import numpy; " + IMPORT_SET.replace(",", "; import")]
    commands = {m: ([exe] + more, envs[m]) for m in ("shared", "keep")}
    commands["stock"] = [STOCK_PYTHON] + more
    t_more = wall_medians(commands, runs=runs)
    mem = {}
    for n in (8, 64):
        for m in envs:
            mem[m, n] = memory_per_process([exe], env=run_env(envs[m]), n=n)
        mem["stock", n] = memory_per_process([STOCK_PYTHON], n=n)
    cols = ("shared", "keep", "arenas", "small", "memory", "cache", "stock")
    print()
    print("`import numpy` (Debian's python3-numpy; one executable, "
          "`INBUILT_SO_MODE` choosing the mode; wall times: medians of %d "
          "runs, the node's copies made by an earlier process; memory: "
          "mean over N processes alive at once, a holder's PSS spread over "
          "them; ratio to stock's figure of the same row in brackets):"
          % runs)
    print()
    print("| measure | shared (the default) "
          "| shared, INBUILT_HUGEPAGES=keep "
          "| shared, INBUILT_HUGEPAGES=arenas | shared, INBUILT_HUGEPAGES=0 "
          "| memory | cache | stock python3.11 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("| fs calls naming a path | %d | same | same | same | %d | %d "
          "| %d |"
          % (calls["shared"][0], calls["memory"][0], calls["cache"][0],
             calls["stock"][0]))
    print("| fs calls outside the allow-list | %d | same | same | same | %d "
          "| %d | %d |"
          % (calls["shared"][1], calls["memory"][1], calls["cache"][1],
             calls["stock"][1]))
    print("| median wall time | %s |"
          % " | ".join("%s (%.2f)" % (ms(t[m]), t[m] / t["stock"])
                       for m in cols))
    print("| median wall time, numpy then the import set | %s | %s | - | - "
          "| - | - | %s |"
          % tuple("%s (%.2f)" % (ms(t_more[m]), t_more[m] / t_more["stock"])
                  for m in ("shared", "keep", "stock")))
    for n in (8, 64):
        for what, k in (("proportional set size", 0),
                        ("peak resident set size", 1)):
            print("| %s per process, N = %d | %s |"
                  % (what, n, " | ".join(
                      "%s (%.2f)" % (mb(mem[m, n][k]),
                                     mem[m, n][k] / mem["stock", n][k])
                      for m in cols)))
    print("| executable size (build time) | %s (%.1f s) | same | same "
          "| same | same | same | - |" % (mb(os.path.getsize(exe)), secs))
    print()
    print("Cache mode's calls are to the node-local cache directory "
          "(/dev/shm/inbuilt-UID or $XDG_RUNTIME_DIR/inbuilt), not the "
          "executable's filesystem.")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("demo", "bench"):
        print("usage: %s demo|bench BUILD_DIR" % argv[0], file=sys.stderr)
        return 2
    if argv[1] == "demo":
        demo(argv[2])
    else:
        bench(argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
