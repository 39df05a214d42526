"""The standard library fully static (--cpython-source) against the default
executable (its .so modules embedded, loaded from memory files) and stock
python3.11: build time, size, import wall time and filesystem calls of the
modules the target ships as .so files.  Prints figures; never passes or
fails on them.

Usage: python3.11 bench/stdlib_static.py --build-dir build --source DIR
(DIR: a CPython source tree of the target's version, `make cpython-source`)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402

CODE = ("import decimal, ssl, ctypes, sqlite3, json, hashlib, lzma, bz2, "
        "asyncio, mmap, multiprocessing, uuid")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--source", required=True)
    ap.add_argument("--python", default="/usr/bin/python3.11")
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    build_dir = os.path.abspath(a.build_dir)
    inbuilt = os.path.join(build_dir, "inbuilt")
    out = os.path.join(build_dir, "bench", "stdlib-static")
    shared = os.path.join(out, "shared")
    static = os.path.join(out, "static")
    t_shared = measure.build(inbuilt, shared)
    t_static = measure.build(inbuilt, static, "--cpython-source", a.source)
    walls = measure.wall_medians({
        "stock": [a.python, "-I", "-c", CODE],
        "shared": [shared, "-c", CODE],
        "static": [static, "-c", CODE],
    }, a.runs)
    print("`-c '%s'`, medians of %d runs\n" % (CODE, a.runs))
    print("| executable | build | size | wall time | / stock | fs calls "
          "naming a path (outside the allow-list) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, exe, secs in (("stock python3.11", None, None),
                             ("inbuilt, .so embedded (default)", shared,
                              t_shared),
                             ("inbuilt --cpython-source", static, t_static)):
        key = {None: "stock", shared: "shared", static: "static"}[exe]
        argv = [a.python, "-I", "-c", CODE] if exe is None else [exe, "-c",
                                                                 CODE]
        calls, bad = measure.count_calls(argv, exe or a.python)
        print("| %s | %s | %s | %s | %.2f | %d (%s) |" % (
            label, "-" if secs is None else "%.1f s" % secs,
            "-" if exe is None else measure.mb(os.path.getsize(exe)),
            measure.ms(walls[key]), walls[key] / walls["stock"], calls,
            "-" if exe is None else bad))


if __name__ == "__main__":
    main()
