"""Shared objects shared by the processes of a node (--so-mode shared, the
default; src/runtime/shareso.c and holder.c): one sealed memory file per
image per user per node, handed out by a holder process that exits when
idle.

Every test runs in a node of its own (helpers.Node: a network namespace,
where holders start cold), which needs root, as do the tests that run a
process as another user (nobody).  A process's memory files are read from
its /proc/self/maps: one inode across processes is one copy in memory.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from helpers import PYTHON_TARGET, REPO, describe, inbuilt, run_ok

SRC = REPO / "tests" / "fixtures" / "ext"
NOMEMFD = os.environ.get("NOMEMFD") or str(REPO / "build" / "tests" /
                                           "nomemfd")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

# memfds(): {memory file name: inode} of what this process maps.
MEMFDS = (
    "import json, sys\n"
    "def memfds():\n"
    "    out = {}\n"
    "    for line in open('/proc/self/maps'):\n"
    "        f = line.split()\n"
    "        if len(f) > 5 and f[5].startswith('/memfd:'):\n"
    "            out[f[5][len('/memfd:'):]] = int(f[4])\n"
    "    return out\n"
)
BZ2 = MEMFDS + "import _bz2, _decimal\nprint(json.dumps(memfds()))\n"
# The same, then waits for its stdin to close.
BZ2_WAIT = BZ2 + "sys.stdout.flush()\nsys.stdin.read()\n"


def memfds(node, exe, code=BZ2, **kwargs):
    """The memory files that exe running code in node maps."""
    return json.loads(node.run_ok([exe, "-c", code], **kwargs))


def bz2_of(files):
    """The inode of _bz2's memory file among files."""
    [ino] = [v for k, v in files.items() if k.startswith("_bz2.")]
    return ino


@pytest.fixture(scope="module")
def public_exe(stdlib_exe):
    """stdlib_exe in a directory that user nobody can reach."""
    d = tempfile.mkdtemp(prefix="inbuilt-shared-")
    os.chmod(d, 0o755)
    exe = os.path.join(d, "python")
    shutil.copy(stdlib_exe, exe)
    os.chmod(exe, 0o755)
    yield exe
    shutil.rmtree(d)


def test_processes_of_a_node_map_one_memory_file_per_image(stdlib_exe,
                                                           node):
    a = memfds(node, stdlib_exe)
    b = memfds(node, stdlib_exe)
    assert any(k.startswith("_decimal.") for k in a), a
    assert "libbz2.so.1.0" in a, a
    assert a == b
    assert len(node.holders()) == 1
    # Control: memory mode makes each process its own copies.
    c = memfds(node, stdlib_exe, env=node.env(INBUILT_SO_MODE="memory"))
    assert set(c) == set(a) and not set(c.values()) & set(a.values())


def test_holder_keeps_no_pipe_and_no_directory(stdlib_exe, node):
    # If the holder kept the job's stdout or stderr, run() would wait for
    # its 300 idle seconds and time out after 60.
    out = node.run_ok([stdlib_exe, "-c", "import _bz2; print('ok')"],
                      env=node.env(INBUILT_SO_HOLDER_IDLE=300))
    assert out == "ok\n"
    [pid] = node.holders()
    assert os.readlink("/proc/%d/cwd" % pid) == "/"
    fds = [os.readlink("/proc/%d/fd/%s" % (pid, fd))
           for fd in os.listdir("/proc/%d/fd" % pid)]
    assert all(f.startswith(("socket:", "/memfd:")) for f in fds), fds
    assert any(f.startswith("/memfd:_bz2.") for f in fds), fds
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read().rsplit(")", 1)[1].split()
    assert int(stat[3]) == pid  # a session of its own (setsid)
    assert int(stat[1]) != os.getpid()  # not a child of the job


def test_holder_exits_when_idle(stdlib_exe, node):
    p = node.popen([stdlib_exe, "-c", BZ2_WAIT],
                   env=node.env(INBUILT_SO_HOLDER_IDLE=1))
    assert p.stdout.readline()
    assert len(node.holders()) == 1  # a process is connected
    p.communicate(timeout=60)
    for _ in range(300):
        if not node.holders():
            break
        subprocess.run(["sleep", "0.1"])
    assert node.holders() == []


