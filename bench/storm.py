"""Import storm: N processes start Python at once from a slow shared
filesystem, inbuilt against what HPC users do today.

Run by the target interpreter:

    /usr/bin/python3.11 bench/storm.py [--quick | --full] [--csv FILE]
        [--latency-us L] [--slots K] [--bandwidth B] [--n 1 8 ...]
        [--m 1 4 ...] [--setups stock tuned ...] [--workloads numpy stdlib]
        [--launchers fork mpirun] [--npy FILE] [--build-dir build]

For every setup (storm_setups.py) the environment is put in a backing
directory, served by build/mdsfs (see bench/mdsfs/README.md) at M
mountpoints, one per simulated node, all sharing one metadata server of K
slots that spends L microseconds on every metadata operation, with kernel
caching of entries and attributes off, and file data kept in each node's
page cache from one open to the next while the file is unchanged, as a
parallel filesystem client keeps it (--no-data-cache drops it at every
open, so each process reads every file through the server again); the
-local setups run from the backing directory itself, with
no server, to show the CPU cost alone.  N processes are started at once,
spread over the M mounts, each running one workload:

    numpy   `import numpy`
    stdlib  `import json, decimal, email.mime.text, asyncio`

Launchers: `fork` starts them back to back with subprocess.Popen, process i
on mount i mod M, and times each from just before its fork to its exit;
`mpirun` runs one `mpirun --oversubscribe` with one application context per
mount (ranks in blocks), and times each from mpirun's start to the moment
the process wrote its end time, the last thing its code does.

Per run, one fresh mdsfs, so counters start at zero: median and max of the
per-process times, total (first launch to last exit), server operations
(the sum over mounts of every counter but read/release/releasedir/forget,
which cost the server nothing unless --bandwidth is set), bytes read, time
queued for the server, and the model's prediction, server ops x L / K (ops
per node x M x L / K), with the ratio of the measured total to it.  See
bench/STORM.md.
"""

import argparse
import os
import resource
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
import storm_memory  # noqa: E402
import storm_setups  # noqa: E402
from storm_setups import is_mounted  # noqa: E402

WORKLOADS = {"numpy": "import numpy", "stdlib": measure.IMPORT_SET}

# Counters that are server operations; read (free when --bandwidth is 0),
# release, releasedir and forget cost the server nothing.
OPS = ("lookup", "getattr", "access", "readlink", "open", "opendir",
       "readdir", "statfs")

COLUMNS = ["workload", "launcher", "setup", "N", "M", "L", "K", "B",
           "cache", "data_cache", "median_s", "max_s", "total_s", "server_ops",
           "ops_per_proc", "bytes", "wait_s", "model_s", "ratio", "prep_s",
           "node_bytes", "cpu_s", "node_read", "mem_node", "mem_pss",
           "mem_holder_pss", "mem_shm", "holders", "load0", "load"]


