"""--include follows the requirements of the included distributions."""
import pytest

from helpers import inbuilt, run, run_ok


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A root of installed distributions: alpha (with a second top-level
    module, alpha_extra) requires beta (dist-info),
    gamma only before Python 3, delta only as an extra, and one that is not
    installed; beta requires Epsilon_Pkg, an .egg-info distribution whose
    import name (eps_mod) differs from its own."""
    root = tmp_path_factory.mktemp("site")
    write(root / "alpha" / "__init__.py", "import beta\nA = beta.B + 1\n")
    write(root / "alpha-1.0.dist-info" / "METADATA",
          "Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\n"
          "Requires-Dist: beta (>=2)\n"
          "Requires-Dist: gamma ; python_version < \"3.0\"\n"
          "Requires-Dist: delta ; extra == \"x\"\n"
          "Requires-Dist: not-installed-dist\n")
    write(root / "alpha-1.0.dist-info" / "top_level.txt",
          "alpha\nalpha_extra\n")
    write(root / "alpha_extra.py", "X = 'x'\n")
    write(root / "beta" / "__init__.py", "import eps_mod\nB = eps_mod.E\n")
    write(root / "beta" / "sub.py", "S = 's'\n")
    write(root / "beta-2.0.dist-info" / "METADATA",
          "Metadata-Version: 2.1\nName: beta\nVersion: 2.0\n"
          "Requires-Dist: epsilon.pkg\n")
    write(root / "beta-2.0.dist-info" / "RECORD",
          "beta/__init__.py,,\nbeta/sub.py,,\n"
          "beta-2.0.dist-info/METADATA,,\n")
    write(root / "eps_mod.py", "E = 41\n")
    write(root / "Epsilon_Pkg.egg-info" / "PKG-INFO",
          "Metadata-Version: 1.1\nName: Epsilon_Pkg\nVersion: 3\n")
    write(root / "Epsilon_Pkg.egg-info" / "top_level.txt", "eps_mod\n")
    for name in ("gamma", "delta"):
        write(root / name / "__init__.py", "")
        write(root / ("%s-1.dist-info" % name) / "METADATA",
              "Metadata-Version: 2.1\nName: %s\nVersion: 1\n" % name)
    return root


PROBE = ("import importlib.util as u, alpha\n"
         "print(alpha.A, *[u.find_spec(n) is not None\n"
         "                 for n in ('beta.sub', 'eps_mod', 'gamma', "
         "'delta')])\n")


def test_requirements_are_included_and_named(env, tmp_path):
    out = tmp_path / "app"
    r = inbuilt("build", "--path", env, "--include", "alpha", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including beta: beta (>=2) (required by alpha)" in r.stderr
    assert "also including eps_mod: epsilon.pkg (required by beta)" \
        in r.stderr
    assert "also including alpha_extra: part of the alpha distribution" \
        in r.stderr
    assert "gamma" not in r.stderr and "delta" not in r.stderr
    assert "warning: not-installed-dist (required by alpha) is not " \
        "installed" in r.stderr
    assert run_ok([out, "-c", PROBE]).split() == \
        ["42", "True", "True", "False", "False"]


def test_no_deps_includes_only_what_is_named(env, tmp_path):
    out = tmp_path / "app"
    r = inbuilt("build", "--path", env, "--include", "alpha", "--no-deps",
                "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including" not in r.stderr
    p = run([out, "-c", "import alpha"])
    assert p.returncode == 1
    assert "No module named 'beta'" in p.stderr


def test_exclude_wins_over_a_requirement(env, tmp_path):
    out = tmp_path / "app"
    r = inbuilt("build", "--path", env, "--include", "alpha", "--exclude",
                "eps_mod", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "eps_mod" not in r.stderr
    assert run_ok([out, "-c", "import importlib.util as u; "
                   "print(u.find_spec('eps_mod'), "
                   "u.find_spec('beta') is not None)"]) == "None True\n"


def test_cffi_module_brings_cffi_backend(tmp_path):
    # Debian's cryptography lists no requirement on cffi, but its
    # _openssl.abi3.so (built by cffi) imports _cffi_backend when loaded.
    pytest.importorskip("cryptography")
    out = tmp_path / "cry"
    r = inbuilt("build", "--include", "cryptography", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including _cffi_backend: imported by " in r.stderr
    assert "_openssl.abi3.so, a cffi module" in r.stderr
    code = ("from cryptography.fernet import Fernet\n"
            "import _cffi_backend\n"
            "f = Fernet(Fernet.generate_key())\n"
            "print(f.decrypt(f.encrypt(b'sealed')).decode(),\n"
            "      _cffi_backend.__spec__.origin != 'built-in')\n")
    assert run_ok([out, "-c", code]) == "sealed True\n"


@pytest.fixture(scope="module")
def imports_env(tmp_path_factory):
    """impa, with no metadata at all: its __init__ imports impb; impa.rel
    (imported relatively) imports impd; impa.tests, which nothing imports,
    imports impf; impa.guarded imports impc only where a missing module is
    expected (try/except ImportError, a function, an if block); impa.skip
    imports impe but is --exclude'd."""
    root = tmp_path_factory.mktemp("imports")
    write(root / "impa" / "__init__.py",
          "import impb\nfrom . import rel, guarded\nfrom .skip import S\n")
    write(root / "impa" / "rel.py", "from impd.core import D\n")
    write(root / "impa" / "tests.py", "import impf\n")
    write(root / "impa" / "guarded.py",
          "try:\n    import impc\nexcept ImportError:\n    impc = None\n"
          "def later():\n    import impc\n"
          "if False:\n    import impc\n"
          "class K:\n    import json\n")
    write(root / "impa" / "skip.py", "import impe\nS = 1\n")
    for name in ("impb", "impc", "impe", "impf"):
        write(root / name / "__init__.py", "")
    write(root / "impd" / "__init__.py", "")
    write(root / "impd" / "core.py", "D = 'd'\n")
    return root


