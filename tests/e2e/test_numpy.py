"""numpy, as Debian's python3-numpy ships it (.so files, BLAS and LAPACK
libraries), embedded and imported with no filesystem calls; its own tests
give the same counts as under stock python3 (a slice here; the whole suite
is `make check-numpy`)."""
import re
import subprocess

import pytest

from helpers import PYTHON_TARGET, clean_env, inbuilt, run, run_ok
import fscalls  # scripts/fscalls.py

pytestmark = pytest.mark.skipif(
    subprocess.run([PYTHON_TARGET, "-c", "import numpy, pytest, hypothesis"],
                   capture_output=True).returncode != 0,
    reason="python3-numpy, python3-pytest or python3-hypothesis missing "
           "(scripts/install-deps installs them)")

# pytest and what it and numpy's conftest import.
PYTEST_STACK = ["pytest", "_pytest", "pluggy", "iniconfig", "packaging",
                "attr", "py", "hypothesis", "sortedcontainers"]

WORK = (
    "import numpy as np\n"
    "a = np.array([[4.0, 7.0], [2.0, 6.0]])\n"
    "print(np.round(np.linalg.inv(a), 6).tolist())\n"
    "print(np.round(np.fft.fft([1, 2, 3, 4]), 6).tolist())\n"
    "print(np.random.default_rng(12345).integers(0, 100, 5).tolist())\n"
    "print(np.sin(np.linspace(0, np.pi, 3)).round(6).tolist())\n"
    "print(np.char.upper(np.array(['ab', 'cde'])).tolist(),\n"
    "      np.array([b'x', b'yz']).dtype.str)\n"
    "print(np.einsum('ij,jk->ik', a, a).tolist())\n"
)


@pytest.fixture(scope="module")
def numpy_exe(tmp_path_factory):
    out = tmp_path_factory.mktemp("numpy") / "npy"
    args = ["build", "--include", "numpy"]
    for name in PYTEST_STACK:
        args += ["--include", name]
    r = inbuilt(*args, "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def test_numpy_computes_what_stock_python_computes(numpy_exe):
    ours = run_ok([numpy_exe, "-c", WORK])
    stock = run_ok([PYTHON_TARGET, "-c", WORK])
    assert ours == stock
    assert "[[0.6, -0.7], [-0.2, 0.4]]" in ours


def test_numpy_core_extension_is_served_from_the_executable(numpy_exe):
    code = ("import sys, numpy.core._multiarray_umath as m\n"
            "print(m.__spec__.name, type(m.__spec__.loader).__name__)\n"
            "print(m.__spec__.origin.startswith(sys.executable + "
            "'/numpy/core/_multiarray_umath.'))\n")
    out = run_ok([numpy_exe, "-c", code]).splitlines()
    assert out == ["numpy.core._multiarray_umath Importer", "True"]


def test_import_numpy_makes_no_filesystem_calls(numpy_exe):
    result, calls = fscalls.strace_paths([str(numpy_exe), "-c",
                                          "import numpy"])
    assert result.returncode == 0, result.stderr
    bad = fscalls.outside_allow_list(calls, str(numpy_exe))
    assert bad == [], "\n".join(line for _, _, line in bad)


def summary(output):
    """The counts of pytest's last line, without the time."""
    last = output.strip().splitlines()[-1]
    return re.sub(r" in [0-9.]+s.*", "", last.strip("= "))


@pytest.mark.parametrize("tests", ["numpy/fft/tests",
                                   "numpy/lib/tests/test_function_base.py"])
def test_numpy_test_slice_gives_stock_counts(numpy_exe, tests):
    site = subprocess.run([PYTHON_TARGET, "-c",
                           "import numpy, os; "
                           "print(os.path.dirname(os.path.dirname("
                           "numpy.__file__)))"],
                          capture_output=True, text=True).stdout.strip()
    # Test files are collected from disk; importlib mode imports them by
    # path, as the embedded numpy package has no directory on disk.
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--import-mode=importlib", tests]
    ours = run([numpy_exe, *args], cwd=site, timeout=600,
               env=clean_env(INBUILT_ALLOW_FILESYSTEM=1))
    stock = run([PYTHON_TARGET, *args], cwd=site, timeout=600)
    assert stock.returncode == 0, stock.stdout[-2000:]
    assert summary(ours.stdout) == summary(stock.stdout), ours.stdout[-3000:]
