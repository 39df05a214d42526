"""The embedded standard library: pure-Python modules import from memory,
C accelerators that Debian ships only as .so files give way to their
pure-Python fallbacks, and importing such an extension directly says it is
not built in."""

import re

import pytest

from helpers import PYTHON_TARGET, run, run_ok

NOT_BUILT_IN = re.compile(r"not\s+(be\s+)?buil[dt]\s+in")


def test_import_this_prints_the_zen_of_python(stdlib_exe):
    expected = run_ok([PYTHON_TARGET, "-c", "import this"])
    out = run_ok([stdlib_exe, "-c", "import this"])
    assert out == expected
    assert out.startswith("The Zen of Python, by Tim Peters")


def test_import_set_json_decimal_email_asyncio_works(stdlib_exe):
    code = (
        "import json, decimal, email.mime.text, asyncio\n"
        "msg = email.mime.text.MIMEText('hi')\n"
        "async def add(a, b):\n"
        "    await asyncio.sleep(0)\n"
        "    return a + b\n"
        "print(json.dumps({'sum': asyncio.run(add(2, 3)),\n"
        "                  'ctype': msg['Content-Type']}))\n"
    )
    out = run_ok([stdlib_exe, "-c", code])
    assert out.strip() == ('{"sum": 5, "ctype": '
                           '"text/plain; charset=\\"us-ascii\\""}')


def test_decimal_arithmetic_is_correct_with_the_c_decimal(stdlib_exe):
    code = (
        "import sys, decimal, _decimal\n"
        "from decimal import Decimal as D, getcontext\n"
        "print(D('0.1') + D('0.2') == D('0.3'))\n"
        "getcontext().prec = 50\n"
        "print(D(1) / D(7))\n"
        "print(D(2).sqrt())\n"
        "print(D('1.30') * D('1.20'), D('7').quantize(D('0.01')))\n"
        "print('_pydecimal' in sys.modules, D is _decimal.Decimal)\n"
    )
    out = run_ok([stdlib_exe, "-c", code]).splitlines()
    assert out == [
        "True",
        "0.14285714285714285714285714285714285714285714285714",
        "1.4142135623730950488016887242096980785696718753769",
        "1.5600 7.00",
        "False True",
    ]


def test_json_uses_its_c_accelerator(stdlib_exe):
    code = ("import json, json.decoder, _json\n"
            "s = json.dumps({'k': [1.5, 'caf\\u00e9', None]})\n"
            "print(s, json.loads(s)['k'][1] == 'caf\\u00e9',\n"
            "      json.decoder.c_scanstring is _json.scanstring)\n")
    out = run_ok([stdlib_exe, "-c", code])
    assert out.strip() == '{"k": [1.5, "caf\\u00e9", null]} True True'


@pytest.mark.parametrize("name", ["_decimal", "_json", "_ssl", "_ctypes",
                                  "_sqlite3", "_hashlib", "_lzma", "mmap"])
def test_extension_shipped_as_shared_object_loads_from_memory(stdlib_exe,
                                                             name):
    code = (
        "import os, sys, %s as m\n"
        "print(m.__spec__.origin == m.__file__)\n"
        "print(os.path.dirname(m.__file__) == sys.executable)\n"
        "print(os.path.basename(m.__file__).startswith(%r + '.cpython-'))\n"
        "print(type(m.__loader__).__name__, m.__spec__.origin is not None)\n"
        "print(os.path.exists(m.__file__))\n" % (name, name)
    )
    out = run_ok([stdlib_exe, "-c", code]).splitlines()
    # The file exists: the file layer answers it (vfs.c).
    assert out == ["True", "True", "True", "Importer True", "True"], out


def test_extensions_and_their_libraries_work(stdlib_exe):
    code = (
        "import sqlite3, ssl, ctypes, hashlib, lzma, bz2, zlib\n"
        "c = sqlite3.connect(':memory:')\n"
        "print(c.execute('select 6 * 7').fetchone()[0])\n"
        "print(ssl.OPENSSL_VERSION.split()[0])\n"
        "print(ctypes.CDLL(None).strlen(b'hello'))\n"
        "print(hashlib.sha256(b'abc').hexdigest()[:12])\n"
        "print(lzma.decompress(lzma.compress(b'xz')), "
        "bz2.decompress(bz2.compress(b'bz')))\n"
    )
    out = run_ok([stdlib_exe, "-c", code]).splitlines()
    assert out == ["42", "OpenSSL", "5", "ba7816bf8f01", "b'xz' b'bz'"]


def test_test_suite_helper_extension_is_left_out_with_a_reason(stdlib_exe):
    r = run([stdlib_exe, "-c", "import _testcapi"])
    assert r.returncode == 1
    assert "ModuleNotFoundError" in r.stderr
    assert "_testcapi" in r.stderr
    assert NOT_BUILT_IN.search(r.stderr), r.stderr
    assert "test suite" in r.stderr


def test_builtin_extension_modules_of_libpython_import(stdlib_exe):
    # Compiled into Debian's static libpython, so they must work.
    code = ("import _io, _sre, _struct, math, itertools, posix, time\n"
            "print(math.sqrt(16), _struct.pack('>H', 258))\n")
    assert run_ok([stdlib_exe, "-c", code]).strip() == "4.0 b'\\x01\\x02'"


def test_tk_is_left_out_so_the_executable_needs_no_x11(stdlib_exe):
    # tkinter's extension needs Tk's libraries, and they X11's: with it in,
    # every executable linked libX11 and would not start on a compute node
    # without X11.
    ldd = run_ok(["ldd", stdlib_exe])
    assert not re.search(r"lib(X11|xcb|Xext|Xrender|tk|tcl)", ldd), ldd
    r = run([stdlib_exe, "-c", "import _tkinter"])
    assert r.returncode == 1
    assert "ModuleNotFoundError: No module named '_tkinter'" in r.stderr