def test_imports_bring_what_metadata_does_not_name(imports_env, tmp_path):
    out = tmp_path / "app"
    r = inbuilt("build", "--path", imports_env, "--include", "impa",
                "--exclude", "impa.skip", "-o", out)
    assert r.returncode == 0, r.stderr
    assert ("also including impb: imported by impa (%s:1); no requirement "
            "of its distribution names it"
            % (imports_env / "impa" / "__init__.py")) in r.stderr
    assert "also including impd: imported by impa.rel (" in r.stderr
    for name in ("impc", "impe", "impf"):
        assert "also including %s" % name not in r.stderr
    code = ("import importlib.util as u\n"
            "print(*[u.find_spec(n) is not None for n in\n"
            "        ('impb', 'impd.core', 'impc', 'impe', 'impf')])\n")
    assert run_ok([out, "-c", code]).split() == \
        ["True", "True", "False", "False", "False"]


def test_no_deps_follows_no_imports(imports_env, tmp_path):
    out = tmp_path / "app"
    r = inbuilt("build", "--path", imports_env, "--include", "impa",
                "--exclude", "impa.skip", "--no-deps", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including" not in r.stderr


def test_debian_matplotlib_brings_what_it_imports(tmp_path):
    # Debian's matplotlib lists no requirement at all.
    pytest.importorskip("matplotlib")
    out = tmp_path / "mpl"
    r = inbuilt("build", "--include", "matplotlib", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including numpy: imported by matplotlib (" in r.stderr
    png = tmp_path / "plot.png"
    code = ("import sys, matplotlib\n"
            "matplotlib.use('Agg')\n"
            "import matplotlib.pyplot as plt\n"
            "plt.plot([1, 3, 2]); plt.savefig(sys.argv[1])\n")
    run_ok([out, "-c", code, str(png)])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_portion_inside_a_regular_package(tmp_path):
    # pkg/sansio/ has no __init__.py: a namespace portion inside a regular
    # package, which the import scan must follow without importing pkg.
    root = tmp_path / "site"
    write(root / "porta" / "__init__.py", "from .sansio import proto\n")
    write(root / "porta" / "sansio" / "proto.py", "import portb\nP = 'p'\n")
    write(root / "portb" / "__init__.py", "B = 'b'\n")
    out = tmp_path / "app"
    r = inbuilt("build", "--path", root, "--include", "porta", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including portb: imported by porta.sansio.proto (" \
        in r.stderr
    assert run_ok([out, "-c", "import porta, portb; "
                   "print(porta.proto.P, portb.B)"]) == "p b\n"


def test_top_level_module_named_by_no_identifier(tmp_path):
    # mypyc's wheels ship a helper like 81d243bd2c585b0f4821__mypyc beside
    # the package: no identifier, imported with importlib all the same.
    root = tmp_path / "site"
    write(root / "mypa" / "__init__.py",
          "import importlib\n"
          "H = importlib.import_module('0abc__mypyc').H\n")
    write(root / "0abc__mypyc.py", "H = 'helper'\n")
    write(root / "mypa-1.0.dist-info" / "METADATA",
          "Metadata-Version: 2.1\nName: mypa\nVersion: 1.0\n")
    write(root / "mypa-1.0.dist-info" / "top_level.txt",
          "0abc__mypyc\nmypa\n")
    out = tmp_path / "app"
    r = inbuilt("build", "--path", root, "--include", "mypa", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "also including 0abc__mypyc: part of the mypa distribution" \
        in r.stderr
    assert run_ok([out, "-c", "import mypa; print(mypa.H)"]) == "helper\n"
    # --include takes it by its name; a package's modules stay identifiers.
    r = inbuilt("build", "--path", root, "--include", "0abc__mypyc",
                "--no-deps", "-o", out)
    assert r.returncode == 0, r.stderr
    r = inbuilt("build", "--path", root, "--include", "mypa.0abc",
                "-o", out)
    assert r.returncode == 1
    assert "--include mypa.0abc: not a module name" in r.stderr
