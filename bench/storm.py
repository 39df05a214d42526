"""Import storm: N processes `import numpy` at once from a slow shared
filesystem, stock python3.11 against an inbuilt executable.

Run by the target interpreter:

    /usr/bin/python3.11 bench/storm.py [--quick] [--csv FILE]
        [--latency-us L] [--slots K] [--n 1 8 ...] [--m 1 4 ...]
        [--setups stock inbuilt] [--build-dir build]

For every setup the environment is put in a backing directory (hard links
where possible), served by build/mdsfs (see bench/mdsfs/README.md) at M
mountpoints, one per simulated node, all sharing one metadata server of K
slots that spends L microseconds on every metadata operation, with kernel
caching off.  N processes are started back to back, spread round-robin over
the M mounts, each running `import numpy`.  Per process: wall time from just
before its fork to its exit.  Per run: the server's operations (the sum over
mounts of every counter but read/release/releasedir/forget, which cost the
server nothing), the file bytes read, the time from the first launch to the
last exit.  One mdsfs per (setup, N, M), so counters start at zero.

Setups (see bench/STORM.md for what each does and does not capture):

    stock    BACKING/usr/bin/python3.11 (a copy of Debian's binary, which
             links libpython statically), BACKING/usr/lib/python3.11 and
             BACKING/usr/lib/python3/dist-packages/numpy; run as
             MOUNT/usr/bin/python3.11 -I -c 'import numpy'.  CPython finds
             its prefix from the executable's location, so the whole
             start-up (landmark probes, encodings, site, sys.path) and the
             import run against the mount.
    inbuilt  BACKING/npy, from `inbuilt build --include numpy -o`; run as
             MOUNT/npy -c 'import numpy'.

The stock numpy's libblas/liblapack and libc are loaded by the dynamic
loader from /usr/lib and /lib on the local disk in both setups (inbuilt
embeds libblas/liblapack, so it reads them from the mount as part of npy).
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # leave no bench/__pycache__ behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402

STOCK_PYTHON = measure.STOCK_PYTHON
STDLIB = "/usr/lib/python3.11"
NUMPY = "/usr/lib/python3/dist-packages/numpy"
CODE = "import numpy"

# Counters that are server operations; read (free when --bandwidth is 0),
# release, releasedir and forget cost the server nothing.
OPS = ("lookup", "getattr", "access", "readlink", "open", "opendir",
       "readdir", "statfs")


def copy_tree(src, dst):
    """Hard-link src into dst (same filesystem), else copy it; symlinks
    are kept as they are."""
    try:
        shutil.copytree(src, dst, symlinks=True, copy_function=os.link)
    except (OSError, shutil.Error):
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)


def make_stock(backing):
    """The stock interpreter, its stdlib and numpy under backing; return
    the argv (relative to a mountpoint) that imports numpy."""
    lib = os.path.join(backing, "usr", "lib")
    os.makedirs(os.path.join(backing, "usr", "bin"))
    os.makedirs(os.path.join(lib, "python3", "dist-packages"))
    shutil.copy2(STOCK_PYTHON, os.path.join(backing, "usr", "bin"))
    copy_tree(STDLIB, os.path.join(lib, "python3.11"))
    copy_tree(NUMPY, os.path.join(lib, "python3", "dist-packages", "numpy"))
    # An absolute symlink would leave the mount: put the file it names
    # there instead (Debian: sitecustomize.py -> /etc/python3.11/...).
    for root, dirs, files in os.walk(backing):
        for name in files + dirs:
            path = os.path.join(root, name)
            if os.path.islink(path) and os.readlink(path).startswith("/"):
                target = os.path.realpath(path)
                os.unlink(path)
                if os.path.isfile(target):
                    shutil.copy2(target, path)
    return ["usr/bin/python3.11", "-I", "-c", CODE]


def make_inbuilt(backing, inbuilt, prebuilt=None):
    """The inbuilt executable with numpy under backing (built, or copied
    from prebuilt); return the argv relative to a mountpoint."""
    out = os.path.join(backing, "npy")
    if prebuilt:
        shutil.copy2(prebuilt, out)
    else:
        measure.build(inbuilt, out, "--include", "numpy")
    return ["npy", "-c", CODE]


def unmount(path):
    """Lazily unmount path if it is still mounted."""
    if is_mounted(path):
        subprocess.run(["fusermount3", "-u", "-z", path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def is_mounted(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path for line in f)


def read_stats(path):
    """Sum over mounts of the server operations and bytes in a stats
    file: (ops, bytes, wait_us)."""
    ops = nbytes = wait = 0
    with open(path) as f:
        for line in f:
            fields = dict(w.split("=", 1) for w in line.split())
            ops += sum(int(fields.get(k, 0)) for k in OPS)
            nbytes += int(fields.get("bytes", 0))
            wait += int(fields.get("wait_us", 0))
    return ops, nbytes, wait


class Server:
    """One mdsfs process serving backing at m fresh mountpoints under
    workdir.  Use as a context manager: leaving it stops mdsfs (which
    writes the stats) and lazily unmounts whatever is left."""

    def __init__(self, mdsfs, backing, workdir, m, latency, slots):
        self.mounts = []
        for i in range(m):
            path = os.path.join(workdir, "n%d" % i)
            os.makedirs(path)
            self.mounts.append(path)
        self.stats = os.path.join(workdir, "stats")
        self.argv = [mdsfs, "--backing", backing, "--latency-us",
                     str(latency), "--slots", str(slots), "--stats",
                     self.stats, "--foreground"] + self.mounts
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not all(is_mounted(p) for p in self.mounts):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("mdsfs did not mount: %s"
                                   % " ".join(self.argv))
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for p in self.mounts:
            unmount(p)
        return False

    def result(self):
        """(ops, bytes, wait_us), once mdsfs has exited."""
        return read_stats(self.stats)


def storm(mounts, rel_argv, n, timeout):
    """Start n processes of rel_argv, process i on mounts[i % len(mounts)];
    return (per-process seconds, seconds from first launch to last exit).
    Raises RuntimeError if one fails."""
    env = measure.run_env()
    times = [None] * n
    procs = []
    errs = []

    def waiter(i, p, start):
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        times[i] = time.perf_counter() - start

    threads = []
    first = time.perf_counter()
    try:
        for i in range(n):
            mount = mounts[i % len(mounts)]
            argv = [os.path.join(mount, rel_argv[0])] + rel_argv[1:]
            err = tempfile.TemporaryFile()
            errs.append(err)
            start = time.perf_counter()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err,
                                 env=env, cwd="/")
            procs.append(p)
            t = threading.Thread(target=waiter, args=(i, p, start))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        total = time.perf_counter() - first
        for p, err in zip(procs, errs):
            if p.returncode != 0:
                err.seek(0)
                raise RuntimeError("%s failed (%d): %s" % (
                    " ".join(p.args), p.returncode,
                    err.read().decode(errors="replace").strip()[-2000:]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for t in threads:
            t.join()
        for err in errs:
            err.close()
    return times, total


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=None,
                    help="where build/mdsfs and build/inbuilt are "
                    "(default: ../build next to this script)")
    ap.add_argument("--latency-us", type=int, default=200)
    ap.add_argument("--slots", type=int, default=1)
    ap.add_argument("--n", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--m", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--setups", nargs="+", default=["stock", "inbuilt"],
                    choices=["stock", "inbuilt"])
    ap.add_argument("--npy", help="use this inbuilt executable (built with "
                    "--include numpy) instead of building one")
    ap.add_argument("--csv", help="write the rows to this CSV file")
    ap.add_argument("--quick", action="store_true",
                    help="N in 1 8, M in 1 4, L=200, K=1 (< 3 minutes)")
    ap.add_argument("--workdir", default=None,
                    help="parent of the temporary directory (default: "
                    "$TMPDIR; hard links need it on the filesystem of /usr)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds before a process is killed")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.m, args.latency_us, args.slots = [1, 8], [1, 4], 200, 1
    return args


def main(argv):
    args = parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    build_dir = os.path.abspath(args.build_dir
                                or os.path.join(here, "..", "build"))
    mdsfs = os.path.join(build_dir, "mdsfs")
    inbuilt = os.path.join(build_dir, "inbuilt")
    for tool in [mdsfs] + ([inbuilt] if "inbuilt" in args.setups
                           and not args.npy else []):
        if not os.access(tool, os.X_OK):
            sys.exit("storm: %s is missing (make %s)"
                     % (tool, os.path.relpath(tool, os.path.join(here,
                                                                 ".."))))
    if not os.path.isdir(NUMPY):
        sys.exit("storm: %s is missing (apt-get install python3-numpy)"
                 % NUMPY)

    rows = []
    work = tempfile.mkdtemp(prefix="inbuilt-storm-", dir=args.workdir)
    servers = []
    # SIGTERM/SIGHUP unwind through the finally below like Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    try:
        for setup in args.setups:
            backing = os.path.join(work, setup, "backing")
            os.makedirs(backing)
            if setup == "stock":
                rel = make_stock(backing)
            else:
                rel = make_inbuilt(backing, inbuilt, args.npy)
            for m in args.m:
                for n in args.n:
                    run_dir = tempfile.mkdtemp(
                        prefix="n%d-m%d-" % (n, m),
                        dir=os.path.join(work, setup))
                    server = Server(mdsfs, backing, run_dir, m,
                                    args.latency_us, args.slots)
                    servers.append(server)
                    with server:
                        times, total = storm(server.mounts, rel, n,
                                             args.timeout)
                    ops, nbytes, wait = server.result()
                    row = {"setup": setup, "N": n, "M": m,
                           "L": args.latency_us, "K": args.slots,
                           "median_s": statistics.median(times),
                           "max_s": max(times), "total_s": total,
                           "server_ops": ops, "bytes": nbytes,
                           "wait_s": wait / 1e6}
                    rows.append(row)
                    print("storm: %-7s N=%-3d M=%-3d median %.3f s, "
                          "max %.3f s, %d ops, %.1f MB" % (
                              setup, n, m, row["median_s"], row["max_s"],
                              ops, nbytes / 1e6),
                          file=sys.stderr, flush=True)
    finally:
        for server in servers:
            server.__exit__(None, None, None)
        left = [p for s in servers for p in s.mounts if is_mounted(p)]
        if left:
            print("storm: still mounted: %s" % " ".join(left),
                  file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    cols = ["setup", "N", "M", "L", "K", "median_s", "max_s", "server_ops",
            "bytes", "total_s", "wait_s"]
    if args.csv:
        tmp = args.csv + ".tmp"
        with open(tmp, "w") as f:
            f.write(",".join(cols) + "\n")
            for r in rows:
                f.write(",".join(
                    "%.4f" % r[c] if isinstance(r[c], float) else str(r[c])
                    for c in cols) + "\n")
        os.replace(tmp, args.csv)
    print_table(rows, args)
    return 0


def print_table(rows, args):
    print("Import storm: `import numpy`, N processes over M mounts of one "
          "mdsfs server, L=%d us, K=%d, caches off." % (args.latency_us,
                                                        args.slots))
    print()
    print("| setup | N | M | median s | max s | total s | server ops "
          "| ops/process | MB read | queued s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: |")
    for r in rows:
        print("| %s | %d | %d | %.3f | %.3f | %.3f | %d | %d | %.1f | %.1f |"
              % (r["setup"], r["N"], r["M"], r["median_s"], r["max_s"],
                 r["total_s"], r["server_ops"], r["server_ops"] // r["N"],
                 r["bytes"] / 1e6, r["wait_s"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
