"""What CPython's whole regression suite (make check-cpython-full) found
different from python3, each compared with stock python3: the frames
printed under sys.tracebacklimit, a start-up error's report, sys._stdlib_dir,
and, with the filesystem allowed, the submodules on disk of an embedded
package (ctypes.test, unittest.test)."""
import re

import pytest

from helpers import PYTHON_TARGET, clean_env, run, run_ok

# Three places CPython prints a traceback with its C printer, which keeps
# the innermost sys.tracebacklimit frames: sys.excepthook (with a chain),
# threading.excepthook and sys.unraisablehook.
TRACEBACKS = """\
import sys, threading
sys.tracebacklimit = eval(sys.argv[1])
def a(n):
    if n == 0:
        raise ValueError("deep")
    a(n - 1)
def t():
    try:
        a(3)
    except ValueError as e:
        raise KeyError("outer") from e
th = threading.Thread(target=t); th.start(); th.join()
class D:
    def __del__(self):
        a(2)
d = D(); del d
t()
"""


def normalized(text):
    """text without what differs between two runs of the same program:
    addresses, and the directory of a stdlib file (threading.py)."""
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    return re.sub(r'File "[^"]*/([^/"]+\.py)"', r'File "<stdlib>/\1"', text)


def as_under_stock(exe, code, want, stock_flags=(), cwd=None, env=None):
    """Run code under stock python3 (with stock_flags) and under exe (in
    env): stock must print want, and exe the same, exiting 0 with nothing
    on stderr."""
    stock = run([PYTHON_TARGET, *stock_flags, "-c", code], cwd=cwd)
    got = run([exe, "-c", code], cwd=cwd, env=env)
    assert stock.stdout == want
    assert (got.returncode, got.stdout, got.stderr) == (0, stock.stdout, "")


@pytest.mark.parametrize("limit", ["2", "1", "0", "-1", "'not an int'",
                                   "10**30"])
def test_tracebacklimit_keeps_the_innermost_frames(stdlib_exe, tmp_path,
                                                   limit):
    prog = tmp_path / "prog.py"
    prog.write_text(TRACEBACKS)
    stock = run([PYTHON_TARGET, prog, limit])
    got = run([stdlib_exe, prog, limit])
    assert "KeyError: 'outer'" in stock.stderr
    assert (got.returncode, normalized(got.stderr)) == (
        stock.returncode, normalized(stock.stderr))


# code.InteractiveConsole prints a traceback itself, without its own
# frame, when sys.excepthook is sys.__excepthook__.
CONSOLE = """\
import code, sys
console = code.InteractiveConsole()
console.write = sys.stdout.write
console.push("raise ValueError('in the console') from KeyError('k')")
print(sys.excepthook is sys.__excepthook__)
"""


def test_interactive_console_prints_as_under_python3(stdlib_exe):
    stock = run([PYTHON_TARGET, "-c", CONSOLE])
    got = run([stdlib_exe, "-c", CONSOLE])
    assert "ValueError: in the console" in stock.stdout
    assert (got.returncode, got.stdout, got.stderr) == (
        stock.returncode, stock.stdout, stock.stderr)


@pytest.mark.parametrize("env", [{"PYTHONTRACEMALLOC": "x"},
                                 {"PYTHONHASHSEED": "x"},
                                 {"PYTHONIOENCODING": "no-such-codec"}])
def test_startup_error_is_a_fatal_error_as_under_python3(stdlib_exe, env):
    stock = run([PYTHON_TARGET, "-c", "pass"], env=clean_env(**env))
    got = run([stdlib_exe, "-c", "pass"], env=clean_env(**env))
    assert stock.stderr.startswith("Fatal Python error: ")
    assert (got.returncode, normalized(got.stderr), got.stdout) == (
        stock.returncode, normalized(stock.stderr), stock.stdout)


def test_bad_x_option_is_a_fatal_error_as_under_python3(stdlib_exe):
    argv = ["-X", "frozen_modules=maybe", "-c", "pass"]
    stock = run([PYTHON_TARGET] + argv)
    got = run([stdlib_exe] + argv)
    assert (got.returncode, got.stderr) == (stock.returncode, stock.stderr)


def test_stdlib_dir_is_the_directory_of_os(stdlib_exe):
    # Listed as a directory; stat() of it is the executable's file, as for
    # sys.executable (test_vfs), so isdir() is not asked here.
    code = ("import os, sys; print(sys._stdlib_dir == os.path.dirname("
            "os.__file__), 'os.py' in os.listdir(sys._stdlib_dir))")
    as_under_stock(stdlib_exe, code, "True True\n")


