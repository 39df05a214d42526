"""inbuilt assumes no single CPython: it builds and works for every other
CPython on the machine with a static libpython (pyenv's 3.10 to 3.13 on
these machines), each make'd into its own build directory.

pyenv's builds ship most stdlib extensions (math, binascii, ...) as .so
files, which this executable does not build in yet, so the check imports
json, whose C accelerator has a pure-Python fallback."""
import glob
import json
import os
import shutil
import subprocess

import pytest

from helpers import DISTS, PKGS, REPO, run_ok
import fscalls  # scripts/fscalls.py
import test_pages

CANDIDATES = sorted(glob.glob("/root/.pyenv/versions/3.1[0-9].*/bin/python3.1[0-9]"))


def static_libpython(python):
    out = subprocess.run(
        [python, "-c", "import sysconfig, os; v = sysconfig.get_config_var; "
         "print(os.path.join(v('LIBPL'), v('LIBRARY')))"],
        capture_output=True, text=True)
    return out.returncode == 0 and os.path.exists(out.stdout.strip())


RESOURCES_PROBE = r"""
import json, pkgutil, traceback, inspect
from importlib import resources
import importlib.metadata as md
import datapkg.boom as b
f = resources.files("datapkg")
out = {"names": sorted(p.name for p in f.iterdir()),
       "text": (f / "data" / "greeting.txt").read_text(),
       "blob": f.joinpath("data").joinpath("sub").joinpath(
           "blob.bin").read_bytes()[:3].hex(),
       "get_data": pkgutil.get_data("datapkg", "table.csv").decode()
       .splitlines()[1],
       "getsource": inspect.getsource(b.explode).splitlines()[0],
       "metadata": [md.version("plugin-a"), md.requires("plugin-a")],
       "plugins": __import__("plughost").plugins()}
with resources.as_file(f / "table.csv") as p:
    out["as_file"] = open(p).read().splitlines()[0]
try:
    (f / "nope").read_bytes()
except FileNotFoundError as e:
    out["missing"] = e.strerror.split(" of this")[0]
try:
    b.outer()
except ValueError:
    out["traceback_has_source"] = "marker line" in traceback.format_exc()
print(json.dumps(out))
"""

PYTHONS = [p for p in CANDIDATES if static_libpython(p)]
# The oldest and the newest: enough to catch API drift, cheap enough.
PICKED = sorted({PYTHONS[0], PYTHONS[-1]}) if PYTHONS else []


@pytest.mark.skipif(not PICKED, reason="no pyenv: no other CPython with a "
                    "static libpython under /root/.pyenv")
@pytest.mark.parametrize("python", PICKED)
def test_inbuilt_for_another_cpython_builds_an_executable_that_imports_from_memory(
        python, tmp_path):
    build = tmp_path / "build"
    make = subprocess.run(["make", "-C", str(REPO), "BUILD=" + str(build),
                           "PYTHON=" + python, "all"],
                          capture_output=True, text=True, timeout=600)
    assert make.returncode == 0, make.stdout + make.stderr
    exe = tmp_path / "app"
    # Built-in extension modules too: the package context of single-phase
    # init and PEP 489 creation differ between 3.10 and 3.13; so do
    # importlib.resources and importlib.metadata.
    src = REPO / "tests" / "fixtures" / "builtin"
    run_ok([build / "inbuilt", "build",
            "--extension", "a.b.c._ext=%s" % (src / "deep" / "_ext.c"),
            "--extension", "statepkg._mstate=%s" % (src / "state" / "_mstate.c"),
            "--path", PKGS, "--include", "datapkg", "--path", DISTS,
            "--include", "plughost", "--include", "plugin_a",
            "-o", exe], timeout=300)
    version = run_ok([python, "-c", "import sys; print(sys.version)"])
    code = ("import sys, json, pickle, a.b.c._ext as e, statepkg._mstate as m;"
            " print(sys.version); print(json.dumps([1]));"
            " print(e.add.__module__, pickle.loads(pickle.dumps(e.add))(1, 2),"
            " e.__spec__.origin, m.exec_name, m.incr())")
    out = run_ok([exe, "-c", code])
    assert out == version + "[1]\na.b.c._ext 3 built-in statepkg._mstate 101\n"
    # importlib.resources and importlib.metadata differ from one version to
    # the next; the reader and the distributions serve them all.
    assert json.loads(run_ok([exe, "-c", RESOURCES_PROBE])) == {
        "names": ["__init__.py", "boom.py", "data", "nextto.py",
                  "notes.skip", "pool.py", "reader.py", "table.csv"],
        "text": "hello from datapkg\n", "blob": "000102",
        "as_file": "name,value", "get_data": "alpha,1",
        "missing": "No file 'nope' in package 'datapkg'",
        "traceback_has_source": True, "getsource": "def explode(n):",
        "metadata": ["0.3", ["plughost>=2.0"]],
        "plugins": {"a": "hello from plugin_a"}}
    # The arenas of every version come through CPython's arena allocator
    # API (src/runtime/pages.c): carved, freed, reused, marked.
    waves = json.loads(run_ok([exe, "-c", test_pages.WAVES]))
    assert waves["sums"] == [sum(range(1_500_000))] * 3
    assert all(low < peak / 2
               for peak, low in zip(waves["peaks"], waves["lows"])), waves
    report = json.loads(run_ok([exe, "-c", test_pages.REPORT +
                                "print(json.dumps(report()))"]))
    assert report["marked"] >= (2 if os.path.exists(test_pages.THP) else 0)
    if shutil.which("strace"):
        result, calls = fscalls.strace_paths([str(exe), "-c", code])
        assert result.returncode == 0, result.stderr
        # 3.13's mimalloc reads /proc/sys/vm/overcommit_memory when the
        # process starts: procfs, never a shared filesystem.
        bad = [c for c in fscalls.outside_allow_list(calls, str(exe))
               if not c[1].startswith("/proc/")]
        assert bad == []
