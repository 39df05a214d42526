"""Embedding: `inbuilt build --library` makes a static library that C and
C++ host programs with their own main() link (docs/EMBEDDING.md).

One library (the stdlib, tests/fixtures/pkgs/insitu and numpy) is built for
the module.  The hosts are in tests/fixtures/embed: an MPI mini-simulation
in C (mpicc + pkg-config) and in C++ (CMake + the package config) that hand
a C array to Python at every step without copying, compared with the same
C source linked against stock libpython3.11.so; a host defining symbols
that the library has inside; and a host calling the API out of order and
from a second thread.
"""
import glob
import os
import re
import shutil
import subprocess

import pytest

from helpers import (FIXTURES, PKGS, PYTHON_TARGET, REPO, clean_env,
                     describe, inbuilt, run, run_ok)
import fscalls

EMBED = FIXTURES / "embed"
MARKER = "/inbuilt-embedding-marker/"
# How tests/e2e/test_mpi.py runs Open MPI here (as root, one node).
MPI_ENV = dict(OMPI_ALLOW_RUN_AS_ROOT=1, OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1,
               OMPI_MCA_plm="isolated", OMPI_MCA_btl="self,vader",
               LC_ALL="C.UTF-8")
MPI_TIMEOUT = 180

needs_numpy = pytest.mark.skipif(
    subprocess.run([PYTHON_TARGET, "-c", "import numpy"],
                   capture_output=True).returncode != 0,
    reason="python3-numpy missing (scripts/install-deps)")
needs_mpi = pytest.mark.skipif(
    shutil.which("mpicc") is None or shutil.which("mpirun") is None,
    reason="libopenmpi-dev or openmpi-bin missing (scripts/install-deps)")

pytestmark = [
    needs_numpy,
    pytest.mark.skipif(shutil.which("pkg-config") is None,
                       reason="pkg-config missing (scripts/install-deps)"),
]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The directory holding libinsitu.a and its companion files: the
    stdlib, insitu, numpy, and a built-in C++ extension module."""
    out = tmp_path_factory.mktemp("embed-lib")
    cxx = FIXTURES / "builtin" / "cxx" / "_cxx.cpp"
    r = inbuilt("build", "--library", "--path", PKGS, "--include", "insitu",
                "--extension", "cxxtwin._cxx=%s" % cxx,
                "-o", out / "libinsitu.a")
    assert r.returncode == 0, describe(r)
    yield out
    (out / "libinsitu.a").unlink()


def pkg_config(lib_dir, *what):
    """The words pkg-config gives for libinsitu in lib_dir."""
    out = run_ok(["pkg-config", *what, "libinsitu"],
                 env=clean_env(PKG_CONFIG_PATH=lib_dir))
    return out.split()


def compile_host(compiler, source, exe, lib_dir, *extra):
    """Compile and link host source with the library's pkg-config flags."""
    run_ok([compiler, "-Wall", "-o", exe, source,
            *pkg_config(lib_dir, "--cflags", "--libs"), *extra],
           timeout=120)


def api_names():
    """The functions inbuilt.h declares with INBUILT_API."""
    text = (REPO / "include" / "inbuilt.h").read_text()
    return set(re.findall(r"^INBUILT_API\s[^;(]*?\b(\w+)\(", text, re.M))


def test_library_exports_only_the_c_api_and_the_inbuilt_api(library):
    names = {p.name for p in library.iterdir()}
    assert {"libinsitu.a", "libinsitu.pc", "insituConfig.cmake",
            "libinsitu.syms", "inbuilt.h"} <= names
    assert (library / "inbuilt.h").read_text() == \
        (REPO / "include" / "inbuilt.h").read_text()
    nm = run_ok(["nm", "-g", "--defined-only", library / "libinsitu.a"])
    defined = {line.split()[-1] for line in nm.splitlines()
               if len(line.split()) == 3}
    others = {s for s in defined if not re.match(r"_?Py", s)}
    assert others == api_names(), others ^ api_names()
    assert "PyImport_ImportModule" in defined
    # A built-in C++ extension: the host links the C++ runtime.
    assert "-lstdc++" in pkg_config(library, "--libs")
    undefined = run_ok(["nm", "-u", library / "libinsitu.a"]).split()
    # zlib and expat are inside; nothing of the runtime is left to a host.
    for name in ("crc32", "inflate", "XML_ParserCreate"):
        assert name not in undefined
    assert not [s for s in undefined if s.startswith("inb_")]