def unmount(path):
    """Lazily unmount path if it is still mounted."""
    if is_mounted(path):
        subprocess.run(["fusermount3", "-u", "-z", path],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_stats(path):
    """Sum over mounts of the server operations and bytes in a stats
    file, and the most bytes one mount read: (ops, bytes, wait_us,
    node_bytes)."""
    ops = nbytes = wait = most = 0
    with open(path) as f:
        for line in f:
            fields = dict(w.split("=", 1) for w in line.split())
            ops += sum(int(fields.get(k, 0)) for k in OPS)
            nbytes += int(fields.get("bytes", 0))
            most = max(most, int(fields.get("bytes", 0)))
            wait += int(fields.get("wait_us", 0))
    return ops, nbytes, wait, most


class Server:
    """One mdsfs process serving backing at m fresh mountpoints under
    workdir.  Use as a context manager: leaving it stops mdsfs (which
    writes the stats) and lazily unmounts whatever is left."""

    def __init__(self, mdsfs, backing, workdir, m, args):
        self.mounts = []
        for i in range(m):
            path = os.path.join(workdir, "n%d" % i)
            os.makedirs(path)
            self.mounts.append(path)
        self.stats = os.path.join(workdir, "stats")
        self.argv = [mdsfs, "--backing", backing, "--latency-us",
                     str(args.latency_us), "--slots", str(args.slots),
                     "--bandwidth", str(args.bandwidth), "--stats",
                     self.stats, "--foreground"] + (
                         ["--cache=%g" % args.cache] if args.cache else []
                     ) + (["--data-cache"] if args.data_cache else []
                          ) + self.mounts
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
        """(ops, bytes, wait_us, node_bytes), once mdsfs has exited."""
        return read_stats(self.stats)


class Local:
    """Stand-in for Server for the -local setups: M 'mounts' that are all
    the backing directory, no counters."""

    def __init__(self, backing, m):
        self.mounts = [backing] * m

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def result(self):
        return 0, 0, 0, 0


def fail(argv, code, err):
    raise RuntimeError("%s failed (%s): %s" % (
        " ".join(argv)[:300], code,
        err.decode(errors="replace").strip()[-2000:]))


class Launch:
    """What a launcher needs besides the setup: the mounts, the code, N,
    the timeout, the node namespaces (storm_memory) and, with --memory,
    the directory the processes write their end marks to."""

    def __init__(self, mounts, code, n, timeout, netns, ends=None):
        self.mounts = mounts
        self.code = code + (END_MARK % (ends + "/", STOP) if ends else "")
        self.n = n
        self.timeout = timeout
        self.netns = netns
        self.ends = ends
        self.stop = bool(ends)  # processes stop at their end marks
        self.memory = None  # storm_memory.node_memory's answer, if measured

    def argv(self, setup, node):
        return self.netns.wrap(node, setup.argv(self.mounts[node], node,
                                                self.code))


def storm_fork(setup, launch):
    """Start n processes, process i on mounts[i % M], back to back; return
    (per-process seconds, first launch to last exit), or with end marks
    (--memory) to the last mark."""
    n, timeout = launch.n, launch.timeout
    times = [None] * n
    starts = [None] * n
    procs, errs, threads = [], [], []

    def waiter(i, p, start):
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        times[i] = time.perf_counter() - start

    if launch.ends:
        os.makedirs(launch.ends)
    first = time.perf_counter()
    try:
        for i in range(n):
            node = i % len(launch.mounts)
            argv = launch.argv(setup, node)
            env = measure.run_env(dict(setup.env, STORM_RANK=str(i)))
            err = tempfile.TemporaryFile()
            errs.append(err)
            starts[i] = start = time.perf_counter()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=err,
                                 env=env, cwd="/")
            procs.append(p)
            t = threading.Thread(target=waiter, args=(i, p, start))
            t.start()
            threads.append(t)
        if launch.ends:
            try:
                marks = wait_marks(launch, lambda: any(
                    p.poll() is not None for p in procs))
            except RuntimeError:
                for p, err in zip(procs, errs):
                    if p.poll() not in (None, 0):
                        err.seek(0)
                        fail(p.args, p.returncode, err.read())
                raise
            marked = [marks[i][0] - starts[i] for i in range(n)]
            total = max(t for t, _ in marks.values()) - first
            measure_nodes(launch, marks,
                          lambda i: i % len(launch.mounts))
        for t in threads:
            t.join()
        if launch.ends:
            times = marked  # the waiters' exit times are not the end
        else:
            total = time.perf_counter() - first
        for p, err in zip(procs, errs):
            if p.returncode != 0:
                err.seek(0)
                fail(p.args, p.returncode, err.read())
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


