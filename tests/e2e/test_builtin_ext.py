"""C and C++ extension modules linked into the executable as built-in
modules (--extension, --setup): tests/fixtures/builtin/ holds the sources.

One executable carries them all: alpha._speedups and beta._speedups (same
module name, same global names, one given as an -fcommon object), a.b.c._ext
(single-phase, three packages deep, parents made namespace packages),
statepkg._mstate (multi-phase with per-module state), libpkg._withlib (a static library
and -lbz2), cxxtwin._cxx (the C++ module
again, under another name), and from the Setup
file multipkg._multi (two C files and a -D flag) and cxxpkg._cxx (C++).
The bad-input tests each run a build that must fail with a clear message.
"""
import shutil
import subprocess

import pytest

from helpers import PYTHON_TARGET, REPO, clean_env, inbuilt, run_ok
import fscalls  # scripts/fscalls.py

SRC = REPO / "tests" / "fixtures" / "builtin"


def cc(*args):
    include = subprocess.run(
        [PYTHON_TARGET, "-c",
         "import sysconfig; print(sysconfig.get_paths()['include'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    r = subprocess.run(["cc", "-O1", "-fPIC", "-I" + include,
                        *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def alpha_o(tmp_path_factory):
    """alpha/_speedups.c compiled with -fcommon: its uninitialized globals
    are common symbols."""
    out = tmp_path_factory.mktemp("obj") / "alpha_speedups.o"
    cc("-fcommon", "-c", SRC / "alpha" / "_speedups.c", "-o", out)
    return out


@pytest.fixture(scope="module")
def static_lib(tmp_path_factory):
    """libinbstatic.a, the static library libpkg._withlib needs."""
    d = tmp_path_factory.mktemp("lib")
    cc("-c", SRC / "withlib" / "staticlib.c", "-o", d / "staticlib.o")
    subprocess.run(["ar", "rcs", str(d / "libinbstatic.a"),
                    str(d / "staticlib.o")], check=True)
    return d / "libinbstatic.a"


def base_options(alpha_o):
    return ["--path", SRC / "pkgs", "--include", "alpha", "--include", "beta",
            "--extension", "alpha._speedups=%s" % alpha_o,
            "--extension", "beta._speedups=%s" % (SRC / "beta" / "_speedups.c"),
            "--extension", "a.b.c._ext=%s" % (SRC / "deep" / "_ext.c")]


@pytest.fixture(scope="module")
def exe(builder, alpha_o, static_lib):
    return builder.get(
        "builtin-ext", *base_options(alpha_o),
        "--extension", "libpkg._withlib=%s,%s,-lbz2" % (
            SRC / "withlib" / "_withlib.c", static_lib),
        "--extension", "statepkg._mstate=%s" % (SRC / "state" / "_mstate.c"),
        "--extension", "cxxtwin._cxx=%s" % (SRC / "cxx" / "_cxx.cpp"),
        "--setup", SRC / "Setup")


def test_two_cxx_modules_with_the_same_inline_code_keep_their_own(exe):
    # Both define the same COMDAT groups (std::vector<std::string>, sort):
    # the link must keep each module's copy, not pick one by name.
    code = ("import cxxpkg._cxx as a, cxxtwin._cxx as b\n"
            "print(a.sorted_words('b a'), b.sorted_words('d c'),"
            " b.greeting())\n")
    assert run_ok([exe, "-c", code]).strip() == "a b c d constructed"


def test_two_speedups_modules_keep_their_own_globals(exe):
    code = ("import alpha, beta, alpha._speedups as a, beta._speedups as b\n"
            "print(alpha.which(), beta.which(), a.helper(), b.helper())\n"
            "print(a.bump(), a.bump(), b.bump(), a.bump(), b.bump())\n"
            "print(a.__spec__.origin, b.__spec__.origin)\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "alpha beta 1 2", "1 2 2 3 4", "built-in built-in"]


def test_extension_globals_are_local_symbols_of_the_executable(exe):
    if shutil.which("nm") is None:
        pytest.skip("nm is not installed")
    out = subprocess.run(["nm", str(exe)], capture_output=True, text=True,
                         check=True).stdout
    defined = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            defined.setdefault(parts[2], []).append(parts[1])
    # Two definitions each (alpha's and beta's), none global.
    for name in ("helper", "counter", "whoami", "scratch"):
        assert len(defined.get(name, [])) == 2, (name, defined.get(name))
        assert all(t.islower() for t in defined[name]), (name, defined[name])
    assert "PyInit__speedups" not in defined
    assert defined["inb_PyInit_alpha_d__speedups"] == ["T"]


def test_libraries_of_an_extension_are_carried_to_the_link(exe):
    code = ("import libpkg._withlib as w, bz2\n"
            "print(w.triple(14), w.bz2_version().split(',')[0][:3])\n")
    out = run_ok([exe, "-c", code]).split()
    assert out[0] == "42" and out[1][0].isdigit(), out


def test_single_phase_module_three_packages_deep(exe):
    code = ("import a.b.c._ext as e, a.b\n"
            "print(e.__name__, e.__spec__.origin, e.add.__module__, e.ANSWER)\n"
            "print(e.add(2, 3), repr(e), a.b.__path__ is not None)\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "a.b.c._ext built-in a.b.c._ext 42",
        "5 <module 'a.b.c._ext' (built-in)> True"]


def test_single_phase_function_pickles(exe):
    code = ("import pickle, a.b.c._ext as e\n"
            "f = pickle.loads(pickle.dumps(e.add))\n"
            "print(f is e.add, f(20, 22))\n")
    assert run_ok([exe, "-c", code]).strip() == "True 42"


def test_single_phase_module_is_initialized_once_per_process(exe):
    # As CPython does for an m_size -1 module: a new module object holding
    # a copy of the first namespace; the C state lives on.
    code = ("import sys, importlib, a.b.c._ext as e\n"
            "e.add(1, 1); e.mark = 1\n"
            "del sys.modules['a.b.c._ext']\n"
            "import a.b.c._ext as e2\n"
            "print(e2 is e, e2.ncalls(), hasattr(e2, 'mark'), e2.ANSWER)\n"
            "print(importlib.reload(e2) is e2, e2.ncalls())\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "False 1 False 42", "True 1"]


def test_multi_phase_module_has_state_per_module_object(exe):
    code = ("import sys, statepkg._mstate as m\n"
            "print(m.__name__, m.exec_name, m.incr(), m.incr(),"
            " m.__spec__.origin)\n"
            "del sys.modules['statepkg._mstate']\n"
            "import statepkg._mstate as m2\n"
            "print(m2 is m, m2.incr(), m.incr())\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "statepkg._mstate statepkg._mstate 101 102 built-in",
        "False 101 103"]


def test_setup_file_builds_multi_file_and_cxx_modules(exe):
    code = ("import multipkg._multi as mu, cxxpkg._cxx as cx\n"
            "print(mu.mul(2, 3), mu.mul(1, 1))\n"
            "print(cx.sorted_words('pear apple fig'), cx.greeting())\n"
            "try:\n    cx.checked_div(1, 0)\n"
            "except ZeroDivisionError as e:\n    print('caught', e)\n"
            "print(cx.__spec__.origin)\n"
            "try:\n    import badpkg._undef\n"
            "except ImportError as e:\n    print(type(e).__name__)\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "(18, 1) (3, 2)", "apple fig pear constructed",
        "caught division by zero", "built-in", "ModuleNotFoundError"]


@pytest.mark.skipif(shutil.which("strace") is None,
                    reason="strace is not installed")
def test_builtin_imports_make_no_filesystem_calls(exe):
    result, calls = fscalls.strace_paths(
        [str(exe), "-c",
         "import alpha._speedups, beta._speedups, a.b.c._ext, pickle, "
         "statepkg._mstate, multipkg._multi, cxxpkg._cxx, libpkg._withlib; "
         "pickle.loads(pickle.dumps(a.b.c._ext.add))"])
    assert result.returncode == 0, result.stderr
    bad = fscalls.outside_allow_list(calls, str(exe))
    assert bad == [], "\n".join(line for _, _, line in bad)


# Bad input: each build fails with a message naming what is wrong, and
# writes nothing.

def failed_build(tmp_path, *options):
    out = tmp_path / "app"
    r = inbuilt("build", *map(str, options), "-o", out)
    assert r.returncode != 0, r.stderr
    assert not out.exists()
    assert "Traceback" not in r.stderr and "Segmentation" not in r.stderr
    return r.stderr


def test_same_dotted_name_twice_names_both_origins(tmp_path):
    first = "mod._x=%s" % (SRC / "deep" / "_ext.c")
    second = "mod._x=%s" % (SRC / "state" / "_mstate.c")
    err = failed_build(tmp_path, "--extension", first, "--extension", second)
    assert "mod._x is declared twice" in err
    assert first in err and second in err


def test_undefined_symbol_names_the_extension_and_the_symbol(tmp_path):
    err = failed_build(tmp_path, "--extension",
                       "badpkg._undef=%s" % (SRC / "bad" / "undef.c"))
    assert "extension badpkg._undef" in err
    assert "needs symbol inb_fixture_missing_function" in err


def test_object_for_another_machine_is_refused_before_linking(
        tmp_path, alpha_o):
    foreign = tmp_path / "foreign.o"
    data = bytearray(alpha_o.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine: EM_AARCH64
    foreign.write_bytes(bytes(data))
    err = failed_build(tmp_path, "--extension", "alpha._speedups=%s" % foreign)
    assert "extension alpha._speedups" in err
    assert "for aarch64, not for this machine" in err
    assert "linking" not in err


def test_missing_init_function_is_refused_before_linking(tmp_path, alpha_o):
    err = failed_build(tmp_path, "--extension", "pkg._other=%s" % alpha_o)
    assert "extension pkg._other" in err
    assert "no init function PyInit__other" in err
    assert "PyInit__speedups" in err  # what the objects do define


def test_setup_file_errors_name_the_line(tmp_path):
    setup = tmp_path / "Setup"
    setup.write_text("# comment\nX = 1\nmod._a a.c $(NOPE_INBUILT_VAR)\n")
    err = failed_build(tmp_path, "--setup", setup)
    assert "%s:3: variable NOPE_INBUILT_VAR is not defined" % setup in err
    setup.write_text("mod._a a.c what.txt\n")
    err = failed_build(tmp_path, "--setup", setup)
    assert "%s:1: what.txt is not a source" % setup in err


# Capture: a package's own setuptools build, recorded by inbuilt's
# compiler and linker wrappers, then linked in with --bundle.

CAPPKG = SRC / "cappkg"


def capture(tmp_path, *command, out="bundle"):
    work = tmp_path / "cappkg"
    shutil.copytree(CAPPKG, work)
    bundle = tmp_path / out
    r = inbuilt("capture", "--out", bundle, "--", *map(str, command),
                cwd=work)
    return r, work, bundle


def test_capture_of_setup_py_build_ext_is_built_in(tmp_path):
    r, work, bundle = capture(tmp_path, PYTHON_TARGET, "setup.py", "-q",
                              "build_ext")
    assert r.returncode == 0, r.stderr
    assert "captured 2 extension modules" in r.stderr
    manifest = (bundle / "Setup").read_text()
    assert "cappkg._fast cappkg._fast.o" in manifest and "-lm" in manifest
    assert "cappkg.inner._cxx cappkg.inner._cxx.o" in manifest
    exe = tmp_path / "app"
    r = inbuilt("build", "--path", work, "--include", "cappkg", "--bundle",
                bundle, "-o", exe)
    assert r.returncode == 0, r.stderr
    code = ("import cappkg, cappkg._fast as f, cappkg.inner._cxx as c\n"
            "print(cappkg.hypot_base(3, 4), f.__spec__.origin)\n"
            "print(c.count_letters('banana'), c.__name__, c.__spec__.origin)\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "1005.0 built-in", "a3b1n2 cappkg.inner._cxx built-in"]


def test_capture_of_pip_wheel_records_the_extensions(tmp_path):
    pip = subprocess.run([PYTHON_TARGET, "-m", "pip", "--version"],
                         capture_output=True)
    if pip.returncode != 0:
        pytest.skip("no pip for %s (python3-pip)" % PYTHON_TARGET)
    r, work, bundle = capture(tmp_path, PYTHON_TARGET, "-m", "pip", "wheel",
                              "-q", "--no-build-isolation", "--no-deps", ".")
    assert r.returncode == 0, r.stderr
    assert list(work.glob("cappkg-1.0-*.whl")), "pip made no wheel"
    names = sorted(p.name for p in bundle.iterdir())
    assert names == ["Setup", "cappkg._fast.o", "cappkg.inner._cxx.o"]


def test_capture_of_a_failing_build_writes_nothing(tmp_path):
    r, work, bundle = capture(tmp_path, PYTHON_TARGET, "-c",
                              "raise SystemExit(3)")
    assert r.returncode != 0
    assert "failed (exit status 3); nothing was written" in r.stderr
    assert not bundle.exists()
    assert list(tmp_path.glob("bundle*")) == []


def test_capture_of_a_cython_extension_is_built_in(tmp_path):
    has_cython = subprocess.run([PYTHON_TARGET, "-c", "import Cython"],
                                capture_output=True)
    if has_cython.returncode != 0:
        pytest.skip("no Cython for %s (cython3)" % PYTHON_TARGET)
    work = tmp_path / "cypkg"
    shutil.copytree(SRC / "cypkg", work)
    bundle = tmp_path / "bundle"
    r = inbuilt("capture", "--out", bundle, "--", PYTHON_TARGET, "setup.py",
                "-q", "build_ext", cwd=work)
    assert r.returncode == 0, r.stderr
    exe = tmp_path / "app"
    r = inbuilt("build", "--path", work, "--include", "cypkg", "--bundle",
                bundle, "-o", exe)
    assert r.returncode == 0, r.stderr
    code = ("import pickle, cypkg._fib as f\n"
            "c = f.Counter(5); c.bump()\n"
            "print(f.fib(50), c.count, f.adder(2)(3), f.__spec__.origin)\n"
            "print(type(c).__module__, pickle.loads(pickle.dumps(f.fib))(10))\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "12586269025 6 5 built-in", "cypkg._fib 55"]


def test_entry_not_matching_the_table_is_an_import_error(exe, tmp_path):
    import struct
    from test_corrupt_archive import archive_start

    blob = bytearray(exe.read_bytes())
    start = archive_start(exe)
    count, = struct.unpack_from("<I", blob, start + 24)
    index, strings = struct.unpack_from("<QQ", blob, start + 32)
    for i in range(count):
        rec = start + index + 32 * i
        noff, nlen, ns, kind = struct.unpack_from("<IIBB", blob, rec)
        name = bytes(blob[start + strings + noff:start + strings + noff + nlen])
        if ns == 1 and name == b"a.b.c._ext":
            assert kind == 5  # builtin-ext
            doff, dlen = struct.unpack_from("<QQ", blob, rec + 16)
            assert dlen == 4
            break
    else:
        pytest.fail("no entry for a.b.c._ext")
    code = ("try:\n    import a.b.c._ext\n"
            "except ImportError as e:\n    print(type(e).__name__, e)\n")
    for value in (9999, 0):  # past the table; another module's record
        bad = tmp_path / ("app%d" % value)
        blob[start + doff:start + doff + 4] = struct.pack("<I", value)
        bad.write_bytes(bytes(blob))
        bad.chmod(0o755)
        out = run_ok([bad, "-c", code]).strip()
        # The entry's checksum catches it first; with the checksum right,
        # the table check behind it would say "is not in this executable's
        # table of init functions".
        assert out == ("ImportError cannot import module 'a.b.c._ext': "
                       "entry module:a.b.c._ext of the embedded archive is "
                       "damaged (checksum mismatch): this executable was "
                       "damaged when it was written or copied; rebuild it "
                       "or copy it again")


def test_compile_error_names_the_extension_and_shows_the_compiler(tmp_path):
    src = tmp_path / "broken.c"
    src.write_text("int x = ;\n")
    err = failed_build(tmp_path, "--extension", "p._b=%s" % src)
    assert "broken.c:1:9: error:" in err
    assert "extension p._b (--extension p._b=%s): compiling %s failed" % (
        src, src) in err


def test_setup_line_with_two_names_braces_and_environment(tmp_path):
    # Two modules from one line share the sources, each with its own copy
    # (own counter); ${VAR} comes from the environment when the file does
    # not define it.
    setup = tmp_path / "Setup"
    setup.write_text("# two modules, one recipe\n"
                     "one._ext two._ext ${INB_FIXTURES}/deep/_ext.c \\\n"
                     "    -DUNUSED_FLAG=1\n")
    exe = tmp_path / "app"
    r = inbuilt("build", "--setup", setup, "-o", exe,
                env=dict(clean_env(),
                         INB_FIXTURES=str(SRC)))
    assert r.returncode == 0, r.stderr
    code = ("import one._ext as a, two._ext as b\n"
            "a.add(1, 1); a.add(1, 1); b.add(1, 1)\n"
            "print(a.__name__, b.__name__, a.ncalls(), b.ncalls())\n")
    assert run_ok([exe, "-c", code]).strip() == "one._ext two._ext 2 1"
