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

--full (make check-cpython-full; long, not in make check) runs every
module of the test package, -j N of the 2 x modules runs at a time under
nice, and sorts each module's run into passed, failed, skipped (regrtest
skipped the module) or crashed (no result: killed by a signal or the
timeout); the two interpreters' statuses, counts of test cases and every
case's outcome are compared.  One JSON line per module goes to
BUILD/cpython-full/results.jsonl as it ends (a run resumes from it,
--fresh starts over), the table to stdout and BUILD/cpython-full/table.md.
A module that differs is run once more with both interpreters, after the
others: when they
agree then, the module counts as same (flaky), both runs are kept.

Usage: python3 tests/cpython_suite.py BUILD_DIR [--quick] [TEST ...]
       python3 tests/cpython_suite.py BUILD_DIR --full [-j N] [--fresh]
           [--report] [TEST ...]
"""

import argparse
import concurrent.futures
import fnmatch
import json
import os
import re
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
    # Found by the whole suite (--full).
    "test_builtin::*.test_open_default_encoding":
        "UTF-8 mode is on (no setlocale() at start, docs/COMPATIBILITY.md): "
        "the test is skipped in UTF-8 mode",
    "test_sys::*.test_ioencoding_nonascii":
        "UTF-8 mode: the file system encoding then matches the locale's "
        "preferred one, which the test requires (stock skips it in the C "
        "locale)",
    "test_support::*_interpreter_flags":
        "the child runs with PYTHON* variables removed, so without the "
        "PYTHONPATH through which the executable reaches the test package "
        "on disk: `from test.support import ...` fails there",
    "test_support::*TestSupport.<subtest>": "the same",
    "test__xxsubinterpreters::*":
        "subinterpreters are not supported (the in-memory importer keeps "
        "process-wide state)",
    "test_ast::*ASTValidatorTests.test_stdlib_validates":
        "reads test/test_grammar.py beside ast.__file__, in the virtual "
        "root: the test package is not in the executable",
    "test_ast::*ASTValidatorTests.<subtest>": "the same",
    "test_audit::*.test_gc":
        "the exit reads gc.get_objects() once to decide whether the "
        "collections at exit can be skipped (exit.c): an audit hook sees "
        "one more gc.get_objects event (INBUILT_FULL_EXIT=1 avoids it)",
    "test_cmd_line::*.test_empty_PYTHONPATH_issue16309":
        "compares a child with PYTHONPATH='' against one with the "
        "inherited PYTHONPATH, which the executable's run sets (to reach "
        "the test package) and stock's does not",
    "test_cmd_line::*.test_isolatedmode":
        "a uuid.py beside the script shadows the stdlib's under python3 "
        "-E; the embedded modules come first",
    "test_cmd_line::*.test_xoption_frozen_modules":
        "frozen modules are off (-X frozen_modules is accepted, but "
        "FrozenImporter serves nothing)",
    "test_cmd_line::*CmdLineTest.<subtest>": "the same",
    "test_cmd_line::*IgnoreEnvironmentTest.test_ignore_PYTHONPATH":
        "with the filesystem allowed the executable reads PYTHONPATH even "
        "under -E (docs/COMPATIBILITY.md, Start-up): the run needs it to "
        "reach the test package",
    "test_concurrent_futures::*ProcessPoolForkserverWaitTest."
    "test_first_completed":
        "stock failed it once under load (a timing test: the future must "
        "finish within a second), the executable passed it",
    "test_cmd_line_script::*.test_module_in_*package_in_zipfile":
        "the script, run in an isolated child (-I), imports the test "
        "package, which the executable reaches only through PYTHONPATH",
    "test_cmd_line_script::*.test_hint_when_triying_to_import_a_py_file":
        "an empty asyncio.py in the working directory shadows the stdlib's "
        "package under python3 (-m asyncio.py then hints at the name); the "
        "embedded modules come first, so asyncio is the package, which has "
        "no submodule 'py'",
    "test_cppext::*":
        "builds in a venv made by `python -m venv`, which the executable "
        "cannot make: there is no installation to copy (docs/"
        "COMPATIBILITY.md, Not supported)",
    "test_distutils::*test_build_ext.*":
        "compiles a C extension against sysconfig's include directory, "
        "which names a directory of the executable's tree without the "
        "target's headers (Python.h)",
    "test_distutils::*test_install.InstallTestCase.test_record_extensions":
        "the same: a C extension is compiled",
    "test_distutils::*test_install.InstallTestCase.test_user_site":
        "site is not imported, so site.ENABLE_USER_SITE is not set and "
        "the test is skipped",
    "test_distutils::*SysconfigTestCase.test_get_config_h_filename":
        "pyconfig.h is looked for under the executable's tree (sysconfig's "
        "include), where the target's headers are not",
    "test_distutils::*SysconfigTestCase.test_srcdir":
        "srcdir is derived from the Makefile's directory, under the "
        "executable's tree, where the build's Makefile is not",
    "test_embed::*SetConfigTests.test_set_config":
        "sets prefix through _testinternalcapi.set_config(); the "
        "executable's path configuration has home set (so that getpath "
        "reads nothing on disk), and getpath derives prefix from home",
    "test_frozen::*":
        "frozen modules are off: __phello__ and its submodules are not "
        "served by FrozenImporter",
    "test_io::*TextIOWrapperTest.test_default_encoding":
        "UTF-8 mode: the test is skipped under it",
    "test_codecs::*LocaleCodecTest.test_*_surrogatepass":
        "UTF-8 mode: the locale encoding is UTF-8, which the tests need "
        "(stock skips them in the C locale)",
    # Found by the second part of the whole suite's run.
    "test_pickle::*.test_buffers_numpy":
        "numpy is not in the executable (stock finds Debian's on sys.path)",
    "test_pickletools::*.test_buffers_numpy": "the same",
    "test_site::*":
        "the executable does not run site (there is no sys.path on disk "
        "to extend): regrtest skips the module as under -S",
    "test_sysconfig::*.test_get_makefile_filename":
        "sysconfig's directories name the executable's tree, which holds "
        "no Makefile or pyconfig.h",
    "test_sysconfig::*.test_get_config_h_filename": "the same",
    "test_sysconfig::*.test_srcdir": "the same",
    "test_sysconfig::*.test_user_similar":
        "the stdlib paths name the executable's tree, not a directory "
        "under sys.base_prefix, so putting the user base in place of the "
        "prefix leaves them unchanged",
    "test_tabnanny::*.test_command_usage":
        "the usage line names tabnanny's __file__, in the executable's "
        "tree, not /usr/lib/python3.11",
    "test_trace::*.test_coverage":
        "trace names coverage files after module file paths relative to "
        "sys.path; the stdlib's files are in the executable's tree, which "
        "is not on sys.path",
    "test_utf8_mode::*.test_env_var":
        "UTF-8 mode is on in the executable; PYTHONUTF8=xxx is not an "
        "error there",
    "test_readline::*.test_nonascii*":
        "UTF-8 mode: the tests' locale check skips them",
    "test_venv::*":
        "python -m venv cannot copy an installation the executable does "
        "not have (docs/COMPATIBILITY.md, Not supported)",
    "test_zipfile::*PyZipFileTests.test_write_*":
        "PyZipFile.writepy of stdlib packages needs their source files on "
        "disk; the tests skip when they are in the executable's tree",
    "test_pydoc::*.test_synopsis_sourceless":
        "looks for the stdlib's __pycache__ .pyc, which the executable "
        "does not have (its bytecode is in memory)",
    "test_pydoc::*.test_importfile":
        "compares the module's repr, whose loader is the runtime's "
        "importer, not SourceFileLoader",
    "test_socket::*":
        "on this virtual machine stock python3 hangs in the AF_VSOCK "
        "tests' accept() until the timeout, and the executable's run, "
        "at the same time, cannot bind the vsock port the hung run holds "
        "(EADDRINUSE); no result of stock's to compare",
    "test_pydoc::*.test_mixed_case_module_names_are_lower_cased":
        "the test's get_pydoc_link() gives getdocloc() the directory above "
        "the test package on disk (/usr/lib/python3.11) as basedir; the "
        "stdlib module's file is in the executable's tree, so pydoc gives "
        "no link (with pydoc's own basedir, sysconfig's stdlib, it does)",
    "test_pydoc::*.test_badimport":
        "the test's package named test is on disk, reached through "
        "PYTHONPATH, so the finder gets one level further and names the "
        "missing submodule",
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


def module_status(out):
    """passed, failed, skipped or crashed, from regrtest's output for one
    module run in its own process."""
    result = re.search(r"^Tests result: (.*)$", out, re.M)
    if result is None:
        return "crashed"
    if "FAILURE" in result.group(1):
        return "failed"
    if re.search(r"^\d+ tests? skipped", out, re.M) or \
            "NO TEST RUN" in result.group(1):
        return "skipped"
    return "passed"


def counts(cases):
    """(passed, failed, skipped) test cases; an error counts as failed."""
    values = list((cases or {}).values())
    return (values.count("passed"),
            values.count("failed") + values.count("error"),
            values.count("skipped"))


def full_run(module, label, interp, env, work, timeout):
    """One module under one interpreter, nice'd: a JSON-able dict."""
    xml_path = work / ("%s.%s.xml" % (module, label))
    cwd = work / ("cwd-%s-%s" % (module, label))
    shutil.rmtree(cwd, ignore_errors=True)
    if xml_path.exists():
        xml_path.unlink()
    cwd.mkdir()
    # nice, once: not again under make's nice.
    cmd = ["nice"] * (os.nice(0) == 0) + [interp, "-m", "test", module,
                                          "--junit-xml", str(xml_path)]
    cases, seconds, out = run_one(label, cmd, env, xml_path, cwd, timeout)
    try:
        shutil.rmtree(cwd)
    except OSError:
        pass
    return {"status": module_status(out), "cases": cases or {},
            "seconds": round(seconds, 1), "tail": out[-1500:]}


