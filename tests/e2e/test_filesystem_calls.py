"""The point of inbuilt: starting up and importing make no filesystem calls.

Every file-related system call is traced with `strace -f -e trace=%file`;
the calls that name a path must all be on the allow-list of
bench/fscalls.py (the same filter `make demo` and `make bench` count with):
the execve of the executable itself, /etc/ld.so.cache, /etc/ld.so.preload,
the shared libraries the executable links (as ldd lists them), /proc/self/*
and /etc/localtime.  A positive control shows the filter does catch the
calls of a stock interpreter.

The runs use LC_ALL=C.UTF-8 (fscalls.run_env), so a developer's own locale
cannot change the result: glibc builds in only the "C" locale, and a program
calling setlocale() under any other -- C.UTF-8 included, on Debian 12 --
makes glibc open locale-archive, locale.alias and /usr/lib/locale/*/LC_CTYPE.
The runtime never calls setlocale() (UTF-8 mode instead), so no locale may
cost a filesystem call; test_no_locale_makes_filesystem_calls checks others.
"""

import shutil

import pytest

from helpers import PYTHON_TARGET, run_ok  # puts scripts/ on sys.path
import fscalls  # scripts/fscalls.py

IMPORT_SET = "import json, decimal, email.mime.text, asyncio"

pytestmark = pytest.mark.skipif(shutil.which("strace") is None,
                                reason="strace is not installed")


def offending(exe, *args, env=None):
    """Run exe args under strace; return the traced lines outside the
    allow-list, and the number of calls that named a path."""
    result, calls = fscalls.strace_paths([str(exe), *args], env=env)
    assert result.returncode == 0, result.stderr
    bad = fscalls.outside_allow_list(calls, str(exe))
    return [line for _, _, line in bad], len(calls)


def test_import_set_makes_no_filesystem_calls(stdlib_exe):
    bad, total = offending(stdlib_exe, "-c", IMPORT_SET)
    assert bad == [], "%d filesystem calls outside the allow-list:\n%s" % (
        len(bad), "\n".join(bad))
    assert total > 0, "strace saw no call at all: is the filter broken?"


def test_bare_startup_makes_no_filesystem_calls(stdlib_exe):
    bad, _ = offending(stdlib_exe, "-c", "pass")
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("lc_all", ["C", "de_DE.UTF-8", "en_US.ISO-8859-1"])
def test_no_locale_makes_filesystem_calls(stdlib_exe, lc_all):
    env = fscalls.run_env({"LC_ALL": lc_all, "LANG": lc_all})
    bad, _ = offending(stdlib_exe, "-c", "print('caf\u00e9')", env=env)
    assert bad == [], "\n".join(bad)


def test_included_package_import_makes_no_filesystem_calls(app_exe):
    bad, _ = offending(app_exe, "-c", "import mypkg.other.y, solo")
    assert bad == [], "\n".join(bad)


def test_entry_tool_makes_no_filesystem_calls(cli_entry_exe):
    bad, _ = offending(cli_entry_exe, "--status", "0")
    assert bad == [], "\n".join(bad)


def test_missing_module_is_reported_without_filesystem_calls(stdlib_exe):
    code = ("try:\n    import no_such_module_xyz\n"
            "except ModuleNotFoundError:\n    pass\n")
    bad, _ = offending(stdlib_exe, "-c", code)
    assert bad == [], "\n".join(bad)


def test_filter_catches_stock_python_import_calls():
    # Positive control: the same run on stock CPython is full of stat and
    # open calls of the stdlib directories, and the filter reports them.
    bad, total = offending(PYTHON_TARGET, "-c", IMPORT_SET)
    assert len(bad) > 100, "only %d of %d calls flagged" % (len(bad), total)
    assert any("/usr/lib/python3.11/json" in line for line in bad)


def test_strace_sees_the_executable_run(stdlib_exe):
    # The executable under strace behaves as without it.
    assert run_ok([stdlib_exe, "-c", IMPORT_SET + "; print('ok')"]) == "ok\n"
    result, calls = fscalls.strace_paths(
        [str(stdlib_exe), "-c", IMPORT_SET + "; print('ok')"])
    assert result.stdout == "ok\n"
    assert any(sc == "execve" for sc, _, _ in calls)
