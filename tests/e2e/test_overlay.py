"""INBUILT_OVERLAY=DIR: modules and data files of DIR take precedence over
the embedded ones, found with one directory listing per package, without
rebuilding; what the overlay lacks still comes from the archive."""
import json

import pytest

from helpers import clean_env, run, run_ok
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


def test_filesystem_calls_stay_inside_the_overlay(data_exe, overlay):
    result, calls = strace_paths(
        [str(data_exe), "-c", PROGRAM],
        env=clean_env(INBUILT_OVERLAY=overlay, LC_ALL="C.UTF-8"))
    assert result.returncode == 0, result.stderr
    bad = outside_allow_list(calls, str(data_exe))
    outside = [c for c in bad if not c[1].startswith(str(overlay))]
    assert outside == [], "\n".join(c[2] for c in outside)
    # One listing of the overlay and of datapkg/ and datapkg/data/, the
    # two module and data files read: a handful.
    assert 3 <= len(bad) <= 8, "\n".join(c[2] for c in bad)
