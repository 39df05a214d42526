"""Every installed distribution built into an executable and imported there
as under stock python (make check-corpus; long, not in make check).

Environments: Debian's python3.11 with its dist-packages (as
scripts/install-deps leaves them), and pyenv's 3.11.7 with its
site-packages when present.  For each distribution installed in that
directory, the top-level modules it provides (importlib.metadata's
packages_distributions(): top_level.txt, else RECORD) that stock python
finds are built into one executable (`inbuilt build --python PY --include
T...`, with what the builder follows), and each is imported in a new
process of the executable and of stock python.  The outcomes must match:
both import, or both raise the same exception type.  The executable's
filesystem calls outside the allow-list (scripts/fscalls.py) are counted.

Results go, one JSON line per module, to BUILD/corpus/results.jsonl (a run
resumes from it: --fresh starts over); the table to stdout and
BUILD/corpus/corpus.md.  Exit status 1 when an outcome differs, a build
fails, or a call leaves the allow-list.

Usage: python3 tests/corpus.py BUILD_DIR [--env debian|pyenv]
           [--only DIST...] [--fresh]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import fscalls  # noqa: E402  (scripts/fscalls.py: strace and the allow-list)

ENVIRONMENTS = {
    "debian": ("/usr/bin/python3.11", "/usr/lib/python3/dist-packages"),
    "pyenv": ("/root/.pyenv/versions/3.11.7/bin/python3.11",
              "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages"),
}
BUILD_TIMEOUT = 600
IMPORT_TIMEOUT = 180

# Run by the environment's python: its distributions in SITE, each with
# the top-level names that python finds, as JSON.
LIST_DISTRIBUTIONS = r"""
import importlib.metadata as md, importlib.util, json, sys
site = sys.argv[1]
owners = md.packages_distributions()
out = {}
for d in md.distributions(path=[site]):
    name = d.metadata["Name"]
    if not name or name in out:
        continue
    tops = sorted(t for t, ds in owners.items() if name in ds)
    if not tops:
        # A one-file .egg-info (Debian's Cython, mpi4py) lists no files:
        # the project's own name, when that is a module here.
        tops = sorted({name, name.replace("-", "_"), name.lower()})
    found = []
    for t in tops:
        try:
            spec = importlib.util.find_spec(t) if t and "." not in t \
                else None
        except Exception:
            spec = None
        where = spec and (spec.origin or
                          next(iter(spec.submodule_search_locations or ()),
                               ""))
        if where and where.startswith(site):
            found.append(t)
    out[name] = {"version": d.version, "tops": tops, "found": found}
print(json.dumps(out))
"""

# Imports one module by name; prints OK, or EXC and the exception's type.
IMPORT_ONE = r"""
import importlib, sys
try:
    importlib.import_module(sys.argv[1])
except BaseException as e:
    sys.stdout.write("EXC %s %s\n" % (type(e).__name__,
                                       str(e).splitlines()[0][:160]
                                       if str(e) else ""))
    sys.stdout.flush()
    raise SystemExit(1)
