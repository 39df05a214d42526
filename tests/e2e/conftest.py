"""Session fixtures of the end-to-end tests.

The tests drive the real CLI (env INBUILT, default build/inbuilt) and run the
executables it writes.  Each executable is built once per session, lazily,
into its own temporary directory; a build takes seconds, so tests share them
and never write into the executable's directory.

Run with `make check-e2e`, or by hand:
    INBUILT=$PWD/build/inbuilt /usr/bin/python3.11 -m pytest -q tests/e2e
"""

import os
import shutil

import pytest

from helpers import DISTS, INBUILT, PKGS, Node, describe, inbuilt


class Builder:
    """Builds executables on demand, each once per session, each into its
    own temporary directory."""

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.built = {}
        self.failed = {}  # name -> message: a failed build is not retried

    def get(self, name, *options):
        """The path of executable `name` built with options."""
        if name in self.failed:
            pytest.fail(self.failed[name])
        if name not in self.built:
            out = self.tmp_path_factory.mktemp("exe-" + name) / name
            r = inbuilt("build", *map(str, options), "-o", out)
            if r.returncode != 0 or not out.is_file():
                self.failed[name] = "building %s failed\n%s" % (name,
                                                                describe(r))
                pytest.fail(self.failed[name])
            self.built[name] = out
        return self.built[name]


@pytest.fixture(scope="session")
def builder(tmp_path_factory):
    """The session's Builder.  Its executables (20 MB each) are deleted at
    the end; pytest keeps the rest of its temporary directories."""
    if not os.access(INBUILT, os.X_OK):
        pytest.fail("no inbuilt CLI at %s: run `make all` or set INBUILT"
                    % INBUILT)
    b = Builder(tmp_path_factory)
    yield b
    for path in b.built.values():
        if path.exists():
            path.unlink()


@pytest.fixture(scope="session")
def stdlib_exe(builder):
    """CPython and its stdlib, nothing else: a strict `python3`."""
    return builder.get("python")


@pytest.fixture(scope="session")
def app_exe(builder):
    """The stdlib plus the fixture packages, with mypkg.extras and the
    stdlib's xmlrpc excluded."""
    return builder.get(
        "app", "--path", PKGS, "--include", "mypkg", "--include", "solo",
        "--exclude", "mypkg.extras", "--exclude", "xmlrpc")


@pytest.fixture(scope="session")
def allow_fs_exe(builder):
    """The stdlib, built with --allow-filesystem."""
    return builder.get("python-fs", "--allow-filesystem")


@pytest.fixture(scope="session")
def cli_entry_exe(builder):
    """A tool running sys.exit(mypkg.cli.main())."""
    return builder.get("mytool", "--path", PKGS, "--include", "mypkg",
                       "--entry", "mypkg.cli:main")


@pytest.fixture(scope="session")
def pkg_entry_exe(builder):
    """A tool running package mypkg as __main__ (its __main__.py)."""
    return builder.get("mypkg-tool", "--path", PKGS, "--include", "mypkg",
                       "--entry", "mypkg")


@pytest.fixture(scope="session")
def module_entry_exe(builder):
    """A tool running module solo as __main__."""
    return builder.get("solo-tool", "--path", PKGS, "--include", "solo",
                       "--entry", "solo")


@pytest.fixture(scope="session")
def data_exe(builder):
    """The stdlib, datapkg (data files, a module that raises) and the
    distributions plughost and plugin_a with their metadata; notes.skip is
    dropped with --exclude-data."""
    return builder.get(
        "data", "--path", PKGS, "--include", "datapkg", "--path", DISTS,
        "--include", "plughost", "--include", "plugin_a",
        "--exclude-data", "*.skip")


@pytest.fixture(scope="session")
def nosource_exe(builder):
    """data_exe's modules, built with --no-source."""
    return builder.get("nosource", "--path", PKGS, "--include", "datapkg",
                       "--no-source")


@pytest.fixture
def node():
    """A Node: a network namespace of its own, where holders of shared
    objects start cold; skips where it cannot be made (not root)."""
    if os.geteuid() != 0 or not all(
            shutil.which(t) for t in ("unshare", "nsenter")):
        pytest.skip("a node of its own needs root, unshare and nsenter")
    n = Node()
    yield n
    n.close()