def test_a_stopped_holder_costs_a_short_wait(stdlib_exe, node):
    # A holder that stops answering (SIGSTOP, a debugger, a hang) leaves
    # each process's request unread: the process goes on with private
    # copies after SHARESO_TAKE_MS (1 s), not after SHARESO_TIMEOUT
    # (10 s, a maker's time to copy an image).
    first = node.popen([stdlib_exe, "-c", BZ2_WAIT])
    shared = json.loads(first.stdout.readline())
    [pid] = node.holders()
    os.kill(pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        private = memfds(node, stdlib_exe)
        stopped = time.monotonic() - start
    finally:
        os.kill(pid, signal.SIGCONT)
    start = time.monotonic()
    again = memfds(node, stdlib_exe)
    running = time.monotonic() - start
    first.stdin.close()
    first.wait(timeout=60)
    # Private copies while the holder was stopped, the node's once it runs.
    assert set(private) == set(shared)
    assert not set(private.values()) & set(shared.values())
    assert again == shared
    # Generous: one holder wait at most, and nowhere near 10 s.
    assert stopped < running + 3, (stopped, running)


def test_64_processes_on_a_cold_node_make_one_copy(tmp_path_factory, node):
    out = tmp_path_factory.mktemp("shared-numpy") / "npy"
    r = inbuilt("build", "--include", "numpy", "-o", out)
    assert r.returncode == 0, describe(r)
    work = ("import numpy as np\n"
            "a = np.array([[4.0, 7.0], [2.0, 6.0]])\n"
            "v = repr(np.linalg.inv(a).round(6).tolist())\n")
    stock = run_ok([PYTHON_TARGET, "-c", work + "print(v)"]).strip()
    code = MEMFDS + work + (
        "print(json.dumps([v, memfds()]))\n"
        "sys.stdout.flush()\n"
        "sys.stdin.read()\n")
    procs = [node.popen([out, "-c", code]) for _ in range(64)]
    try:
        answers = [json.loads(p.stdout.readline() or "null") for p in procs]
        assert None not in answers, procs[answers.index(None)].stderr.read()
        # All alive at once: how much of the memory files' pages each one
        # has to itself (Pss) against what it maps (Rss).
        rss = pss = 0
        with open("/proc/%d/smaps" % procs[0].pid) as f:
            name = ""
            for line in f:
                fields = line.split()
                if not fields[0].endswith(":"):
                    name = fields[5] if len(fields) > 5 else ""
                elif name.startswith("/memfd:") and fields[0] == "Rss:":
                    rss += int(fields[1])
                elif name.startswith("/memfd:") and fields[0] == "Pss:":
                    pss += int(fields[1])
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=120)
    assert [p.returncode for p in procs] == [0] * 64
    assert {v for v, _ in answers} == {stock}
    names = answers[0][1]
    assert any(k.startswith("_multiarray_umath.") for k in names), names
    for name in names:
        assert len({files[name] for _, files in answers}) == 1, name
    assert rss > 4096 and pss * 8 < rss, (rss, pss)
    assert len(node.holders()) == 1


def test_process_killed_while_it_makes_an_image(stdlib_exe, node):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    # A holder started by a process that stays (its images: _decimal's).
    first = node.popen([stdlib_exe, "-c", "import _decimal, sys\n"
                        "print('up'); sys.stdout.flush(); sys.stdin.read()"])
    assert first.stdout.readline() == "up\n"
    # This one is told to make libbz2's memory file and is killed as it
    # starts to: memfd_create gets SIGKILL.
    r = node.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                  "trace=memfd_create", "-e",
                  "inject=memfd_create:signal=SIGKILL", stdlib_exe, "-c",
                  "import _bz2"])
    assert r.returncode in (-9, 137), describe(r)
    # The next process is told to make it instead (had the holder waited
    # for the dead one, it would time out and go private, and the two
    # below would not share), and nothing of the dead one is seen.
    a = node.run([stdlib_exe, "-c", BZ2])
    b = node.run([stdlib_exe, "-c", BZ2])
    assert a.returncode == b.returncode == 0 and a.stderr == b.stderr == ""
    assert json.loads(a.stdout) == json.loads(b.stdout)
    first.stdin.close()
    first.wait(timeout=60)
    assert len(node.holders()) == 1


def test_executables_share_what_they_have_in_common(tmp_path_factory,
                                                    stdlib_exe, node):
    include = run_ok([PYTHON_TARGET, "-c", "import sysconfig; print("
                      "sysconfig.get_paths()['include'])"]).strip()
    suffix = run_ok([PYTHON_TARGET, "-c", "import sysconfig; print("
                     "sysconfig.get_config_var('EXT_SUFFIX'))"]).strip()
    exes = []
    for value in (1, 2):
        d = tmp_path_factory.mktemp("valued%d" % value)
        subprocess.run(["cc", "-shared", "-fPIC", "-I" + include,
                        "-DVALUED_VALUE=%d" % value, str(SRC / "valued.c"),
                        "-o", str(d / ("_valued" + suffix))], check=True)
        out = d / "app"  # the same name, in two directories
        r = inbuilt("build", "--path", d, "--include", "_valued", "-o", out)
        assert r.returncode == 0, describe(r)
        exes.append(out)
    code = MEMFDS + ("import _bz2, _valued\n"
                     "print(json.dumps([_valued.VALUE, memfds()]))\n")
    (v1, f1), (v2, f2) = [json.loads(node.run_ok([e, "-c", code]))
                          for e in exes]
    assert (v1, v2) == (1, 2)
    valued = "_valued" + suffix
    assert f1[valued] != f2[valued]  # same name, different images
    assert bz2_of(f1) == bz2_of(f2) == bz2_of(memfds(node, stdlib_exe))


