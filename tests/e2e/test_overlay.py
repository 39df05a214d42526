"""INBUILT_OVERLAY=DIR: modules and data files of DIR take precedence over
the embedded ones, found with one directory listing per package, without
rebuilding; what the overlay lacks still comes from the archive."""
import json
import subprocess

import pytest

from helpers import clean_env, run, run_ok, target_config
from fscalls import outside_allow_list, strace_paths

MESSAGE = "INBUILT_OVERLAY="

PROGRAM = r"""
import json, sys, pkgutil
import datapkg.reader, datapkg.boom_fixed, email.mime.text
from importlib import resources
print(json.dumps({
    "fixed": datapkg.boom_fixed.value(),
    "fixed_file": datapkg.boom_fixed.__file__,
    "reader_file": datapkg.reader.__file__,
    "greeting": datapkg.reader.greeting(),
    "table": pkgutil.get_data("datapkg", "table.csv").decode(),
    "blob": list(resources.files("datapkg").joinpath(
        "data/sub/blob.bin").read_bytes()),
    "email": email.mime.text.__file__.startswith(sys.executable + "/"),
}))
"""


@pytest.fixture(scope="module")
def overlay(tmp_path_factory):
    """An overlay replacing datapkg.boom_fixed (new module), a data file
    (data/greeting.txt) and table.csv, and a module that raises."""
    top = tmp_path_factory.mktemp("overlay")
    pkg = top / "datapkg"
    (pkg / "data").mkdir(parents=True)
    (pkg / "boom_fixed.py").write_text(
        "def value():\n    return 'fixed in the overlay'\n\n"
        "def fail():\n    raise ValueError('raised from the overlay')\n")
    (pkg / "data" / "greeting.txt").write_text("hello from the overlay\n")
    (pkg / "table.csv").write_text("name,value\noverlay,7\n")
    return top


def test_overlay_replaces_modules_and_data(data_exe, overlay):
    r = run([data_exe, "-c", PROGRAM],
            env=clean_env(INBUILT_OVERLAY=overlay))
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["fixed"] == "fixed in the overlay"
    assert got["fixed_file"] == str(overlay / "datapkg" / "boom_fixed.py")
    # Not in the overlay: from the archive.
    assert got["reader_file"] == str(data_exe) + "/datapkg/reader.py"
    assert got["email"] is True
    assert got["blob"] == [0, 1, 2] + list(b"binary") + [255]
    # Replaced data files, through importlib.resources and pkgutil.
    assert got["greeting"] == "hello from the overlay\n"
    assert got["table"] == "name,value\noverlay,7\n"
    # Said once on stderr.
    assert r.stderr.count(MESSAGE) == 1, r.stderr
    assert str(overlay) in r.stderr


def test_overlay_is_off_by_default(data_exe, overlay):
    r = run([data_exe, "-c", "import datapkg.boom_fixed"])
    assert r.returncode != 0
    assert "ModuleNotFoundError" in r.stderr
    assert MESSAGE not in r.stderr
    out = run_ok([data_exe, "-c", "import datapkg.reader as r; "
                  "print(r.greeting(), end='')"])
    assert out == "hello from datapkg\n"


def test_traceback_names_the_overlay_file(data_exe, overlay):
    r = run([data_exe, "-c", "import datapkg.boom_fixed as b; b.fail()"],
            env=clean_env(INBUILT_OVERLAY=overlay))
    assert r.returncode == 1
    where = str(overlay / "datapkg" / "boom_fixed.py")
    assert 'File "%s", line 5, in fail' % where in r.stderr, r.stderr
    assert "raise ValueError('raised from the overlay')" in r.stderr
    assert "ValueError: raised from the overlay" in r.stderr


def test_overlay_replaces_a_package_init(data_exe, tmp_path):
    pkg = tmp_path / "datapkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("WHERE = 'overlay init'\n")
    code = ("import datapkg, datapkg.reader\n"
            "print(datapkg.WHERE, datapkg.__file__, datapkg.__path__[0],\n"
            "      datapkg.reader.greeting(), end='')\n")
    out = run_ok([data_exe, "-c", code],
                 env=clean_env(INBUILT_OVERLAY=tmp_path))
    assert out.split(" ", 2)[:2] == ["overlay", "init"]
    assert str(pkg / "__init__.py") in out
    # Submodules and data the overlay lacks: from the archive.
    assert out.endswith("hello from datapkg\n")


def overlay_calls(exe, overlay, program):
    """The filesystem calls of exe running program with overlay beyond
    the allow-list, checked to be all inside the overlay."""
    result, calls = strace_paths(
        [str(exe), "-c", program],
        env=clean_env(INBUILT_OVERLAY=overlay, LC_ALL="C.UTF-8"))
    assert result.returncode == 0, result.stderr
    bad = outside_allow_list(calls, str(exe))
    outside = [c for c in bad if not c[1].startswith(str(overlay))]
    assert outside == [], "\n".join(c[2] for c in outside)
    return bad


def test_filesystem_calls_stay_inside_the_overlay(data_exe, overlay):
    bad = overlay_calls(data_exe, overlay, PROGRAM)
    # One listing of the overlay and of datapkg/ and datapkg/data/, the
    # two module and data files read: a handful.
    assert 3 <= len(bad) <= 8, "\n".join(c[2] for c in bad)


EXT_C = r"""
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, -1,
                                 NULL};
PyMODINIT_FUNC PyInit_%(last)s(void)
{
    PyObject *m = PyModule_Create(&def);
    if (m != NULL && PyModule_AddStringConstant(m, "WHERE", "%(where)s") < 0) {
        Py_CLEAR(m);
    }
    return m;
}
"""


