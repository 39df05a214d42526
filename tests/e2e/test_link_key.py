"""The linked executable in the build cache is keyed by the bytes of the
files its link reads (libpython, the runtime library, the C library), not
by their size, time and inode: a target's libpython changed in place with
its size and modification time set back is linked again
(src/builder/link.c, inb_cache_key_content)."""
import glob
import os
import re
import shutil

import pytest

from helpers import clean_env, describe, inbuilt, run
from test_versions import PYTHONS, relocated_prefix

SLIM = ["--exclude", "asyncio", "--exclude", "email", "--exclude", "xml",
        "--exclude", "lib2to3", "--exclude", "pydoc_data",
        "--exclude", "distutils", "--exclude", "unittest",
        "--exclude", "ensurepip", "--exclude", "idlelib",
        "--exclude", "multiprocessing", "--exclude", "tkinter"]


def link_stats(r):
    m = re.search(r"cache link: (\d+) reused \([0-9.]+ MB\), (\d+) made, "
                  r"(\d+) rejected", r.stderr)
    assert m, r.stderr
    return tuple(int(x) for x in m.groups())


@pytest.mark.skipif(not PYTHONS, reason="no pyenv")
def test_libpython_changed_with_equal_stat_is_linked_again(tmp_path):
    base = os.path.dirname(os.path.dirname(PYTHONS[0]))
    python = relocated_prefix(base, tmp_path / "env")
    # The copied prefix gets a libpython of its own, to change.
    (config,) = glob.glob(str(tmp_path / "env" / "lib" / "python3.*" /
                              "config-3.*"))
    original = os.readlink(config)
    os.unlink(config)
    shutil.copytree(original, config)
    (lib,) = glob.glob(os.path.join(config, "libpython3.*.a"))
    env = clean_env(INBUILT_BUILD_CACHE=tmp_path / "cache")

    def build(name):
        r = inbuilt("build", "--python", python, *SLIM,
                    "--print-cache-stats", "-o", tmp_path / name, env=env)
        assert r.returncode == 0, describe(r)
        return r

    assert link_stats(build("first")) == (0, 1, 0)
    assert link_stats(build("again")) == (1, 0, 0)
    before = os.stat(lib)
    data = open(lib, "rb").read()
    word, new = b"maximum recursion depth exceeded", \
        b"MAXIMUM recursion depth exceeded"
    assert word in data
    with open(lib, "r+b") as f:
        f.write(data.replace(word, new))
    os.utime(lib, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(lib)
    assert (after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev) \
        == (before.st_size, before.st_mtime_ns, before.st_ino,
            before.st_dev)
    r = build("changed")
    assert link_stats(r) == (0, 1, 0), r.stderr
    out = run([tmp_path / "changed", "-c",
               "import sys; sys.setrecursionlimit(100)\n"
               "def f(): f()\nf()"])
    assert "MAXIMUM recursion depth exceeded" in out.stderr, out.stderr
