"""The executable needs no Python installation: run it where none is
visible."""
import shutil

import pytest

from helpers import run

# Every place a Python installation could be found on these machines;
# /usr/bin last, since it holds mount (and, merged, /bin).
HIDDEN = ["/usr/lib/python3.11", "/usr/lib/python3",
          "/usr/local/lib/python3.11", "/root/.pyenv", "/usr/bin"]

# Runs in a private mount namespace: an empty tmpfs over each directory,
# a line telling what /usr/lib/python3.11 then holds (shell builtins only:
# /bin is gone), then the command.  Nothing outside the namespace changes.
HIDE_SCRIPT = """
set -e
for d in "$@"; do
    case "$d" in --) shift; break;; esac
    if [ -d "$d" ]; then /usr/bin/mount -t tmpfs none "$d"; fi
    shift
done
echo "stdlib holds:" /usr/lib/python3.11/*
exec "$@"
"""


def test_runs_with_no_python_installation_visible(stdlib_exe, tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    exe = tmp_path / "copied-python"
    shutil.copy2(stdlib_exe, exe)
    code = ("import json, asyncio, email.mime.text, os; "
            "print(os.path.isdir('/usr/lib/python3.11/json'), "
            "os.path.exists('/usr/bin/python3.11'), json.dumps([1]))")
    r = run(["unshare", "--mount", "--propagation", "private", "/bin/sh",
             "-c", HIDE_SCRIPT, "sh", *HIDDEN, "--", exe, "-c", code])
    if "mount" in r.stderr and "holds" not in r.stdout:
        pytest.skip("cannot mount in a private namespace here: " + r.stderr)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "stdlib holds: /usr/lib/python3.11/*", lines
    assert lines[1].split() == ["False", "False", "[1]"]
