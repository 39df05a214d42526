"""Tests of bench/mdsfs, the FUSE filesystem that simulates one contended
metadata server.

Each test mounts a small temporary backing tree with a real mdsfs process
(env MDSFS, default build/mdsfs) in the foreground and unmounts it in a
finalizer, with `fusermount3 -u -z` or `umount -l` if the process did not.
Timings are lower bounds only: the server guarantees that N operations
through one slot take at least N * L, never that they take no longer.
Tests that need FUSE skip, saying why, where /dev/fuse cannot be opened or
mounting is not permitted.

Run with `make check-mdsfs`, or by hand:
    MDSFS=$PWD/build/mdsfs /usr/bin/python3.11 -m pytest -q tests/mdsfs
"""

import errno
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MDSFS = os.environ.get("MDSFS") or str(REPO / "build" / "mdsfs")

# Seconds to wait for a mount to appear, a signal to be answered, an exit.
PATIENCE = 10.0


def mounted():
    """The set of mountpoints listed in /proc/mounts."""
    points = set()
    with open("/proc/mounts") as f:
        for line in f:
            field = line.split()[1]
            # /proc/mounts escapes space, tab, newline and backslash in octal
            points.add(re.sub(r"\\([0-7]{3})",
                              lambda m: chr(int(m.group(1), 8)), field))
    return points


def parse_stats(text):
    """{mountpoint: {counter: int}} from the lines of a stats file."""
    out = {}
    for line in text.splitlines():
        fields = dict(f.split("=", 1) for f in line.split())
        mount = fields.pop("mount")
        out[mount] = {k: int(v) for k, v in fields.items()}
    return out


# Counters of a stats line that are not requests to the server.
NOT_REQUESTS = ("enoent", "bytes", "wait_us")


def requests(before, after):
    """Requests a mount made to the server between two snapshots of its
    counters."""
    return sum(v - before.get(k, 0) for k, v in after.items()
               if k not in NOT_REQUESTS)


def wait_until(predicate, what):
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for " + what)
        time.sleep(0.01)


def require_fuse():
    try:
        fd = os.open("/dev/fuse", os.O_RDWR)
    except OSError as e:
        pytest.skip("cannot open /dev/fuse: %s" % e.strerror)
    os.close(fd)