def differences(module, stock, got):
    """[(case, stock outcome, inbuilt outcome, cause or None)]."""
    diffs = []
    a_cases, b_cases = stock["cases"], got["cases"]
    if stock["status"] != got["status"]:
        diffs.append(("<module>", stock["status"], got["status"],
                      explained(module, "<module>")))
    for case in sorted(set(a_cases) | set(b_cases)):
        a, b = a_cases.get(case, "absent"), b_cases.get(case, "absent")
        if a != b:
            diffs.append((case, a, b, explained(module, case)))
    if diffs and diffs[0][0] == "<module>" and diffs[0][3] is None and \
            len(diffs) > 1 and all(d[3] for d in diffs[1:]):
        diffs[0] = diffs[0][:3] + ("its test cases' differences, all "
                                   "explained",)
    return diffs


def full_table(records):
    """The Markdown table of a full run and its summary lines."""
    lines = ["| test module | stock | inbuilt | stock cases "
             "passed/failed/skipped | inbuilt cases | stock s | inbuilt s "
             "| differences |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    same = differ = 0
    for module in sorted(records):
        rec = records[module]
        stock, got = rec["stock"], rec["inbuilt"]
        diffs = [tuple(d) for d in rec["diffs"]]
        if diffs:
            differ += 1
            unexplained = sum(d[3] is None for d in diffs)
            note = "%d (%d unexplained%s)" % (
                len(diffs), unexplained,
                ", flaky: same on rerun" if rec.get("flaky") else "")
        else:
            same += 1
            note = "0"
        lines.append("| %s | %s | %s | %s | %s | %.0f | %.0f | %s |" % (
            module, stock["status"], got["status"],
            "%d/%d/%d" % counts(stock["cases"]),
            "%d/%d/%d" % counts(got["cases"]),
            stock["seconds"], got["seconds"], note))
    stock_s = sum(r["stock"]["seconds"] for r in records.values())
    got_s = sum(r["inbuilt"]["seconds"] for r in records.values())
    status = {}
    for r in records.values():
        for label in ("stock", "inbuilt"):
            key = (label, r[label]["status"])
            status[key] = status.get(key, 0) + 1
    summary = ("%d modules: %d same, %d different; stock %.0f s, inbuilt "
               "%.0f s (sum of the module runs); statuses: %s" % (
                   len(records), same, differ, stock_s, got_s,
                   ", ".join("%s %s %d" % (k[0], k[1], v)
                             for k, v in sorted(status.items()))))
    return lines, summary


def main_full(args, python, exe, base_env, exe_env, build):
    """Every module of the test package (--full)."""
    modules = subprocess.run(
        [python, "-c", "try:\n from test.libregrtest.findtests import "
         "findtests\nexcept ImportError:\n from test.libregrtest.runtest "
         "import findtests\nprint('\\n'.join(findtests()))"],
        capture_output=True, text=True, check=True).stdout.split()
    if args.tests:
        modules = [m for m in modules if m in args.tests]
    out_dir = build / "cpython-full"
    out_dir.mkdir(exist_ok=True)
    results = out_dir / "results.jsonl"
    if args.fresh and results.exists():
        results.unlink()
    records = {}
    if results.exists():
        for line in results.read_text().splitlines():
            rec = json.loads(line)
            records[rec["module"]] = rec
    todo = [m for m in modules if m not in records and not args.report]
    work = Path(tempfile.mkdtemp(prefix="runs-", dir=out_dir))
    interps = {"stock": (python, base_env),
               "inbuilt": (str(exe), exe_env)}
    print("cpython_suite --full: %d modules, %d done before, -j %d"
          % (len(modules), len(records), args.jobs), flush=True)
    start = time.monotonic()
    results_of = {}  # (module, phase) -> {label: run}

    def record(rec):
        records[rec["module"]] = rec
        with results.open("a") as f:  # the last line of a module counts
            f.write(json.dumps(rec) + "\n")

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = {}

        def submit(m, phase):
            for label in ("stock", "inbuilt"):
                interp, env = interps[label]
                jobs[pool.submit(full_run, m, label, interp, env, work,
                                 args.timeout)] = (m, label, phase)

        for m in todo:
            submit(m, "first")
        while jobs:
            done, _ = concurrent.futures.wait(
                jobs, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                m, label, phase = jobs.pop(fut)
                runs = results_of.setdefault((m, phase), {})
                runs[label] = fut.result()
                if len(runs) < 2:
                    continue
                diffs = differences(m, runs["stock"], runs["inbuilt"])
                if phase == "first":
                    rec = dict(module=m, diffs=diffs, **runs)
                    if diffs:
                        # Once more (queued after the rest): a flaky test,
                        # or two runs in each other's way (ports, load), is
                        # not a difference.
                        rec["rerun"] = "pending"
                        submit(m, "rerun")
                else:
                    rec = dict(records[m], rerun={"diffs": diffs})
                    if not diffs:
                        rec.update(runs, flaky=True, diffs=[],
                                   first_diffs=records[m]["diffs"])
                record(rec)
                print("[%3d/%d %5.1f min] %-36s stock %-7s inbuilt %-7s %s%s"
                      % (len(records), len(modules),
                         (time.monotonic() - start) / 60, m,
                         rec["stock"]["status"], rec["inbuilt"]["status"],
                         "%d differences" % len(rec["diffs"])
                         if rec["diffs"] else "same",
                         " (run again)" if phase == "rerun" else ""),
                      flush=True)
    shutil.rmtree(work, ignore_errors=True)
    for rec in records.values():  # with today's EXPLAINED
        if not rec.get("flaky"):
            rec["diffs"] = differences(rec["module"], rec["stock"],
                                       rec["inbuilt"])
    lines, summary = full_table({m: records[m] for m in modules
                                 if m in records})
    detail = []
    for m in sorted(records):
        diffs = records[m]["diffs"]
        for case, a, b, why in diffs[:8]:
            detail.append("- %s `%s`: stock %s, inbuilt %s: %s"
                          % (m, case, a, b, why or "UNEXPLAINED"))
        if len(diffs) > 8:
            detail.append("- %s: %d more (%d unexplained)" % (
                m, len(diffs) - 8, sum(d[3] is None for d in diffs[8:])))
    text = "\n".join(lines + ["", summary, ""] + detail) + "\n"
    (out_dir / "table.md").write_text(text)
    print(text)
    print("cpython_suite --full: table in %s" % (out_dir / "table.md"))
    unexplained = sum(d[3] is None for r in records.values()
                      for d in r["diffs"])
    return 1 if unexplained else 0


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--quick", action="store_true",
                    help="the short slice of make check")
    ap.add_argument("--full", action="store_true",
                    help="every module of the test package")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="--full: module runs at a time")
    ap.add_argument("--fresh", action="store_true",
                    help="--full: forget the results of an earlier run")
    ap.add_argument("--report", action="store_true",
                    help="--full: only the table of the results so far")
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
    if args.full and args.report:
        return main_full(args, python, None, None, None, build)
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
    if args.full:
        status = main_full(args, python, exe, base_env, exe_env, build)
        shutil.rmtree(work)
        return status
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
