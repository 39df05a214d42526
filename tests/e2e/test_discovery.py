"""Finding modules in memory: pkgutil, importlib.util.find_spec, reload,
namespace packages split over two distributions, -m and runpy."""
import json

import pytest

from helpers import PYTHON_TARGET, inbuilt, py_json, run, run_ok

WALK = r"""
import email, json, pkgutil, sys
out = {
    "iter": sorted(m.name for m in pkgutil.iter_modules(email.__path__)),
    "walk": sorted(m.name for m in pkgutil.walk_packages(email.__path__,
                                                         "email.")),
    "top_has_json": any(m.name == "json" for m in pkgutil.iter_modules()),
}
json.dump(out, sys.stdout)
"""


def test_pkgutil_lists_stdlib_packages_like_cpython(data_exe):
    got = py_json(data_exe, WALK)
    expected = py_json(PYTHON_TARGET, WALK)
    assert got == expected
    assert "email.mime.text" in got["walk"]


def test_pkgutil_lists_an_included_package(data_exe):
    code = ("import pkgutil, datapkg, json\n"
            "print(json.dumps([(m.name, m.ispkg) for m in "
            "pkgutil.iter_modules(datapkg.__path__, 'datapkg.')]))\n")
    assert json.loads(run_ok([data_exe, "-c", code])) == [
        ["datapkg.boom", False], ["datapkg.nextto", False],
        ["datapkg.pool", False], ["datapkg.reader", False]]


def test_find_spec_and_reload(data_exe):
    code = ("import importlib, importlib.util as u, datapkg.boom as b\n"
            "s = u.find_spec('datapkg.boom')\n"
            "print(s.origin == b.__file__, s.loader is b.__loader__,\n"
            "      u.find_spec('datapkg.nope'), u.find_spec('nope'))\n"
            "b.explode = None\n"
            "r = importlib.reload(b)\n"
            "print(r is b, r.explode(1))\n")
    assert run_ok([data_exe, "-c", code]).split() == [
        "True", "True", "None", "None", "True", "1"]


def test_dash_m_runs_modules_and_package_main_from_memory(app_exe):
    out = run_ok([app_exe, "-m", "json.tool"], input='{"b": [1]}')
    assert json.loads(out) == {"b": [1]}
    r = run([app_exe, "-m", "mypkg", "x"])
    assert r.returncode == 0 and "mypkg" in r.stdout, r.stdout + r.stderr
    code = ("import runpy\n"
            "g = runpy.run_module('mypkg.util', run_name='not_main')\n"
            "print(g['__name__'], g['__file__'].endswith('mypkg/util.py'))\n")
    assert run_ok([app_exe, "-c", code]).split() == ["not_main", "True"]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def split_distributions(tmp_path_factory):
    """Namespace package nsd split over two distributions, each in its own
    root with its own .dist-info, as two wheels would install it."""
    root = tmp_path_factory.mktemp("dists")
    write(root / "a" / "nsd" / "alpha" / "__init__.py", "NAME = 'alpha'\n")
    write(root / "a" / "nsd" / "alpha" / "words.txt", "one\ntwo\n")
    write(root / "a" / "nsd_alpha-1.0.dist-info" / "METADATA",
          "Metadata-Version: 2.1\nName: nsd-alpha\nVersion: 1.0\n\n")
    write(root / "a" / "nsd_alpha-1.0.dist-info" / "RECORD",
          "nsd/alpha/__init__.py,,\nnsd/alpha/words.txt,,\n")
    write(root / "b" / "nsd" / "beta.py", "NAME = 'beta'\n")
    write(root / "b" / "nsd_beta-2.0.dist-info" / "METADATA",
          "Metadata-Version: 2.1\nName: nsd-beta\nVersion: 2.0\n\n")
    write(root / "b" / "nsd_beta-2.0.dist-info" / "RECORD",
          "nsd/beta.py,,\n")
    return root


def test_namespace_package_split_over_two_distributions(split_distributions,
                                                        tmp_path):
    root = split_distributions
    exe = tmp_path / "app"
    r = inbuilt("build", "--path", root / "a", "--path", root / "b",
                "--include", "nsd", "-o", exe)
    assert r.returncode == 0, r.stderr
    code = ("import nsd, nsd.alpha, nsd.beta, pkgutil, json\n"
            "import importlib.metadata as md, importlib.resources as res\n"
            "print(json.dumps([nsd.alpha.NAME, nsd.beta.NAME,\n"
            "    sorted(m.name for m in pkgutil.iter_modules(nsd.__path__)),\n"
            "    md.version('nsd-alpha'), md.version('nsd-beta'),\n"
            "    res.files('nsd.alpha').joinpath('words.txt').read_text(),\n"
            "    nsd.__spec__.origin]))\n")
    got = json.loads(run_ok([exe, "-c", code]))
    assert got == ["alpha", "beta", ["alpha", "beta"], "1.0", "2.0",
                   "one\ntwo\n", None]
