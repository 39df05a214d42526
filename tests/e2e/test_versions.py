"""One inbuilt for every CPython 3.10 to 3.13 on the machine: `inbuilt
build --python PATH` with pyenv's 3.10 to 3.13, Debian's, a venv's and a
conda-style relocated prefix, the runtime library compiled for each target
on first use and cached (runtime.c), the bytecode compiled by the target's
own interpreter (compile.c), so that \\N{...} escapes compile for targets
whose unicodedata is a shared module; a target without a static libpython
is refused, saying what to install."""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from helpers import (DISTS, INBUILT, PKGS, PYTHON_TARGET, REPO, clean_env,
                     describe, inbuilt, run, run_ok)
import fscalls  # scripts/fscalls.py
import test_pages

CANDIDATES = sorted(glob.glob("/root/.pyenv/versions/3.1[0-9].*/bin/python3.1[0-9]"))
PYENV_311 = "/root/.pyenv/versions/3.11.7/bin/python3.11"


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
    exe = tmp_path / "app"
    # Built-in extension modules too: the package context of single-phase
    # init and PEP 489 creation differ between 3.10 and 3.13; so do
    # importlib.resources and importlib.metadata.
    src = REPO / "tests" / "fixtures" / "builtin"
    run_ok([INBUILT, "build", "--python", python,
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


def stock_and_exe(python, exe, code):
    """The output of code under python and under exe, which must agree."""
    return run_ok([python, "-I", "-c", code]), run_ok([exe, "-c", code])


# \\N{...} in source: compiled by the target's interpreter with its own
# unicodedata (pyenv's is a shared module in lib-dynload).
NAMED = (r"import sys, json, unicodedata; print(sys.version, json.dumps("
         r"['\N{GREEK SMALL LETTER ALPHA}', unicodedata.name('\u00df')]))")


@pytest.mark.skipif(not PYTHONS, reason="no pyenv")
@pytest.mark.parametrize("python", PYTHONS)
def test_one_inbuilt_builds_for_every_pyenv_cpython(python, tmp_path):
    exe = tmp_path / "app"
    r = inbuilt("build", "--python", python, "-o", exe)
    assert r.returncode == 0, describe(r)
    stock, ours = stock_and_exe(python, exe, NAMED)
    assert ours == stock
    assert r"\u03b1" in ours and "LATIN SMALL LETTER SHARP S" in ours


@pytest.mark.skipif(not os.path.exists(PYENV_311) or not os.path.isdir(
    "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/regex"),
    reason="no pyenv 3.11.7 with regex")
def test_regex_with_named_escapes_builds_for_pyenv(tmp_path):
    """regex's tests and docstrings hold \\N{...} escapes, which the
    builder once could not compile for pyenv's CPython."""
    exe = tmp_path / "app"
    r = inbuilt("build", "--python", PYENV_311, "--include", "regex",
                "-o", exe)
    assert r.returncode == 0, describe(r)
    code = ("import json, regex, regex.tests.test_regex as t;"
            " print(json.dumps([regex.sub('x', r'\\N{LATIN CAPITAL LETTER A}',"
            " 'xx'), regex.search(r'(?fi)\\N{LATIN SMALL LETTER SHARP S}',"
            " 'SS').span(), t.__name__]))")
    stock, ours = stock_and_exe(PYENV_311, exe, code)
    assert ours == stock
    assert json.loads(ours) == ["AA", [0, 2], "regex.tests.test_regex"]


def test_venv_target_links_its_base_interpreter(tmp_path):
    """A venv's python: its site-packages is searched, its base
    interpreter's libpython linked."""
    venv = tmp_path / "venv"
    run_ok([PYTHON_TARGET, "-m", "venv", "--without-pip", venv])
    vpy = venv / "bin" / "python"
    site = run_ok([vpy, "-c", "import sysconfig; "
                   "print(sysconfig.get_path('purelib'))"]).strip()
    assert site.startswith(str(venv))
    with open(os.path.join(site, "venvonly.py"), "w") as f:
        f.write("WHERE = 'venv'\n")
    exe = tmp_path / "app"
    r = inbuilt("build", "--python", vpy, "--include", "venvonly",
                "-o", exe)
    assert r.returncode == 0, describe(r)
    out = run_ok([exe, "-c", "import sys, venvonly; "
                  "print(venvonly.WHERE, venvonly.__file__, sys.version)"])
    version = run_ok([PYTHON_TARGET, "-c", "import sys; print(sys.version)"])
    assert out == "venv %s/venvonly.py %s" % (exe, version)


def relocated_prefix(base, dest, with_static=True):
    """The CPython installed at prefix base as a conda environment holds
    one, at another prefix: the interpreter copied, its files symlinked,
    its sysconfig data rewritten to name dest (conda's prefix
    replacement); with_static=False leaves out the config directory that
    holds libpython3.X.a.  Returns the interpreter's path."""
    ver = os.path.basename(glob.glob(os.path.join(base, "lib", "python3.*"))[0])
    os.makedirs(os.path.join(dest, "bin"))
    shutil.copy2(os.path.join(base, "bin", ver), os.path.join(dest, "bin", ver))
    os.symlink(os.path.join(base, "include"), os.path.join(dest, "include"))
    lib = os.path.join(dest, "lib", ver)
    os.makedirs(lib)
    src = os.path.join(base, "lib", ver)
    for name in os.listdir(src):
        if name.startswith("_sysconfigdata"):
            with open(os.path.join(src, name)) as f:
                text = f.read().replace(base, str(dest))
            with open(os.path.join(lib, name), "w") as f:
                f.write(text)
        # Its own __pycache__, not the original's: the rewritten module's
        # bytecode must not land beside the original.
        elif name == "__pycache__" or (name.startswith("config-")
                                       and not with_static):
            continue
        else:
            os.symlink(os.path.join(src, name), os.path.join(lib, name))
    return os.path.join(dest, "bin", ver)


@pytest.mark.skipif(not PYTHONS, reason="no pyenv")
def test_conda_style_prefix_builds(tmp_path):
    base = os.path.dirname(os.path.dirname(PYTHONS[0]))
    python = relocated_prefix(base, tmp_path / "env")
    prefix = run_ok([python, "-c", "import sys; print(sys.prefix)"]).strip()
    assert prefix == str(tmp_path / "env")
    exe = tmp_path / "app"
    r = inbuilt("build", "--python", python, "-o", exe)
    assert r.returncode == 0, describe(r)
    stock, ours = stock_and_exe(python, exe, NAMED)
    assert ours == stock


@pytest.mark.skipif(not PYTHONS, reason="no pyenv")
def test_target_without_static_libpython_says_what_to_install(tmp_path):
    base = os.path.dirname(os.path.dirname(PYTHONS[0]))
    python = relocated_prefix(base, tmp_path / "env", with_static=False)
    version = run_ok([python, "-c", "import sys; "
                      "print('%d.%d' % sys.version_info[:2])"]).strip()
    out = tmp_path / "out"
    out.mkdir()
    r = inbuilt("build", "--python", python, "-o", out / "app")
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "has no static libpython" in r.stderr, r.stderr
    assert "libpython%s.a" % version in r.stderr
    assert "apt-get install libpython%s-dev" % version in r.stderr
    assert os.listdir(out) == []


def test_runtime_is_built_once_per_target_even_by_concurrent_builds(
        tmp_path):
    """Two builds at once with an empty cache: both work, one library is
    cached, nothing temporary is left; the next build reuses it."""
    cache = tmp_path / "cache"
    env = clean_env(XDG_CACHE_HOME=cache)
    procs = [subprocess.Popen([str(INBUILT), "build", "-v", "-o",
                               str(tmp_path / ("app%d" % i))],
                              env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    compiled = 0
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        compiled += "compiling the runtime library" in err
    assert compiled >= 1
    # The library, and the objects every target shares (common-HASH).
    names = sorted(os.listdir(cache / "inbuilt" / "runtime"))
    assert len(names) == 2, names
    assert names[0].startswith("common-"), names
    assert names[1].startswith("libinbuilt-rt-3.") and names[1].endswith(
        ".a"), names
    r = run([INBUILT, "build", "-v", "-o", tmp_path / "app2"], env=env,
            timeout=600)
    assert r.returncode == 0, describe(r)
    assert "compiling the runtime library" not in r.stderr
    for i in range(3):
        assert run_ok([tmp_path / ("app%d" % i), "-c", "print(6 * 7)"],
                      env=env) == "42\n"


def test_a_runtime_that_does_not_compile_is_a_clear_error(tmp_path):
    """The runtime compiles while the build goes on (runtime.c); when it
    cannot, the build ends with the compiler's messages and one error as
    its last line, writes no output, and leaves nothing in the cache or
    the temporary directory."""
    broken = tmp_path / "broken.h"
    broken.write_text("#error this compiler is broken on purpose\n")
    (tmp_path / "tmp").mkdir()
    (tmp_path / "out").mkdir()
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser(
        "~/.cache")
    env = clean_env(XDG_CACHE_HOME=tmp_path / "cache", TMPDIR=tmp_path / "tmp",
                    INBUILT_BUILD_CACHE=os.path.join(user_cache, "inbuilt"),
                    INBUILT_CC="cc -include %s" % broken)
    r = run([INBUILT, "build", "-o", tmp_path / "out" / "app"], env=env,
            timeout=600)
    assert r.returncode == 1, describe(r)
    assert "this compiler is broken on purpose" in r.stderr
    assert "compiler command: cc -include %s" % broken in r.stderr
    assert r.stderr.splitlines()[-1] == (
        "inbuilt: error: cannot build the runtime library for this Python; "
        "see the compiler's messages above"), r.stderr
    assert os.listdir(tmp_path / "out") == []
    assert os.listdir(tmp_path / "cache" / "inbuilt" / "runtime") == []
    assert os.listdir(tmp_path / "tmp") == []


def ar(*args):
    return subprocess.run(["ar", *map(str, args)], capture_output=True,
                          check=True).stdout


@pytest.mark.skipif(not PYTHONS, reason="no pyenv: no other CPython with a "
                    "static libpython under /root/.pyenv")
def test_a_new_target_compiles_only_what_needs_its_headers(tmp_path):
    """The runtime's objects that include no CPython header are compiled
    once for every target: a second target's library takes them from the
    cache, and is what a full compile gives (the same members in the same
    order, those members the same bytes as the first target's)."""
    env = clean_env(XDG_CACHE_HOME=tmp_path / "cache")
    runtime = tmp_path / "cache" / "inbuilt" / "runtime"
    other = [p for p in PYTHONS if not p.endswith(
        os.path.basename(PYTHON_TARGET))][-1]
    r = run([INBUILT, "build", "-v", "-o", tmp_path / "first"], env=env,
            timeout=600)
    assert r.returncode == 0, describe(r)
    assert "need no Python header are cached" not in r.stderr
    # Even the first: inbuilt carries those objects, made when it was built.
    assert "inbuilt carries the objects" in r.stderr, r.stderr
    compiled = [line for line in r.stderr.splitlines()
                if line.startswith("+ ") and " -c " in line]
    # What needs the headers, in two translation units (runtime.c).
    assert [u for u in ("/runtime-unit-0.c ", "/runtime-unit-1.c ")
            if any(u in c for c in compiled)] == [
                "/runtime-unit-0.c ", "/runtime-unit-1.c "], compiled
    assert not any("/finder.c " in c for c in compiled), compiled
    assert not any("/vfs.c " in c for c in compiled), compiled
    first = list(runtime.glob("libinbuilt-rt-*.a"))
    common = sorted(p.name for p in next(runtime.glob("common-*")).iterdir())
    assert "archive.o" in common and "vfs.o" in common
    assert "finder.o" not in common
    r = run([INBUILT, "build", "-v", "--python", other, "-o",
             tmp_path / "second"], env=env, timeout=600)
    assert r.returncode == 0, describe(r)
    assert "need no Python header are cached" in r.stderr
    compiled = [line for line in r.stderr.splitlines()
                if line.startswith("+ ") and " -c " in line]
    assert compiled and not any("/vfs.c " in c for c in compiled), compiled
    second = [p for p in runtime.glob("libinbuilt-rt-*.a") if p not in first]
    assert len(first) == 1 and len(second) == 1
    assert ar("t", first[0]) == ar("t", second[0])
    for member in common:
        assert ar("p", first[0], member) == ar("p", second[0], member), member
    assert run_ok([tmp_path / "second", "-c", "print(6 * 7)"],
                  env=env) == "42\n"