def force_unmount(path):
    """Unmount path by whatever means there are, ignoring failures."""
    for argv in (["fusermount3", "-u", "-z", path], ["umount", "-l", path]):
        if path not in mounted():
            return
        if shutil.which(argv[0]):
            subprocess.run(argv, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


class Mdsfs:
    """One running mdsfs process serving some mountpoints."""

    def __init__(self, proc, mountpoints, stats, stderr):
        self.proc = proc
        self.mountpoints = mountpoints
        self.stats_path = stats
        self.stderr_path = stderr

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def snapshot(self):
        """The counters, written by mdsfs on SIGUSR1."""
        self.stats_path.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR1)
        wait_until(self.stats_path.exists, "the stats file after SIGUSR1")
        return parse_stats(self.stats_path.read_text())

    def stop(self, sig=signal.SIGTERM):
        """Signal mdsfs, wait for it to exit, return its exit status."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(PATIENCE)
        except subprocess.TimeoutExpired:
            pytest.fail("mdsfs did not exit after signal %d" % sig)


@pytest.fixture
def backing(tmp_path):
    """A small backing tree: files f0..f39, a binary file, a symlink."""
    root = tmp_path / "backing"
    (root / "sub").mkdir(parents=True)
    for i in range(40):
        (root / ("f%d" % i)).write_text("file %d\n" % i)
    (root / "sub" / "data.bin").write_bytes(os.urandom(300_000))
    (root / "link").symlink_to("sub/data.bin")
    return root


@pytest.fixture
def start_mdsfs(tmp_path):
    """start(backing, nmounts, *options) -> Mdsfs, mounted and serving."""
    started = []

    def start(backing_dir, nmounts, *options):
        require_fuse()
        if not os.access(MDSFS, os.X_OK):
            pytest.fail("no mdsfs at %s: run `make check-mdsfs` or set "
                        "MDSFS" % MDSFS)
        mps = []
        for i in range(nmounts):
            mp = tmp_path / ("mnt%d" % i)
            mp.mkdir()
            mps.append(os.path.realpath(mp))
        stats = tmp_path / "stats"
        stderr = tmp_path / "mdsfs.stderr"
        with open(stderr, "wb") as err:
            proc = subprocess.Popen(
                [MDSFS, "--backing", str(backing_dir), *map(str, options),
                 "--stats", str(stats), "--foreground", *mps],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err)
        fs = Mdsfs(proc, mps, stats, stderr)
        started.append(fs)

        def ready():
            if proc.poll() is not None:
                msg = fs.stderr()
                if ("not permitted" in msg or "Permission denied" in msg
                        or "fusermount" in msg):
                    pytest.skip("cannot mount FUSE here: " + msg.strip())
                pytest.fail("mdsfs exited with %d:\n%s"
                            % (proc.returncode, msg))
            return set(mps) <= mounted()

        wait_until(ready, "mdsfs to mount " + " ".join(mps))
        return fs

    yield start
    for fs in started:
        if fs.proc.poll() is None:
            fs.proc.terminate()
            try:
                fs.proc.wait(PATIENCE)
            except subprocess.TimeoutExpired:
                fs.proc.kill()
                fs.proc.wait()
        for mp in fs.mountpoints:
            force_unmount(mp)


def stat_names(mountpoint, names):
    for name in names:
        os.stat(os.path.join(mountpoint, name))


def run_together(fn, arg_tuples):
    """Run fn(*args) for every args in its own thread, all released at
    once; return the seconds until the last one finished."""
    barrier = threading.Barrier(len(arg_tuples))

    def go(args):
        barrier.wait()
        fn(*args)

    threads = [threading.Thread(target=go, args=(args,))
               for args in arg_tuples]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0


def test_file_reads_back_identically(backing, start_mdsfs):
    fs = start_mdsfs(backing, 1, "--latency-us", 100, "--slots", 4)
    mnt = fs.mountpoints[0]
    want = (backing / "sub" / "data.bin").read_bytes()
    with open(os.path.join(mnt, "sub", "data.bin"), "rb") as f:
        assert f.read() == want
    with open(os.path.join(mnt, "link"), "rb") as f:
        assert f.read() == want
    assert os.readlink(os.path.join(mnt, "link")) == "sub/data.bin"
    assert sorted(os.listdir(mnt)) == sorted(os.listdir(backing))
    counts = fs.snapshot()[mnt]
    assert counts["bytes"] >= 2 * len(want)
    assert counts["open"] >= 2 and counts["read"] >= 1
    assert counts["readlink"] >= 1 and counts["readdir"] >= 1


def test_writes_are_refused(backing, start_mdsfs):
    fs = start_mdsfs(backing, 1, "--latency-us", 100, "--slots", 4)
    with pytest.raises(OSError) as e:
        open(os.path.join(fs.mountpoints[0], "f0"), "w")
    assert e.value.errno == errno.EROFS


def test_missing_name_is_enoent_and_counted_as_lookup(backing, start_mdsfs):
    fs = start_mdsfs(backing, 1, "--latency-us", 100, "--slots", 4)
    mnt = fs.mountpoints[0]
    before = fs.snapshot()[mnt]
    with pytest.raises(FileNotFoundError) as e:
        os.stat(os.path.join(mnt, "no-such-name"))
    assert e.value.errno == errno.ENOENT
    after = fs.snapshot()[mnt]
    assert after["lookup"] - before["lookup"] >= 1
    assert after["enoent"] - before["enoent"] >= 1


def test_each_uncached_stat_costs_the_latency(backing, start_mdsfs):
    latency_us, n = 20_000, 10
    fs = start_mdsfs(backing, 1, "--latency-us", latency_us, "--slots", 1)
    mnt = fs.mountpoints[0]
    names = ["f%d" % i for i in range(n)]
    before = fs.snapshot()[mnt]
    t0 = time.monotonic()
    stat_names(mnt, names)
    elapsed = time.monotonic() - t0
    after = fs.snapshot()[mnt]
    assert elapsed >= n * latency_us / 1e6 - 1e-6
    # Each request (a stat is a lookup and a getattr) charged once: a
    # server charging twice would take twice as long.
    assert elapsed < 1.5 * requests(before, after) * latency_us / 1e6, \
        elapsed
    assert after["lookup"] - before["lookup"] >= n


def test_two_mounts_share_one_server(backing, start_mdsfs):
    latency_us, n = 20_000, 8
    fs = start_mdsfs(backing, 2, "--latency-us", latency_us, "--slots", 1)
    a, b = fs.mountpoints
    before = fs.snapshot()

    def run(mnt, first):
        stat_names(mnt, ["f%d" % i for i in range(first, first + n)])

    elapsed = run_together(run, [(a, 0), (b, n)])
    after = fs.snapshot()
    # One slot: the 2n lookups were served one after another.
    assert elapsed >= 2 * n * latency_us / 1e6 - 1e-6
    for mnt in (a, b):
        assert after[mnt]["lookup"] - before[mnt]["lookup"] >= n


def test_slots_serve_lookups_in_parallel(backing, start_mdsfs):
    latency_us, n = 50_000, 8
    fs = start_mdsfs(backing, 2, "--latency-us", latency_us, "--slots", 2)
    a, b = fs.mountpoints

    def run(mnt, first):
        stat_names(mnt, ["f%d" % i for i in range(first, first + n)])

    before = fs.snapshot()
    elapsed = run_together(run, [(a, 0), (b, n)])
    after = fs.snapshot()
    total = sum(requests(before[m], after[m]) for m in (a, b))
    # Two slots: the two mounts' requests overlap, so the whole takes about
    # half of their sum of latencies; a server that ignored --slots (one at
    # a time) would take all of it.
    assert elapsed >= total / 2 * latency_us / 1e6 - 1e-6
    assert elapsed < 0.75 * total * latency_us / 1e6, (elapsed, total)


def test_reads_are_charged_at_the_bandwidth(backing, start_mdsfs):
    bandwidth = 1_000_000
    fs = start_mdsfs(backing, 1, "--latency-us", 0, "--slots", 1,
                     "--bandwidth", bandwidth)
    size = (backing / "sub" / "data.bin").stat().st_size
    t0 = time.monotonic()
    with open(os.path.join(fs.mountpoints[0], "sub", "data.bin"), "rb") as f:
        assert len(f.read()) == size
    elapsed = time.monotonic() - t0
    assert elapsed >= size / bandwidth - 1e-6
    assert elapsed < 2 * size / bandwidth + 0.5, elapsed


def test_stats_written_on_sigusr1_and_on_unmount(backing, start_mdsfs):
    fs = start_mdsfs(backing, 2, "--latency-us", 100, "--slots", 2)
    a, b = fs.mountpoints
    stat_names(a, ["f1", "f2", "f3"])
    snap = fs.snapshot()
    assert set(snap) == {a, b}
    assert snap[a]["lookup"] >= 3
    stat_names(b, ["f4"])
    fs.stats_path.unlink()
    assert fs.stop(signal.SIGTERM) == 0
    final = parse_stats(fs.stats_path.read_text())
    assert final[a]["lookup"] >= snap[a]["lookup"]
    assert final[b]["lookup"] >= 1


def test_signal_unmounts_everything(backing, start_mdsfs):
    fs = start_mdsfs(backing, 2, "--latency-us", 100, "--slots", 2)
    stat_names(fs.mountpoints[0], ["f0"])
    assert fs.stop(signal.SIGINT) == 0
    assert not set(fs.mountpoints) & mounted()


def test_exits_when_every_mount_is_unmounted(backing, start_mdsfs):
    if not shutil.which("fusermount3"):
        pytest.skip("no fusermount3")
    fs = start_mdsfs(backing, 2, "--latency-us", 100, "--slots", 2)
    stat_names(fs.mountpoints[1], ["f0"])
    fs.stats_path.unlink()
    for mp in fs.mountpoints:
        subprocess.run(["fusermount3", "-u", mp], check=True)
    assert fs.proc.wait(PATIENCE) == 0
    assert not set(fs.mountpoints) & mounted()
    final = parse_stats(fs.stats_path.read_text())
    assert final[fs.mountpoints[1]]["lookup"] >= 1


def run_mdsfs(*args):
    if not os.access(MDSFS, os.X_OK):
        pytest.fail("no mdsfs at %s" % MDSFS)
    return subprocess.run([MDSFS, *map(str, args)], capture_output=True,
                          text=True, timeout=PATIENCE)


def test_missing_backing_dir_is_named(tmp_path):
    (tmp_path / "mnt").mkdir()
    r = run_mdsfs("--backing", tmp_path / "nope", "--latency-us", 1,
                  "--slots", 1, tmp_path / "mnt")
    assert r.returncode == 1
    assert "backing directory %s does not exist" % (tmp_path / "nope") \
        in r.stderr


def test_unusable_mountpoints_are_named(backing, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("")
    r = run_mdsfs("--backing", backing, "--latency-us", 1, "--slots", 1,
                  full)
    assert r.returncode == 1
    assert "mountpoint %s is not empty" % full in r.stderr
    r = run_mdsfs("--backing", backing, "--latency-us", 1, "--slots", 1,
                  full / "x")
    assert r.returncode == 1
    assert "mountpoint %s is not a directory" % (full / "x") in r.stderr
    assert str(full) not in mounted()


def test_cache_flag_lets_the_kernel_keep_entries(backing, start_mdsfs):
    # Without --cache every stat of the same path asks the server again.
    fs = start_mdsfs(backing, 1, "--latency-us", 100, "--slots", 1)
    mnt = fs.mountpoints[0]
    before = fs.snapshot()[mnt]
    stat_names(mnt, ["f5"] * 5)
    after = fs.snapshot()[mnt]
    assert after["lookup"] - before["lookup"] >= 5


def test_cached_mount_asks_the_server_once(backing, start_mdsfs):
    fs = start_mdsfs(backing, 2, "--latency-us", 100, "--slots", 1,
                     "--cache=60")
    a, b = fs.mountpoints
    stat_names(a, ["f5"])
    with pytest.raises(FileNotFoundError):
        os.stat(os.path.join(a, "absent"))
    before = fs.snapshot()
    stat_names(a, ["f5"] * 5)
    for _ in range(5):
        with pytest.raises(FileNotFoundError):
            os.stat(os.path.join(a, "absent"))
    stat_names(b, ["f5"])
    after = fs.snapshot()
    # Mount a's kernel kept the entry, its attributes and the negative
    # entry; mount b (another node) has its own cache and must ask.
    for op in ("lookup", "getattr", "enoent"):
        assert after[a][op] == before[a][op], op
    assert after[b]["lookup"] - before[b]["lookup"] >= 1


def test_every_thread_has_a_timer_slack_of_1ns(backing, start_mdsfs):
    fs = start_mdsfs(backing, 2, "--latency-us", 100, "--slots", 1)
    stat_names(fs.mountpoints[0], ["f0"])
    tasks = pathlib.Path("/proc/%d/task" % fs.proc.pid)
    slacks = {}
    for task in tasks.iterdir():
        try:
            # only /proc/TID has it, not /proc/PID/task/TID
            slacks[task.name] = int(pathlib.Path(
                "/proc", task.name, "timerslack_ns").read_text())
        except FileNotFoundError:  # the thread exited meanwhile
            continue
        except PermissionError:
            pytest.skip("cannot read timerslack_ns here")
    # main and at least one worker per mount
    assert len(slacks) >= 3
    assert set(slacks.values()) == {1}


def test_reads_of_two_mounts_share_the_bandwidth(backing, start_mdsfs):
    bandwidth = 2_000_000
    fs = start_mdsfs(backing, 2, "--latency-us", 0, "--slots", 1,
                     "--bandwidth", bandwidth)
    size = (backing / "sub" / "data.bin").stat().st_size
    got = {}

    def read(mnt):
        with open(os.path.join(mnt, "sub", "data.bin"), "rb") as f:
            got[mnt] = len(f.read())

    elapsed = run_together(read, [(mnt,) for mnt in fs.mountpoints])
    assert got == {mnt: size for mnt in fs.mountpoints}
    # One server: both mounts' bytes went through it one after the other.
    assert elapsed >= 2 * size / bandwidth - 1e-6
    final = fs.snapshot()
    for mnt in fs.mountpoints:
        assert final[mnt]["bytes"] >= size


def test_reads_of_an_open_file_ask_no_metadata(backing, start_mdsfs):
    fs = start_mdsfs(backing, 1, "--latency-us", 100, "--slots", 1)
    mnt = fs.mountpoints[0]
    size = (backing / "sub" / "data.bin").stat().st_size
    with open(os.path.join(mnt, "sub", "data.bin"), "rb",
              buffering=0) as f:
        before = fs.snapshot()[mnt]
        got = 0
        while True:
            chunk = f.read(1000)
            if not chunk:
                break
            got += len(chunk)
        after = fs.snapshot()[mnt]
    assert got == size
    # 300 read(2) calls: data, not metadata (no GETATTR before each).
    for op in ("lookup", "getattr", "open"):
        assert after[op] - before[op] <= 2, op


def read_file_of(mnt):
    with open(os.path.join(mnt, "sub", "data.bin"), "rb") as f:
        return len(f.read())


@pytest.mark.parametrize("flags, refetched", [((), True),
                                              (("--data-cache",), False)])
def test_data_cache_keeps_file_data_across_opens(backing, start_mdsfs,
                                                 flags, refetched):
    fs = start_mdsfs(backing, 1, "--latency-us", 100, "--slots", 1, *flags)
    mnt = fs.mountpoints[0]
    size = read_file_of(mnt)
    first = fs.snapshot()[mnt]
    assert first["bytes"] >= size
    assert read_file_of(mnt) == size
    second = fs.snapshot()[mnt]
    # The open is metadata and reaches the server either way; the data
    # comes again only without --data-cache.
    assert second["open"] == first["open"] + 1
    assert second["lookup"] > first["lookup"]
    assert (second["bytes"] - first["bytes"] >= size) == refetched
