"""Modules served from memory look like CPython's to Python code: packages,
relative imports, module attributes and specs, sys.frozen, sys.executable,
virtual file locations under the executable, and --exclude."""

import json
import os
import shutil

import pytest

from helpers import PKGS, PYTHON_TARGET, clean_env, inbuilt, run, run_ok

# The attributes compared with CPython's for each module in MODULES.
ATTRS_PROBE = r"""
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    m = importlib.import_module(name)
    s = m.__spec__
    out[name] = {
        "__name__": m.__name__,
        "__package__": m.__package__,
        "spec.name": s.name,
        "spec.parent": s.parent,
        "is_package": hasattr(m, "__path__"),
        "path_is_list_of_one": (isinstance(getattr(m, "__path__", None), list)
                                and len(m.__path__) == 1),
        "search_locations_are_path": (s.submodule_search_locations
                                      == getattr(m, "__path__", None)),
        "loader_is_spec_loader": m.__loader__ is s.loader,
        "origin_is_file": s.origin == m.__file__,
        "has_location": s.has_location,
        "in_sys_modules": sys.modules[name] is m,
    }
print(json.dumps(out, indent=1, sort_keys=True))
"""

# "P.__init__" is package P's code run again as a plain module, as CPython's
# path finder serves it from P/__init__.py (numpy.distutils imports what
# glob() lists next to its __file__, __init__.py included).
MODULES = ["mypkg", "mypkg.sub", "mypkg.sub.leaf", "mypkg.other.y", "solo",
           "json", "json.decoder", "email.mime.text", "collections.abc",
           "mypkg.sub.__init__", "json.__init__"]


def test_included_package_supports_relative_imports(app_exe):
    code = ("import mypkg.other.y as y, mypkg.sub as sub\n"
            "print(y.describe()); print(sub.NAME, sub.sibling.VALUE)")
    out = run_ok([app_exe, "-c", code]).splitlines()
    assert out == [
        "y -> leaf sees sibling.VALUE=42 and helper from mypkg.util",
        "sub 42",
    ]


def test_module_attributes_and_specs_match_cpython(app_exe):
    expected = run_ok([PYTHON_TARGET, "-B", "-c", ATTRS_PROBE, *MODULES],
                      cwd=PKGS)
    got = run_ok([app_exe, "-c", ATTRS_PROBE, *MODULES])
    assert json.loads(got) == json.loads(expected)


def test_init_of_a_package_is_a_module_of_its_own_file(app_exe):
    code = ("import os, mypkg.sub as p, mypkg.sub.__init__ as m\n"
            "print(m is not p, m.__file__ == p.__file__, m.NAME,\n"
            "      os.path.basename(m.__file__))\n"
            "import mypkg.__init__.x\n")
    r = run([app_exe, "-c", code])
    assert r.stdout.split() == ["True", "True", "sub", "__init__.py"]
    assert "No module named 'mypkg.__init__.x'" in r.stderr, r.stderr


def test_package_of_submodule_is_parent_and_of_package_itself(app_exe):
    code = ("import mypkg.sub.leaf as l, mypkg.sub as s, solo\n"
            "print(l.__package__, s.__package__, repr(solo.__package__))")
    assert run_ok([app_exe, "-c", code]).split() == [
        "mypkg.sub", "mypkg.sub", "''"]


def test_module_files_are_virtual_paths_under_the_executable(app_exe):
    code = ("import json, os, sys, mypkg.sub.leaf, solo, email\n"
            "print(json.dumps([json.__file__, mypkg.sub.leaf.__file__,\n"
            "    solo.__file__, mypkg.__path__, email.__path__,\n"
            "    mypkg.sub.leaf.__spec__.origin,\n"
            "    [os.path.exists(p) for p in (json.__file__, solo.__file__,\n"
            "                                  mypkg.__path__[0])]]))")
    files = json.loads(run_ok([app_exe, "-c", code]))
    exe = os.path.realpath(app_exe)
    assert files == [
        os.path.join(exe, "json", "__init__.py"),
        os.path.join(exe, "mypkg", "sub", "leaf.py"),
        os.path.join(exe, "solo.py"),
        [os.path.join(exe, "mypkg")],
        [os.path.join(exe, "email")],
        os.path.join(exe, "mypkg", "sub", "leaf.py"),
        [True, True, True],  # answered from memory (vfs.c)
    ]


def test_traceback_names_virtual_file_and_line_of_included_module(app_exe):
    r = run([app_exe, "-c", "import mypkg.cli; mypkg.cli.main(['boom'])"])
    assert r.returncode == 1
    assert "RuntimeError: boom requested" in r.stderr
    leaf = os.path.join(os.path.realpath(app_exe), "mypkg", "cli.py")
    assert 'File "%s", line' % leaf in r.stderr, r.stderr


# find_spec() puts the archive entry's index on spec.loader_state, and the
# loader reads the entry there instead of searching again; a state that names
# another entry, or none, must still load the module the spec names.
LOADER_STATE_PROBE = r"""
import importlib, importlib.util as u, json
out = {"state": type(u.find_spec("mypkg.sub.leaf").loader_state).__name__}
other = u.find_spec("solo").loader_state
for name in ("mypkg.sub.leaf", "json.decoder", "_ctypes"):
    want = sorted(vars(importlib.import_module(name)))
    for state in (other, None, 10 ** 9, "x", -1):
        spec = u.find_spec(name)
        spec.loader_state = state
        m = u.module_from_spec(spec)
        spec.loader.exec_module(m)
        out["%s %r" % (name, state)] = sorted(vars(m)) == want
print(json.dumps(out, sort_keys=True))
"""


