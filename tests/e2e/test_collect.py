"""How `inbuilt build` finds and compiles what --include names."""
import pytest

from helpers import inbuilt, run_ok


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def split_namespace(tmp_path_factory):
    """Namespace package nsp (PEP 420, no __init__.py) with one portion in
    each of two roots, and a module that asserts."""
    root = tmp_path_factory.mktemp("roots")
    write(root / "a" / "nsp" / "one" / "__init__.py", "V = 1\n")
    write(root / "b" / "nsp" / "two.py", "V = 2\n")
    write(root / "b" / "checked.py",
          "def f():\n    assert False, 'asserts kept'\n    return 'stripped'\n")
    return root


def build(root, out, *options):
    r = inbuilt("build", "--path", root / "a", "--path", root / "b",
                "--include", "nsp", "--include", "checked", *options,
                "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def test_namespace_package_gathers_portions_from_every_root(split_namespace,
                                                           tmp_path):
    exe = build(split_namespace, tmp_path / "app")
    out = run_ok([exe, "-c",
                  "import nsp, nsp.one, nsp.two, pkgutil; "
                  "print(nsp.one.V, nsp.two.V, nsp.__spec__.origin, "
                  "hasattr(nsp, '__file__'), "
                  "sorted(m.name for m in pkgutil.iter_modules(nsp.__path__)))"])
    assert out.split(None, 4) == ["1", "2", "None", "False",
                                  "['one', 'two']\n"]


def test_optimize_option_compiles_embedded_modules_without_asserts(
        split_namespace, tmp_path):
    plain = build(split_namespace, tmp_path / "plain")
    optimized = build(split_namespace, tmp_path / "optimized",
                      "--optimize", "1")
    code = ("import checked\ntry:\n    print(checked.f())\n"
            "except AssertionError as e:\n    print(e)\n")
    assert run_ok([plain, "-c", code]).strip() == "asserts kept"
    assert run_ok([optimized, "-c", code]).strip() == "stripped"