def test_library_needs_a_libname_file_name(tmp_path):
    r = inbuilt("build", "--library", "-o", tmp_path / "insitu.a")
    assert r.returncode != 0
    assert "libNAME.a" in r.stderr
    assert not (tmp_path / "insitu.a").exists()


def test_library_has_no_entry_point(tmp_path):
    r = inbuilt("build", "--library", "--entry", "json",
                "-o", tmp_path / "libx.a")
    assert r.returncode == 2
    assert "a library has no entry point" in r.stderr


def test_host_with_clashing_symbols_links_and_each_side_keeps_its_own(
        library, tmp_path):
    # The directory may move: the package files refer to their own place.
    moved = tmp_path / "moved"
    shutil.copytree(library, moved)
    exe = tmp_path / "clash"
    compile_host("cc", EMBED / "clash.c", exe, moved)
    out = run_ok([exe])
    assert out.splitlines() == [
        "python 891568578 891568578 True b built-in c d",
        "host 1003 2001 0x3000 4000 5000 6000",
    ]


@pytest.fixture(scope="module")
def lifecycle(library, tmp_path_factory):
    exe = tmp_path_factory.mktemp("lifecycle") / "lifecycle"
    compile_host("cc", EMBED / "lifecycle.c", exe, library, "-lpthread")
    return exe


def test_initialize_twice_and_finalize_out_of_order(lifecycle):
    out = run_ok([lifecycle, "order"])
    assert out.splitlines() == [
        "finalize before initialize: 1 inb_finalize: CPython does not run "
        "(inb_initialize() was not called)",
        "initialize: 0",
        "python: [''] 1",
        "initialize again: 1 inb_initialize: CPython already runs; call "
        "inb_finalize() first",
        "python still: 2",
        "finalize: 0",
        "finalize again: 1 inb_finalize: CPython does not run (it was "
        "finalized already)",
        "initialize after finalize: 1 inb_initialize: CPython ran already "
        "in this process and cannot start again",
    ]


def test_second_thread_may_call_python_but_not_start_or_stop_it(lifecycle):
    out = run_ok([lifecycle, "threads"])
    assert out.splitlines() == [
        "initialize: 0",
        "thread initialize: 1 inb_initialize: CPython already runs; call "
        "inb_finalize() first",
        "thread finalize: 2 inb_finalize: called from another thread than "
        "the one that called inb_initialize()",
        "thread python: [true, 7]",
        "finalize without the GIL: 1 inb_finalize: the calling thread does "
        "not hold the GIL (end PyEval_SaveThread() with "
        "PyEval_RestoreThread())",
        "finalize: 0",
    ]


def test_a_thread_that_is_not_main_may_own_the_interpreter(lifecycle):
    out = run_ok([lifecycle, "init-in-thread"])
    assert out.splitlines() == [
        "thread initialize: 0",
        "thread python: own",
        "thread finalize: 0",
        "main initialize: 1 inb_initialize: CPython ran already in this "
        "process and cannot start again",
    ]


def test_strict_by_default_and_sys_path_with_the_filesystem(lifecycle,
                                                            tmp_path):
    (tmp_path / "ondisk.py").write_text("VALUE = 42\n")
    env = clean_env(PYTHONPATH=tmp_path)
    strict = run_ok([lifecycle, "paths", "-"], env=env).splitlines()
    assert "python: ModuleNotFoundError ondisk" in strict
    assert "['paths', '-'] []" in strict
    refused = run_ok([lifecycle, "paths", tmp_path], env=env).splitlines()
    assert ("initialize: 6 inb_initialize: sys.path directories were given "
            "but the filesystem is not allowed: allow it, or give no "
            "directories") in refused
    assert "add NULL path: 6 inb_settings_add_path: settings or dir is " \
           "NULL" in refused
    allowed = run_ok([lifecycle, "paths", tmp_path, "fs"],
                     env=env).splitlines()
    assert "python: ondisk 42" in allowed
    # The host's directory first, then PYTHONPATH's.
    assert "%r %r" % (["paths", str(tmp_path), "fs"],
                      [str(tmp_path)] * 2) in allowed
    assert allowed[-1] == "finalize: 0"


