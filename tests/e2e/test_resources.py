"""Package data files embedded in the archive: importlib.resources'
Traversable API, as_file, loader.get_data and pkgutil.get_data with paths
built from __file__, --exclude-data, and a clear error for a missing
resource."""
import json

from helpers import (PKGS, PYTHON_TARGET, clean_env, inbuilt, py_json, run,
                     run_ok)

TRAVERSE = r"""
import json, sys
from importlib import resources
root = resources.files("datapkg")
data = root / "data"
out = {
    "names": sorted(p.name for p in root.iterdir()),
    "data_names": sorted(p.name for p in data.iterdir()),
    "is_dir": [data.is_dir(), data.is_file(),
               (data / "greeting.txt").is_dir()],
    "is_file": (data / "greeting.txt").is_file(),
    "text": data.joinpath("greeting.txt").read_text(),
    "bytes": list((data / "sub" / "blob.bin").read_bytes()),
    "open_text": root.joinpath("table.csv").open("r").read(),
    "open_bytes": list(data.joinpath("sub", "blob.bin").open("rb").read(3)),
    "name": (data / "greeting.txt").name,
    "reader_lines": __import__("datapkg.reader").reader.table_rows(),
}
json.dump(out, sys.stdout)
"""


def test_files_traversable_matches_cpython(data_exe):
    got = py_json(data_exe, TRAVERSE)
    expected = py_json(PYTHON_TARGET, TRAVERSE, cwd=PKGS)
    # The disk has notes.skip (dropped by --exclude-data) and the stock
    # interpreter's __pycache__ when it wrote one; the rest is the same.
    expected["names"] = [n for n in expected["names"]
                         if n not in ("notes.skip", "__pycache__")]
    assert got == expected
    assert got["text"] == "hello from datapkg\n"
    assert got["bytes"] == [0, 1, 2] + list(b"binary") + [255]


def test_as_file_gives_the_virtual_path_itself(data_exe):
    # Every file API reads it from memory (vfs.c): no temporary copy.
    code = ("import os\nfrom importlib import resources\n"
            "t = resources.files('datapkg') / 'table.csv'\n"
            "print(os.path.exists(str(t)))\n"
            "with resources.as_file(t) as p:\n"
            "    print(os.path.isfile(p), open(p).read().splitlines()[1],\n"
            "          str(p) == str(t))\n")
    assert run_ok([data_exe, "-c", code]).split() == [
        "True", "True", "alpha,1", "True"]


def test_as_file_copies_when_the_file_layer_is_off(data_exe):
    code = ("import os\nfrom importlib import resources\n"
            "t = resources.files('datapkg') / 'table.csv'\n"
            "print(os.path.exists(str(t)))\n"
            "with resources.as_file(t) as p:\n"
            "    print(os.path.isfile(p), open(p).read().splitlines()[1])\n"
            "print(os.path.exists(p))\n")
    assert run_ok([data_exe, "-c", code],
                  env=clean_env(INBUILT_VFS=0)).split() == [
        "False", "True", "alpha,1", "False"]


def test_reading_next_to_file_with_open_works(data_exe):
    # The file layer (vfs.c) answers open() next to __file__ from memory.
    assert run_ok([data_exe, "-c", "import datapkg.nextto as n; "
                   "print(n.read_table().splitlines()[1])"]) == "alpha,1\n"


def test_get_data_accepts_paths_built_from_file(data_exe):
    code = ("import os, pkgutil, datapkg\n"
            "here = os.path.dirname(datapkg.__file__)\n"
            "print(datapkg.__loader__.get_data("
            "os.path.join(here, 'data', 'greeting.txt')).decode(), end='')\n"
            "print(pkgutil.get_data('datapkg', 'data/sub/blob.bin')[:3])\n"
            "print(datapkg.__spec__.loader.get_data("
            "os.path.join(here, 'boom.py'))[:3])\n")
    out = run_ok([data_exe, "-c", code]).splitlines()
    assert out == ["hello from datapkg", r"b'\x00\x01\x02'", "b'\"\"\"'"]


def test_missing_resource_names_package_and_file(data_exe):
    code = ("from importlib import resources\n"
            "r = resources.files('datapkg')\n"
            "(r / 'data' / 'nope.txt').read_bytes()\n")
    r = run([data_exe, "-c", code])
    assert r.returncode == 1
    last = r.stderr.splitlines()[-1]
    assert last.startswith("FileNotFoundError: [Errno 2] No file "
                           "'data/nope.txt' in package 'datapkg'"), last
    assert last.endswith("/datapkg/data/nope.txt'"), last
    r = run([data_exe, "-c", "import pkgutil; "
             "pkgutil.get_data('datapkg', 'missing.bin')"])
    assert "No file 'missing.bin' in package 'datapkg'" in r.stderr


def test_exclude_data_drops_matching_files(data_exe):
    code = ("from importlib import resources\n"
            "r = resources.files('datapkg')\n"
            "print((r / 'notes.skip').is_file(),\n"
            "      (r / 'table.csv').is_file())\n")
    assert run_ok([data_exe, "-c", code]).split() == ["False", "True"]


def test_stdlib_data_files_are_embedded(data_exe):
    code = ("import pkgutil\n"
            "data = pkgutil.get_data('email', 'architecture.rst')\n"
            "print(len(data) > 1000)\n")
    assert run_ok([data_exe, "-c", code]) == "True\n"


def lint_notes(stderr):
    return [line for line in stderr.splitlines()
            if "next to its __file__" in line]


def test_reading_next_to_file_with_open_is_noted_with_verbose(tmp_path):
    # The file layer serves such reads: no warning, a note with -v for
    # those who run with INBUILT_VFS=0.
    r = inbuilt("build", "--path", PKGS, "--include", "datapkg", "-o",
                tmp_path / "app")
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr and lint_notes(r.stderr) == []
    r = inbuilt("build", "-v", "--path", PKGS, "--include", "datapkg", "-o",
                tmp_path / "app")
    assert r.returncode == 0, r.stderr
    notes = lint_notes(r.stderr)
    assert len(notes) == 1, r.stderr
    assert "datapkg/nextto.py:8: datapkg.nextto" in notes[0]
    assert "INBUILT_VFS=0" in notes[0] and "importlib.resources" in notes[0]


def test_no_note_for_tests_and_code_that_runs_as_main(tmp_path):
    # Test modules and a script's __main__ code run from a source tree, not
    # from an executable: noting them is noise (53 notes for scipy, 38
    # of them in its tests).
    opens = "open(os.path.join(os.path.dirname(__file__), 'x.txt'))\n"
    files = {
        "__init__.py": "",
        "lib.py": ("import os\n"
                   "def helper():\n    " + opens +
                   "def main():\n    " + opens +
                   "def used():\n    return helper()\n"
                   "if __name__ == '__main__':\n"
                   "    main()\n    helper()\n    " + opens),
        "tests/__init__.py": "",
        "tests/test_lib.py": "import os\n" + opens,
        "conftest.py": "import os\n" + opens,
    }
    for rel, text in files.items():
        (tmp_path / "lintpkg" / rel).parent.mkdir(parents=True,
                                                  exist_ok=True)
        (tmp_path / "lintpkg" / rel).write_text(text)
    r = inbuilt("build", "-v", "--path", tmp_path, "--include", "lintpkg",
                "-o", tmp_path / "app")
    assert r.returncode == 0, r.stderr
    notes = lint_notes(r.stderr)
    # helper() is called from outside the __main__ block too: noted.
    assert len(notes) == 1, r.stderr
    assert "lintpkg/lib.py:3: lintpkg.lib reads a file" in notes[0]