def compile_extension(name, where, out_dir):
    """Compile extension module name (dotted) into out_dir, the way the
    target builds one; its WHERE is where."""
    include, suffix = target_config()
    last = name.rsplit(".", 1)[-1]
    src = out_dir / (last + ".c")
    src.write_text(EXT_C % {"name": name, "last": last, "where": where})
    so = out_dir / (last + suffix)
    r = subprocess.run(["cc", "-O2", "-fPIC", "-shared", "-I" + include,
                        str(src), "-o", str(so)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    src.unlink()
    return so


@pytest.fixture(scope="module")
def ext_overlay(tmp_path_factory):
    """An overlay with extension modules (datapkg._fixed_ext beside a
    datapkg/_fixed_ext.py it wins over, and top-level ovext), a namespace
    package of its own (ovns, ovns.deep) and one inside an embedded
    package (datapkg.nsdir)."""
    top = tmp_path_factory.mktemp("ext-overlay")
    (top / "datapkg" / "nsdir").mkdir(parents=True)
    (top / "ovns" / "deep").mkdir(parents=True)
    compile_extension("datapkg._fixed_ext", "overlay extension",
                      top / "datapkg")
    (top / "datapkg" / "_fixed_ext.py").write_text("WHERE = 'source'\n")
    compile_extension("ovext", "top-level extension", top)
    (top / "ovns" / "mod.py").write_text("WHERE = 'namespace module'\n")
    (top / "ovns" / "deep" / "leaf.py").write_text("WHERE = 'deep leaf'\n")
    (top / "datapkg" / "nsdir" / "leaf.py").write_text(
        "WHERE = 'namespace in an embedded package'\n")
    return top


EXT_PROGRAM = r"""
import json
import datapkg._fixed_ext as e, ovext, ovns.mod, ovns.deep.leaf
import datapkg.nsdir.leaf as nl, datapkg.reader
print(json.dumps({
    "ext": [e.WHERE, e.__file__, type(e.__loader__).__name__],
    "ovext": [ovext.WHERE, ovext.__file__],
    "ns": [ovns.mod.WHERE, ovns.mod.__file__, list(ovns.__path__),
           ovns.__file__ if hasattr(ovns, "__file__") else None],
    "deep": ovns.deep.leaf.WHERE,
    "nsdir": [nl.WHERE, nl.__file__],
    "reader": datapkg.reader.__file__,
}))
"""


def test_overlay_serves_extension_modules_and_namespace_packages(
        data_exe, ext_overlay):
    r = run([data_exe, "-c", EXT_PROGRAM],
            env=clean_env(INBUILT_OVERLAY=ext_overlay))
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    _, suffix = target_config()
    assert got["ext"] == [
        "overlay extension",
        str(ext_overlay / "datapkg" / ("_fixed_ext" + suffix)),
        "ExtensionFileLoader"]
    assert got["ovext"] == ["top-level extension",
                            str(ext_overlay / ("ovext" + suffix))]
    assert got["ns"] == ["namespace module",
                         str(ext_overlay / "ovns" / "mod.py"),
                         [str(ext_overlay / "ovns")], None]
    assert got["deep"] == "deep leaf"
    assert got["nsdir"] == ["namespace in an embedded package",
                            str(ext_overlay / "datapkg" / "nsdir" /
                                "leaf.py")]
    assert got["reader"] == str(data_exe) + "/datapkg/reader.py"
    assert r.stderr.count(MESSAGE) == 1, r.stderr


def test_extension_and_namespace_lookups_list_each_directory_once(
        data_exe, ext_overlay):
    bad = overlay_calls(data_exe, ext_overlay, EXT_PROGRAM)
    listed = [c[1].rstrip("/") for c in bad if "O_DIRECTORY" in c[2]]
    # The overlay, datapkg/, datapkg/nsdir/, ovns/, ovns/deep/: once each.
    assert sorted(listed) == sorted(set(listed)), "\n".join(listed)
    assert len(listed) == 5, "\n".join(c[2] for c in bad)
    # Besides the listings: the two extension modules opened by the
    # dynamic loader and the three source files read, a few calls each.
    assert len(bad) <= 5 + 5 * 3, "\n".join(c[2] for c in bad)


def test_file_layer_sees_the_overlay(data_exe, overlay):
    # The executable's paths give what importlib.resources gives: the
    # overlay's files where it has them, and its new files in listings.
    code = ("import json, os, sys\n"
            "d = os.path.join(sys.executable, 'datapkg')\n"
            "print(json.dumps([\n"
            "    open(os.path.join(d, 'data', 'greeting.txt')).read(),\n"
            "    os.path.getsize(os.path.join(d, 'table.csv')),\n"
            "    sorted(os.listdir(d)).count('table.csv'),\n"
            "    'boom_fixed.py' in os.listdir(d),\n"
            "    os.path.isfile(os.path.join(d, 'boom_fixed.py')),\n"
            "    open(os.path.join(d, 'reader.py')).read() == "
            "open(os.path.join(d, 'reader.py')).read(),\n"
            "    sorted(os.listdir(os.path.join(d, 'data')))]))\n")
    over = json.loads(run_ok([data_exe, "-c", code],
                             env=clean_env(INBUILT_OVERLAY=overlay)))
    assert over[:6] == ["hello from the overlay\n",
                        len("name,value\noverlay,7\n"), 1, True, True, True]
    plain = json.loads(run_ok([data_exe, "-c", code]))
    assert plain[:5] == ["hello from datapkg\n", plain[1], 1, False, False]
    assert over[6] == plain[6]

