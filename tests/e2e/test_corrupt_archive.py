"""A damaged executable is reported, never a crash and never wrong code:
bits flipped in every kind of archive entry, in the archive's tables and in
the machine code, and copies cut short at several points; `inbuilt verify`
and INBUILT_VERIFY=1 say what is wrong."""
import re
import shutil
import struct
import subprocess

from helpers import clean_env, inbuilt, run

DAMAGED = "of the embedded archive is damaged (checksum mismatch): this " \
    "executable was damaged when it was written or copied; rebuild it or " \
    "copy it again"
TABLES = "checksum mismatch in the header, index or string table"

MAGIC = b"INBUILT\0"


def archive_start(exe):
    """File offset of the embedded archive: the start of the executable's
    .inbuilt section, where `inbuilt build` places it (src/builder/place.c)."""
    out = subprocess.run(["readelf", "-SW", str(exe)], capture_output=True,
                         text=True, check=True).stdout
    found = re.findall(r"\]\s+\.inbuilt\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)",
                       out)
    assert len(found) == 1, out
    start = int(found[0], 16)
    with open(exe, "rb") as f:
        f.seek(start)
        assert f.read(len(MAGIC)) == MAGIC
    return start


def patched(src, dst, offset_in_header, data):
    """Copy executable src to dst with data written at offset_in_header of
    its embedded archive."""
    blob = bytearray(src.read_bytes())
    start = archive_start(src)
    blob[start + offset_in_header:start + offset_in_header + len(data)] = data
    dst.write_bytes(bytes(blob))
    shutil.copymode(src, dst)
    return dst


def test_wrong_archive_version_is_reported_at_start(stdlib_exe, tmp_path):
    exe = patched(stdlib_exe, tmp_path / "badversion", 8,
                  struct.pack("<I", 99))
    r = run([exe, "-c", "print('ran')"])
    assert r.returncode == 1
    assert "ran" not in r.stdout
    assert "embedded module archive is corrupt" in r.stderr
    assert "format version 99" in r.stderr


def test_index_pointing_outside_archive_is_reported_at_start(stdlib_exe,
                                                             tmp_path):
    # index_offset (header offset 32) far past the end.
    exe = patched(stdlib_exe, tmp_path / "badindex", 32,
                  struct.pack("<Q", 1 << 40))
    r = run([exe, "-c", "print('ran')"])
    assert r.returncode == 1
    assert "embedded module archive is corrupt" in r.stderr
    assert "index" in r.stderr


def test_flip_in_header_or_index_is_reported_at_start(stdlib_exe, tmp_path):
    # py_version's low byte (only the checksum covers it), then a byte of
    # the first index record's checksum field.
    for offset in (20, 72 + 12):
        exe = patched(stdlib_exe, tmp_path / ("flip%d" % offset), offset,
                      b"\x5a")
        r = run([exe, "-c", "print('ran')"])
        assert r.returncode == 1, r.stdout
        assert "ran" not in r.stdout
        assert "embedded module archive is corrupt: " + TABLES in r.stderr
        assert "copy it again or rebuild it" in r.stderr


NAMESPACES = {"config": 0, "module": 1, "source": 2, "data": 3, "shlib": 4,
              "meta": 5}


def entry_data(exe, ns, name):
    """(file offset, length) of the data of entry (ns, name) of the archive
    embedded in exe, read from its index (docs/FORMAT.md)."""
    blob = exe.read_bytes()
    start = archive_start(exe)
    count, = struct.unpack_from("<I", blob, start + 24)
    index, strings = struct.unpack_from("<QQ", blob, start + 32)
    for i in range(count):
        noff, nlen, ens, _kind, _flags, _sum, doff, dlen = struct.unpack_from(
            "<IIBBHIQQ", blob, start + index + 32 * i)
        ename = blob[start + strings + noff:start + strings + noff + nlen]
        if ens == NAMESPACES[ns] and ename == name.encode():
            return start + doff, dlen
    raise AssertionError("no entry %s:%s" % (ns, name))


def damaged(src, dst, ns, name, offset_in_data, data):
    """Copy executable src to dst with bytes of entry (ns, name) changed."""
    blob = bytearray(src.read_bytes())
    off, length = entry_data(src, ns, name)
    assert offset_in_data + len(data) <= length
    blob[off + offset_in_data:off + offset_in_data + len(data)] = data
    dst.write_bytes(bytes(blob))
    shutil.copymode(src, dst)
    return dst