# Appended to the code of mpirun's processes (and of all with --memory):
# write "time.monotonic() pid" (the clock of time.perf_counter here) to
# DIR/RANK, RANK from STORM_RANK (fork) or Open MPI's rank.  os is frozen,
# time and _signal built in: this costs no filesystem call but the file's
# own.  With --memory the process then stops itself until storm.py has
# read its memory (STOP).
END_MARK = ("\nimport os as _o, time as _t\n"
            "_f = _o.open(%r + (_o.environ.get('STORM_RANK') or "
            "_o.environ['OMPI_COMM_WORLD_RANK']), "
            "_o.O_WRONLY | _o.O_CREAT | _o.O_TRUNC, 0o644)\n"
            "_o.write(_f, ('%%r %%d' %% (_t.monotonic(), _o.getpid()))"
            ".encode())\n"
            "_o.close(_f)\n%s")
STOP = "import _signal as _s\n_o.kill(_o.getpid(), _s.SIGSTOP)\n"


def read_marks(ends, n):
    """{rank: (monotonic seconds, pid)} of the end marks written so far."""
    marks = {}
    for rank in range(n):
        try:
            with open(os.path.join(ends, str(rank))) as f:
                t, pid = f.read().split()
            marks[rank] = (float(t), int(pid))
        except (OSError, ValueError):
            pass
    return marks


def state(pid):
    """The state letter of process pid (/proc/PID/stat), or None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def stopped(pid):
    """Whether process pid is stopped (or gone)."""
    return state(pid) in ("T", "t", None)


def wait_marks(launch, ended):
    """Wait until all n processes wrote their end marks and stopped
    themselves; return the marks.  Fails if ended() says a process
    exited first, or after the timeout."""
    deadline = time.monotonic() + launch.timeout
    while True:
        marks = read_marks(launch.ends, launch.n)
        if len(marks) == launch.n and all(
                stopped(pid) for _, pid in marks.values()):
            return marks
        if ended():
            raise RuntimeError("a process exited before its end mark "
                               "(%d of %d written)" % (len(marks), launch.n))
        if time.monotonic() > deadline:
            raise RuntimeError("timeout: %d of %d end marks"
                               % (len(marks), launch.n))
        time.sleep(0.05)


def measure_nodes(launch, marks, node_of):
    """Read the stopped processes' memory per node, then let them go on."""
    by_node = {}
    for rank, (_, pid) in marks.items():
        by_node.setdefault(node_of(rank), []).append(pid)
    try:
        launch.memory = storm_memory.node_memory(by_node)
    finally:
        for _, pid in marks.values():
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass


def kill_stopped(pid):
    """SIGKILL pid if it is stopped (a rank of a failed run waiting for
    its SIGCONT); a pid that ran on may be another process's by now."""
    if state(pid) == "T":
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def mpirun_argv():
    """mpirun and its options (which let root run it)."""
    return ["mpirun", "--oversubscribe", "--bind-to", "none"]


