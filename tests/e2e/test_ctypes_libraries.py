"""Shared libraries that packages load with ctypes: a plain .so in a
package directory (no PyInit_ function) is embedded as data with the
libraries it needs, and ctypes loads it, or an extension module's own .so,
by its path in the virtual tree, from memory."""
import hashlib

import pytest

from helpers import inbuilt, run, run_ok
import fscalls  # scripts/fscalls.py
from test_extensions import (SRC, SUFFIX, cc, compile_ext, compile_lib,
                             touch_package)

LOADER = '''\
import ctypes, os
from importlib import resources
HERE = os.path.dirname(__file__)
def by_path():
    return ctypes.CDLL(os.path.join(HERE, "libtwice.so"))
def in_subdir():
    return ctypes.CDLL(os.path.join(HERE, "native", "libtwice.so.2"))
def by_resources():
    with resources.as_file(resources.files(__name__) / "libtwice.so") as p:
        return ctypes.CDLL(str(p))
'''


@pytest.fixture(scope="module")
def libpkg(tmp_path_factory):
    """libpkg/ with libtwice.so (plain, needs libinbtest.so.1 through its
    RUNPATH), a copy of it in the plain directory native/, a file named
    like a library that is not one for this machine, and _single, an
    extension module."""
    root = tmp_path_factory.mktemp("libpkg")
    lib = root / "lib"
    compile_lib(lib)
    pkg = root / "pkgs" / "libpkg"
    touch_package(pkg)
    (pkg / "__init__.py").write_text(LOADER)
    cc("-shared", SRC / "libtwice.c", "-o", pkg / "libtwice.so", "-L" + str(lib), "-linbtest",
       "-Wl,-rpath," + str(lib))
    (pkg / "native").mkdir()
    (pkg / "native" / "libtwice.so.2").write_bytes(
        (pkg / "libtwice.so").read_bytes())
    # A shared object for another machine is data as it is.
    (pkg / "native" / "libother.so").write_bytes(
        b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x03\x00\xb7\x00" + bytes(44))
    compile_ext("single.c", pkg / ("_single" + SUFFIX), "-L" + str(lib),
                "-linbtest", "-Wl,-rpath," + str(lib))
    return root


@pytest.fixture(scope="module")
def lib_exe(libpkg, tmp_path_factory):
    out = tmp_path_factory.mktemp("libexe") / "app"
    r = inbuilt("build", "--path", libpkg / "pkgs", "--include", "libpkg",
                "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def test_plain_library_loads_by_path_next_to_file(lib_exe):
    code = ("import libpkg\n"
            "lib = libpkg.by_path()\n"
            "print(lib.twice_plus(20), lib._name == libpkg.HERE + "
            "'/libtwice.so')\n")
    assert run_ok([lib_exe, "-c", code]) == "47 True\n"


def test_plain_library_in_a_plain_subdirectory_loads_by_path(lib_exe):
    code = ("import libpkg\n"
            "print(libpkg.in_subdir().twice_plus(0))\n"
            "from importlib import resources\n"
            "f = resources.files('libpkg') / 'native' / 'libother.so'\n"
            "print(f.read_bytes()[:4], len(f.read_bytes()))\n")
    assert run_ok([lib_exe, "-c", code]) == "7\nb'\\x7fELF' 64\n"


def test_plain_library_loads_by_path_like_and_bytes_names(lib_exe):
    code = ("import ctypes, os, pathlib, libpkg\n"
            "p = pathlib.Path(libpkg.HERE) / 'libtwice.so'\n"
            "print(ctypes.CDLL(p).twice_plus(1),\n"
            "      ctypes.CDLL(os.fsencode(p)).twice_plus(2))\n")
    assert run_ok([lib_exe, "-c", code]) == "9 11\n"


def test_plain_library_loads_through_as_file_with_no_copy(lib_exe):
    code = ("import libpkg\n"
            "lib = libpkg.by_resources()\n"
            "print(lib.twice_plus(1), lib._name.startswith('/proc/self/fd/'))\n")
    assert run_ok([lib_exe, "-c", code]) == "9 True\n"


def test_plain_library_reads_as_the_file_it_was(lib_exe, libpkg):
    want = (libpkg / "pkgs" / "libpkg" / "libtwice.so").read_bytes()
    code = ("import hashlib, pkgutil\n"
            "from importlib import resources\n"
            "a = (resources.files('libpkg') / 'libtwice.so').read_bytes()\n"
            "b = pkgutil.get_data('libpkg', 'libtwice.so')\n"
            "print(a == b, hashlib.sha256(a).hexdigest())\n")
    assert run_ok([lib_exe, "-c", code]) == "True %s\n" % \
        hashlib.sha256(want).hexdigest()


def test_extension_module_file_loads_with_ctypes(lib_exe):
    code = ("import ctypes, libpkg._single as m\n"
            "h = ctypes.CDLL(m.__file__)\n"
            "print(h._name == m.__file__, bool(h.PyInit__single))\n")
    assert run_ok([lib_exe, "-c", code]) == "True True\n"


def test_ctypes_on_embedded_libraries_makes_no_filesystem_calls(lib_exe):
    result, calls = fscalls.strace_paths(
        [str(lib_exe), "-c",
         "import libpkg; libpkg.by_path(); libpkg.by_resources(); "
         "libpkg.in_subdir()"])
    assert result.returncode == 0, result.stderr
    bad = fscalls.outside_allow_list(calls, str(lib_exe))
    assert bad == [], "\n".join(line for _, _, line in bad)


def test_ctypes_still_loads_other_libraries(lib_exe, libpkg):
    lib = libpkg / "lib" / "libinbtest.so.1"
    code = ("import ctypes, sys\n"
            "print(ctypes.CDLL(sys.argv[1]).inbtest_value())\n"
            "try:\n    ctypes.CDLL(sys.executable + '/libpkg/nothere.so')\n"
            "except OSError as e:\n    print('OSError')\n")
    assert run_ok([lib_exe, "-c", code, str(lib)]) == "7\nOSError\n"


def test_naming_a_plain_library_as_a_module_is_an_error(libpkg, tmp_path):
    r = inbuilt("build", "--path", libpkg / "pkgs", "--include",
                "libpkg.libtwice", "-o", tmp_path / "app")
    assert r.returncode != 0
    assert "does not define PyInit_libtwice" in r.stderr
    assert not (tmp_path / "app").exists()


def test_exclude_data_leaves_a_plain_library_out(libpkg, tmp_path):
    out = tmp_path / "app"
    r = inbuilt("build", "--path", libpkg / "pkgs", "--include", "libpkg",
                "--exclude-data", "libpkg/*.so", "-o", out)
    assert r.returncode == 0, r.stderr
    p = run([out, "-c", "import libpkg; libpkg.by_path()"])
    assert p.returncode == 1 and "libtwice.so" in p.stderr


def test_llvmlite_compiles_and_runs_code_from_memory(tmp_path):
    # llvmlite loads libllvmlite.so (which needs libLLVM) through
    # importlib.resources and ctypes.
    pytest.importorskip("llvmlite")
    out = tmp_path / "llv"
    r = inbuilt("build", "--include", "llvmlite", "-o", out)
    assert r.returncode == 0, r.stderr
    code = ("import ctypes, llvmlite.binding as llvm\n"
            "llvm.initialize(); llvm.initialize_native_target()\n"
            "llvm.initialize_native_asmprinter()\n"
            "m = llvm.parse_assembly('define i32 @sq(i32 %x) {\\n'\n"
            "    '  %r = mul i32 %x, %x\\n  ret i32 %r\\n}\\n')\n"
            "tm = llvm.Target.from_default_triple().create_target_machine()\n"
            "ee = llvm.create_mcjit_compiler(m, tm); ee.finalize_object()\n"
            "f = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(\n"
            "    ee.get_function_address('sq'))\n"
            "print(f(12))\n")
    result, calls = fscalls.strace_paths([str(out), "-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "144\n"
    # libffi, the first time it allocates a closure (llvmlite's ctypes
    # callbacks), checks whether SELinux is enforcing: a statfs of /selinux
    # and a read of /proc/mounts, as under stock python.  Nothing else.
    bad = [c for c in fscalls.outside_allow_list(calls, str(out))
           if c[1] not in ("/selinux", "/proc/mounts")]
    assert bad == [], "\n".join(line for _, _, line in bad)


def test_corrupt_library_record_is_an_error_naming_it(lib_exe, tmp_path):
    # The shared-object record of libpkg/libtwice.so: u32 names_size, then
    # "libtwice.so\0", its digest, "libinbtest.so.1\0", the image.
    blob = bytearray(lib_exe.read_bytes())
    at = blob.find(b"libtwice.so\0")
    while at >= 0 and not blob[at + 12:at + 28].isalnum():
        at = blob.find(b"libtwice.so\0", at + 1)
    assert at >= 4
    blob[at - 4:at] = (0x7fffffff).to_bytes(4, "little")
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(blob))
    bad.chmod(0o755)
    code = ("import libpkg\n"
            "from importlib import resources\n"
            "for f in (lambda: (resources.files('libpkg') / 'libtwice.so')"
            ".read_bytes(), libpkg.by_path):\n"
            "    try:\n        f()\n"
            "    except (ImportError, OSError) as e:\n"
            "        print(type(e).__name__, e)\n")
    out = run_ok([bad, "-c", code]).splitlines()
    assert len(out) == 2, out
    damaged = ("entry data:libpkg/libtwice.so of the embedded archive is "
               "damaged (checksum mismatch)")
    assert out[0].startswith("OSError [Errno 5] " + damaged), out
    assert out[1].startswith("ImportError cannot load libpkg/libtwice.so"), \
        out
    assert damaged in out[1]
