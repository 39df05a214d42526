"""--cpython-source: the standard library's extension modules that the
target ships only as .so files, compiled from a CPython source tree of its
version and linked in as built-in modules.

The source comes from $INBUILT_CPYTHON_SOURCE, or from the build directory
where scripts/cpython-source unpacks Debian's source package (`make check`
and `make cpython-source` run it).  Where it cannot be had the test says so
in its skip reason.  The build compiles about 90 C files.
"""
import glob
import os
import shutil

import pytest

from helpers import INBUILT, inbuilt, run_ok
import fscalls  # scripts/fscalls.py


def find_source():
    env = os.environ.get("INBUILT_CPYTHON_SOURCE")
    if env:
        return env
    found = glob.glob(os.path.join(os.path.dirname(str(INBUILT)),
                                   "cpython-source", "python3.*-*",
                                   "Modules", "Setup.stdlib.in"))
    return os.path.dirname(os.path.dirname(found[0])) if found else None


SOURCE = find_source()
MODULES = ["_ctypes", "_decimal", "_json", "_ssl", "_hashlib", "_sqlite3",
           "_asyncio", "_bz2", "_lzma", "mmap", "_multiprocessing"]


@pytest.mark.skipif(SOURCE is None, reason=(
    "no CPython source tree of the target's version: run `make "
    "cpython-source` (apt-get source python3.11; needs deb-src lines in "
    "apt's sources and dpkg-dev) or set INBUILT_CPYTHON_SOURCE"))
def test_stdlib_shared_objects_become_built_in(tmp_path):
    exe = tmp_path / "app"
    r = inbuilt("build", "--cpython-source", SOURCE, "-o", exe, timeout=900)
    assert r.returncode == 0, r.stderr
    # What could not be built is named, with the reason.
    for line in r.stderr.splitlines():
        if "warning: --cpython-source" in line:
            assert "stays a shared object" in line and ":" in line
    # The libraries of the -dev packages are linked into the modules, so
    # the executable starts with no more shared libraries than usual.
    linked = " ".join(fscalls.linked_libraries(str(exe)))
    for lib in ("libssl", "libcrypto", "libsqlite3", "libffi", "liblzma",
                "libtk"):
        assert lib not in linked, linked
    code = ("import importlib, decimal, ctypes, sqlite3, ssl, hashlib\n"
            "for n in %r:\n"
            "    print(n, importlib.import_module(n).__spec__.origin)\n"
            "print(decimal.Decimal(1) / decimal.Decimal(8),"
            " ctypes.c_int(7).value,"
            " sqlite3.connect(':memory:').execute('select 6*7').fetchone(),"
            " hashlib.sha256(b'').hexdigest()[:8],"
            " ssl.create_default_context().protocol.name)\n" % MODULES)
    out = run_ok([exe, "-c", code]).splitlines()
    assert out[:-1] == ["%s built-in" % n for n in MODULES]
    assert out[-1] == "0.125 7 (42,) e3b0c442 PROTOCOL_TLS_CLIENT"
    if shutil.which("strace"):
        result, calls = fscalls.strace_paths(
            [str(exe), "-c", "import " + ", ".join(MODULES)])
        assert result.returncode == 0, result.stderr
        assert fscalls.outside_allow_list(calls, str(exe)) == []
