"""The executable is a read-only directory to every file API (vfs.c): a
package reading its own directory with open, os.listdir, os.walk, glob,
pathlib and os.scandir sees what python3 sees on disk, and so does C code
(tests/fixtures/ext/cfiles.c: fopen, opendir and every other entry point
from C); writes are EROFS, a corrupt entry EIO; and none of it, nor
gettext, sysconfig or pydoc looking for their files under the executable,
makes a filesystem call."""
import errno
import json
import os
import shutil
import subprocess

import pytest

from helpers import (FIXTURES, PYTHON_TARGET, REPO, clean_env, describe,
                     inbuilt, run, run_ok, target_config)
import fscalls  # scripts/fscalls.py
from test_corrupt_archive import damaged

SOURCE_DATE_EPOCH = 1234567890
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="module")
def pkgs(tmp_path_factory):
    """treepkg (tests/fixtures/vfs) with its extension _cfiles compiled
    (fortified), and certpkg, whose where() names a CA bundle beside its
    __file__ as certifi's does."""
    root = tmp_path_factory.mktemp("vfs") / "pkgs"
    shutil.copytree(FIXTURES / "vfs", root)
    include, suffix = target_config()
    r = subprocess.run(
        ["cc", "-O2", "-D_FORTIFY_SOURCE=2", "-fPIC", "-shared",
         "-I" + include, str(FIXTURES.parent / "fixtures" / "ext" /
                             "cfiles.c"),
         "-o", str(root / "treepkg" / ("_cfiles" + suffix))],
        capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cert = root / "certpkg"
    cert.mkdir()
    (cert / "__init__.py").write_text(
        "import os\n\n"
        "def where():\n"
        "    return os.path.join(os.path.dirname(__file__), 'cacert.pem')\n")
    if os.path.exists(CA_BUNDLE):
        shutil.copyfile(CA_BUNDLE, cert / "cacert.pem")
    return root


@pytest.fixture(scope="module")
def exe(pkgs, tmp_path_factory):
    out = tmp_path_factory.mktemp("vfsexe") / "app"
    r = inbuilt("build", "--path", pkgs, "--include", "treepkg",
                "--include", "certpkg", "-o", out,
                env=clean_env(SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH))
    assert r.returncode == 0, describe(r)
    return out


def stock(pkgs, code, *args):
    return run_ok([PYTHON_TARGET, "-c", code, *args],
                  env=clean_env(PYTHONPATH=pkgs))


REPORT = "import json, treepkg; print(json.dumps(treepkg.report()))"


def test_package_reads_its_own_directory_as_under_python3(exe, pkgs):
    got = json.loads(run_ok([exe, "-c", REPORT]))
    want = json.loads(stock(pkgs, REPORT))
    assert got == want
    # The extension module is listed under its .so name, source files too.
    assert any(n.startswith("_cfiles.") for n in got["listdir"])
    assert "__init__.py" in got["listdir"] and "sub" in got["listdir"]


def test_file_layer_makes_no_filesystem_calls(exe):
    result, calls = fscalls.strace_paths([str(exe), "-c", REPORT])
    assert result.returncode == 0, result.stderr
    bad = [line for sc, path, line in fscalls.outside_allow_list(
        calls, str(exe)) if not allowed_but_real(exe, path, sc)]
    assert bad == [], "\n".join(bad)


READ_KEYS = ("open", "lseek_end", "mmap_first", "pread", "pread_byte",
             "write_rdonly", "dup_read", "open_missing", "open_through_file",
             "open_dir_directory", "fstat_dir_isdir", "openat_dirfd",
             "fstatat_dirfd", "fdopendir_count", "rewinddir_count",
             "dirfd_is_fd", "openat_cwd", "fopen", "fopen_missing",
             "freopen", "stat_size", "lstat_size", "fstatat_size",
             "stat_missing", "statx_size", "access_r", "access_x_dir",
             "access_missing", "faccessat_r", "readlink", "realpath_buf",
             "realpath_alloc", "realpath_missing", "opendir_count",
             "opendir_file", "scandir", "scandir_first_is_dot",
             "mkdir_existing", "dlopen_text", "statvfs", "statvfs_missing",
             "statfs", "fstatvfs_dir", "execve", "execv", "execve_dir",
             "execve_missing", "execve_through_file", "execvp", "execl",
             "posix_spawn", "posix_spawnp_missing")
WRITE_KEYS = ("open_write", "open_creat", "fopen_write", "access_w",
              "mkdir", "unlink", "rename", "chmod", "rmdir", "truncate",
              "symlink")
PROBE = ("import json, os, sys, treepkg._cfiles as c\n"
         "print(json.dumps(c.probe(sys.argv[1])))\n")


def test_c_code_sees_files_and_directories_as_on_disk(exe, pkgs,
                                                      tmp_path):
    # python3 probes a copy: the probe's writes succeed there.
    copy = tmp_path / "copy"
    shutil.copytree(pkgs, copy)
    want = json.loads(stock(copy, PROBE, copy / "treepkg"))
    result, calls = fscalls.strace_paths([str(exe), "-c", PROBE,
                                          "%s/treepkg" % exe])
    assert result.returncode == 0, result.stderr
    # Every call, writes and execve included, answered from memory (the
    # probe opens /dev/null itself).
    bad = [c for c in fscalls.outside_allow_list(calls, str(exe))
           if c[1] != "/dev/null"]
    assert bad == [], "\n".join(line for _, _, line in bad)
    got = json.loads(result.stdout)
    assert {k: got[k] for k in READ_KEYS} == {k: want[k] for k in READ_KEYS}
    assert got["stat_mode"] == 0o100444 and got["stat_dir_mode"] == 0o40555
    assert got["fstat_mode"] == 0o444
    assert got["statvfs_rdonly"] == got["fstatvfs_dir_rdonly"] == 1
    # Writes: EROFS (EISDIR, EEXIST, ENOENT where the kernel says so).
    for key in WRITE_KEYS:
        assert got[key] == "EROFS", (key, got[key])
    assert got["chdir"] == "EOPNOTSUPP" and got["unlink_missing"] == "ENOENT"
    assert got["write_rdonly"] == "EBADF"


def test_through_a_symbolic_link_to_the_executable(exe, pkgs, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(pkgs, copy)
    (tmp_path / "to_copy").symlink_to(copy)
    (tmp_path / "to_exe").symlink_to(exe)
    want = json.loads(stock(copy, PROBE, tmp_path / "to_copy" / "treepkg"))
    got = json.loads(run_ok([exe, "-c", PROBE,
                             tmp_path / "to_exe" / "treepkg"]))
    assert {k: got[k] for k in READ_KEYS} == {k: want[k] for k in READ_KEYS}
    for key in WRITE_KEYS:
        assert got[key] == "EROFS", (key, got[key])
    assert got["chdir"] == "EOPNOTSUPP"
    code = ("import os, sys\n"
            "h = os.path.join(sys.argv[1], 'treepkg')\n"
            "print(open(os.path.join(h, 'notes.txt')).read(), end='')\n"
            "print(sorted(os.listdir(os.path.join(h, 'data'))),\n"
            "      os.path.isdir(h), os.path.realpath(h) == "
            "os.path.realpath(sys.argv[2]))\n")
    out = run_ok([exe, "-c", code, tmp_path / "to_exe",
                  "%s/treepkg" % exe])
    assert out.splitlines() == ["notes",
                                "['a.txt', 'b.csv', 'sub'] True True"]


WALK = ("import json, sys, treepkg._cfiles as c\n"
        "print(json.dumps(c.walk(sys.argv[1])))\n")


def test_glob_and_nftw_from_c_as_on_disk(exe, pkgs):
    want = json.loads(stock(pkgs, WALK, pkgs / "treepkg"))
    result, calls = fscalls.strace_paths([str(exe), "-c", WALK,
                                          "%s/treepkg" % exe])
    assert result.returncode == 0, result.stderr
    bad = fscalls.outside_allow_list(calls, str(exe))
    assert bad == [], "\n".join(line for _, _, line in bad)
    got = json.loads(result.stdout)
    assert got["nftw"], got
    for key in ("nftw", "nftw_depth", "nftw_skip", "nftw_slash", "ftw"):
        assert sorted(got[key]) == sorted(want[key]), key
    for key in ("glob", "glob_mark", "glob_onlydir", "glob_nomatch",
                "nftw_missing"):
        assert got[key] == want[key], key
    # Depth first: a directory comes after everything under it.
    names = [line.split()[0] for line in got["nftw_depth"]]
    for i, name in enumerate(names):
        assert all(not n.startswith(name + "/") for n in names[i + 1:])


def test_stat_is_believable_and_stable(exe):
    code = ("import json, os, sys, json as j\n"
            "d = os.path.dirname(j.__file__)\n"
            "a, b = os.stat(j.__file__), os.stat(j.__file__)\n"
            "inos = [os.stat(os.path.join(d, n)).st_ino for n in "
            "os.listdir(d)] + [os.stat(d).st_ino, os.stat(sys.executable)"
            ".st_ino]\n"
            "src = open(j.__file__, 'rb').read()\n"
            "e = {x.name: x.inode() for x in os.scandir(d)}\n"
            "print(json.dumps([oct(a.st_mode), oct(os.stat(d).st_mode), "
            "a.st_size == len(src), a.st_mtime, a.st_ino == b.st_ino, "
            "len(inos) == len(set(inos)), a.st_dev != os.stat('/').st_dev, "
            "e['__init__.py'] == a.st_ino]))\n")
    got = json.loads(run_ok([exe, "-c", code]))
    assert got == ["0o100444", "0o40555", True, SOURCE_DATE_EPOCH, True,
                   True, True, True]


def test_writes_are_erofs_naming_the_path(exe):
    code = ("import errno, os, treepkg\n"
            "h = treepkg.HERE\n"
            "calls = [lambda: open(h + '/new.txt', 'w'),\n"
            "         lambda: open(h + '/notes.txt', 'a'),\n"
            "         lambda: os.mkdir(h + '/newdir'),\n"
            "         lambda: os.remove(h + '/notes.txt'),\n"
            "         lambda: os.rename(h + '/notes.txt', h + '/n2'),\n"
            "         lambda: os.chmod(h + '/notes.txt', 0o600)]\n"
            "for c in calls:\n"
            "    try:\n"
            "        c()\n"
            "    except OSError as e:\n"
            "        print(errno.errorcode[e.errno], "
            "e.filename[len(h):])\n")
    assert run_ok([exe, "-c", code]).splitlines() == [
        "EROFS /new.txt", "EROFS /notes.txt", "EROFS /newdir",
        "EROFS /notes.txt", "EROFS /notes.txt", "EROFS /notes.txt"]


@pytest.mark.parametrize("ns, name, rel", [
    ("source", "treepkg.sub.mod", "sub/mod.py"),
    ("data", "treepkg/data/a.txt", "data/a.txt"),
])
def test_damaged_entry_reads_as_eio(exe, tmp_path, ns, name, rel):
    bad = damaged(exe, tmp_path / "bad", ns, name, 4, b"\x00\xff")
    code = ("import errno, os, treepkg\n"
            "p = os.path.join(treepkg.HERE, %r)\n"
            "print(os.path.exists(p))\n"
            "try:\n    open(p).read()\n"
            "except OSError as e:\n    print(errno.errorcode[e.errno])\n"
            % rel)
    assert run_ok([bad, "-c", code]).split() == ["True", "EIO"]


def test_copytree_from_the_tree_as_from_disk(exe, pkgs, tmp_path):
    code = ("import os, shutil, sys, treepkg\n"
            "shutil.copytree(os.path.join(treepkg.HERE, 'data'), sys.argv[1])\n"
            "shutil.copy2(os.path.join(treepkg.HERE, 'notes.txt'), "
            "sys.argv[1])\n")
    run_ok([exe, "-c", code, tmp_path / "copy"])
    want = pkgs / "treepkg" / "data"
    got = sorted(str(p.relative_to(tmp_path / "copy"))
                 for p in (tmp_path / "copy").rglob("*"))
    assert got == sorted(["notes.txt"] + [str(p.relative_to(want))
                                          for p in want.rglob("*")])
    assert (tmp_path / "copy" / "sub" / "deeper" / "d.bin").read_bytes() == \
        (want / "sub" / "deeper" / "d.bin").read_bytes()
    # copy2 keeps the times: the build's.
    assert (tmp_path / "copy" / "notes.txt").stat().st_mtime == \
        SOURCE_DATE_EPOCH


def test_relative_paths_through_the_executable(exe):
    code = ("import os\n"
            "print(open('app/treepkg/data/a.txt').read(), end='')\n"
            "print(sorted(os.listdir('app/treepkg/data')))\n"
            "print(os.path.isdir('./app/treepkg'),\n"
            "      os.path.isfile('%s//app/treepkg/../treepkg/notes.txt'))\n"
            % exe.parent)
    assert run_ok([exe, "-c", code], cwd=exe.parent).splitlines() == [
        "alpha", "['a.txt', 'b.csv', 'sub']", "True True"]


def test_chdir_into_the_tree_is_a_clear_error(exe):
    code = ("import os, treepkg\n"
            "try:\n    os.chdir(treepkg.HERE)\n"
            "except OSError as e:\n    print(e.strerror)\n")
    assert run_ok([exe, "-c", code]) == "Operation not supported\n"


def test_executable_file_itself_still_opens(exe):
    # platform.libc_ver() reads sys.executable; os.path.isfile() of it,
    # shutil.which() and stat's size are the file's, as under python3
    # (webbrowser, venv); a listing of it, or the path with a trailing
    # slash, is the tree's top.
    code = ("import os, platform, shutil, sys\n"
            "e = sys.executable\n"
            "print(os.path.isfile(e), os.path.isdir(e), "
            "shutil.which(e) == e, os.stat(e).st_size == "
            "os.path.getsize(os.path.realpath(e)), "
            "open(e, 'rb').read(4), platform.libc_ver()[0])\n")
    want = "True False True True b'\\x7fELF' glibc\n"
    assert run_ok([PYTHON_TARGET, "-c", code]) == want
    assert run_ok([exe, "-c", code]) == want
    code = ("import os, sys\n"
            "e = sys.executable\n"
            "print(os.path.isdir(e + '/'), 'json' in os.listdir(e), "
            "os.path.isdir(os.path.join(e, 'json')))\n")
    assert run_ok([exe, "-c", code]) == "True True True\n"


@pytest.mark.skipif(not os.path.exists(CA_BUNDLE),
                    reason="no CA bundle at " + CA_BUNDLE)
def test_ssl_loads_a_ca_file_beside_a_module(exe):
    code = ("import ssl, certpkg\n"
            "c = ssl.create_default_context(cafile=certpkg.where())\n"
            "print(c.cert_store_stats()['x509_ca'] > 10)\n")
    result, calls = fscalls.strace_paths([str(exe), "-c", code])
    assert result.stdout == "True\n", result.stderr
    bad = fscalls.outside_allow_list(calls, str(exe))
    assert bad == [], "\n".join(line for _, _, line in bad)
    assert not any("O_CREAT" in line or "O_WRONLY" in line
                   for _, _, line in calls)


def test_as_file_and_dlopen_give_the_virtual_path(exe):
    code = ("import _ctypes, os, treepkg._cfiles as c\n"
            "from importlib import resources\n"
            "t = resources.files('treepkg') / 'data' / 'a.txt'\n"
            "with resources.as_file(t) as p:\n"
            "    print(str(p) == str(t), open(p).read(), end='')\n"
            "print(_ctypes.dlopen(c.__file__) != 0)\n")
    assert run_ok([exe, "-c", code]).split() == ["True", "alpha", "True"]


def allowed_but_real(exe, path, syscall):
    """Calls python3 makes as well that the tree has nothing to do with:
    Debian's gettext looking in /usr/share/locale-langpack."""
    return path.startswith("/usr/share/locale-langpack/")


@pytest.mark.parametrize("code", [
    "import argparse; argparse.ArgumentParser(prog='x').format_help()",
    "import gettext; gettext.translation('argparse', fallback=True)",
    "import zoneinfo, sysconfig; sysconfig.get_paths(); "
    "sysconfig.get_config_vars()",
    "import pydoc; pydoc.render_doc('json')",
])
def test_stdlib_lookups_under_the_executable_stay_in_memory(exe, code):
    result, calls = fscalls.strace_paths([str(exe), "-c", code])
    assert result.returncode == 0, result.stderr
    bad = [line for sc, path, line in fscalls.outside_allow_list(
        calls, str(exe)) if not allowed_but_real(exe, path, sc)]
    assert bad == [], "\n".join(bad)


REALPATHS = ("", "/", "/data/../notes.txt", "/data/./sub//c.json",
             "/missing/../data", "/notes.txt/..", "/data/sub/..//..",
             "/..", "/../x", "/data/../../y/..")
REALPATH = ("import json, os, sys, treepkg\n"
            "h = treepkg.HERE\n"
            "def r(f):\n"
            "    try:\n"
            "        return os.path.relpath(f(), h)\n"
            "    except OSError as e:\n"
            "        return e.errno\n"
            "out = [[r(lambda: os.path.realpath(h + p)),\n"
            "        r(lambda: os.fsdecode(os.path.realpath(os.fsencode(h + p)))),\n"
            "        r(lambda: os.path.realpath(h + p, strict=True))]\n"
            "       for p in %r]\n"
            "print(json.dumps(out))\n" % (REALPATHS,))


def test_realpath_in_the_tree_as_on_disk_without_calls(exe, pkgs):
    # pkgs is a real directory, no symbolic link on the way: realpath()
    # gives the same relative paths there.
    want = json.loads(stock(pkgs.resolve(), REALPATH))
    result, calls = fscalls.strace_paths([str(exe), "-c", REALPATH])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == want
    # Paths that stay in the tree cost nothing; strict=True and ".." out of
    # the tree are the original's (lstat of the directories above).
    code = ("import os, sys, treepkg\n"
            "for p in %r:\n"
            "    os.path.realpath(treepkg.HERE + p)\n"
            "os.path.realpath(sys.executable)\n" % (REALPATHS[:7],))
    result, calls = fscalls.strace_paths([str(exe), "-c", code])
    assert result.returncode == 0, result.stderr
    bad = fscalls.outside_allow_list(calls, str(exe))
    assert bad == [], "\n".join(line for _, _, line in bad)


def test_pydoc_and_stdlib_scripts_by_their_path(exe):
    # sysconfig's stdlib is the virtual root: pydoc links the docs.
    doc = run_ok([exe, "-m", "pydoc", "json"])
    assert "MODULE REFERENCE" in doc
    want = run_ok([PYTHON_TARGET, "/usr/lib/python3.11/json/tool.py"],
                  input='{"b": [1, 2]}')
    assert run_ok([exe, "%s/json/tool.py" % exe],
                  input='{"b": [1, 2]}') == want


def test_files_open_where_memory_files_are_denied(exe):
    nomemfd = os.environ.get("NOMEMFD")
    if not nomemfd or not os.access(nomemfd, os.X_OK):
        pytest.skip("no NOMEMFD runner: make check-e2e builds it")
    code = ("import os, treepkg\n"
            "print(open(os.path.join(treepkg.HERE, 'notes.txt')).read(), "
            "end='')\n")
    r = run([nomemfd, exe, "-c", code])
    assert r.returncode == 0, describe(r)
    assert r.stdout == "notes\n"
