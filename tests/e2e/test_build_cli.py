"""The `inbuilt` command line: help and version, and bad inputs, each of
which fails with a message naming the culprit and leaves nothing behind --
no file at OUT, no temporary file in OUT's directory."""

import glob
import os
import re

import pytest

from helpers import PKGS, PYTHON_TARGET, inbuilt, run_ok

PY39 = sorted(glob.glob("/root/.pyenv/versions/3.9*/bin/python3.9"))


def assert_failed_cleanly(r, outdir, out=None):
    """r failed with a message, and outdir holds nothing new (out absent)."""
    assert r.returncode != 0, r.stdout
    assert r.stderr.strip(), "no error message"
    assert "Traceback" not in r.stderr
    if out is not None:
        assert not os.path.lexists(out), "a failed build wrote %s" % out
    assert os.listdir(outdir) == [], "left behind: %s" % os.listdir(outdir)


def test_help_describes_build_and_exits_0():
    r = inbuilt("--help")
    assert r.returncode == 0
    assert "build" in r.stdout and "-o" in r.stdout


def test_build_help_lists_every_option():
    r = inbuilt("build", "--help")
    assert r.returncode == 0
    for option in ("--output", "--python", "--include", "--path",
                   "--exclude", "--entry", "--allow-filesystem", "--verbose"):
        assert option in r.stdout, option


def test_version_names_inbuilt_and_the_pythons_it_serves():
    r = inbuilt("--version")
    assert r.returncode == 0
    assert re.search(r"^inbuilt \d+\.\d+\.\d+ ", r.stdout), r.stdout
    assert "3.10 to 3.13" in r.stdout
    assert os.path.realpath(PYTHON_TARGET) in r.stdout


def test_unknown_option_is_usage_error(tmp_path):
    r = inbuilt("build", "--frobnicate", "-o", tmp_path / "out")
    assert r.returncode == 2
    assert "--frobnicate" in r.stderr
    assert os.listdir(tmp_path) == []


def test_unknown_command_is_usage_error():
    r = inbuilt("frobnicate")
    assert r.returncode == 2
    assert "frobnicate" in r.stderr


def test_build_without_output_is_usage_error():
    r = inbuilt("build")
    assert r.returncode == 2
    assert "-o" in r.stderr or "output" in r.stderr


def test_option_missing_its_argument_is_usage_error(tmp_path):
    r = inbuilt("build", "-o", tmp_path / "out", "--include")
    assert r.returncode == 2
    assert "--include" in r.stderr


def test_include_of_missing_name_names_it_and_the_roots_searched(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    r = inbuilt("build", "--path", PKGS, "--include", "no_such_pkg_xyz",
                "-o", outdir / "app")
    assert_failed_cleanly(r, outdir, outdir / "app")
    assert "no_such_pkg_xyz" in r.stderr
    assert str(PKGS) in r.stderr


def test_include_of_missing_submodule_names_it(tmp_path):
    outdir = tmp_path / "out"
    outdir.mkdir()
    r = inbuilt("build", "--path", PKGS, "--include", "mypkg.nope",
                "-o", outdir / "app")
    assert_failed_cleanly(r, outdir, outdir / "app")
    assert "mypkg.nope" in r.stderr


def test_syntax_error_in_included_file_is_reported_as_file_and_line(
        tmp_path):
    src = tmp_path / "src"
    (src / "badpkg").mkdir(parents=True)
    (src / "badpkg" / "__init__.py").write_text("")
    bad = src / "badpkg" / "broken.py"
    bad.write_text("x = 1\n\ndef f(:\n    pass\n")
    outdir = tmp_path / "out"
    outdir.mkdir()
    r = inbuilt("build", "--path", src, "--include", "badpkg",
                "-o", outdir / "app")
    assert_failed_cleanly(r, outdir, outdir / "app")
    assert re.search(r"broken\.py:3\b", r.stderr), r.stderr


def test_failed_build_keeps_existing_output_intact(tmp_path):
    out = tmp_path / "app"
    out.write_text("previous contents\n")
    r = inbuilt("build", "--path", PKGS, "--include", "no_such_pkg_xyz",
                "-o", out)
    assert r.returncode != 0
    assert out.read_text() == "previous contents\n"
    assert os.listdir(tmp_path) == ["app"]


def test_output_naming_existing_directory_is_an_error(tmp_path):
    target = tmp_path / "adir"
    target.mkdir()
    r = inbuilt("build", "-o", target)
    assert_failed_cleanly(r, target)
    assert str(target) in r.stderr
    assert os.listdir(tmp_path) == ["adir"]


def test_output_in_nonexistent_directory_is_an_error(tmp_path):
    out = tmp_path / "missing" / "app"
    r = inbuilt("build", "-o", out)
    assert r.returncode != 0
    assert "missing" in r.stderr
    assert "Traceback" not in r.stderr
    assert os.listdir(tmp_path) == []


def test_output_in_unwritable_directory_is_an_error(tmp_path):
    if os.geteuid() == 0:
        # Root writes through permissions; /proc refuses new files to all.
        out = "/proc/inbuilt-test-app"
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        os.chmod(locked, 0o555)
        out = locked / "app"
    r = inbuilt("build", "-o", out)
    assert r.returncode != 0
    assert str(out) in r.stderr or os.path.dirname(str(out)) in r.stderr
    assert not os.path.lexists(out)


@pytest.mark.skipif(not PY39, reason="no pyenv: no Python 3.9 under /root/.pyenv")
def test_python_older_than_3_10_is_not_supported(tmp_path):
    r = inbuilt("build", "--python", PY39[-1], "--include", "json",
                "-o", tmp_path / "app")
    assert r.returncode != 0
    assert "Python 3.9" in r.stderr, r.stderr
    assert "not supported: CPython 3.10 to 3.13 are" in r.stderr, r.stderr
    assert os.listdir(tmp_path) == []


def test_python_that_does_not_exist_is_an_error(tmp_path):
    r = inbuilt("build", "--python", tmp_path / "nope" / "python3",
                "-o", tmp_path / "app")
    assert r.returncode != 0
    assert str(tmp_path / "nope" / "python3") in r.stderr
    assert os.listdir(tmp_path) == []


def test_bad_entry_is_usage_error(tmp_path):
    r = inbuilt("build", "--entry", "not a name", "-o", tmp_path / "app")
    assert r.returncode == 2
    assert "not a name" in r.stderr
    assert os.listdir(tmp_path) == []


def test_entry_module_not_in_executable_is_an_error(tmp_path):
    r = inbuilt("build", "--entry", "no_such_pkg_xyz.cli:main",
                "-o", tmp_path / "app")
    assert r.returncode != 0
    assert "no_such_pkg_xyz" in r.stderr
    assert os.listdir(tmp_path) == []


def test_successful_build_leaves_only_the_executable(tmp_path):
    out = tmp_path / "app"
    r = inbuilt("build", "--path", PKGS, "--include", "solo", "-o", out)
    assert r.returncode == 0, r.stderr
    assert os.listdir(tmp_path) == ["app"]
    assert os.access(out, os.X_OK)
    assert run_ok([out, "-c", "import solo; print(solo.__name__)"]) == "solo\n"
    out.unlink()