# A fresh importlib (CPython's tests block _frozen_importlib to get one)
# checks each frozen module's file name against sys._stdlib_dir.
FRESH_IMPORTLIB = """\
import os, sys, zipimport
for n in ('_frozen_importlib', '_frozen_importlib_external'):
    sys.modules[n] = None
for n in [m for m in sys.modules if m.partition('.')[0] == 'importlib']:
    del sys.modules[n]
import importlib
print(importlib._bootstrap.__name__,
      os.path.relpath(zipimport.__file__, sys._stdlib_dir),
      zipimport.__file__ == zipimport.__spec__.loader_state.filename)
"""


def test_fresh_importlib_agrees_with_the_frozen_modules(stdlib_exe):
    as_under_stock(stdlib_exe, FRESH_IMPORTLIB,
                   "importlib._bootstrap zipimport.py True\n",
                   stock_flags=["-S"])


def test_meta_path_finders_have_a_module(stdlib_exe):
    code = ("import sys; print(all(isinstance(m.__module__, str) for m in "
            "sys.meta_path), sys.meta_path[0].__module__)")
    stock = run([PYTHON_TARGET, "-I", "-S", "-c", code])
    got = run([stdlib_exe, "-c", code])
    assert stock.stdout == "True _frozen_importlib\n"
    assert (got.returncode, got.stdout, got.stderr) == (0, "True _inbuilt\n",
                                                        "")


# The subpackages of embedded packages that the build leaves out (test
# suites), on disk in the target's stdlib directory.
SUBPACKAGES = """\
import sys, ctypes, unittest, json
import ctypes.test, unittest.test, unittest.test.testmock
for m in (ctypes.test, unittest.test, unittest.test.testmock):
    print(m.__name__, m.__file__)
print("json.decoder" in sys.modules, json.decoder.__name__)
"""


def target_stdlib():
    """The target's stdlib directory."""
    return run_ok([PYTHON_TARGET, "-c", "import sysconfig; "
                   "print(sysconfig.get_path('stdlib'))"]).strip()


def test_allowed_filesystem_imports_subpackages_on_disk(stdlib_exe):
    stdlib = target_stdlib()
    pythonpath = "%s:%s/lib-dynload" % (stdlib, stdlib)
    stock = run([PYTHON_TARGET, "-c", SUBPACKAGES],
                env=clean_env(PYTHONPATH=pythonpath))
    if "No module named 'ctypes.test'" in stock.stderr:
        pytest.skip("no ctypes.test in %s (libpython3.X-testsuite)" % stdlib)
    got = run([stdlib_exe, "-c", SUBPACKAGES],
              env=clean_env(PYTHONPATH=pythonpath,
                            INBUILT_ALLOW_FILESYSTEM="1"))
    assert stock.returncode == 0, stock.stderr
    assert (got.returncode, got.stdout, got.stderr) == (0, stock.stdout, "")
    # The embedded package still comes from memory, its directory on disk
    # comes after its virtual one.
    code = "import unittest; print(unittest.__file__); print(unittest.__path__)"
    r = run([stdlib_exe, "-c", code],
            env=clean_env(PYTHONPATH=pythonpath,
                          INBUILT_ALLOW_FILESYSTEM="1"))
    assert r.stdout == "%s/unittest/__init__.py\n%r\n" % (
        stdlib_exe, ["%s/unittest" % stdlib_exe, "%s/unittest" % stdlib])


def test_strict_executable_keeps_to_its_virtual_directory(stdlib_exe):
    stdlib = target_stdlib()
    r = run([stdlib_exe, "-c", "import unittest; print(unittest.__path__);"
             " import unittest.test"],
            env=clean_env(PYTHONPATH=stdlib))
    assert r.stdout == "%r\n" % ["%s/unittest" % stdlib_exe]
    assert "No module named 'unittest.test'" in r.stderr


def test_undecodable_module_name_is_looked_for_on_disk(stdlib_exe, tmp_path):
    # A file name that is not UTF-8 ('\udcff' once decoded, as CPython's
    # test_import makes it): the embedded modules do not have it, the path
    # finder does.
    (tmp_path / b"mod\xff.py".decode("utf-8", "surrogateescape")).write_text(
        "print('imported', __name__.encode('utf-8', 'surrogateescape'))\n")
    code = "__import__('mod\\udcff')"
    as_under_stock(stdlib_exe, code, "imported b'mod\\xff'\n", cwd=tmp_path,
                   env=clean_env(INBUILT_ALLOW_FILESYSTEM="1"))
    strict = run([stdlib_exe, "-c", code], cwd=tmp_path)
    assert "ModuleNotFoundError: No module named 'mod\\udcff'" in strict.stderr


def test_threading_excepthook_module_as_under_python3(stdlib_exe):
    # test_threading's check of threading.__all__ takes the names whose
    # __module__ is threading's or _thread's.
    code = ("import threading; print(threading.excepthook.__module__, "
            "'excepthook' in threading.__all__)")
    as_under_stock(stdlib_exe, code, "_thread True\n")
