"""The libraries an executable assumes on the machine where it runs: the
manylinux policy's list (PEP 600, auditwheel's allowed system libraries)
less its graphical desktop part (X11, GL, glib), written out in
src/builder/shlib.c and the README.  Every other library an extension needs
is embedded and loaded from memory."""
import re
import subprocess

import pytest

from helpers import PYTHON_TARGET, inbuilt, run, run_ok

# The README's list, the specification the builder must meet.
BASE = {"libc.so.6", "libm.so.6", "libmvec.so.1", "libdl.so.2", "librt.so.1",
        "libpthread.so.0", "libutil.so.1", "libresolv.so.2", "libnsl.so.1",
        "libanl.so.1", "libgcc_s.so.1", "libstdc++.so.6", "libatomic.so.1",
        "libz.so.1", "libexpat.so.1"}

# The shared objects mapped from files after the code ran: "/memfd:NAME"
# for embedded ones (loaded from memory), paths for the others.
MAPPED = ("import sys\n"
          "exec(sys.argv[1])\n"
          "seen = set()\n"
          "for line in open('/proc/self/maps'):\n"
          "    f = line.split(None, 5)[5:]\n"
          "    if f and '.so' in f[0]:\n"
          "        seen.add(f[0].strip().removesuffix(' (deleted)'))\n"
          "print('\\n'.join(sorted(seen)))\n")


def soname_of(path):
    """libexpat.so.1.8.10 -> libexpat.so.1, as the file's name says."""
    m = re.match(r"(.*?\.so\.\d+)", path.rsplit("/", 1)[-1])
    return m.group(1) if m else path


@pytest.fixture(scope="module")
def pil_exe(tmp_path_factory):
    """Debian's PIL: its _imagingft needs libharfbuzz, which needs
    libglib-2.0 (on the manylinux list, not on ours) and libpcre2-8."""
    if run([PYTHON_TARGET, "-c", "import PIL._imagingft"]).returncode != 0:
        pytest.skip("PIL (python3-pil) is not installed for %s"
                    % PYTHON_TARGET)
    out = tmp_path_factory.mktemp("pil") / "pil"
    r = inbuilt("build", "--include", "PIL", "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def test_executable_links_only_base_libraries(pil_exe):
    dyn = subprocess.run(["readelf", "-d", str(pil_exe)], capture_output=True,
                         text=True, check=True).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", dyn))
    assert "libc.so.6" in needed
    assert needed <= BASE, needed - BASE


def test_glib_and_pcre2_are_embedded(pil_exe):
    code = ("from PIL import Image, ImageDraw, ImageFont, features\n"
            "im = Image.new('RGB', (40, 20), 'white')\n"
            "ImageDraw.Draw(im).text((2, 2), 'ok', fill='black',\n"
            "                        font=ImageFont.load_default())\n"
            "print(im.getbbox() is not None, features.check('raqm'))\n")
    lines = run_ok([pil_exe, "-c", MAPPED, code]).splitlines()
    assert lines[0].split() == ["True", "True"]
    mapped = lines[1:]
    from_disk = {soname_of(p) for p in mapped if not p.startswith("/memfd:")}
    assert {s for s in from_disk if not s.startswith("ld-linux")} <= BASE, \
        mapped
    embedded = {p[len("/memfd:"):] for p in mapped if p.startswith("/memfd:")}
    assert {"libglib-2.0.so.0", "libpcre2-8.so.0"} <= embedded, mapped
