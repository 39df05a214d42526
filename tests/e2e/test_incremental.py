"""Incremental builds: the build cache (src/builder/cache.c) reuses
bytecode, compressed source, lint results and the linked executable, and
the result is byte-identical to a clean build into an empty cache; damaged
entries are detected and rebuilt; concurrent builds may share a cache."""
import filecmp
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import PKGS, clean_env, describe, inbuilt, run_ok

# Big stdlib packages left out to keep each build short.
SLIM = ["--exclude", "asyncio", "--exclude", "email", "--exclude", "xml",
        "--exclude", "lib2to3", "--exclude", "pydoc_data",
        "--exclude", "distutils", "--exclude", "unittest",
        "--exclude", "ensurepip", "--exclude", "idlelib",
        "--exclude", "multiprocessing", "--exclude", "tkinter"]



def build(src, out, cache, *extra):
    """Build the stdlib (slim) plus mypkg from src with cache dir cache;
    return the CompletedProcess."""
    r = inbuilt("build", "--path", src, "--include", "mypkg", *SLIM,
                "--print-cache-stats", *extra, "-o", out,
                env=clean_env(INBUILT_BUILD_CACHE=cache))
    assert r.returncode == 0, describe(r)
    return r


def stats(r, kind):
    """(reused, made, rejected) of kind from --print-cache-stats output."""
    m = re.search(r"cache %s: (\d+) reused \([0-9.]+ MB\), (\d+) made, "
                  r"(\d+) rejected" % kind, r.stderr)
    assert m, r.stderr
    return tuple(int(x) for x in m.groups())


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the fixture packages, built once into a cache."""
    top = tmp_path_factory.mktemp("incremental")
    src = top / "src"
    shutil.copytree(PKGS, src, ignore=shutil.ignore_patterns("__pycache__"))
    build(src, top / "first", top / "cache")
    return top


def test_edited_module_rebuilds_identical_to_a_clean_build(tree):
    src, cache = tree / "src", tree / "cache"
    util = src / "mypkg" / "util.py"
    util.write_text(util.read_text() + "\nEDITED = 'edit 1'\n")
    r = build(src, tree / "edited", cache)
    reused, made, _ = stats(r, "bytecode")
    assert made == 1 and reused > 100, r.stderr
    assert stats(r, "link") == (1, 0, 0)
    out = run_ok([tree / "edited", "-c",
                  "import mypkg.util; print(mypkg.util.EDITED)"])
    assert out == "edit 1\n"
    # The same sources into an empty cache: the same bytes.
    clean = build(src, tree / "clean", tree / "empty-cache")
    assert stats(clean, "bytecode")[0] == 0
    assert stats(clean, "link") == (0, 1, 0)
    assert filecmp.cmp(tree / "edited", tree / "clean", shallow=False)


def test_nothing_changed_reuses_everything(tree):
    r = build(tree / "src", tree / "again", tree / "cache")
    for kind in ("bytecode", "source", "lint", "link"):
        reused, made, rejected = stats(r, kind)
        assert made == 0 and rejected == 0 and reused > 0, (kind, r.stderr)


def test_damaged_entries_are_rebuilt(tree):
    # A cache of its own, so that every entry is one the rebuild needs.
    cache = tree / "damaged-cache" / "v1"
    build(tree / "src", tree / "before", tree / "damaged-cache")
    entries = sorted((cache / "bytecode").iterdir())
    assert len(entries) > 100
    # One truncated, one with a byte flipped in its value, and the linked
    # base with one flipped in its checksum.
    entries[0].write_bytes(entries[0].read_bytes()[:40])
    data = bytearray(entries[1].read_bytes())
    data[60] ^= 0x40
    entries[1].write_bytes(bytes(data))
    (link,) = [p for p in (cache / "link").iterdir()
               if not p.name.startswith(".")][:1]
    data = bytearray(link.read_bytes())
    data[-1] ^= 1
    link.write_bytes(bytes(data))
    r = build(tree / "src", tree / "after", tree / "damaged-cache")
    assert stats(r, "bytecode")[1:] == (2, 2), r.stderr
    assert stats(r, "link") == (0, 1, 1), r.stderr
    assert filecmp.cmp(tree / "before", tree / "after", shallow=False)


def test_concurrent_builds_share_one_cache(tree):
    cache = tree / "shared-cache"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(
            lambda name: build(tree / "src", tree / name, cache),
            ["para1", "para2"]))
    assert all(r.returncode == 0 for r in results)
    assert filecmp.cmp(tree / "para1", tree / "para2", shallow=False)
    # The same sources as the clean build of the first test.
    assert filecmp.cmp(tree / "para1", tree / "clean", shallow=False)
    for r in results:
        assert stats(r, "bytecode")[2] == 0, r.stderr


def test_cache_command_reports_and_clears(tree):
    cache = tree / "shared-cache"
    env = clean_env(INBUILT_BUILD_CACHE=cache)
    out = inbuilt("cache", "--stats", env=env)
    assert out.returncode == 0, describe(out)
    assert re.search(r"bytecode +\d+ entries", out.stdout), out.stdout
    out = inbuilt("cache", "--clear", env=env)
    assert out.returncode == 0 and "removed" in out.stdout, describe(out)
    assert not [p for p in (cache / "v1" / "bytecode").iterdir()]
    bad = inbuilt("cache", "--bogus", env=env)
    assert bad.returncode == 2 and "unknown option" in bad.stderr
