"""The target interpreter's runs (target query, requirement scan,
metadata) are kept in the build cache while nothing they read changed
(src/builder/memo.c): a rebuild with nothing changed runs no Python, and
an edited module, an added or removed module, or a newly installed
distribution are seen at once, the executable then byte-identical to a
clean build into an empty cache."""
import filecmp
import os
import re
import shutil
import time

import pytest

from helpers import clean_env, describe, inbuilt, run_ok

SLIM = ["--exclude", "asyncio", "--exclude", "email", "--exclude", "xml",
        "--exclude", "lib2to3", "--exclude", "pydoc_data",
        "--exclude", "distutils", "--exclude", "unittest",
        "--exclude", "ensurepip", "--exclude", "idlelib",
        "--exclude", "multiprocessing", "--exclude", "tkinter"]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def settle():
    """Wait until files just written are older than the 2 s a run's inputs
    must be to be kept (file times have a coarse clock)."""
    time.sleep(2.2)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A root of installed distributions: app imports alpha.extra when it
    is there; app's distribution requires newdist, not installed yet;
    gamma and delta are installed, named by no requirement."""
    top = tmp_path_factory.mktemp("memo")
    root = top / "root"
    write(root / "app" / "__init__.py", "import app.extra\nA = 1\n")
    write(root / "app-1.0.dist-info" / "METADATA",
          "Metadata-Version: 2.1\nName: app\nVersion: 1.0\n"
          "Requires-Dist: newdist\n")
    write(root / "app-1.0.dist-info" / "top_level.txt", "app\n")
    for name in ("gamma", "delta"):
        write(root / name / "__init__.py", "NAME = %r\n" % name)
    settle()
    return top


def build(site, out, cache="cache"):
    r = inbuilt("build", "--path", site / "root", "--include", "app", *SLIM,
                "--print-cache-stats", "-o", site / out,
                env=clean_env(INBUILT_BUILD_CACHE=site / cache))
    assert r.returncode == 0, describe(r)
    return r


def runs(r):
    """(reused, made) of the interpreter's runs."""
    m = re.search(r"cache run: (\d+) reused \([0-9.]+ MB\), (\d+) made",
                  r.stderr)
    assert m, r.stderr
    return int(m.group(1)), int(m.group(2))


def reused(site, name):
    """Build until a build runs no Python: the first after a change runs
    what the change affects, and a run that read a file changed 2 s or
    less before it is not kept (on a shared machine, other processes may
    write site-packages' __pycache__): three tries.  Returns that build."""
    for i in range(3):
        r = build(site, "%s-%d" % (name, i))
        if runs(r) == (3, 0):
            return r
        settle()
    raise AssertionError("no build ran without Python:\n" + r.stderr)


def warm(site, name):
    """Let the last changes settle, then build until nothing runs."""
    settle()
    build(site, name)
    reused(site, name)


def same_as_clean(site, out, name):
    """out equals a build of the same tree into an empty cache."""
    shutil.rmtree(site / "empty", ignore_errors=True)
    clean = build(site, name, cache="empty")
    assert runs(clean) == (0, 3)
    assert filecmp.cmp(site / out, site / name, shallow=False)


def test_nothing_changed_runs_no_python(site):
    first = build(site, "first")
    assert runs(first) == (0, 3)
    assert "newdist (required by app)" in first.stderr
    again = reused(site, "again")
    assert "newdist (required by app)" in again.stderr
    assert filecmp.cmp(site / "first", site / "again-0", shallow=False)


def test_edited_module_is_scanned_again(site):
    init = site / "root" / "app" / "__init__.py"
    init.write_text(init.read_text() + "import gamma\n")
    r = build(site, "edited")
    assert runs(r)[1] >= 1
    assert "also including gamma: imported by app" in r.stderr, r.stderr
    out = run_ok([site / "edited", "-c", "import gamma; print(gamma.NAME)"])
    assert out == "gamma\n"
    same_as_clean(site, "edited", "edited-clean")


def test_added_and_removed_module_are_seen(site):
    extra = site / "root" / "app" / "extra.py"
    warm(site, "before-add")
    write(extra, "import delta\n")
    r = build(site, "added")
    assert "also including delta: imported by app.extra" in r.stderr, \
        r.stderr
    assert run_ok([site / "added", "-c", "import app, delta; "
                   "print(delta.NAME)"]) == "delta\n"
    warm(site, "before-remove")
    os.unlink(extra)
    r = build(site, "removed")
    assert "delta" not in r.stderr, r.stderr
    assert run_ok([site / "removed", "-c", "import importlib.util as u; "
                   "print(u.find_spec('delta'))"]) == "None\n"


def test_installed_distribution_is_seen(site):
    warm(site, "before-install")
    root = site / "root"
    # What pip install writes: the package, then its dist-info.
    write(root / "newdist" / "__init__.py", "N = 'new'\n")
    write(root / "newdist-2.0.dist-info" / "METADATA",
          "Metadata-Version: 2.1\nName: newdist\nVersion: 2.0\n")
    write(root / "newdist-2.0.dist-info" / "RECORD",
          "newdist/__init__.py,,\nnewdist-2.0.dist-info/METADATA,,\n")
    r = build(site, "installed")
    assert "also including newdist: newdist (required by app)" in r.stderr, \
        r.stderr
    assert "is not installed" not in r.stderr
    assert run_ok([site / "installed", "-c",
                   "import newdist; print(newdist.N)"]) == "new\n"
    same_as_clean(site, "installed", "installed-clean")


def test_source_rewritten_with_equal_size_and_mtime_is_compiled_again(site):
    """Bytecode, source and lint entries are keyed by a source's bytes,
    through a fingerprint kept under the file's identity: a file rewritten
    in place with its size and mtime set back is still read again."""
    same = site / "root" / "app" / "same.py"
    write(same, "V = 'one'\n")
    extra = site / "root" / "app" / "extra.py"
    if not extra.exists():
        write(extra, "")
    warm(site, "before-same")
    before = os.stat(same)
    with open(same, "r+") as f:
        f.write("V = 'two'\n")
    os.utime(same, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(same)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == \
        (before.st_size, before.st_mtime_ns, before.st_ino)
    r = build(site, "same")
    m = re.search(r"cache bytecode: \d+ reused \([0-9.]+ MB\), (\d+) made",
                  r.stderr)
    assert m and m.group(1) == "1", r.stderr
    assert run_ok([site / "same", "-c",
                   "import app.same; print(app.same.V)"]) == "two\n"