def flipped(src, dst, ns, name):
    """Copy executable src to dst with 3 bytes in the middle of entry (ns,
    name) inverted."""
    off, length = entry_data(src, ns, name)
    blob = bytearray(src.read_bytes())
    mid = off + length // 2
    for i in range(mid - 1, mid + 2):
        blob[i] ^= 0xff
    dst.write_bytes(bytes(blob))
    shutil.copymode(src, dst)
    return dst


def test_corrupt_module_entry_is_an_import_error_with_the_reason(data_exe,
                                                                tmp_path):
    exe = damaged(data_exe, tmp_path / "badcode", "module", "datapkg.boom",
                  0, b"\xff" * 8)
    r = run([exe, "-c", "import json, datapkg\n"
             "try:\n    import datapkg.boom\n"
             "except ImportError as e:\n    print(type(e).__name__, e)\n"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("ImportError cannot import module 'datapkg.boom': "
                        "entry module:datapkg.boom " + DAMAGED + "\n"), \
        r.stdout


# (namespace, entry name, code run by the damaged executable, what it must
# print): one flip in an entry of each kind, of data_exe.
FLIPS = [
    ("module", "json.decoder", "import json", "ImportError"),
    ("module", "datapkg", "import datapkg", "ImportError"),
    ("source", "datapkg.boom",
     "import datapkg.boom as b\nb.__loader__.get_source('datapkg.boom')",
     "ImportError"),
    ("data", "datapkg/data/greeting.txt",
     "import importlib.resources as r\n"
     "r.files('datapkg').joinpath('data/greeting.txt').read_bytes()",
     "OSError"),
    ("meta", "plugin_a-0.3.dist-info/METADATA",
     "import importlib.metadata as m\nm.metadata('plugin_a')", "OSError"),
    ("module", "_decimal", "import _decimal", "ImportError"),
    ("shlib", "libbz2.so.1.0", "import bz2", "ImportError"),
    ("module", "_ctypes_test", "import _ctypes_test", "ImportError"),
]


def test_flip_in_every_kind_of_entry_is_named_when_used(data_exe, tmp_path):
    for k, (ns, name, code, exc) in enumerate(FLIPS):
        exe = flipped(data_exe, tmp_path / ("flip%d" % k), ns, name)
        # Memory mode: in shared mode the node's holder may hand over the
        # image another executable already wrote (and checked), and this
        # archive's copy is not read at all.
        r = run([exe, "-c", "try:\n" +
                 "".join("    %s\n" % line for line in code.splitlines()) +
                 "except %s as e:\n    print('caught', e)\n" % exc],
                env=clean_env(INBUILT_SO_MODE="memory"))
        assert r.returncode == 0, (ns, name, r.stderr)
        assert r.stdout.startswith("caught "), (ns, name, r.stdout)
        assert "entry %s:%s %s" % (ns, name, DAMAGED) in r.stdout, \
            (ns, name, r.stdout)
        # The rest of the executable still works.
        r = run([exe, "-c", "import email.message; print('fine')"])
        assert r.stdout == "fine\n", (ns, name, r.stderr)


def test_flip_in_a_setting_is_reported_at_start(cli_entry_exe, tmp_path):
    exe = flipped(cli_entry_exe, tmp_path / "badentry", "config", "entry")
    r = run([exe])
    assert r.returncode == 1
    assert r.stderr == "%s: entry config:entry %s\n" % (exe, DAMAGED), \
        r.stderr


def verify(exe, env_var=False):
    """(exit status, output) of checking exe, by `inbuilt verify` or by
    the executable itself (INBUILT_VERIFY=1)."""
    if env_var:
        r = run([exe, "-c", "print('ran')"], env=dict(clean_env(), INBUILT_VERIFY="1"))
        assert "ran" not in r.stdout
        return r.returncode, r.stderr
    r = inbuilt("verify", exe)
    return r.returncode, r.stdout


def test_verify_says_whole_or_names_the_damage(data_exe, tmp_path):
    for env_var in (False, True):
        rc, out = verify(data_exe, env_var)
        assert rc == 0, out
        assert "ok: " in out and "archive entries checked" in out
    exe = flipped(data_exe, tmp_path / "flipdata", "data",
                  "datapkg/data/greeting.txt")
    for env_var in (False, True):
        rc, out = verify(exe, env_var)
        assert rc == 1
        assert "entry data:datapkg/data/greeting.txt " + DAMAGED in out
        assert "damaged (1 problem)" in out
    # Machine code: a byte of Py_RunMain() (run, it could do anything).
    out = subprocess.run(["nm", str(data_exe)], capture_output=True,
                         text=True, check=True).stdout
    main = next(int(line.split()[0], 16) for line in out.splitlines()
                if line.endswith(" T Py_RunMain"))
    hdr = subprocess.run(["readelf", "-lW", str(data_exe)],
                         capture_output=True, text=True, check=True).stdout
    for line in hdr.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and "E" in f[6:-1]:
            off, vaddr = int(f[1], 16), int(f[2], 16)
    blob = bytearray(data_exe.read_bytes())
    blob[main - vaddr + off + 2] ^= 0x01
    exe = tmp_path / "flipcode"
    exe.write_bytes(bytes(blob))
    rc, out = verify(exe)
    assert rc == 1
    assert "checksum mismatch in the loaded segments outside the archive" \
        in out


def test_truncated_copies_are_reported(stdlib_exe, tmp_path):
    size = stdlib_exe.stat().st_size
    start = archive_start(stdlib_exe)
    blob = stdlib_exe.read_bytes()
    arch_size = struct.unpack_from("<Q", blob, start + 56)[0]
    # Inside the archive: its tables, its middle, a page before its end.
    for cut in (start + 100, start + arch_size // 2,
                start + arch_size - 8192):
        exe = tmp_path / ("cut%d" % cut)
        exe.write_bytes(blob[:cut])
        shutil.copymode(stdlib_exe, exe)
        r = run([exe, "-c", "print('ran')"])
        assert r.returncode == 1, (cut, r.stdout)
        assert r.stderr == ("%s: this executable is truncated: it was built "
                            "as %d bytes and its file ends inside its "
                            "embedded archive; copy it again or rebuild "
                            "it\n" % (exe, size)), r.stderr
        rc, out = verify(exe)
        assert rc == 1
        assert "truncated: %d bytes, built as %d (%d bytes missing)" % (
            cut, size, size - cut) in out
    # After the archive (symbols and section headers): it runs; verify
    # says it is short.  Before the archive (code): only verify can tell.
    for cut in (size - 100, start - 4096):
        exe = tmp_path / ("cut%d" % cut)
        exe.write_bytes(blob[:cut])
        shutil.copymode(stdlib_exe, exe)
        if cut > start:
            r = run([exe, "-c", "print('ran')"])
            assert r.stdout == "ran\n"
        rc, out = verify(exe)
        assert rc == 1
        assert "truncated: %d bytes, built as %d" % (cut, size) in out


def test_corrupt_source_entry_is_reported_and_tracebacks_still_print(
        data_exe, tmp_path):
    # Past the 4-byte length: the zlib stream itself.
    exe = damaged(data_exe, tmp_path / "badsource", "source", "datapkg.boom",
                  6, b"\x00\xff\x00\xff")
    code = ("import datapkg.boom as b, traceback\n"
            "try:\n    b.__loader__.get_source('datapkg.boom')\n"
            "except ImportError as e:\n    print(e)\n"
            "try:\n    b.outer()\n"
            "except ValueError:\n"
            "    print(traceback.format_exc().splitlines()[-1])\n")
    r = run([exe, "-c", code])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("corrupt source entry for module 'datapkg.boom' in "
                        "the embedded archive: entry source:datapkg.boom " +
                        DAMAGED)
    assert lines[1] == "ValueError: datapkg.boom exploded on purpose"


def test_corrupt_data_file_length_cannot_escape_the_archive(data_exe,
                                                           tmp_path):
    """A data entry whose length points past the archive is refused at
    start: the index's checksum no longer matches (the reader's bounds
    checks, behind it, are tested in tests/unit with the checksum
    recomputed)."""
    blob = bytearray(data_exe.read_bytes())
    start = archive_start(data_exe)
    count, = struct.unpack_from("<I", blob, start + 24)
    index, _ = struct.unpack_from("<QQ", blob, start + 32)
    for i in range(count):
        rec = start + index + 32 * i
        if blob[rec + 8] == NAMESPACES["data"]:
            struct.pack_into("<Q", blob, rec + 24, 1 << 40)
            break
    exe = tmp_path / "baddata"
    exe.write_bytes(bytes(blob))
    shutil.copymode(data_exe, exe)
    r = run([exe, "-c", "print('ran')"])
    assert r.returncode == 1
    assert "embedded module archive is corrupt" in r.stderr
    assert TABLES in r.stderr
