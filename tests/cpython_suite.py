"""CPython's own regression tests run by an inbuilt executable, compared
with the stock interpreter test by test (make check-cpython; a short slice
with --quick in make check).

The executable holds the standard library in memory; the `test` package is
not in it (the build leaves test suites out) and is read from disk, from
Debian's libpython3.X-testsuite: the run allows the filesystem
(INBUILT_ALLOW_FILESYSTEM=1) and puts the stdlib directory and lib-dynload
on PYTHONPATH, which an executable honours only then.  So `import test`
and the test helpers' extension modules (_testcapi, ...) come from disk,
and every stdlib module the tests exercise comes from memory.

Each test module runs once with each interpreter, with --junit-xml; every
test case's outcome (passed, failed, error, skipped) is compared.  A
difference must be listed in EXPLAINED, with its cause (also in
docs/COMPATIBILITY.md); any other difference, or a module that the
executable cannot run at all, fails the run.

Usage: python3 tests/cpython_suite.py BUILD_DIR [--quick] [TEST ...]
"""

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

# (module, regrtest --match patterns or None for all).
FULL = [
    ("test_json", None),
    ("test_re", None),
    ("test_importlib", None),
    ("test_pkgutil", None),
    ("test_runpy", None),
    ("test_inspect", None),
    ("test_traceback", None),
    ("test_linecache", None),
    ("test_zipimport", None),
    ("test_multiprocessing_spawn", ["*WithProcessesTestPool.*",
                                    "*WithProcessesTestQueue.*",
                                    "*WithProcessesTestProcess.*"]),
    ("test_concurrent_futures", None),
    ("test_email", None),
    ("test_decimal", None),
    ("test_datetime", None),
    # The file calls the executable's file layer (vfs.c) stands in front of.
    ("test_os", None),
    ("test_posix", None),
    ("test_fileio", None),
    ("test_glob", None),
    ("test_pathlib", None),
    ("test_shutil", None),
]
QUICK = ["test_json", "test_pkgutil", "test_linecache", "test_zipimport"]

# Test cases whose outcome differs, by shell pattern on
# "module::class.method" (as the junit report names them) -> why.
EXPLAINED = {
    "test_importlib::*.frozen.test_finder.*":
        "CPython's test-only frozen modules (__hello__, __phello__) exist "
        "only when frozen modules are in use; the executable turns them off "
        "(its archive serves the stdlib modules CPython also freezes, which "
        "_imp.is_frozen() must not claim)",
    "test_importlib::*.frozen.test_loader.*":
        "the same test-only frozen modules",
    "test_importlib::*ReloadTests.test_reload_missing_loader":
        "compares loader.path, an attribute of FileLoader: one "
        "_inbuilt.Importer loads every embedded module and has no "
        "per-module path",
    "test_importlib::*ThreadedImportTests.test_parallel_path_hooks":
        "counts the calls of a path hook while stdlib modules are imported "
        "in threads; embedded modules are found by the meta-path finder "
        "first, so no path hook is asked",
}

REPO = Path(__file__).resolve().parents[1]


def outcomes(xml_path):
    """{test case id: outcome} from a regrtest junit report."""
    result = {}
    root = ET.parse(xml_path).getroot()
    last = ""
    for case in root.iter("testcase"):
        name = case.get("name", "")
        # regrtest names cases "test.test_x.Class.method"; drop the prefix.
        if name.startswith("test."):
            name = name[len("test."):]
        # It writes failed subtests as nameless cases after a test of the
        # same class.
        if name:
            last = name
        else:
            name = last.rpartition(".")[0] + ".<subtest>"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error",
                           "skipped": "skipped"}[child.tag]
                break
        result[name] = outcome
    return result


def run_one(label, argv, env, xml_path, cwd, timeout):
    """Run one regrtest command; return (outcomes or None, seconds, tail of
    its output)."""
    start = time.monotonic()
    try:
        r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True,
                           text=True, timeout=timeout)
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        out = "timed out after %ss\n%s" % (timeout, e.stdout or "")
    seconds = time.monotonic() - start
    if not os.path.exists(xml_path):
        return None, seconds, out[-3000:]
    return outcomes(xml_path), seconds, out[-3000:]


