"""pip wheels as users have them: the pyenv 3.11.7 environment of these
machines (site-packages full of manylinux, mypyc and Rust wheels), taken
with --python.  Skipped where that environment is not."""
import glob

import pytest

from helpers import inbuilt, run, run_ok

PYENV = sorted(glob.glob("/root/.pyenv/versions/3.11.*/bin/python3.11"))


@pytest.fixture(scope="module")
def pyenv_python():
    if not PYENV:
        pytest.skip("no pyenv")
    return PYENV[-1]


@pytest.fixture(scope="module")
def requests_exe(pyenv_python, tmp_path_factory):
    """requests with what it requires, charset_normalizer among them: a
    mypyc wheel whose compiled modules import a top-level helper named
    81d243bd2c585b0f4821__mypyc (no identifier)."""
    if run([pyenv_python, "-c", "import requests"]).returncode != 0:
        pytest.skip("requests is not installed for %s" % pyenv_python)
    out = tmp_path_factory.mktemp("requests") / "req"
    r = inbuilt("build", "--python", pyenv_python, "--include", "requests",
                "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including charset_normalizer" in r.stderr
    return out


def test_requests_imports_as_under_its_python(pyenv_python, requests_exe):
    code = ("import importlib, requests, charset_normalizer.md as md\n"
            "print(requests.__version__, md.__file__.endswith('.so'))\n"
            "print(sorted(n for n in __import__('sys').modules\n"
            "             if n.endswith('__mypyc')))\n")
    stock = run([pyenv_python, "-W", "error", "-c", code])
    assert stock.returncode == 0, stock.stderr
    r = run([requests_exe, "-W", "error", "-c", code])
    assert (r.returncode, r.stdout, r.stderr) == (0, stock.stdout, "")
    assert "__mypyc" in r.stdout


def test_mypyc_helper_by_name(pyenv_python, requests_exe, tmp_path):
    helper = run_ok([pyenv_python, "-c",
                     "import sys, charset_normalizer.md\n"
                     "print(*[n for n in sys.modules if "
                     "n.endswith('__mypyc')])"]).strip()
    assert helper and not helper.isidentifier()
    assert run_ok([requests_exe, "-c",
                   "import importlib, sys; "
                   "print(importlib.import_module(sys.argv[1]).__name__)",
                   helper]).strip() == helper
    out = tmp_path / "helper"
    r = inbuilt("build", "--python", pyenv_python, "--include", helper,
                "--no-deps", "-o", out)
    assert r.returncode == 0, r.stderr
