"""Strict by default: a module that is not in the executable cannot be
imported, even when a file for it lies in the working directory or next to
the script.  --allow-filesystem at build time, or INBUILT_ALLOW_FILESYSTEM=1
at run time, puts CPython's path finder back after the in-memory one."""

import os

import pytest

from helpers import clean_env, run, run_ok

LOCAL = "inbuilt_local_mod"


@pytest.fixture
def workdir(tmp_path):
    """A directory holding LOCAL.py and a script that imports it."""
    (tmp_path / (LOCAL + ".py")).write_text("WHERE = 'on disk'\n")
    (tmp_path / "main.py").write_text(
        "import %s\nprint(%s.WHERE)\n" % (LOCAL, LOCAL))
    return tmp_path


def assert_not_found(r, name):
    assert r.returncode == 1, r
    assert "ModuleNotFoundError" in r.stderr, r.stderr
    assert "'%s'" % name in r.stderr, r.stderr


def test_missing_module_raises_module_not_found_naming_it(stdlib_exe):
    code = ("try:\n"
            "    import no_such_module_xyz\n"
            "except ModuleNotFoundError as e:\n"
            "    print(e.name); print(e)\n")
    assert run_ok([stdlib_exe, "-c", code]).splitlines() == [
        "no_such_module_xyz", "No module named 'no_such_module_xyz'"]


def test_module_file_in_working_directory_is_not_imported(stdlib_exe,
                                                          workdir):
    r = run([stdlib_exe, "-c", "import " + LOCAL], cwd=workdir)
    assert_not_found(r, LOCAL)


def test_module_file_next_to_script_is_not_imported(stdlib_exe, workdir,
                                                    tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("cwd")
    r = run([stdlib_exe, workdir / "main.py"], cwd=elsewhere)
    assert_not_found(r, LOCAL)


def test_stdlib_name_is_not_shadowed_by_file_in_working_directory(
        stdlib_exe, tmp_path):
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed!')\n")
    out = run_ok([stdlib_exe, "-c", "import json; print(json.dumps(1))"],
                 cwd=tmp_path)
    assert out == "1\n"


def test_sys_path_entries_are_not_searched(stdlib_exe, workdir):
    code = "import sys; sys.path.insert(0, %r); import %s" % (str(workdir),
                                                             LOCAL)
    assert_not_found(run([stdlib_exe, "-c", code]), LOCAL)


def test_pythonpath_is_not_searched(stdlib_exe, workdir):
    env = clean_env(PYTHONPATH=workdir)
    assert_not_found(run([stdlib_exe, "-c", "import " + LOCAL], env=env),
                     LOCAL)


def test_env_allow_filesystem_imports_from_working_directory(stdlib_exe,
                                                             workdir):
    env = clean_env(INBUILT_ALLOW_FILESYSTEM=1)
    out = run_ok([stdlib_exe, "-c", "import %s; print(%s.WHERE)"
                  % (LOCAL, LOCAL)], cwd=workdir, env=env)
    assert out == "on disk\n"


def test_env_allow_filesystem_imports_next_to_script(stdlib_exe, workdir,
                                                     tmp_path_factory):
    env = clean_env(INBUILT_ALLOW_FILESYSTEM=1)
    out = run_ok([stdlib_exe, workdir / "main.py"],
                 cwd=tmp_path_factory.mktemp("cwd"), env=env)
    assert out == "on disk\n"


def test_allow_filesystem_build_imports_from_working_directory(allow_fs_exe,
                                                               workdir):
    out = run_ok([allow_fs_exe, "-c", "import %s; print(%s.WHERE)"
                  % (LOCAL, LOCAL)], cwd=workdir)
    assert out == "on disk\n"


def test_allow_filesystem_build_imports_next_to_script(allow_fs_exe, workdir,
                                                       tmp_path_factory):
    out = run_ok([allow_fs_exe, workdir / "main.py"],
                 cwd=tmp_path_factory.mktemp("cwd"))
    assert out == "on disk\n"


def test_allow_filesystem_still_serves_stdlib_from_memory(allow_fs_exe,
                                                          tmp_path):
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed!')\n")
    code = "import json, sys; print(json.__file__)"
    out = run_ok([allow_fs_exe, "-c", code], cwd=tmp_path)
    assert out.strip() == os.path.join(os.path.realpath(allow_fs_exe),
                                       "json", "__init__.py")


def test_env_allow_filesystem_other_than_1_stays_strict(stdlib_exe, workdir):
    env = clean_env(INBUILT_ALLOW_FILESYSTEM=0)
    assert_not_found(run([stdlib_exe, "-c", "import " + LOCAL], cwd=workdir,
                         env=env), LOCAL)