def explained(module, case):
    key = "%s::%s" % (module, case)
    for pattern, why in EXPLAINED.items():
        if fnmatch.fnmatchcase(key, pattern):
            return why
    return None


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--quick", action="store_true",
                    help="the short slice of make check")
    ap.add_argument("--python", default=sys.executable,
                    help="the stock interpreter (the target)")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("tests", nargs="*")
    args = ap.parse_args(argv)

    python = args.python
    stdlib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path("
         "'stdlib')); print(sysconfig.get_path('platstdlib'))"],
        capture_output=True, text=True, check=True).stdout.split()
    if not os.path.isfile(os.path.join(stdlib[0], "test", "regrtest.py")):
        sys.exit("cpython_suite: no test package in %s; install "
                 "libpython3.X-testsuite (scripts/install-deps)" % stdlib[0])
    chosen = [t for t in FULL if not args.tests or t[0] in args.tests]
    if args.quick:
        chosen = [t for t in chosen if t[0] in QUICK]

    build = Path(args.build_dir).resolve()
    work = Path(tempfile.mkdtemp(prefix="cpython-suite-",
                                 dir=build))
    exe = work / "python"
    r = subprocess.run([str(build / "inbuilt"), "build", "-o", str(exe)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("cpython_suite: building the executable failed:\n%s"
                 % r.stderr)

    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith("PYTHON") and not k.startswith("INBUILT")}
    exe_env = dict(base_env, INBUILT_ALLOW_FILESYSTEM="1",
                   PYTHONPATH=":".join([stdlib[0],
                                        os.path.join(stdlib[1],
                                                     "lib-dynload")]))
    failures = 0
    print("%-28s %7s %7s %8s %8s  %s" % ("test", "stock", "inbuilt",
                                         "stock s", "inb. s", "differences"))
    for module, matches in chosen:
        extra = []
        for m in matches or []:
            extra += ["--match", m]
        results = {}
        for label, interp, env in (("stock", python, base_env),
                                   ("inbuilt", str(exe), exe_env)):
            xml_path = work / ("%s.%s.xml" % (module, label))
            cwd = work / ("cwd-%s-%s" % (module, label))
            cwd.mkdir()
            cmd = [interp, "-m", "test", module, "--junit-xml",
                   str(xml_path), *extra]
            results[label] = run_one(label, cmd, env, xml_path, cwd,
                                     args.timeout)
        (stock, stock_s, stock_out), (got, got_s, got_out) = \
            results["stock"], results["inbuilt"]
        if stock is None:
            print("%-28s stock interpreter left no report:\n%s"
                  % (module, stock_out))
            failures += 1
            continue
        if got is None:
            print("%-28s inbuilt left no report:\n%s" % (module, got_out))
            failures += 1
            continue
        diffs = []
        for case in sorted(set(stock) | set(got)):
            a, b = stock.get(case, "absent"), got.get(case, "absent")
            if a != b:
                diffs.append((case, a, b, explained(module, case)))
        summary = lambda res: "%d/%d" % (
            sum(v == "passed" for v in res.values()), len(res))
        unexplained = [d for d in diffs if d[3] is None]
        print("%-28s %7s %7s %8.1f %8.1f  %d (%d unexplained)"
              % (module, summary(stock), summary(got), stock_s, got_s,
                 len(diffs), len(unexplained)))
        for case, a, b, why in diffs:
            print("    %s: stock %s, inbuilt %s%s"
                  % (case, a, b, ": " + why if why else "  UNEXPLAINED"))
        failures += len(unexplained)
    exe.unlink()
    if failures:
        print("cpython_suite: %d unexplained difference(s); reports in %s"
              % (failures, work))
        return 1
    print("cpython_suite: same results as the stock interpreter, but the "
          "explained differences")
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
