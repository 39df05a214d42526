"""C extension modules (.so) and the libraries they need, embedded and
loaded from memory (or a node-local cache): tests/fixtures/ext/*.c are
compiled here with the target's headers, into packages that are then
--include'd."""
import os
import shutil
import subprocess

import pytest

from helpers import (PYTHON_TARGET, REPO, clean_env, describe, inbuilt, run,
                     run_ok, target_config)
import fscalls  # scripts/fscalls.py

SRC = REPO / "tests" / "fixtures" / "ext"


INCLUDE, SUFFIX = target_config()


def cc(*args):
    r = subprocess.run(["cc", "-O1", "-fPIC", *map(str, args)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def compile_ext(src, out, *libs):
    out.parent.mkdir(parents=True, exist_ok=True)
    cc("-shared", "-I" + INCLUDE, SRC / src, "-o", out, *libs)
    return out


def compile_lib(libdir):
    libdir.mkdir(parents=True, exist_ok=True)
    cc("-shared", "-Wl,-soname,libinbtest.so.1", SRC / "libinbtest.c", "-o",
       libdir / "libinbtest.so.1")
    (libdir / "libinbtest.so").symlink_to("libinbtest.so.1")


def touch_package(*dirs):
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
        (d / "__init__.py").write_text("")


@pytest.fixture(scope="module")
def pkgs(tmp_path_factory):
    """extpkg.sub._single (single-phase, needs libinbtest.so.1 found through
    its RUNPATH), extpkg._multi (multi-phase), extpkg._othername (its
    definition names another module), undefpkg._undef (an undefined
    symbol)."""
    root = tmp_path_factory.mktemp("ext")
    lib = root / "lib"
    compile_lib(lib)
    p = root / "pkgs"
    touch_package(p / "extpkg", p / "extpkg" / "sub", p / "undefpkg")
    compile_ext("single.c", p / "extpkg" / "sub" / ("_single" + SUFFIX),
                "-L" + str(lib), "-linbtest", "-Wl,-rpath," + str(lib))
    compile_ext("multi.c", p / "extpkg" / ("_multi" + SUFFIX))
    compile_ext("othername.c", p / "extpkg" / ("_othername" + SUFFIX))
    compile_ext("undef.c", p / "undefpkg" / ("_undef" + SUFFIX))
    return root


@pytest.fixture(scope="module")
def ext_exe(pkgs, tmp_path_factory):
    out = tmp_path_factory.mktemp("extexe") / "app"
    r = inbuilt("build", "--path", pkgs / "pkgs", "--include", "extpkg",
                "--include", "undefpkg", "-o", out)
    assert r.returncode == 0, r.stderr
    return out


SINGLE = (
    "import pickle, sys\n"
    "import extpkg.sub._single as m\n"
    "print(m.__name__, m.add(2, 3), m.libval(), m.ncalls())\n"
    "print(pickle.loads(pickle.dumps(m.add)) is m.add)\n"
    "print(m.__spec__.origin == m.__file__ == sys.executable + "
    "'/extpkg/sub/_single%s')\n"
    "print(type(m.__loader__).__name__)\n" % SUFFIX
)


def test_dotted_single_phase_extension_gets_its_full_name_and_library(
        ext_exe):
    out = run_ok([ext_exe, "-c", SINGLE]).splitlines()
    assert out == ["extpkg.sub._single 5 7 1", "True", "True", "Importer"]


def test_multi_phase_extension_keeps_per_module_state(ext_exe):
    code = ("import extpkg._multi as m\n"
            "print(m.__name__, m.VALUE, m.bump(), m.bump())\n")
    assert run_ok([ext_exe, "-c", code]).strip() == "extpkg._multi 42 1 2"


def test_extension_imports_make_no_filesystem_calls(ext_exe):
    result, calls = fscalls.strace_paths(
        [str(ext_exe), "-c",
         "import extpkg.sub._single, extpkg._multi, _decimal, _ssl"])
    assert result.returncode == 0, result.stderr
    bad = fscalls.outside_allow_list(calls, str(ext_exe))
    assert bad == [], "\n".join(line for _, _, line in bad)


def test_failed_load_raises_import_error_with_loader_message(ext_exe):
    code = ("try:\n    import undefpkg._undef\n"
            "except ImportError as e:\n"
            "    print(type(e).__name__, e.name); print(e)\n")
    out = run_ok([ext_exe, "-c", code]).splitlines()
    assert out[0] == "ImportError undefpkg._undef"
    assert "'undefpkg._undef'" in out[1]
    assert "inbtest_missing_function" in out[1]


def test_cache_mode_shares_one_copy_between_processes(pkgs, tmp_path):
    exe = tmp_path / "app"
    r = inbuilt("build", "--path", pkgs / "pkgs", "--include", "extpkg",
                "--so-mode", "cache", "-o", exe)
    assert r.returncode == 0, r.stderr
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    code = ("import extpkg.sub._single as m\n"
            "print(m.libval())\n"
            "print(sorted({l.split()[-1] for l in open('/proc/self/maps')\n"
            "              if '/inbuilt/' in l}))\n")
    env = clean_env(XDG_RUNTIME_DIR=xdg)
    first = run_ok([exe, "-c", code], env=env).splitlines()
    cache = xdg / "inbuilt"
    files = sorted(os.listdir(cache))
    inodes = {f: os.stat(cache / f).st_ino for f in files}
    second = run_ok([exe, "-c", code], env=env).splitlines()
    assert first == second
    assert first[0] == "7"
    assert oct(os.stat(cache).st_mode & 0o777) == "0o700"
    assert any(f.endswith("-libinbtest.so.1") for f in files), files
    assert any(f.endswith("-_single" + SUFFIX) for f in files), files
    # The second process used the first one's files: none rewritten.
    assert {f: os.stat(cache / f).st_ino for f in files} == inodes
    assert sorted(os.listdir(cache)) == files
    mapped = eval(first[1])
    assert str(cache / [f for f in files if "-_single" in f][0]) in mapped


def test_environment_chooses_cache_mode_at_run_time(ext_exe, tmp_path):
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    env = clean_env(XDG_RUNTIME_DIR=xdg, INBUILT_SO_MODE="cache")
    out = run_ok([ext_exe, "-c", "import extpkg._multi as m; print(m.VALUE)"],
                 env=env)
    assert out.strip() == "42"
    assert any(f.endswith("-_multi" + SUFFIX)
               for f in os.listdir(xdg / "inbuilt"))


def test_missing_library_fails_the_build_naming_it_and_the_module(tmp_path):
    lib = tmp_path / "lib"
    compile_lib(lib)
    p = tmp_path / "pkgs"
    touch_package(p / "lonely")
    compile_ext("single.c", p / "lonely" / ("_single" + SUFFIX),
                "-L" + str(lib), "-linbtest")
    shutil.rmtree(lib)
    out = tmp_path / "out"
    out.mkdir()
    r = inbuilt("build", "--path", p, "--include", "lonely",
                "-o", out / "app")
    assert r.returncode != 0
    assert "libinbtest.so.1" in r.stderr
    assert "extension module lonely._single" in r.stderr
    assert os.listdir(out) == []


def test_extension_for_another_python_version_is_rejected(pkgs, tmp_path):
    p = tmp_path / "pkgs"
    touch_package(p / "oldpkg")
    shutil.copy(pkgs / "pkgs" / "extpkg" / ("_multi" + SUFFIX),
                p / "oldpkg" / "_multi.cpython-39-x86_64-linux-gnu.so")
    r = inbuilt("build", "--path", p, "--include", "oldpkg",
                "-o", tmp_path / "app")
    assert r.returncode != 0
    assert "oldpkg._multi" in r.stderr and "39" in r.stderr
    assert not (tmp_path / "app").exists()


def test_extension_for_another_architecture_is_rejected(pkgs, tmp_path):
    p = tmp_path / "pkgs"
    touch_package(p / "armpkg")
    blob = bytearray((pkgs / "pkgs" / "extpkg" / ("_multi" + SUFFIX))
                     .read_bytes())
    blob[18:20] = (183).to_bytes(2, "little")  # e_machine: EM_AARCH64
    (p / "armpkg" / ("_multi" + SUFFIX)).write_bytes(bytes(blob))
    r = inbuilt("build", "--path", p, "--include", "armpkg",
                "-o", tmp_path / "app")
    assert r.returncode != 0
    assert "armpkg._multi" in r.stderr
    assert "architecture" in r.stderr
    assert not (tmp_path / "app").exists()


def test_environment_copy_of_a_base_library_is_embedded(tmp_path):
    """A library with a base-system soname that the environment brings
    itself (like a conda env's newer libstdc++) is embedded: the system's
    copy, which lacks what the extension needs, must not be used."""
    lib = tmp_path / "envlib"
    lib.mkdir()
    cc("-shared", "-Wl,-soname,libutil.so.1", SRC / "libinbtest.c", "-o",
       lib / "libutil.so.1")
    p = tmp_path / "pkgs"
    touch_package(p / "basepkg")
    compile_ext("single.c", p / "basepkg" / ("_single" + SUFFIX),
                lib / "libutil.so.1", "-Wl,-rpath," + str(lib))
    exe = tmp_path / "app"
    r = inbuilt("build", "-v", "--path", p, "--include", "basepkg", "-o", exe)
    assert r.returncode == 0, r.stderr
    assert "embedding libutil.so.1 (%s" % (lib / "libutil.so.1") in r.stderr
    shutil.rmtree(lib)
    out = run_ok([exe, "-c", "import basepkg._single as m; print(m.libval())"])
    assert out.strip() == "7"


def test_build_for_this_python_wins_over_another_versions(pkgs, tmp_path):
    """Beside its own build, an extension for another CPython is ignored,
    in a package and as a top-level module named to --include."""
    p = tmp_path / "pkgs"
    touch_package(p / "twopkg")
    good = pkgs / "pkgs" / "extpkg" / ("_multi" + SUFFIX)
    for d in (p / "twopkg", p):
        shutil.copy(good, d / ("_multi" + SUFFIX))
        shutil.copy(good, d / "_multi.cpython-310-x86_64-linux-gnu.so")
    exe = tmp_path / "app"
    r = inbuilt("build", "--path", p, "--include", "twopkg", "--include",
                "_multi", "-o", exe)
    assert r.returncode == 0, r.stderr
    code = ("import os, _multi, twopkg._multi as m\n"
            "print(os.path.basename(_multi.__file__), _multi.VALUE)\n"
            "print(os.path.basename(m.__file__), m.VALUE)\n")
    out = run_ok([exe, "-c", code]).splitlines()
    assert out == ["_multi%s 42" % SUFFIX, "_multi%s 42" % SUFFIX]


NOMEMFD = os.environ.get("NOMEMFD") or str(REPO / "build" / "tests" /
                                           "nomemfd")


def test_denied_memory_files_fall_back_to_the_cache_with_one_line(
        ext_exe, tmp_path):
    # A seccomp filter (tests/tools/nomemfd.c) makes memfd_create fail with
    # EPERM, as a container's or a hardened system's policy does.
    if not os.access(NOMEMFD, os.X_OK):
        pytest.fail("no %s: make check-e2e builds it" % NOMEMFD)
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    code = ("import extpkg.sub._single as s, extpkg._multi as m\n"
            "print(s.libval(), m.VALUE)\n")
    # Memory mode: in shared mode a holder of the node that already has
    # the images would hand them over (test_shared_so.py tests that).
    r = run([NOMEMFD, ext_exe, "-c", code],
            env=clean_env(XDG_RUNTIME_DIR=xdg, INBUILT_SO_MODE="memory"))
    assert r.returncode == 0, describe(r)
    assert r.stdout.split() == ["7", "42"]
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("inbuilt: memfd_create: Operation not "
                               "permitted;"), lines
    assert "cache directory" in lines[0]
    files = os.listdir(xdg / "inbuilt")
    assert any(f.endswith("-_single" + SUFFIX) for f in files), files
    assert any(f.endswith("-libinbtest.so.1") for f in files), files


def noexec_tmpfs_script(tmp_path, body):
    """Run body (sh) in a private mount namespace where tmp_path/noexec is a
    tmpfs mounted noexec; skip where that cannot be done."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    d = tmp_path / "noexec"
    d.mkdir(mode=0o700)
    r = run(["unshare", "--mount", "--propagation", "private", "/bin/sh",
             "-c", "mount -t tmpfs -o noexec,mode=0700 tmpfs %s && %s"
             % (d, body)], env=clean_env(NOEXEC=d))
    if r.returncode == 126 or "mount:" in r.stderr or \
            "unshare:" in r.stderr:
        pytest.skip("cannot mount a tmpfs in a private namespace here: " +
                    r.stderr.strip())
    return r


def test_cache_skips_a_directory_mounted_noexec(ext_exe, tmp_path):
    # $XDG_RUNTIME_DIR on a noexec mount: the next candidate is used.
    r = noexec_tmpfs_script(
        tmp_path,
        'XDG_RUNTIME_DIR="$NOEXEC" INBUILT_SO_MODE=cache TMPDIR=%s '
        '%s -c "import extpkg._multi as m; print(m.VALUE, m.__file__)"'
        % (tmp_path, ext_exe))
    assert r.returncode == 0, describe(r)
    assert r.stdout.split()[0] == "42"
    assert r.stderr == ""


def test_cache_directory_that_cannot_run_code_is_a_clear_import_error(
        ext_exe, tmp_path):
    r = noexec_tmpfs_script(
        tmp_path,
        'INBUILT_CACHE_DIR="$NOEXEC/c" INBUILT_SO_MODE=cache '
        '%s -c "import extpkg._multi"' % ext_exe)
    assert r.returncode == 1, describe(r)
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: cannot load extension module "
                           "'extpkg._multi'"), last
    assert "does not allow executable mappings" in last
    assert "INBUILT_CACHE_DIR" in last


def test_explicit_cache_directory_is_used_and_made_private(ext_exe, tmp_path):
    cache = tmp_path / "mycache"
    out = run_ok([ext_exe, "-c", "import extpkg._multi as m; print(m.VALUE)"],
                 env=clean_env(INBUILT_SO_MODE="cache",
                               INBUILT_CACHE_DIR=cache))
    assert out.strip() == "42"
    assert oct(os.stat(cache).st_mode & 0o777) == "0o700"
    assert any(f.endswith("-_multi" + SUFFIX) for f in os.listdir(cache))
    # Not private: refused, with the reason.
    os.chmod(cache, 0o755)
    r = run([ext_exe, "-c", "import extpkg._multi"],
            env=clean_env(INBUILT_SO_MODE="cache", INBUILT_CACHE_DIR=cache))
    assert r.returncode == 1
    assert "not a directory private to this user" in r.stderr


def test_without_proc_memory_files_fall_back_to_the_cache(ext_exe, tmp_path):
    # Some containers and chroots have no /proc: the loader could not open
    # /proc/self/fd/N, so the runtime says so once and uses the cache.
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    r = run(["unshare", "--mount", "--propagation", "private", "/bin/sh",
             "-c", "umount -l /proc && exec \"$0\" -c \"$1\"", ext_exe,
             "import extpkg._multi as m, sys; print(m.VALUE, sys.executable)"],
            env=clean_env(XDG_RUNTIME_DIR=xdg))
    if "umount:" in r.stderr or "unshare:" in r.stderr:
        pytest.skip("cannot unmount /proc in a private namespace here: " +
                    r.stderr.strip())
    assert r.returncode == 0, describe(r)
    assert r.stdout.split() == ["42", str(ext_exe)]
    assert r.stderr.startswith("inbuilt: memory files cannot be opened by "
                               "the dynamic loader here"), r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_extension_whose_definition_names_another_module(ext_exe, pkgs):
    code = ("import sys, extpkg._othername as m\n"
            "print(m.__name__, m.__spec__.name, m.twice(21),\n"
            "      sys.modules['extpkg._othername'] is m)\n")
    stock = run_ok([PYTHON_TARGET, "-I", "-c", "import sys; "
                    "sys.path.insert(0, %r)\n" % str(pkgs / "pkgs") + code])
    assert stock.split() == ["vendored._othername", "extpkg._othername",
                             "42", "True"]
    assert run_ok([ext_exe, "-c", code]) == stock