sys.stdout.write("OK\n")
"""


def outcome(result):
    """"ok", the exception type's name, "timeout" or "crash (N)" of an
    import run, from its output."""
    if result is None:
        return "timeout", ""
    lines = [l for l in result.stdout.splitlines() if l.startswith(("OK",
                                                                    "EXC "))]
    if lines and lines[-1] == "OK" and result.returncode == 0:
        return "ok", ""
    if lines and lines[-1].startswith("EXC "):
        parts = lines[-1].split(" ", 2)
        return parts[1], parts[2] if len(parts) > 2 else ""
    tail = (result.stderr.strip().splitlines() or [""])[-1][:160]
    return "crash (%d)" % result.returncode, tail


def run_import(argv, name, traced=False, exe=None):
    """(outcome, detail, calls outside the allow-list or None)."""
    env = fscalls.run_env()
    with tempfile.TemporaryDirectory(prefix="inbuilt-corpus-") as cwd:
        try:
            if traced:
                result, calls = fscalls.strace_paths(
                    list(argv) + ["-c", IMPORT_ONE, name], env=env,
                    timeout=IMPORT_TIMEOUT)
                bad = fscalls.outside_allow_list(calls, exe)
            else:
                result = subprocess.run(
                    list(argv) + ["-c", IMPORT_ONE, name], input="",
                    capture_output=True, text=True, env=env, cwd=cwd,
                    timeout=IMPORT_TIMEOUT, check=False)
                bad = None
        except subprocess.TimeoutExpired:
            result, bad = None, None
    kind, detail = outcome(result)
    return kind, detail, bad


def distributions(python, site):
    r = subprocess.run([python, "-I", "-c", LIST_DISTRIBUTIONS, site],
                       capture_output=True, text=True, check=True,
                       env=fscalls.run_env())
    return json.loads(r.stdout)


def check_distribution(inbuilt, envname, python, dist, info, workdir):
    """One result record per top-level module of dist (or one for the
    distribution when there is none, or its build fails)."""
    base = {"env": envname, "dist": dist, "version": info["version"]}
    if not info["found"]:
        return [dict(base, module=None, status="no module",
                     detail="provides no top-level module python finds "
                     "(%s)" % (", ".join(info["tops"]) or "none listed"))]
    exe = workdir / "exe"
    argv = [inbuilt, "build", "--python", python]
    for t in info["found"]:
        argv += ["--include", t]
    start = time.monotonic()
    try:
        b = subprocess.run(argv + ["-o", str(exe)], capture_output=True,
                           text=True, timeout=BUILD_TIMEOUT, check=False,
                           env=fscalls.run_env())
    except subprocess.TimeoutExpired:
        b = None
    seconds = time.monotonic() - start
    if b is None or b.returncode != 0:
        detail = "timeout" if b is None else \
            (b.stderr.strip().splitlines() or [""])[-1][:300]
        return [dict(base, module=None, status="build failed",
                     detail=detail, build_s=round(seconds, 1))]
    records = []
    for t in info["found"]:
        stock, stock_detail, _ = run_import([python, "-I"], t)
        mine, mine_detail, bad = run_import([str(exe)], t, traced=True,
                                            exe=str(exe))
        same = stock == mine
        records.append(dict(
            base, module=t, stock=stock, exe=mine,
            status="same" if same else "differs",
            detail="" if same else "stock: %s %s; executable: %s %s" % (
                stock, stock_detail, mine, mine_detail),
            outside=None if bad is None else len(bad),
            outside_paths=sorted({p for _, p, _ in bad or []})[:5],
            build_s=round(seconds, 1)))
    exe.unlink(missing_ok=True)
    return records


def table(records):
    """The Markdown table of COMPATIBILITY.md: one row per distribution."""
    rows = ["| environment | distribution | top-level modules | import "
            "under stock | same outcome in the executable | calls outside "
            "the allow-list | build (s) |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    by_dist = {}
    for r in records:
        by_dist.setdefault((r["env"], r["dist"]), []).append(r)
    for (env, dist), rs in sorted(by_dist.items(),
                                  key=lambda x: (x[0][0], x[0][1].lower())):
        first = rs[0]
        name = "%s %s" % (dist, first["version"])
        if first["module"] is None:
            rows.append("| %s | %s | %s | | | | %s |" % (
                env, name, first["status"] + ": " + first["detail"],
                first.get("build_s", "")))
            continue
        mods = [r["module"] for r in rs]
        ok = sum(r["stock"] == "ok" for r in rs)
        same = sum(r["status"] == "same" for r in rs)
        calls = [r["outside"] for r in rs if r["outside"] is not None]
        rows.append("| %s | %s | %s | %d of %d | %d of %d | %s | %s |" % (
            env, name, ", ".join("`%s`" % m for m in mods), ok, len(rs),
            same, len(rs), sum(calls) if calls else "-",
            first.get("build_s", "")))
    return "\n".join(rows)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--env", action="append", choices=sorted(ENVIRONMENTS))
    ap.add_argument("--only", nargs="+", default=None)
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args(argv)
    build = Path(args.build_dir).resolve()
    inbuilt = str(build / "inbuilt")
    outdir = build / "corpus"
    outdir.mkdir(parents=True, exist_ok=True)
    results = outdir / "results.jsonl"
    if args.fresh and results.exists():
        results.unlink()
    records, done = [], set()
    if results.exists():
        for line in results.read_text().splitlines():
            r = json.loads(line)
            records.append(r)
            done.add((r["env"], r["dist"]))
    for envname in args.env or sorted(ENVIRONMENTS):
        python, site = ENVIRONMENTS[envname]
        if not os.access(python, os.X_OK) or not os.path.isdir(site):
            print("corpus: %s: no %s, skipped" % (envname, python),
                  file=sys.stderr)
            continue
        dists = distributions(python, site)
        for dist in sorted(dists, key=str.lower):
            if (envname, dist) in done or \
                    (args.only and dist not in args.only):
                continue
            with tempfile.TemporaryDirectory(prefix="inbuilt-corpus-") as d:
                new = check_distribution(inbuilt, envname, python, dist,
                                         dists[dist], Path(d))
            with results.open("a") as f:
                for r in new:
                    f.write(json.dumps(r) + "\n")
            records.extend(new)
            for r in new:
                print("corpus: %s %s %s: %s%s" % (
                    envname, dist, r["module"] or "", r["status"],
                    (" (%s)" % r["detail"]) if r["detail"] else ""),
                    file=sys.stderr, flush=True)
    text = table(records)
    (outdir / "corpus.md").write_text(text + "\n")
    print(text)
    bad = [r for r in records
           if r["status"] in ("differs", "build failed") or r.get("outside")]
    for r in bad:
        print("corpus: %s %s %s: %s %s %s" % (
            r["env"], r["dist"], r["module"] or "", r["status"], r["detail"],
            r.get("outside_paths") or ""), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
