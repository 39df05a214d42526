"""A submodule comes from the directories its parent package's __path__
lists, as under CPython's path finder, not from whatever the archive holds
under its dotted name: setuptools' distutils hack makes `distutils` be
setuptools._distutils, so distutils.core is setuptools/_distutils/core.py
(and the stdlib's distutils, also in the executable, is not used), and a
package that points its __path__ at another package's directory gets that
package's modules.  Compared with stock, for Debian's setuptools and for
pyenv 3.11.7's."""
import json
import os

import pytest

from helpers import PYTHON_TARGET, clean_env, describe, inbuilt, run

PYENV_311 = "/root/.pyenv/versions/3.11.7/bin/python3.11"

# What the executable and stock must print alike: where each module's file
# is, relative to the directory holding the top-level package.
PROGRAM = r"""
import json, sys
import setuptools, distutils.core
import distutils.command.build_ext
from distutils import sysconfig
import setuptools.command.build_ext

def rel(mod):
    f = mod.__file__
    for top in ("setuptools", "distutils"):
        i = f.rfind("/" + top + "/")
        if i >= 0:
            return f[i + 1:]
    return f

names = ["distutils", "distutils.core", "distutils.command.build_ext",
         "distutils.sysconfig", "setuptools.command.build_ext"]
out = {n: rel(sys.modules[n]) for n in names}
out["same_module"] = sys.modules["distutils.core"] is sys.modules.get(
    "setuptools._distutils.core", sys.modules["distutils.core"])
out["stdlib_distutils_core_loaded"] = any(
    m.__spec__ is not None and m.__spec__.origin is not None
    and "setuptools" not in m.__spec__.origin
    for n, m in list(sys.modules.items())
    if n.startswith("distutils.") and getattr(m, "__spec__", None))
print(json.dumps(out, sort_keys=True))
"""

# alias points its __path__ at real's directory: alias.mod is real/mod.py;
# alias/own.py is then not found, as on disk.
ALIAS_INIT = (
    "import os\n"
    "__path__ = [os.path.join(os.path.dirname(__file__), os.pardir, "
    "'real')]\n")
ALIAS_PROGRAM = r"""
import importlib, json
import alias.mod
res = {"mod": alias.mod.WHO, "name": alias.mod.__name__,
       "file": "/".join(alias.mod.__file__.split("/")[-2:]),
       "spec_name": alias.mod.__spec__.name}
try:
    importlib.import_module("alias.own")
    res["own"] = "imported"
except ImportError as e:
    res["own"] = type(e).__name__
print(json.dumps(res, sort_keys=True))
"""


def has_setuptools(python):
    return os.access(python, os.X_OK) and run(
        [python, "-c", "import setuptools"]).returncode == 0


TARGETS = [p for p in (PYTHON_TARGET, PYENV_311) if has_setuptools(p)]


@pytest.fixture(scope="module", params=TARGETS)
def setuptools_exe(request, tmp_path_factory):
    """(target, an executable of target with setuptools)."""
    out = tmp_path_factory.mktemp("setuptools") / "st"
    r = inbuilt("build", "--python", request.param, "--include",
                "setuptools", "-o", out)
    assert r.returncode == 0, describe(r)
    yield request.param, out
    out.unlink()


@pytest.mark.skipif(not TARGETS, reason="no setuptools for any target")
def test_distutils_is_setuptools_copy_as_under_stock(setuptools_exe,
                                                      tmp_path):
    target, exe = setuptools_exe
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    stock = run([target, prog])
    ours = run([exe, prog])
    assert stock.returncode == 0, describe(stock)
    assert ours.returncode == 0, describe(ours)
    want = json.loads(stock.stdout)
    assert want["distutils.core"] == "setuptools/_distutils/core.py"
    assert json.loads(ours.stdout) == want
    assert ours.stderr == stock.stderr


def test_path_pointing_at_another_package(tmp_path):
    pkgs = tmp_path / "pkgs"
    for name, files in {
            "alias": {"__init__.py": ALIAS_INIT, "own.py": "WHO = 'alias'\n"},
            "real": {"__init__.py": "", "mod.py": "WHO = 'real'\n"}}.items():
        (pkgs / name).mkdir(parents=True)
        for f, text in files.items():
            (pkgs / name / f).write_text(text)
    exe = tmp_path / "alias_exe"
    r = inbuilt("build", "--path", pkgs, "--include", "alias", "--include",
                "real", "-o", exe)
    assert r.returncode == 0, describe(r)
    prog = tmp_path / "prog.py"
    prog.write_text(ALIAS_PROGRAM)
    stock = run([PYTHON_TARGET, prog],
                env=clean_env(PYTHONPATH=pkgs))
    ours = run([exe, prog])
    assert stock.returncode == 0, describe(stock)
    assert ours.returncode == 0, describe(ours)
    want = json.loads(stock.stdout)
    assert want == {"mod": "real", "name": "alias.mod",
                    "file": "real/mod.py", "spec_name": "alias.mod",
                    "own": "ModuleNotFoundError"}
    assert json.loads(ours.stdout) == want


DIST_PACKAGES = "/usr/lib/python3/dist-packages"


@pytest.mark.skipif(
    PYTHON_TARGET != "/usr/bin/python3.11"
    or not os.path.isdir(os.path.join(DIST_PACKAGES, "setuptools")),
    reason="no Debian setuptools for Debian's python3.11")
def test_setuptools_from_disk_gets_its_own_distutils(stdlib_exe, tmp_path):
    # setuptools not built in, imported from disk (the filesystem allowed):
    # its distutils hack makes `distutils` setuptools/_distutils from disk,
    # whose __path__ lists no directory of the executable; distutils.core
    # then comes from there too, not from the stdlib's copy in the
    # executable (numpy's test_public_api imports setuptools so).
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    env = clean_env(PYTHONPATH=DIST_PACKAGES)
    stock = run([PYTHON_TARGET, prog], env=env)
    ours = run([stdlib_exe, prog],
               env=clean_env(PYTHONPATH=DIST_PACKAGES,
                             INBUILT_ALLOW_FILESYSTEM=1))
    assert stock.returncode == 0, describe(stock)
    assert ours.returncode == 0, describe(ours)
    want = json.loads(stock.stdout)
    assert want["distutils.core"] == "setuptools/_distutils/core.py"
    assert json.loads(ours.stdout) == want
