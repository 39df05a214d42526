"""Module source kept in the archive (zlib-compressed): tracebacks show
source lines, inspect.getsource works, linecache reads it from memory and
never from the disk, code objects are named like __file__; --no-source
leaves it out."""
import shutil

import pytest

from helpers import run, run_ok
import fscalls  # scripts/fscalls.py

MARKER = 'raise ValueError("datapkg.boom exploded on purpose")  # marker line'


def test_uncaught_exception_traceback_shows_source_lines(data_exe):
    r = run([data_exe, "-c", "import datapkg.boom as b; b.outer()"])
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    where = lines.index('  File "%s/datapkg/boom.py", line 6, in explode'
                        % data_exe)
    assert lines[where + 1].strip() == MARKER
    assert "    return explode(3)" in lines
    assert lines[-1] == "ValueError: datapkg.boom exploded on purpose"


def test_formatted_traceback_and_stdlib_frames_show_source(data_exe):
    code = ("import traceback, json\n"
            "try:\n    json.loads('{bad')\n"
            "except ValueError:\n    print(traceback.format_exc())\n")
    out = run_ok([data_exe, "-c", code])
    assert '%s/json/decoder.py", line' % data_exe in out
    assert "obj, end = self.raw_decode(s, idx=_w(s, 0).end())" in out


def test_inspect_getsource_and_loader_get_source(data_exe):
    code = ("import inspect, datapkg.boom as b, json\n"
            "print(inspect.getsource(b.explode))\n"
            "src = b.__loader__.get_source('datapkg.boom')\n"
            "print(src.count('\\n'))\n"
            "print(inspect.getsource(json).startswith('r\"\"\"JSON'))\n")
    out = run_ok([data_exe, "-c", code])
    assert out.startswith("def explode(n):\n    if n > 2:\n        " + MARKER)
    assert out.splitlines()[-2:] == ["11", "True"]


def test_code_objects_are_named_like_file(data_exe):
    code = ("import datapkg.boom as b, json.decoder as d\n"
            "print(b.explode.__code__.co_filename == b.__file__,\n"
            "      d.JSONDecoder.decode.__code__.co_filename == d.__file__,\n"
            "      b.__file__)\n")
    out = run_ok([data_exe, "-c", code]).split()
    assert out == ["True", "True", "%s/datapkg/boom.py" % data_exe]


@pytest.mark.skipif(shutil.which("strace") is None,
                    reason="strace is not installed")
def test_linecache_never_touches_the_disk_for_embedded_modules(data_exe):
    code = ("import linecache, traceback, inspect, datapkg.boom as b\n"
            "try:\n    b.outer()\n"
            "except ValueError:\n    tb = traceback.format_exc()\n"
            "assert 'marker line' in tb, tb\n"
            "assert 'marker line' in linecache.getline(b.__file__, 6)\n"
            "linecache.checkcache()\n"
            "assert linecache.getlines(b.__file__)\n"
            "print('ok')\n")
    result, calls = fscalls.strace_paths([str(data_exe), "-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"
    touching = [line for _, path, line in calls
                if path.startswith(str(data_exe) + "/")]
    assert touching == []


def test_no_source_leaves_source_out(nosource_exe, data_exe):
    code = ("import datapkg.boom as b\n"
            "print(b.__loader__.get_source('datapkg.boom'))\n"
            "b.outer()\n")
    r = run([nosource_exe, "-c", code])
    assert r.stdout == "None\n"
    assert 'datapkg/boom.py", line 6, in explode' in r.stderr
    assert "marker line" not in r.stderr
    assert nosource_exe.stat().st_size < data_exe.stat().st_size - 2_000_000


def test_linecache_hook_loads_nothing_heavy(data_exe):
    """linecache (imported by traceback, logging, ...) gets its hook without
    importlib.resources, pathlib or tempfile being imported."""
    code = ("import sys, linecache\n"
            "print(sorted(m for m in ('importlib.resources', 'pathlib',\n"
            "             'tempfile', 'importlib.metadata') "
            "if m in sys.modules))\n")
    assert run_ok([data_exe, "-c", code]) == "[]\n"


def test_exception_in_thread_shows_source_lines(data_exe):
    # Before 3.13 the default threading.excepthook prints with CPython's C
    # printer, which finds no source for modules of the archive.
    code = ("import threading, datapkg.boom as b\n"
            "t = threading.Thread(target=b.outer, name='worker-7')\n"
            "t.start(); t.join()\n"
            "print(threading.excepthook is threading.__excepthook__)\n")
    r = run([data_exe, "-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "True\n"
    lines = r.stderr.splitlines()
    assert lines[0] == "Exception in thread worker-7:"
    where = lines.index('  File "%s/datapkg/boom.py", line 6, in explode'
                        % data_exe)
    assert lines[where + 1].strip() == MARKER
    assert lines[-1] == "ValueError: datapkg.boom exploded on purpose"


def test_thread_excepthook_set_by_the_program_is_kept(data_exe):
    code = ("import threading\n"
            "def hook(args): print('mine', args.exc_type.__name__)\n"
            "threading.excepthook = hook\n"
            "t = threading.Thread(target=lambda: 1 / 0); t.start(); t.join()\n")
    r = run([data_exe, "-c", code])
    assert (r.returncode, r.stdout, r.stderr) == (
        0, "mine ZeroDivisionError\n", "")


def test_exception_in_del_shows_source_lines(data_exe):
    # sys.unraisablehook: CPython's default prints with its C printer.
    code = ("import sys, datapkg.boom as b\n"
            "class C:\n"
            "    def __del__(self):\n"
            "        b.outer()\n"
            "c = C(); del c\n"
            "print(sys.unraisablehook is not sys.__unraisablehook__)\n")
    r = run([data_exe, "-c", code])
    assert (r.returncode, r.stdout) == (0, "True\n"), r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith("Exception ignored in: <function C.__del__")
    where = lines.index('  File "%s/datapkg/boom.py", line 6, in explode'
                        % data_exe)
    assert lines[where + 1].strip() == MARKER
    assert lines[-1] == "ValueError: datapkg.boom exploded on purpose"
