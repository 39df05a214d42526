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