def test_spec_carries_its_entry_and_loader_checks_it(app_exe):
    got = json.loads(run_ok([app_exe, "-c", LOADER_STATE_PROBE]))
    assert got.pop("state") == "int"
    assert got and all(got.values()), got


def test_sys_frozen_is_true(app_exe):
    assert run_ok([app_exe, "-c", "import sys; print(sys.frozen)"]) == "True\n"


def test_sys_executable_is_real_path_of_executable(app_exe, tmp_path):
    link = tmp_path / "link-to-app"
    link.symlink_to(app_exe)
    code = "import sys; print(sys.executable)"
    real = os.path.realpath(app_exe)
    assert run_ok([app_exe, "-c", code]).strip() == real
    assert run_ok([link, "-c", code]).strip() == real
    # Found through PATH, by bare name.
    env = clean_env(PATH="%s:%s" % (tmp_path, os.environ.get("PATH", "")))
    assert run_ok(["link-to-app", "-c", code], env=env).strip() == real


def test_dash_m_runs_included_package_main_module(app_exe):
    out = run_ok([app_exe, "-m", "mypkg", "a", "b"]).splitlines()
    assert out == [
        "mypkg __main__ name=__main__ argv=['a', 'b']",
        "leaf sees sibling.VALUE=42 and helper from mypkg.util",
    ]


def test_dash_m_runs_included_submodule_with_exit_status(app_exe):
    r = run([app_exe, "-m", "mypkg.cli", "x", "--status", "4"])
    assert r.stdout == "cli argv=['x', '--status', '4']\n"
    assert r.returncode == 4


def test_excluded_package_and_its_submodules_are_not_importable(app_exe):
    code = ("import importlib, mypkg\n"
            "for name in ('mypkg.extras', 'mypkg.extras.heavy',\n"
            "             'xmlrpc', 'xmlrpc.client'):\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except ModuleNotFoundError as e:\n"
            "        print(name, 'missing', e.name)\n"
            "    else:\n"
            "        print(name, 'imported')\n")
    assert run_ok([app_exe, "-c", code]).splitlines() == [
        "mypkg.extras missing mypkg.extras",
        "mypkg.extras.heavy missing mypkg.extras",
        "xmlrpc missing xmlrpc",
        "xmlrpc.client missing xmlrpc",
    ]


def test_excluded_names_are_absent_but_siblings_remain(stdlib_exe, app_exe):
    code = "import xmlrpc"
    run_ok([stdlib_exe, "-c", code])
    assert run([app_exe, "-c", code]).returncode == 1
    run_ok([app_exe, "-c", "import mypkg.util, json"])


def test_module_globals_hold_builtins_like_cpython(app_exe):
    # CPython's loaders run module code with exec(), which puts
    # __builtins__ into the module's globals; code such as zipimport's
    # relies on it.
    names = ["json", "email.mime.text", "zipimport", "mypkg.sub.leaf"]
    code = ("import importlib, sys\n"
            "mods = [importlib.import_module(n) for n in sys.argv[1:]]\n"
            "print([m.__name__ for m in mods\n"
            "       if '__builtins__' not in vars(m)])")
    assert run_ok([app_exe, "-c", code, *names]) == "[]\n"


def test_zipimporter_rejects_non_zip_file_with_zipimporterror(stdlib_exe):
    code = ("import zipimport\n"
            "try:\n"
            "    zipimport.zipimporter('/etc/hostname')\n"
            "except zipimport.ZipImportError:\n"
            "    print('ZipImportError')\n")
    assert run_ok([stdlib_exe, "-c", code]) == "ZipImportError\n"


def test_pkgutil_lists_submodules_of_included_package(app_exe):
    # Plugin discovery: pkgutil.iter_modules(pkg.__path__) goes through
    # sys.path_hooks, which must claim the virtual package directories.
    code = ("import pkgutil, mypkg, json\n"
            "for p in (mypkg.__path__, json.__path__):\n"
            "    print(sorted(m.name for m in pkgutil.iter_modules(p)))\n")
    expected = run_ok([PYTHON_TARGET, "-B", "-c", code], cwd=PKGS).splitlines()
    got = run_ok([app_exe, "-c", code]).splitlines()
    assert eval(got[0]) == sorted(set(eval(expected[0])) - {"extras"})
    assert got[1] == expected[1]


@pytest.fixture(scope="module")
def moved_exe(tmp_path_factory):
    """A fresh stdlib executable, copied to another directory after which
    the original is deleted: (copy, original path)."""
    built = tmp_path_factory.mktemp("moved-src") / "python"
    r = inbuilt("build", "-o", built)
    assert r.returncode == 0, r.stderr
    dest = tmp_path_factory.mktemp("moved-dest") / "relocated"
    shutil.copy2(built, dest)
    built.unlink()
    os.rmdir(built.parent)
    yield dest, built
    dest.unlink()


def test_executable_copied_elsewhere_runs_after_original_is_deleted(moved_exe):
    exe, original = moved_exe
    code = ("import json, sys, asyncio, email.mime.text\n"
            "print(json.dumps([sys.executable, json.__file__]))")
    executable, json_file = json.loads(run_ok([exe, "-c", code]))
    assert executable == os.path.realpath(exe)
    assert json_file == os.path.join(os.path.realpath(exe), "json",
                                     "__init__.py")
    assert not os.path.exists(original)
