"""A damaged archive inside an executable is reported, never a crash."""
import shutil
import struct
import subprocess

from helpers import run

MAGIC = b"INBUILT\0"


def archive_start(exe):
    """File offset of the embedded archive: the occurrence of the magic whose
    header's archive_size (offset 56) is the distance between the symbols
    inb_archive_blob and inb_archive_blob_end (the runtime's own copy of the
    magic string is not followed by such a header)."""
    syms = {}
    out = subprocess.run(["nm", str(exe)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("inb_archive_blob"):
            syms[parts[2]] = int(parts[0], 16)
    size = syms["inb_archive_blob_end"] - syms["inb_archive_blob"]
    blob = exe.read_bytes()
    starts, i = [], blob.find(MAGIC)
    while i >= 0:
        if struct.unpack_from("<Q", blob, i + 56)[0] == size:
            starts.append(i)
        i = blob.find(MAGIC, i + 1)
    assert len(starts) == 1, starts
    return starts[0]


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
        noff, nlen, ens, _kind, _flags, _res, doff, dlen = struct.unpack_from(
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


def test_corrupt_module_entry_is_an_import_error_with_the_reason(data_exe,
                                                                tmp_path):
    exe = damaged(data_exe, tmp_path / "badcode", "module", "datapkg.boom",
                  0, b"\xff" * 8)
    r = run([exe, "-c", "import json, datapkg\n"
             "try:\n    import datapkg.boom\n"
             "except ImportError as e:\n    print(type(e).__name__, e)\n"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ImportError corrupt entry for module "
                               "'datapkg.boom' in the embedded archive: "), \
        r.stdout


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
    assert lines[0].startswith("corrupt source entry for module "
                               "'datapkg.boom' in the embedded archive: ")
    assert lines[1] == "ValueError: datapkg.boom exploded on purpose"


def test_corrupt_data_file_length_cannot_escape_the_archive(data_exe,
                                                           tmp_path):
    """A data entry whose length points past the archive is refused at
    start, like any other entry (the reader checks every entry once)."""
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
    assert "beyond end of archive" in r.stderr
