"""Filesystem calls of a process, and which of them an inbuilt executable
may make: the strace filter that `make demo` and `make bench`
(bench/measure.py) print figures with and tests/e2e check.

Filesystem calls are counted with `strace -f -e trace=%file` and only the
calls that name a path are counted (glibc's fstat is `newfstatat(fd, "")`,
which names none).  A call is *allowed* when a process must make it before
any Python code runs and it does not touch a shared filesystem:

    - the execve of the executable itself,
    - /etc/ld.so.cache and /etc/ld.so.preload (the dynamic loader),
    - the shared libraries the executable links (as `ldd` lists them),
    - /proc/self/... (e.g. readlink /proc/self/exe; the embedded shared
      objects are opened as /proc/self/fd/N) and /etc/localtime,
    - OpenSSL's own configuration file (openssl.cnf, in OPENSSLDIR or
      $OPENSSL_CONF), which libssl reads when it initializes, on `import
      ssl` (asyncio imports it), as under stock python: system policy, read
      like /etc/localtime, not a module search,
    - chdir("/") by the holder of shared objects (src/runtime/holder.c),
      once per node, so that it keeps no directory of a shared filesystem
      busy; it is the executable started again (execve of /proc/self/exe)
      and opens what the executable's loader opens.

Everything else is *outside the allow-list*: for an inbuilt executable the
goal is zero such calls.

Every command runs with LC_ALL=C.UTF-8, so that the figures do not depend
on the caller's locale: glibc builds in only the "C" locale, and a program
that calls setlocale() under any other (C.UTF-8 included, on Debian 12)
opens locale-archive, locale.alias and /usr/lib/locale/*/LC_CTYPE.  Stock
python3 does so at start-up; an inbuilt executable never calls setlocale()
and must not be charged for it.
"""

import os
import re
import subprocess
import tempfile

# Paths every process may name, whatever the executable.
ALLOWED_FIXED = {"/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/localtime"}

# `1234  openat(AT_FDCWD, "/x", ...) = 3`: pid (with -f), syscall, arguments.
# A `<... openat resumed>` line starts with `<` and does not match.
_CALL = re.compile(r"^(?:(\d+)\s+)?(\w+)\((.*)$")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def run_env(extra=None):
    """The environment for measured runs: the caller's, without anything
    that changes where Python looks for modules, and with LC_ALL=C.UTF-8
    (see the module docstring)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTHON") and k != "INBUILT_ALLOW_FILESYSTEM"
    }
    env["LC_ALL"] = "C.UTF-8"
    env.update(extra or {})
    return env


def linked_libraries(exe):
    """The shared libraries exe links, as `ldd` names them and as their real
    paths (the loader may open either spelling)."""
    out = subprocess.run(
        ["ldd", exe], capture_output=True, text=True, check=False
    ).stdout
    libs = set()
    for line in out.splitlines():
        # "libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x...)" or
        # "/lib64/ld-linux-x86-64.so.2 (0x...)"
        for word in line.split():
            if word.startswith("/"):
                libs.add(word)
                libs.add(os.path.realpath(word))
    return libs


def strace_paths(argv, env=None, stdin_data=None, timeout=120):
    """Run argv under `strace -f -qq -e trace=%file` and return
    (result, calls): the CompletedProcess of strace and, for every traced
    call that names a path, a tuple (syscall, path, line).  strace waits
    for every process it traces, the holder of shared objects too, so that
    holder is told to exit as soon as it serves no process
    (INBUILT_SO_HOLDER_IDLE=0)."""
    env = dict(env if env is not None else run_env())
    env.setdefault("INBUILT_SO_HOLDER_IDLE", "0")
    with tempfile.TemporaryDirectory(prefix="inbuilt-strace-") as tmp:
        log = os.path.join(tmp, "strace.log")
        result = subprocess.run(
            ["strace", "-f", "-qq", "-s", "4096", "-e", "trace=%file",
             "-o", log] + list(argv),
            input=stdin_data,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    return result, path_calls(lines)


def path_calls(lines):
    """The calls among the lines of a `strace -e trace=%file` log that name
    a path, as tuples (syscall, path, line)."""
    calls = []
    for line in lines:
        m = _CALL.match(line)
        if m is None:
            continue
        s = _STRING.search(m.group(3))
        if s is None or s.group(1) == "":
            continue
        calls.append((m.group(2), s.group(1), line))
    return calls


def outside_allow_list(calls, exe):
    """The calls of strace_paths() that the allow-list (see the module
    docstring) does not excuse for executable exe."""
    exe_names = {exe, os.path.realpath(exe)}
    libs = linked_libraries(exe)
    bad = []
    for syscall, path, line in calls:
        if syscall == "execve" and path in exe_names:
            continue
        if path in ALLOWED_FIXED or path in libs:
            continue
        if path == "/proc/self" or path.startswith("/proc/self/"):
            continue
        if os.path.basename(path) == "openssl.cnf":
            continue
        if syscall == "chdir" and path == "/":
            continue
        bad.append((syscall, path, line))
    return bad
