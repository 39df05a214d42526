"""Messages a new user meets: an interpreter that is no supported Python
given as --python, a bad INBUILT_SO_MODE, and a module that is not in the
executable."""
import os

import pytest

from helpers import PYTHON_TARGET, clean_env, inbuilt, run

PY27 = "/root/.pyenv/versions/2.7.18/bin/python"


def one_error_line(r):
    """The CLI's stderr, asserted to be a single error line."""
    lines = r.stderr.splitlines()
    assert r.returncode == 1 and len(lines) == 1, r.stderr
    assert lines[0].startswith("inbuilt: error: "), r.stderr
    return lines[0]


def test_python_2_is_not_supported(tmp_path):
    if not os.access(PY27, os.X_OK):
        pytest.skip("no pyenv")
    line = one_error_line(inbuilt("build", "--python", PY27, "-o",
                                  tmp_path / "app"))
    assert line == ("inbuilt: error: --python %s is Python 2.7.18, which is "
                    "not supported: CPython 3.10 to 3.13 are" % PY27)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("script", [
    "#!/bin/sh\necho \"$@\" >&2\nexit 3\n",   # echoes what it was given
    "#!/bin/sh\necho hello\n",                 # succeeds, prints no version
])
def test_program_that_is_no_python_gets_one_line(tmp_path, script):
    prog = tmp_path / "notpython"
    prog.write_text(script)
    prog.chmod(0o755)
    line = one_error_line(inbuilt("build", "--python", prog, "-o",
                                  tmp_path / "app"))
    assert "--python %s: not a working Python interpreter" % prog in line
    assert "sysconfig" not in line  # the builder's query script
    assert sorted(os.listdir(tmp_path)) == ["notpython"]


def test_unknown_so_mode_is_a_start_up_error(stdlib_exe):
    r = run([stdlib_exe, "-c", "print('ran')"],
            env=clean_env(INBUILT_SO_MODE="bogus"))
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == ("%s: INBUILT_SO_MODE=bogus is not a mode: shared, "
                        "memory or cache\n" % stdlib_exe)
    for value in ("", "shared", "memory", "cache"):
        r = run([stdlib_exe, "-c", "import _decimal; print('ran')"],
                env=clean_env(INBUILT_SO_MODE=value))
        assert (r.returncode, r.stdout, r.stderr) == (0, "ran\n", ""), value


def test_missing_module_says_how_to_build_it_in(stdlib_exe):
    r = run([stdlib_exe, "-c", "import six"])
    assert r.returncode == 1
    assert r.stderr.splitlines()[-2:] == [
        "ModuleNotFoundError: No module named 'six'",
        "'six' is not in this executable: build it in with "
        "`inbuilt build --include six`"]
    # Code that looks for a module sees CPython's answers unchanged.
    code = ("import importlib.util\n"
            "print(importlib.util.find_spec('six'))\n"
            "try:\n    import six\n"
            "except ImportError as e:\n    print(e, e.name)\n")
    r = run([stdlib_exe, "-c", code])
    assert (r.returncode, r.stdout, r.stderr) == \
        (0, "None\nNo module named 'six' six\n", "")
    # A module of the executable's own packages gets no such line.
    r = run([stdlib_exe, "-c", "import json.nothere"])
    assert r.stderr.splitlines()[-1] == \
        "ModuleNotFoundError: No module named 'json.nothere'"


@pytest.mark.parametrize("code", [
    "import sys; sys.modules['x'] = None; import x",
    "import sys; sys.modules['_frozen_importlib'] = None\n"
    "import _frozen_importlib",
    "import sys; sys.modules['x'] = None; import x.y",
    "import sys, types; sys.modules['x'] = types.ModuleType('x')\n"
    "import x.y",
])
def test_blocked_module_gets_cpythons_message_only(stdlib_exe, code):
    """A module set to None in sys.modules (or one that is no package) was
    not looked for: no hint to build it in, CPython's message alone."""
    stock = run([PYTHON_TARGET, "-I", "-c", code])
    ours = run([stdlib_exe, "-c", code])
    assert stock.returncode == 1 and ("halted" in stock.stderr or
                                      "is not a package" in stock.stderr), \
        stock.stderr
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (stock.returncode, stock.stdout, stock.stderr)
    caught = ("try:\n    exec(%r)\nexcept ImportError as e:\n"
              "    print(type(e).__name__, e, e.name)\n" % code)
    stock = run([PYTHON_TARGET, "-I", "-c", caught])
    ours = run([stdlib_exe, "-c", caught])
    assert stock.stdout.startswith("ModuleNotFoundError ")
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (stock.returncode, stock.stdout, stock.stderr)
