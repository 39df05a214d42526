"""--entry makes a tool: the executable runs one function or module with
sys.argv = [exe, args...] and reads no Python options."""

import os

from helpers import run, run_ok


def test_entry_function_gets_argv_and_its_return_value_is_exit_status(
        cli_entry_exe):
    r = run([cli_entry_exe, "a", "b", "--status", "5"])
    assert r.stdout == "cli argv=['a', 'b', '--status', '5']\n"
    assert r.returncode == 5


def test_entry_function_returning_none_exits_0(cli_entry_exe):
    r = run([cli_entry_exe])
    assert r.stdout == "cli argv=[]\n"
    assert r.returncode == 0


def test_entry_executable_passes_python_options_through_as_arguments(
        cli_entry_exe):
    r = run([cli_entry_exe, "-c", "print(1)", "-I", "-m", "json", "--version"])
    assert r.stdout == ("cli argv=['-c', 'print(1)', '-I', '-m', 'json', "
                        "'--version']\n")
    assert r.returncode == 0


def test_entry_argv0_is_the_executable(cli_entry_exe):
    r = run([cli_entry_exe, "--show-argv0"])
    assert r.returncode == 0, r.stderr
    argv0 = r.stdout.splitlines()[1]
    assert argv0.startswith("argv0=")
    assert os.path.realpath(argv0[len("argv0="):]) == os.path.realpath(
        cli_entry_exe)


def test_entry_function_exception_exits_1_with_traceback(cli_entry_exe):
    r = run([cli_entry_exe, "boom"])
    assert r.returncode == 1
    assert "Traceback" in r.stderr
    assert "RuntimeError: boom requested" in r.stderr


def test_entry_package_runs_its_main_module_as_main(pkg_entry_exe):
    out = run_ok([pkg_entry_exe, "-x", "y"]).splitlines()
    assert out == [
        "mypkg __main__ name=__main__ argv=['-x', 'y']",
        "leaf sees sibling.VALUE=42 and helper from mypkg.util",
    ]


def test_entry_module_runs_as_main_with_argv(module_entry_exe):
    r = run([module_entry_exe, "one", "-m", "three"])
    assert r.stdout == "solo main argv=['one', '-m', 'three']\n"
    assert r.returncode == 3


def test_entry_tool_ignores_module_files_in_working_directory(
        module_entry_exe, tmp_path):
    (tmp_path / "solo.py").write_text("raise SystemExit('from disk!')\n")
    r = run([module_entry_exe], cwd=tmp_path)
    assert r.stdout == "solo main argv=[]\n"
    assert r.returncode == 0


def test_entry_tool_runs_from_a_copy_in_another_directory(cli_entry_exe,
                                                          tmp_path):
    copy = tmp_path / "renamed-tool"
    copy.write_bytes(cli_entry_exe.read_bytes())
    os.chmod(copy, 0o755)
    r = run([copy, "--status", "2"])
    assert r.stdout == "cli argv=['--status', '2']\n"
    assert r.returncode == 2


def test_entry_of_any_length_runs(builder, tmp_path):
    # A dotted module path and a function name of 700 characters together:
    # no fixed buffer between --entry and the run command.
    parts = ["p%03d_%s" % (i, "x" * 60) for i in range(6)]
    pkg = tmp_path / "src"
    d = pkg
    for p in parts[:-1]:
        d = d / p
        d.mkdir(parents=True)
        (d / "__init__.py").write_text("")
    func = "f" + "y" * 300
    (d / (parts[-1] + ".py")).write_text(
        "import sys\ndef %s():\n    print('ran', len(sys.argv))\n"
        "    return 3\n" % func)
    entry = ".".join(parts) + ":" + func
    assert len(entry) > 650
    exe = builder.get("long-entry", "--path", pkg, "--include", parts[0],
                      "--entry", entry)
    r = run([exe, "a"])
    assert r.stdout == "ran 2\n", r.stderr
    assert r.returncode == 3