@pytest.fixture(scope="module")
def stock_output(tmp_path_factory):
    """stdout of sim.c linked against stock libpython3.11.so, 2 ranks."""
    if shutil.which("mpicc") is None:
        pytest.skip("libopenmpi-dev missing (scripts/install-deps)")
    exe = tmp_path_factory.mktemp("sim-stock") / "sim-stock"
    config = PYTHON_TARGET + "-config"
    flags = run_ok([config, "--cflags", "--ldflags", "--embed"]).split()
    run_ok(["mpicc", "-DSTOCK", "-o", exe, EMBED / "sim.c", *flags, "-lm"],
           timeout=120)
    assert "libpython3" in run_ok(["ldd", exe])
    r = run(["mpirun", "--oversubscribe", "-n", 2, exe],
            env=clean_env(PYTHONPATH=PKGS, **MPI_ENV), timeout=MPI_TIMEOUT)
    assert r.returncode == 0, describe(r)
    assert "numpy: /usr/lib/python3/dist-packages/numpy" in r.stderr
    assert len(r.stdout.splitlines()) == 26, r.stdout
    return r.stdout


def traced_windows(trace_dir):
    """For each rank's trace (one file per rank): the calls naming a path
    made by any of its threads between the host's begin and end markers."""
    windows = []
    for path in sorted(glob.glob(str(trace_dir / "trace.*"))):
        with open(path, encoding="utf-8", errors="replace") as f:
            calls = fscalls.path_calls(f.read().splitlines())
        marks = [i for i, c in enumerate(calls) if c[1].startswith(MARKER)]
        assert [calls[i][1] for i in marks] == [MARKER + "begin",
                                                MARKER + "end"], path
        windows.append(calls[marks[0] + 1:marks[1]])
    return windows


@needs_mpi
def test_mpi_simulation_matches_stock_with_no_filesystem_calls(
        library, stock_output, tmp_path):
    exe = tmp_path / "sim"
    compile_host("mpicc", EMBED / "sim.c", exe, library, "-lm")
    assert "libpython" not in run_ok(["ldd", exe])
    trace_dir = tmp_path / "traces"
    trace_dir.mkdir()
    wrapper = "exec strace -f -qq -s 4096 -e trace=%%file -o %s/trace.$$ %s" % (
        trace_dir, exe)
    r = run(["mpirun", "--oversubscribe", "-n", 2, "sh", "-c", wrapper],
            env=clean_env(**MPI_ENV), timeout=MPI_TIMEOUT)
    assert r.returncode == 0, describe(r)
    assert r.stdout == stock_output
    # numpy came from the library (the virtual tree under the executable).
    assert "numpy: %s/numpy/__init__.py" % exe in r.stderr
    windows = traced_windows(trace_dir)
    assert len(windows) == 2
    for calls in windows:
        assert calls, "strace saw no call in the window: is it broken?"
        bad = fscalls.outside_allow_list(calls, str(exe))
        assert bad == [], "\n".join(line for _, _, line in bad)


@needs_mpi
@pytest.mark.skipif(shutil.which("cmake") is None,
                    reason="cmake missing (scripts/install-deps)")
def test_cxx_cmake_host_matches_stock(library, stock_output, tmp_path):
    build = tmp_path / "build"
    run_ok(["cmake", "-S", EMBED / "cxx", "-B", build,
            "-Dinsitu_DIR=%s" % library], timeout=300)
    run_ok(["cmake", "--build", build], timeout=300)
    r = run(["mpirun", "--oversubscribe", "-n", 2, build / "sim_cxx"],
            env=clean_env(**MPI_ENV), timeout=MPI_TIMEOUT)
    assert r.returncode == 0, describe(r)
    assert r.stdout == stock_output
