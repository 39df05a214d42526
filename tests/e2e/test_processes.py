"""Processes: sys.executable re-executes this executable, so
multiprocessing (each start method), ProcessPoolExecutor and
subprocess.run([sys.executable, ...]) work, in child processes that import
from memory too."""
import pytest

from helpers import PKGS, run_ok

SCRIPT = r"""
import concurrent.futures as cf
import multiprocessing as mp
import sys


def work(x):
    import datapkg.reader
    return x * x, datapkg.reader.greeting().strip(), sys.frozen


if __name__ == "__main__":
    method = sys.argv[1]
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        results = pool.map(work, range(4))
    assert [r[0] for r in results] == [0, 1, 4, 9], results
    assert {r[1:] for r in results} == {("hello from datapkg", True)}
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        assert list(ex.map(work, [5]))[0][0] == 25
    print(method, "ok")
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_start_method_and_process_pool(data_exe, tmp_path,
                                                       method):
    script = tmp_path / "mp_script.py"
    script.write_text(SCRIPT)
    assert run_ok([data_exe, script, method], cwd=tmp_path) == \
        method + " ok\n"


def test_subprocess_runs_sys_executable(data_exe):
    code = ("import subprocess, sys\n"
            "r = subprocess.run([sys.executable, '-c', 'import sys, "
            "datapkg; print(sys.executable, sys.frozen, datapkg.__name__)'],"
            " capture_output=True, text=True, check=True)\n"
            "print(r.stdout, end='')\n")
    assert run_ok([data_exe, "-c", code]).split() == [
        str(data_exe), "True", "datapkg"]


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_entry_point_tool_reexecuted_by_multiprocessing(builder, method):
    """A tool re-executed by spawn or forkserver runs the child, not its
    entry point again."""
    tool = builder.get("pooltool", "--path", PKGS, "--include", "datapkg",
                       "--entry", "datapkg.pool:main")
    assert run_ok([tool, method]) == method + " [0, 1, 4, 9]\n"