def test_another_user_has_a_holder_of_its_own(public_exe, node):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    ours = memfds(node, public_exe)
    theirs = json.loads(node.run_ok(NOBODY + [public_exe, "-c", BZ2]))
    assert set(ours) == set(theirs)
    assert not set(ours.values()) & set(theirs.values())
    uids = set()
    for pid in node.holders():
        with open("/proc/%d/status" % pid) as f:
            uids |= {int(l.split()[1]) for l in f if l.startswith("Uid:")}
    assert uids == {0, 65534}
    # Our holder answers no other user: it ends the connection unread.
    probe = (
        "import socket, struct\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
        "s.connect('\\0inbuilt-so.1.0')\n"
        "try:\n"
        "    s.send(b'inbso\\0\\0\\1' + struct.pack('=IIQ', 1, 0, 4096)"
        " + b'0' * 16 + bytes(64))\n"
        "    msg, anc, flags, addr = s.recvmsg(200, 64)\n"
        "    print(len(msg), len(anc))\n"
        "except (BrokenPipeError, ConnectionResetError):\n"
        "    print(0, 0)\n")
    out = node.run_ok(NOBODY + [PYTHON_TARGET, "-c", probe])
    assert out == "0 0\n"


def test_a_name_taken_by_another_user_means_private_copies(public_exe,
                                                           node):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    squatter = node.popen(NOBODY + [PYTHON_TARGET, "-c",
                          "import socket, sys\n"
                          "s = socket.socket(socket.AF_UNIX, "
                          "socket.SOCK_SEQPACKET)\n"
                          "s.bind('\\0inbuilt-so.1.0'); s.listen()\n"
                          "print('up'); sys.stdout.flush(); "
                          "sys.stdin.read()\n"])
    assert squatter.stdout.readline() == "up\n"
    try:
        a = node.run([public_exe, "-c", BZ2])
        b = node.run([public_exe, "-c", BZ2])
    finally:
        squatter.stdin.close()
        squatter.wait(timeout=60)
    assert a.returncode == b.returncode == 0, describe(a) + describe(b)
    assert a.stderr == b.stderr == ""
    fa, fb = json.loads(a.stdout), json.loads(b.stdout)
    assert set(fa) == set(fb) and not set(fa.values()) & set(fb.values())
    assert node.holders() == []


def test_dev_shm_full_does_not_matter(stdlib_exe, node):
    script = (
        "mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 99\n"
        "dd if=/dev/zero of=/dev/shm/fill bs=4k count=100 2>/dev/null "
        "&& exit 98\n"
        "\"$EXE\" -c \"$CODE\" && \"$EXE\" -c \"$CODE\"\n")
    r = node.run(["unshare", "--mount", "--propagation", "private", "sh",
                  "-c", script],
                 env=node.env(EXE=stdlib_exe, CODE=BZ2))
    assert r.returncode == 0, describe(r)
    a, b = [json.loads(line) for line in r.stdout.splitlines()]
    assert a == b and r.stderr == ""


def test_denied_memory_files_fall_back_then_take_the_nodes(stdlib_exe, node,
                                                          tmp_path):
    if not os.access(NOMEMFD, os.X_OK):
        pytest.fail("no %s: make check-e2e builds it" % NOMEMFD)
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    env = node.env(XDG_RUNTIME_DIR=xdg)
    # Nobody on the node has the images: this process must make them, and
    # cannot (memfd_create is denied): the cache, said in one line.
    r = node.run([NOMEMFD, stdlib_exe, "-c", "import _bz2; print('ok')"],
                 env=env)
    assert r.returncode == 0 and r.stdout == "ok\n", describe(r)
    [line] = r.stderr.splitlines()
    assert line.startswith("inbuilt: memfd_create: Operation not permitted;")
    assert "cache directory" in line
    assert any(f.endswith("-libbz2.so.1.0") for f in
               os.listdir(xdg / "inbuilt"))
    # Once another process has made them, it needs no memfd_create.
    ours = memfds(node, stdlib_exe)
    theirs = json.loads(node.run_ok([NOMEMFD, stdlib_exe, "-c", BZ2],
                                    env=env))
    assert theirs == ours


def test_nothing_is_left_on_disk(stdlib_exe, node, tmp_path):
    xdg, tmp = tmp_path / "xdg", tmp_path / "tmp"
    xdg.mkdir(mode=0o700)
    tmp.mkdir()
    script = (
        "mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 99\n"
        "\"$EXE\" -c \"$CODE\" >/dev/null && \"$EXE\" -c \"$CODE\" "
        ">/dev/null || exit 1\n"
        "ls -A /dev/shm\n")
    r = node.run(["unshare", "--mount", "--propagation", "private", "sh",
                  "-c", script],
                 env=node.env(EXE=stdlib_exe, CODE=BZ2 + "import ssl\n",
                              XDG_RUNTIME_DIR=xdg, TMPDIR=tmp))
    assert r.returncode == 0, describe(r)
    assert r.stdout == ""  # /dev/shm
    assert os.listdir(xdg) == [] and os.listdir(tmp) == []
