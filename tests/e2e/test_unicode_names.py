"""Extension modules whose names are not ASCII (PEP 489): their init
function is PyInitU_ and the punycode of the name, '-' made '_', and it
must use multi-phase init.  Two tiny C extensions, top-level café and
unipkg.日本語, compiled here with the init names Python's own punycode codec gives, are
imported from an executable, as shared objects and linked in as built-in
modules, and compared with stock."""
import subprocess
import sysconfig

import pytest

from helpers import PYTHON_TARGET, clean_env, describe, inbuilt, run

MULTI = r"""
#include <Python.h>
static PyObject *who(PyObject *m, PyObject *unused)
{
    return PyUnicode_FromString("%(name)s multi-phase");
}
static PyMethodDef methods[] = {{"who", who, METH_NOARGS, NULL}, {0}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, 0,
                                 methods};
PyMODINIT_FUNC %(init)s(void) { return PyModuleDef_Init(&def); }
"""

# CPython refuses single-phase init for such a name: so must we.
SINGLE = r"""
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, -1};
PyMODINIT_FUNC %(init)s(void) { return PyModule_Create(&def); }
"""

# (dotted name, source template)
MODULES = [("café", MULTI), ("unipkg.日本語", MULTI),
           ("unipkg.naïve_single", SINGLE)]

PROGRAM = r"""
import café, unipkg.日本語 as j
print(café.who(), café.__name__, café.__spec__.name)
print(j.who(), j.__name__, j.__spec__.name)
try:
    import unipkg.naïve_single
except SystemError as e:
    print(type(e).__name__, e)
"""


def init_name(dotted):
    """PEP 489's init function name, from Python's own codec."""
    last = dotted.rpartition(".")[2]
    return "PyInitU_" + last.encode("punycode").decode("ascii").replace(
        "-", "_")


def target_paths():
    code = ("import sysconfig; print(sysconfig.get_paths()['include']); "
            "print(sysconfig.get_config_var('EXT_SUFFIX'))")
    out = subprocess.run([PYTHON_TARGET, "-c", code], capture_output=True,
                         text=True, check=True).stdout.split("\n")
    return out[0], out[1]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A directory with café and unipkg.日本語 as shared objects, and the C
    source of each: (directory, {name: source path})."""
    include, suffix = target_paths()
    d = tmp_path_factory.mktemp("unicode")
    (d / "pkgs" / "unipkg").mkdir(parents=True)
    (d / "pkgs" / "unipkg" / "__init__.py").write_text("")
    sources = {}
    for name, template in MODULES:
        c = d / ("%s.c" % name.replace(".", "_"))
        c.write_text(template % {"name": name, "init": init_name(name)},
                     encoding="utf-8")
        sources[name] = c
        so = d / "pkgs" / (name.replace(".", "/") + suffix)
        r = subprocess.run(["cc", "-O1", "-fPIC", "-shared", "-I" + include,
                            str(c), "-o", str(so)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    return d, sources


@pytest.fixture(scope="module")
def stock(tree):
    d, _ = tree
    r = run([PYTHON_TARGET, "-c", PROGRAM],
            env=clean_env(PYTHONPATH=d / "pkgs"))
    assert r.returncode == 0, describe(r)
    return r.stdout


def test_punycode_init_names_are_what_python_gives():
    assert init_name("café") == "PyInitU_caf_dma"


@pytest.mark.parametrize("how", ["shared", "builtin"])
def test_non_ascii_extension_imports_as_under_stock(tree, stock, tmp_path,
                                                    how):
    d, sources = tree
    exe = tmp_path / ("uni-" + how)
    options = ["--path", d / "pkgs", "--include", "café", "--include",
               "unipkg"]
    if how == "builtin":
        for name, c in sources.items():
            options += ["--extension", "%s=%s" % (name, c)]
    r = inbuilt("build", *options, "-o", exe)
    assert r.returncode == 0, describe(r)
    ours = run([exe, "-c", PROGRAM])
    assert ours.returncode == 0, describe(ours)
    assert ours.stdout == stock
    assert "café multi-phase café café" in stock
    assert "SystemError initialization of nave_single_edb did not return " \
        "PyModuleDef" in stock
    if how == "builtin":
        origins = run([exe, "-c", "import café, unipkg.日本語 as j; "
                       "print(café.__spec__.origin, j.__spec__.origin)"])
        assert origins.stdout.split() == ["built-in", "built-in"], \
            describe(origins)
