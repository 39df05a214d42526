"""Distribution metadata (.dist-info, .egg-info) of included packages is
embedded: importlib.metadata answers from memory, so plugin systems built on
entry points work, pytest's among them."""
import pytest

from helpers import DISTS, PYTHON_TARGET, clean_env, py_json, run, run_ok

PROBE = r"""
import json, sys
import importlib.metadata as md
out = {
    "versions": [md.version("plugin-a"), md.version("PLUGHOST")],
    "summary": md.metadata("plughost")["Summary"],
    "requires": md.requires("plugin_a"),
    "files": sorted(str(f) for f in md.files("plugin-a")),
    "file_text": md.files("plugin-a")[0].read_text().splitlines()[0],
    "entry_points": sorted((ep.name, ep.value) for ep in
                           md.entry_points(group="plughost.plugins")),
    "names": sorted(d.metadata["Name"] for d in md.distributions()),
    "plugins": __import__("plughost").plugins(),
}
try:
    md.version("unused")
except md.PackageNotFoundError:
    out["unused"] = "not found"
# A search of other directories does not see the embedded ones.
out["elsewhere"] = [d.metadata["Name"] for d in
                    md.distributions(path=["/nonexistent"])]
json.dump(out, sys.stdout)
"""


def test_importlib_metadata_reads_embedded_distributions(data_exe):
    got = py_json(data_exe, PROBE)
    assert got == {
        "versions": ["0.3", "2.0"],
        "summary": "A plugin host for the inbuilt tests",
        "requires": ["plughost>=2.0"],
        "files": sorted([
            "plugin_a/__init__.py", "plugin_a/pytest_plugin.py",
            "plugin_a-0.3.dist-info/METADATA",
            "plugin_a-0.3.dist-info/entry_points.txt",
            "plugin_a-0.3.dist-info/RECORD"]),
        "file_text": '"""A plugin of plughost."""',
        "entry_points": [["a", "plugin_a:hello"]],
        "names": ["plughost", "plugin-a"],
        "plugins": {"a": "hello from plugin_a"},
        # Its package is not included, so neither is its metadata.
        "unused": "not found",
        "elsewhere": [],
    }


def test_stock_interpreter_reads_the_fixture_the_same_way(data_exe):
    """The fixture is sound: stock CPython, with the fixture root on its
    path, gives the same answers for the embedded distributions."""
    got = py_json(data_exe, PROBE)
    stock = py_json(PYTHON_TARGET, "import sys; sys.path[:0] = [%r]\n%s"
                    % (str(DISTS), PROBE.replace(
                        '"names": sorted(d.metadata["Name"] for d in '
                        'md.distributions()),', '')))
    got.pop("names")
    # On disk, unused's metadata is there to be found.
    assert got.pop("unused") == "not found" and "unused" not in stock
    assert stock == got


@pytest.fixture(scope="module")
def pytest_exe(builder):
    """pytest with what it needs, plus the plugin distribution."""
    return builder.get(
        "pytest", "--path", DISTS, "--include", "plughost", "--include",
        "plugin_a", "--include", "pytest", "--include", "_pytest",
        "--include", "pluggy", "--include", "iniconfig", "--include",
        "packaging", "--include", "py", "--include", "attr")


def test_pytest_discovers_a_plugin_through_embedded_entry_points(
        pytest_exe, tmp_path):
    (tmp_path / "test_uses_plugin.py").write_text(
        "def test_fixture_from_plugin(plugin_a_answer):\n"
        "    assert plugin_a_answer == 42\n")
    env = clean_env(INBUILT_ALLOW_FILESYSTEM=1)
    out = run_ok([pytest_exe, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  "test_uses_plugin.py"], cwd=tmp_path, env=env)
    assert "1 passed" in out
    # Without the plugin, the fixture is unknown: the plugin did the work.
    r = run([pytest_exe, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-p", "no:plugin_a", "test_uses_plugin.py"], cwd=tmp_path,
            env=env)
    assert r.returncode != 0 and "fixture 'plugin_a_answer' not found" \
        in r.stdout, r.stdout