def mpirun_nodes(n, m):
    """The node of each rank: mpirun runs node k's block of ranks."""
    nodes = []
    for node in range(min(n, m)):
        nodes += [node] * (n // m + (node < n % m))
    return nodes


def storm_mpirun(setup, launch, scratch):
    """One mpirun of n processes, mount m running the m-th block of ranks;
    return (per-process seconds, mpirun's start to its exit, or to the
    last end mark with --memory)."""
    n = launch.n
    if not launch.ends:
        launch.ends = os.path.join(scratch, "ends")
        launch.code += END_MARK % (launch.ends + "/", "")
    os.makedirs(launch.ends, exist_ok=True)
    argv = mpirun_argv()
    nodes = mpirun_nodes(n, len(launch.mounts))
    for node in range(min(n, len(launch.mounts))):
        argv += ([":"] if node else []) + ["-np", str(nodes.count(node))] \
            + launch.argv(setup, node)
    env = measure.run_env(dict(setup.env, OMPI_ALLOW_RUN_AS_ROOT="1",
                               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1"))
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err,
                             env=env, cwd="/")
        total = None
        try:
            if launch.stop:
                marks = wait_marks(launch, lambda: p.poll() is not None)
                total = max(t for t, _ in marks.values()) - start
                measure_nodes(launch, marks, lambda r: nodes[r])
            p.wait(timeout=launch.timeout)
        except BaseException as e:
            # stopped ranks would wait for ever: end them, and mpirun
            for _, pid in read_marks(launch.ends, n).values():
                kill_stopped(pid)
            if p.poll() is None:
                p.kill()
                p.wait()
            if isinstance(e, subprocess.TimeoutExpired):
                fail(argv, "timeout", b"")
            if isinstance(e, RuntimeError):
                err.seek(0)
                fail(argv, e, err.read())
            raise
        if total is None:
            total = time.perf_counter() - start
        if p.returncode != 0:
            err.seek(0)
            fail(argv, p.returncode, err.read())
    marks = read_marks(launch.ends, n)
    if len(marks) != n:
        fail(argv, "%d of %d ranks wrote an end time" % (len(marks), n),
             b"")
    return [marks[r][0] - start for r in range(n)], total


def run_one(args, ctx, setup, backing, workload, launcher, n, m, servers):
    """One storm; returns its row."""
    run_dir = tempfile.mkdtemp(prefix="%s-%s-n%d-m%d-" % (
        workload, launcher, n, m), dir=os.path.join(ctx.work, setup.name))
    node_dir = tempfile.mkdtemp(prefix="storm-", dir=ctx.shm)
    if setup.slow:
        server = Server(ctx.mdsfs, backing, run_dir, m, args)
    else:
        server = Local(backing, m)
    servers.append(server)
    setup.start_run(node_dir)
    netns = (storm_memory.NodeNamespaces(
        "inbuilt-storm-%d-%d" % (os.getpid(), len(servers)), m)
        if args.node_netns else storm_memory.NoNamespaces())
    ends = os.path.join(run_dir, "ends") if args.memory else None
    load0 = os.getloadavg()[0]
    with server, netns:
        launch = Launch(server.mounts, WORKLOADS[workload], n, args.timeout,
                        netns, ends)
        # CPU time of every process of the storm (they, and mpirun, are
        # waited for before storm_* return; the servers are not yet).
        cpu0 = children_cpu()
        try:
            if launcher == "fork":
                times, total = storm_fork(setup, launch)
            else:
                times, total = storm_mpirun(setup, launch, run_dir)
        finally:
            extra = setup.finish_run()
            shutil.rmtree(node_dir, ignore_errors=True)
        cpu = children_cpu() - cpu0
    ops, nbytes, wait, node_read = server.result()
    mem = launch.memory or {}

    def node_mean(key):
        return statistics.mean(v[key] for v in mem.values()) if mem else 0
    model = ops * args.latency_us / args.slots / 1e6
    return {"workload": workload, "launcher": launcher,
            "setup": setup.name, "N": n, "M": m, "L": args.latency_us,
            "K": args.slots, "B": args.bandwidth, "cache": args.cache,
            "data_cache": int(args.data_cache),
            "median_s": statistics.median(times), "max_s": max(times),
            "total_s": total, "server_ops": ops, "ops_per_proc": ops // n,
            "bytes": nbytes, "wait_s": wait / 1e6, "model_s": model,
            "ratio": total / model if model else 0.0,
            "prep_s": extra.get("prep_s", 0.0),
            "node_bytes": extra.get("node_bytes", 0), "cpu_s": cpu,
            "node_read": node_read, "mem_node": node_mean("node_bytes"),
            "mem_pss": node_mean("pss"),
            "mem_holder_pss": node_mean("holder_pss"),
            "mem_shm": node_mean("shm_bytes"),
            "holders": sum(v["holders"] for v in mem.values()),
            # the machine's 1-minute load average before the run and as it
            # ended (the run's own N processes count in the latter)
            "load0": load0, "load": os.getloadavg()[0]}


def children_cpu():
    """User plus system seconds of the waited-for descendants so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=None,
                    help="where build/mdsfs and build/inbuilt are "
                    "(default: ../build next to this script)")
    ap.add_argument("--latency-us", type=int, default=200)
    ap.add_argument("--slots", type=int, default=1)
    ap.add_argument("--bandwidth", type=int, default=0,
                    help="mdsfs --bandwidth: server bytes/s for file "
                    "reads (default 0: reads are free)")
    ap.add_argument("--no-data-cache", dest="data_cache",
                    action="store_false",
                    help="mdsfs without --data-cache: every open drops the "
                    "node's cached file data (default: kept, metadata "
                    "still uncached)")
    ap.add_argument("--cache", type=float, default=0,
                    help="mdsfs --cache=SECONDS: each node's kernel keeps "
                    "entries, attributes and data (default 0: caches off)")
    ap.add_argument("--n", type=int, nargs="+", default=[1, 8, 32, 64])
    ap.add_argument("--m", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--setups", nargs="+", default=list(storm_setups.DEFAULT),
                    choices=list(storm_setups.SETUPS))
    ap.add_argument("--workloads", nargs="+", default=list(WORKLOADS),
                    choices=list(WORKLOADS))
    ap.add_argument("--launchers", nargs="+", default=["fork", "mpirun"],
                    choices=["fork", "mpirun"])
    ap.add_argument("--npy", help="use this inbuilt executable (built with "
                    "--include numpy) instead of building one")
    ap.add_argument("--csv", help="write the rows to this CSV file")
    ap.add_argument("--quick", action="store_true",
                    help="numpy only, N in 1 8, M=4, both launchers "
                    "(about 2 minutes)")
    ap.add_argument("--workdir", default=None,
                    help="parent of the temporary directory (default: "
                    "$TMPDIR; hard links need it on the filesystem of /usr)")
    ap.add_argument("--shm", default="/dev/shm",
                    help="node-local memory for squashfs mounts and bcast "
                    "copies (default /dev/shm)")
    ap.add_argument("--memory", action="store_true",
                    help="per-node memory: every process stops after its "
                    "workload until its memory is read; times end there "
                    "(bench/storm_memory.py)")
    ap.add_argument("--node-netns", action="store_true",
                    help="one network namespace per simulated node, so "
                    "each has its own holder of shared objects (root)")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds before a run is killed")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.m, args.workloads = [1, 8], [4], ["numpy"]
    return args


class StormContext:
    """What the setups and runs share."""

    def __init__(self, args, build_dir, work):
        self.mdsfs = os.path.join(build_dir, "mdsfs")
        self.inbuilt = os.path.join(build_dir, "inbuilt")
        self.npy = os.path.abspath(args.npy) if args.npy else None
        self.work = work
        self.shm = args.shm


def check_tools(args, ctx, here):
    need = [ctx.mdsfs]
    if any(s.startswith("inbuilt") for s in args.setups) and not ctx.npy:
        need.append(ctx.inbuilt)
    for tool in need:
        if not os.access(tool, os.X_OK):
            sys.exit("storm: %s is missing (make %s)" % (
                tool, os.path.relpath(tool, os.path.join(here, ".."))))
    if not os.path.isdir(storm_setups.NUMPY):
        sys.exit("storm: %s is missing (apt-get install python3-numpy)"
                 % storm_setups.NUMPY)
    progs = {"squashfs": ["mksquashfs", "squashfuse", "flock"],
             "bcast": ["tar", "flock"]}
    for setup, tools in progs.items():
        for tool in tools if setup in args.setups else []:
            if shutil.which(tool) is None:
                sys.exit("storm: the %s setup needs %s (make deps)"
                         % (setup, tool))
    if "mpirun" in args.launchers and shutil.which("mpirun") is None:
        sys.exit("storm: the mpirun launcher needs mpirun (make deps)")
    for tool in ("ip", "nsenter") if args.node_netns else ():
        if shutil.which(tool) is None:
            sys.exit("storm: --node-netns needs %s (iproute2, util-linux)"
                     % tool)


def main(argv):
    args = parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    build_dir = os.path.abspath(args.build_dir
                                or os.path.join(here, "..", "build"))
    work = tempfile.mkdtemp(prefix="inbuilt-storm-", dir=args.workdir)
    ctx = StormContext(args, build_dir, work)
    rows = []
    servers = []
    # SIGTERM/SIGHUP unwind through the finally below like Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    started = time.perf_counter()
    try:
        check_tools(args, ctx, here)
        for name in args.setups:
            setup = storm_setups.SETUPS[name]()
            backing = os.path.join(work, name, "backing")
            os.makedirs(backing)
            t0 = time.perf_counter()
            setup.prepare(backing, ctx)
            print("storm: %s prepared in %.1f s" % (
                name, time.perf_counter() - t0), file=sys.stderr, flush=True)
            for workload in args.workloads:
                for launcher in args.launchers:
                    for m in args.m:
                        for n in args.n:
                            row = run_one(args, ctx, setup, backing,
                                          workload, launcher, n, m, servers)
                            rows.append(row)
                            progress(row)
                            if args.csv:  # a failure later keeps these
                                write_csv(args.csv, rows)
            shutil.rmtree(backing, ignore_errors=True)
    finally:
        for server in servers:
            server.__exit__(None, None, None)
        left = [p for s in servers if isinstance(s, Server)
                for p in s.mounts if is_mounted(p)]
        if left:
            print("storm: still mounted: %s" % " ".join(left),
                  file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows, args)
    if args.memory:
        print_memory(rows)
    print_targets(rows)
    print("\nstorm: %d runs in %.0f s" % (len(rows),
                                          time.perf_counter() - started))
    return 0


def progress(r):
    print("storm: %-6s %-6s %-13s N=%-3d M=%d median %.3f s, max %.3f s, "
          "%d ops, %.1f MB, load %.1f" % (
              r["workload"], r["launcher"], r["setup"], r["N"], r["M"],
              r["median_s"], r["max_s"], r["server_ops"], r["bytes"] / 1e6,
              r["load"]),
          file=sys.stderr, flush=True)


def write_csv(path, rows):
    """rows to path, through a temporary file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(
                "%.4f" % r[c] if isinstance(r[c], float) else str(r[c])
                for c in COLUMNS) + "\n")
    os.replace(tmp, path)


def print_table(rows, args):
    print("Import storm: N processes over M mounts of one mdsfs server, "
          "L=%d us, K=%d, B=%s, %s." % (
              args.latency_us, args.slots,
              "%d B/s" % args.bandwidth if args.bandwidth else "free",
              "kernel caches kept %g s" % args.cache if args.cache
              else "metadata caches off, file data kept per node"
              if args.data_cache else "caches off"))
    print()
    print("| workload | launcher | setup | N | M | median s | max s "
          "| total s | server ops | ops/process | MB read | queued s "
          "| model s | total/model | node prep s | node MB | CPU s |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print("| %s | %s | %s | %d | %d | %.3f | %.3f | %.3f | %d | %d "
              "| %.1f | %.1f | %.3f | %s | %s | %s | %.1f |" % (
                  r["workload"], r["launcher"], r["setup"], r["N"], r["M"],
                  r["median_s"], r["max_s"], r["total_s"], r["server_ops"],
                  r["ops_per_proc"], r["bytes"] / 1e6, r["wait_s"],
                  r["model_s"], "%.2f" % r["ratio"] if r["model_s"] else "-",
                  "%.2f" % r["prep_s"] if r["prep_s"] else "-",
                  "%.0f" % (r["node_bytes"] / 1e6) if r["node_bytes"]
                  else "-", r["cpu_s"]))


def print_memory(rows):
    """Per-node memory (--memory), means over the M nodes, in MB."""
    print()
    print("Per node (means over the M nodes; storm_memory.py): node MB = "
          "sum of PSS outside memory files over the node's processes and "
          "holder, plus its distinct memory files (memfd, /dev/shm) whole.")
    print()
    print("| workload | launcher | setup | N | M | processes per node "
          "| load before, after | total s | cores used "
          "| CPU s per process | ops/process | MB read per node "
          "| sum of PSS MB | holder PSS MB | memory files MB | node MB "
          "| node MB per process |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        per = r["N"] / r["M"]
        print("| %s | %s | %s | %d | %d | %g | %.1f, %.1f | %.3f | %.2f "
              "| %.3f | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
                  r["workload"], r["launcher"], r["setup"], r["N"], r["M"],
                  per, r["load0"], r["load"], r["total_s"],
                  r["cpu_s"] / r["total_s"], r["cpu_s"] / r["N"],
                  r["ops_per_proc"],
                  r["node_read"] / 1e6, r["mem_pss"] / 1e6,
                  r["mem_holder_pss"] / 1e6, r["mem_shm"] / 1e6,
                  r["mem_node"] / 1e6, r["mem_node"] / per / 1e6))


def print_targets(rows):
    """Issue 6's ratios, for every (workload, launcher) at the largest N
    with M=4 that this run has."""
    groups = {}
    for r in rows:
        if r["M"] == 4:
            groups.setdefault((r["workload"], r["launcher"]), []).append(r)
    for (workload, launcher), rs in groups.items():
        n = max(r["N"] for r in rs)
        by = {r["setup"]: r for r in rs if r["N"] == n}
        if "inbuilt" not in by:
            continue
        inb = by["inbuilt"]["median_s"]
        print()
        print("Targets, %s, %s, N=%d, M=4 (median times):" % (
            workload, launcher, n))
        if "stock" in by:
            print("- stock / inbuilt = %.1f (target >= 50)"
                  % (by["stock"]["median_s"] / inb))
        others = [s for s in storm_setups.ALTERNATIVES
                  if s in by and s != "stock"]
        if others:
            best = min(others, key=lambda s: by[s]["median_s"])
            print("- best other (%s) / inbuilt = %.1f (target >= 5)"
                  % (best, by[best]["median_s"] / inb))
        print("- server ops per inbuilt process = %d (target <= 5)"
              % by["inbuilt"]["ops_per_proc"])
        cores = os.cpu_count() or 1
        floor = by["inbuilt"].get("cpu_s", 0.0) / cores
        if floor > 0:
            # The N processes need this much CPU; with this many cores no
            # run of them can end sooner, whatever the filesystem.
            print("- CPU floor: inbuilt's %d processes used %.1f CPU s, "
                  "%.2f s on %d cores, so they cannot all have ended "
                  "sooner; inbuilt's total (first launch to last exit) "
                  "%.2f s = %.2f x the floor%s" % (
                      n, by["inbuilt"]["cpu_s"], floor, cores,
                      by["inbuilt"]["total_s"],
                      by["inbuilt"]["total_s"] / floor,
                      "; stock's total / floor = %.1f, the most stock / "
                      "inbuilt totals can be on this machine"
                      % (by["stock"]["total_s"] / floor)
                      if "stock" in by else ""))
        one = [r for r in rs if r["N"] == min(x["N"] for x in rs)]
        base = {r["setup"]: r["median_s"] for r in one}
        if "inbuilt" in base and "inbuilt-local" in base \
                and "inbuilt-local" in by:
            loc = by["inbuilt-local"]["median_s"]
            print("- inbuilt growth N=%d->%d: %.3f -> %.3f s (%.1fx) on the "
                  "slow fs, %.3f -> %.3f s (%.1fx) from the local disk "
                  "(CPU alone); the slow fs adds %.3f s at N=%d" % (
                      one[0]["N"], n, base["inbuilt"], inb,
                      inb / base["inbuilt"], base["inbuilt-local"], loc,
                      loc / base["inbuilt-local"], inb - loc, n))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
