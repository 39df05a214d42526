"""Helpers of the end-to-end tests: where things are, and how to run the
CLI and the executables it writes (always with a timeout, never waiting on a
terminal).  Test modules import what they need from here.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PKGS = FIXTURES / "pkgs"
DISTS = FIXTURES / "dists"
INBUILT = Path(os.environ.get("INBUILT") or REPO / "build" / "inbuilt")
PYTHON_TARGET = os.environ.get("PYTHON_TARGET", "/usr/bin/python3.11")

# scripts/fscalls.py holds the strace filter that `make demo` and `make
# bench` print figures with; the tests check the same filter.
sys.path.insert(0, str(REPO / "scripts"))

RUN_TIMEOUT = 60
BUILD_TIMEOUT = 300


def clean_env(**extra):
    """The test process's environment without what would change how Python
    finds modules (PYTHON*) or loosen strictness, plus extra."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTHON") and k != "INBUILT_ALLOW_FILESYSTEM"
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # keep fixtures free of __pycache__
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(argv, *, input=None, env=None, cwd=None, timeout=RUN_TIMEOUT):
    """Run argv to completion and return its CompletedProcess (text mode).
    stdin is `input`, or empty: nothing ever waits on the terminal."""
    return subprocess.run(
        [str(a) for a in argv],
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        cwd=cwd,
        timeout=timeout,
    )


def run_ok(argv, **kwargs):
    """run(), failing the test with the output if the exit status is not
    0; returns stdout."""
    r = run(argv, **kwargs)
    assert r.returncode == 0, describe(r)
    return r.stdout


def py_json(exe, code, *args, **kwargs):
    """Run `exe -c code args...` whose code prints one JSON document; return
    it decoded."""
    out = run_ok([exe, "-c", code, *args], **kwargs)
    return json.loads(out)


def inbuilt(*args, timeout=BUILD_TIMEOUT, **kwargs):
    """Run the inbuilt CLI with args; return its CompletedProcess."""
    return run([INBUILT, *args], timeout=timeout, **kwargs)


def describe(r):
    """A CompletedProcess as text for assertion messages."""
    return "command: %s\nexit status: %s\n--- stdout:\n%s\n--- stderr:\n%s" % (
        " ".join(map(str, r.args)), r.returncode, r.stdout, r.stderr)


class Node:
    """A network namespace of its own, standing for one node of a cluster:
    abstract Unix socket names belong to a network namespace, so the
    processes run in it see only the holders of shared objects
    (src/runtime/holder.c) started in it, and start cold whatever other
    tests or users left.  Needs root (unshare, nsenter)."""

    def __init__(self, idle=2):
        self.idle = idle  # seconds a holder waits for processes
        self.anchor = subprocess.Popen(["unshare", "--net", "sleep", "3600"])
        own = os.readlink("/proc/self/ns/net")
        for _ in range(1000):
            try:
                if os.readlink("/proc/%d/ns/net" % self.anchor.pid) != own:
                    return
            except OSError:
                pass
            if self.anchor.poll() is not None:
                break
            time.sleep(0.01)
        self.close()
        raise RuntimeError("unshare --net did not start")

    def argv(self, argv):
        """argv run in this node's namespace."""
        return ["nsenter", "-t", str(self.anchor.pid), "-n"] + [
            str(a) for a in argv]

    def env(self, **extra):
        """clean_env() with this node's holder idle time, plus extra."""
        return clean_env(**{"INBUILT_SO_HOLDER_IDLE": self.idle, **extra})

    def run(self, argv, env=None, **kwargs):
        """run() of argv in this node."""
        return run(self.argv(argv), env=env or self.env(), **kwargs)

    def run_ok(self, argv, env=None, **kwargs):
        """run_ok() of argv in this node."""
        return run_ok(self.argv(argv), env=env or self.env(), **kwargs)

    def popen(self, argv, env=None):
        """Start argv in this node, with pipes for stdin and stdout (text)
        and stderr."""
        return subprocess.Popen(self.argv(argv), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env=env or self.env())

    def holders(self):
        """The pids of the holders running in this node."""
        ns = os.readlink("/proc/%d/ns/net" % self.anchor.pid)
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
                if (argv0 == b"inbuilt-so-holder" and
                        os.readlink("/proc/%s/ns/net" % d) == ns):
                    pids.append(int(d))
            except OSError:
                pass
        return pids

    def close(self):
        """End the holders this node started, and the node."""
        if self.anchor.poll() is None:
            for pid in self.holders():
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            self.anchor.kill()
        self.anchor.wait()


def target_config():
    """The target's include directory and extension-module suffix, for
    tests that compile a C extension the way the target would load it."""
    out = subprocess.run(
        [PYTHON_TARGET, "-c",
         "import sysconfig; print(sysconfig.get_paths()['include']); "
         "print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        capture_output=True, text=True, check=True).stdout.split("\n")
    return out[0], out[1]
