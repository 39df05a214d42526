"""make check-numpy: numpy's whole test suite (as Debian ships it) run by
pytest inside an inbuilt executable, and by stock python3, with the same
arguments; prints both counts and every test whose outcome differs.  Exits
1 when the counts differ.

Usage: python3.11 tests/numpy_suite.py BUILD_DIR [TEST_PATH...]

TEST_PATHs (relative to the directory numpy is installed in, e.g.
numpy/tests/test_public_api.py) run only those; the default is numpy.

Test files are collected from disk with --import-mode=importlib (the
embedded numpy package has no directory on disk to import them through),
and collection errors do not stop the run: both interpreters get the very
same conditions.
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

PYTHON = "/usr/bin/python3.11"
STACK = ["numpy", "pytest", "_pytest", "pluggy", "iniconfig", "packaging",
         "attr", "py", "hypothesis", "sortedcontainers"]
ARGS = ["-m", "pytest", "-q", "-p", "no:cacheprovider",
        "--import-mode=importlib", "--continue-on-collection-errors"]


def outcomes(xml_path):
    """{test id: outcome} from a JUnit XML report; {} when the run left
    none (it was killed)."""
    result = {}
    if not os.path.exists(xml_path):
        return result
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        name = "%s::%s" % (case.get("classname"), case.get("name"))
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
                if child.tag == "skipped" and "xfail" in (
                        child.get("type") or ""):
                    outcome = "xfailed"
        result[name] = outcome
    return result


def main(build_dir, tests):
    exe = os.path.abspath(os.path.join(build_dir, "numpy-suite", "npy"))
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    cmd = [os.path.join(build_dir, "inbuilt"), "build"]
    for name in STACK:
        cmd += ["--include", name]
    subprocess.run(cmd + ["-o", exe], check=True)
    site = os.path.dirname(os.path.dirname(subprocess.run(
        [PYTHON, "-c", "import numpy; print(numpy.__file__)"],
        capture_output=True, text=True, check=True).stdout.strip()))
    reports, counts, runs = {}, {}, {}
    # The two runs go side by side (each is mostly one core); each one's
    # output goes to LABEL.log next to its JUnit report.
    for label, argv, extra in (
            ("stock", [PYTHON], {}),
            ("inbuilt", [exe], {"INBUILT_ALLOW_FILESYSTEM": "1"})):
        base = os.path.abspath(os.path.join(build_dir, "numpy-suite", label))
        # numpy's big-memory tests size themselves from MemAvailable; two
        # of them together can exhaust this machine.  Bounded, they skip
        # alike in both runs.
        env = dict(os.environ, NPY_AVAILABLE_MEM="4 GB", **extra)
        if os.path.exists(base + ".xml"):
            os.unlink(base + ".xml")
        with open(base + ".log", "w") as log:
            runs[label] = (base, subprocess.Popen(
                argv + ARGS + tests + ["--junitxml=" + base + ".xml"], cwd=site,
                env=env, stdout=log, stderr=subprocess.STDOUT))
    for label, (base, proc) in runs.items():
        status = proc.wait()
        with open(base + ".log", errors="replace") as log:
            # pytest's summary line; compilers may print after it.
            lines = [l for l in log.read().splitlines()
                     if " passed" in l or " failed" in l] or ["(no summary)"]
        counts[label] = lines[-1].strip("= ")
        if status not in (0, 1):
            counts[label] += " (exit status %d)" % status
        reports[label] = outcomes(base + ".xml")
        print("%-8s %s" % (label, counts[label]), flush=True)
    stock, ours = reports["stock"], reports["inbuilt"]
    differ = sorted(k for k in set(stock) | set(ours)
                    if stock.get(k) != ours.get(k))
    for k in differ:
        print("differs: %s: stock %s, inbuilt %s"
              % (k, stock.get(k, "absent"), ours.get(k, "absent")))
    print("%d tests differ" % len(differ))
    return 1 if differ or not ours else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("-"):
        # -h, --help, or a mistake: nothing is built or written.
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(0 if sys.argv[1] in ("-h", "--help") else 2)
    if len(sys.argv) > 1 and not os.path.isfile(
            os.path.join(sys.argv[1], "inbuilt")):
        sys.exit("numpy_suite: %s has no inbuilt (run make, or name the "
                 "build directory)" % sys.argv[1])
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build",
                  sys.argv[2:] or ["numpy"]))
