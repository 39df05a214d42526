"""An executable built without --entry behaves like python3: -c, -m, a
script file, a script on stdin, the REPL, and the interpreter options."""

import json
import os

from helpers import PYTHON_TARGET, run, run_ok

FLAGS_PROBE = (
    "import sys, json; f = sys.flags; print(json.dumps({"
    "'isolated': f.isolated, 'ignore_environment': f.ignore_environment, "
    "'safe_path': f.safe_path, 'optimize': f.optimize, "
    "'dev_mode': f.dev_mode, 'debug': __debug__, "
    "'warnoptions': sys.warnoptions, 'xoptions': sys._xoptions}))"
)


def test_dash_c_runs_code_with_remaining_args_in_argv(stdlib_exe):
    out = run_ok([stdlib_exe, "-c", "import sys; print(sys.argv)", "a", "-b"])
    assert out.strip() == "['-c', 'a', '-b']"


def test_dash_c_error_exits_1_with_traceback(stdlib_exe):
    r = run([stdlib_exe, "-c", "1/0"])
    assert r.returncode == 1
    assert "ZeroDivisionError" in r.stderr
    assert "Traceback" in r.stderr


def test_sys_exit_status_is_exit_status(stdlib_exe):
    r = run([stdlib_exe, "-c", "import sys; sys.exit(7)"])
    assert r.returncode == 7


def test_dash_m_json_tool_formats_json_from_stdin(stdlib_exe):
    out = run_ok([stdlib_exe, "-m", "json.tool"],
                 input='{"b": [1, 2], "a": null}')
    assert json.loads(out) == {"b": [1, 2], "a": None}
    assert out.splitlines()[1] == '    "b": ['


def test_dash_m_runs_stdlib_module_with_args(stdlib_exe):
    out = run_ok([stdlib_exe, "-m", "base64", "-d"], input="aW5idWlsdA==\n")
    assert out == "inbuilt"


def test_script_file_runs_as_main_with_its_args(stdlib_exe, tmp_path):
    script = tmp_path / "hello.py"
    script.write_text(
        "import sys, json\n"
        "print(json.dumps([__name__, __file__, sys.argv]))\n")
    name, file, argv = json.loads(run_ok([stdlib_exe, script, "x", "--y"]))
    assert name == "__main__"
    assert file == str(script)
    assert argv == [str(script), "x", "--y"]


def test_script_read_from_stdin_by_dash(stdlib_exe):
    out = run_ok([stdlib_exe, "-", "one", "two"],
                 input="import sys\nprint(sys.argv, __name__)\n")
    assert out.strip() == "['-', 'one', 'two'] __main__"


def test_script_read_from_piped_stdin_without_arguments(stdlib_exe):
    out = run_ok([stdlib_exe],
                 input="import json\nprint(json.dumps([6 * 7]))\n")
    assert out.strip() == "[42]"


def test_isolated_flag_is_reflected_in_sys_flags(stdlib_exe):
    flags = json.loads(run_ok([stdlib_exe, "-I", "-c", FLAGS_PROBE]))
    assert flags["isolated"] == 1
    assert flags["ignore_environment"] == 1
    assert flags["safe_path"] is True


def test_optimize_flag_sets_sys_flags_optimize_and_drops_asserts(stdlib_exe):
    flags = json.loads(run_ok([stdlib_exe, "-O", "-c", FLAGS_PROBE]))
    assert flags["optimize"] == 1
    assert flags["debug"] is False
    run_ok([stdlib_exe, "-O", "-c", "assert False"])
    flags = json.loads(run_ok([stdlib_exe, "-OO", "-c", FLAGS_PROBE]))
    assert flags["optimize"] == 2
    r = run([stdlib_exe, "-c", "assert False, 'kept'"])
    assert r.returncode == 1 and "AssertionError: kept" in r.stderr


def test_unbuffered_flag_makes_stdout_write_through_like_cpython(stdlib_exe):
    probe = ("import sys; print(sys.stdout.write_through, "
             "type(sys.stdout.buffer).__name__, sys.stderr.write_through)")
    for args in (["-u"], []):
        expected = run_ok([PYTHON_TARGET, *args, "-c", probe])
        assert run_ok([stdlib_exe, *args, "-c", probe]) == expected, args
    assert run_ok([stdlib_exe, "-u", "-c", probe]).split()[0] == "True"


def test_warning_error_option_turns_warnings_into_exceptions(stdlib_exe):
    code = ("import sys, warnings\n"
            "print(sys.warnoptions)\n"
            "try:\n"
            "    warnings.warn('careful', UserWarning)\n"
            "except UserWarning as e:\n"
            "    print('raised', e)\n")
    out = run_ok([stdlib_exe, "-W", "error", "-c", code])
    assert out.splitlines() == ["['error']", "raised careful"]


def test_dev_mode_option_is_reflected_in_sys_flags(stdlib_exe):
    flags = json.loads(run_ok([stdlib_exe, "-X", "dev", "-c", FLAGS_PROBE]))
    assert flags["dev_mode"] is True
    assert flags["xoptions"] == {"dev": True}
    assert "default" in flags["warnoptions"] or flags["warnoptions"] == []
    code = "import warnings; print(warnings.filters[0][0])"
    assert run_ok([stdlib_exe, "-X", "dev", "-c", code]).strip() == "default"


def test_interactive_flag_reads_statements_from_stdin(stdlib_exe):
    r = run([stdlib_exe, "-i"], input="x = 6 * 7\nprint('x is', x)\n")
    assert r.returncode == 0, r.stderr
    assert "x is 42" in r.stdout


def test_interactive_flag_after_dash_c_keeps_its_globals(stdlib_exe):
    r = run([stdlib_exe, "-i", "-c", "y = 'from -c'"],
            input="print(y.upper())\nimport sys; sys.exit(3)\n")
    assert "FROM -C" in r.stdout
    assert r.returncode == 3


def test_interactive_session_reports_errors_and_continues(stdlib_exe):
    r = run([stdlib_exe, "-i"], input="1/0\nprint('still here')\n")
    assert "ZeroDivisionError" in r.stderr
    assert "still here" in r.stdout


def test_version_option_prints_target_python_version(stdlib_exe):
    expected = run_ok([PYTHON_TARGET, "--version"])
    assert run_ok([stdlib_exe, "--version"]) == expected


def test_unknown_python_option_is_usage_error(stdlib_exe):
    r = run([stdlib_exe, "--no-such-option"])
    assert r.returncode == 2
    assert "no-such-option" in r.stderr


def test_environment_variable_pythonwarnings_is_honoured(stdlib_exe):
    env = dict(os.environ, PYTHONWARNINGS="error")
    env.pop("INBUILT_ALLOW_FILESYSTEM", None)
    out = run_ok([stdlib_exe, "-c", "import sys; print(sys.warnoptions)"],
                 env=env)
    assert out.strip() == "['error']"
