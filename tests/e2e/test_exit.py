"""The exit: when no collection of the objects left at exit could run code
or write data, they are frozen and the interpreter's collections at exit
skip them (src/runtime/exit.c); otherwise the exit is CPython's.  Either
way a program sees what it sees under python3."""
import pytest

from helpers import PYTHON_TARGET, clean_env, run

# Each program: (source, how its exit goes).
PROGRAMS = {
    "open_file_in_a_global": (
        "import sys\n"
        "f = open(sys.argv[1], 'w')\n"
        "f.write('data left in the buffer')\n"
        "print('no newline at the end', end='')\n",
        # The file's text wrapper, its buffer or its raw file, whichever the
        # walk of the collector's lists meets first (their order follows
        # allocations, which any change to the import machinery moves).
        ("full collections (a _io.TextIOWrapper with a finalizer)",
         "full collections (a _io.BufferedWriter with a finalizer)",
         "full collections (a _io.FileIO with a finalizer)")),
    "del_in_a_cycle": (
        "class C:\n"
        "    def __del__(self):\n"
        "        print('del ran')\n"
        "c = C(); c.me = c\n",
        "full collections (a C with a finalizer)"),
    "finalize_callback": (
        "import weakref\n"
        "class O: pass\n"
        "o = O(); o.me = o\n"
        "weakref.finalize(o, print, 'finalize ran').atexit = False\n",
        "full collections (a weakref.ReferenceType with a callback)"),
    "suspended_generator": (
        "def g():\n"
        "    try:\n"
        "        yield 1\n"
        "    finally:\n"
        "        print('finally ran')\n"
        "it = g(); next(it)\n",
        "full collections (a generator with a finalizer)"),
    "gc_callback": (
        "import gc\n"
        "gc.callbacks.append(lambda phase, info: None)\n",
        "full collections (gc has callbacks or debug flags)"),
    "plain_with_cycles_atexit_and_exit_status": (
        "import atexit, json, logging, sys\n"
        "atexit.register(print, 'atexit ran')\n"
        "logging.basicConfig(); logging.warning('logged')\n"
        "x = [1]; x.append(x)\n"
        "sys.stdout.write('buffered'); sys.exit(3)\n",
        "objects frozen"),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_exit_is_seen_as_under_python3(stdlib_exe, tmp_path, name):
    source, how = PROGRAMS[name]
    prog = tmp_path / "prog.py"
    prog.write_text(source)
    results = []
    for argv, out in (([PYTHON_TARGET], tmp_path / "stock.txt"),
                      ([stdlib_exe], tmp_path / "inbuilt.txt")):
        r = run(argv + [prog, out],
                env=clean_env(INBUILT_EXIT_REPORT="1"))
        lines = r.stderr.splitlines()
        report = [x for x in lines if x.startswith("inbuilt: exit: ")]
        rest = [x for x in lines if not x.startswith("inbuilt: exit: ")]
        written = out.read_text() if out.exists() else None
        results.append((r.returncode, r.stdout, rest, written, report))
    stock, inbuilt = results
    assert inbuilt[:4] == stock[:4]
    assert len(inbuilt[4]) == 1 and inbuilt[4][0].endswith(how), inbuilt[4]


def test_full_exit_can_be_asked_for(stdlib_exe):
    r = run([stdlib_exe, "-c", "pass"],
            env=clean_env(INBUILT_EXIT_REPORT="1", INBUILT_FULL_EXIT="1"))
    assert (r.returncode, r.stderr) == (
        0, "inbuilt: exit: full collections (INBUILT_FULL_EXIT is set)\n")


def test_exit_report_is_silent_unless_asked(stdlib_exe):
    r = run([stdlib_exe, "-c", "import json"])
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
