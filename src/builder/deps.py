"""The builder's questions about an environment, answered by the target
interpreter itself (src/builder/deps.c runs it with -I -c, with this text).

    deps.py MODE ROOT... -- NAME... -- EXCLUDE...

Writes NUL-terminated KEY=VALUE records to stdout.  Reads metadata and
source files only: no package is imported, so nothing of the user's code
runs at build time.

MODE deps: which installed distributions the included packages (NAMEs)
come from, what they require, and what they import.  For every top-level
package to include too: "add=NAME" then "why=TEXT"; for a requirement that
is not installed: "missing=TEXT".  Three ways lead to a package:

- the other top-level packages of an included package's distribution
  (matplotlib's mpl_toolkits);
- the requirements (Requires-Dist) of those distributions, transitively,
  extras left out, markers evaluated with the environment's `packaging` (or
  pip's copy); without either, a requirement with a marker is followed
  unless the marker names an extra, the safe side of a build that must not
  miss a module;
- what importing them imports whatever their metadata says (Debian strips
  requirements from many packages: matplotlib, numba): the imports a module
  runs every time it is imported, followed from the included names through
  every module they reach, and a cffi-built extension's import of
  _cffi_backend, which is in C.

MODE meta: "dist=DIR" for each distribution directory that provides the
top-level package of a NAME: of each project the first in ROOT order (in a
root, in name order).

EXCLUDEs are --exclude patterns: a module they match, or whose package they
match, is neither followed nor added.
"""
import ast
import fnmatch
import functools
import os
import re
import sys
from importlib import metadata
import pkgutil
from importlib.machinery import ModuleSpec

MODE = sys.argv[1]
_args = sys.argv[2:]
_cut = [i for i, a in enumerate(_args) if a == "--"] + [len(_args)] * 2
ROOTS = _args[:_cut[0]]
NAMES = _args[_cut[0] + 1:_cut[1]]
EXCLUDES = _args[_cut[1] + 1:]
STDLIB = set(sys.stdlib_module_names) | set(sys.builtin_module_names)


def out(key, value):
    sys.stdout.buffer.write(key.encode() + b"=" + os.fsencode(value) + b"\0")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def tops(dist):
    """The top-level names dist provides: top_level.txt, else the first
    components of the files RECORD lists."""
    text = dist.read_text("top_level.txt")
    if text:
        return [x.strip().replace("/", ".") for x in text.split()
                if x.strip()]
    found = set()
    for f in dist.files or ():
        p = f.parts
        if not p or p[0].endswith((".dist-info", ".egg-info")) or \
                p[0] in ("..", "__pycache__") or ".pth" in p[0]:
            continue
        if len(p) > 1:
            found.add(p[0])
        elif p[0].endswith(".py"):
            found.add(p[0][:-3])
        elif ".cpython-" in p[0] or p[0].endswith(".abi3.so"):
            found.add(p[0].split(".")[0])
    return sorted(found)


def is_top_name(name):
    """Whether name can be a top-level module's name, as the builder's
    inb_is_top_name() says: its file name without '.' (mypyc's helpers,
    81d243bd2c585b0f4821__mypyc, are no identifiers, and importlib imports
    them all the same)."""
    return bool(name) and not name.startswith("-") and \
        not any(c in name for c in "./\0")


def excluded(name):
    parts = name.split(".")
    return any(fnmatch.fnmatchcase(".".join(parts[:i]), pattern)
               for i in range(1, len(parts) + 1) for pattern in EXCLUDES)


def find_in(name, path):
    """The spec of name in the directories path, as PathFinder finds it
    (the first module or regular package wins, PEP 420 portions gather),
    but with a plain list for a namespace package's locations:
    PathFinder's _NamespacePath reads its parent package from sys.modules,
    and nothing here is imported (a portion inside a regular package,
    pkg/sansio/, would be a KeyError)."""
    portions = []
    for entry in path:
        finder = pkgutil.get_importer(entry)
        spec = finder.find_spec(name) if finder is not None else None
        if spec is None:
            continue
        if spec.loader is not None:
            return spec
        portions.extend(spec.submodule_search_locations or ())
    if not portions:
        return None
    spec = ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = portions
    return spec


@functools.lru_cache(maxsize=None)
def spec_of(name):
    """The spec of module name on ROOTS, found as the import system would,
    without importing its packages; None when it is not there.  Asked again
    and again while imports are followed: remembered."""
    path, spec = ROOTS, None
    parts = name.split(".")
    for i in range(len(parts)):
        if path is None:
            return None
        spec = find_in(".".join(parts[:i + 1]), path)
        if spec is None:
            return None
        path = spec.submodule_search_locations
    return spec


def meta():
    want, taken = {n.split(".")[0] for n in NAMES}, set()
    for root in ROOTS:
        found = [(os.path.basename(str(d._path)), d)
                 for d in metadata.distributions(path=[root])]
        for base, d in sorted(found, key=lambda x: x[0]):
            key = norm(d.metadata["Name"] or base.split("-")[0])
            if key in taken or not os.path.isdir(str(d._path)):
                continue
            if want.intersection(tops(d)):
                taken.add(key)
                out("dist", str(d._path))


# deps: distributions and their requirements

def marker_holds(marker):
    try:
        from packaging.markers import Marker
    except ImportError:
        try:
            from pip._vendor.packaging.markers import Marker
        except ImportError:
            return "extra" not in marker
    try:
        return Marker(marker).evaluate({"extra": ""})
    except Exception:
        return "extra" not in marker


def requirements(add):
    dists = {}
    for d in metadata.distributions(path=ROOTS):
        name = d.metadata["Name"]
        if name:
            dists.setdefault(norm(name), []).append(d)

    def alltops(key):
        return sorted({t for d in dists[key] for t in tops(d)})

    def add_dist(key, why):
        for t in alltops(key):
            if is_top_name(t) and spec_of(t) is not None:
                add(t, why)

    owner = {}
    for key in dists:
        for t in alltops(key):
            owner.setdefault(t, key)
    todo = []
    for name in NAMES:
        key = owner.get(name.split(".")[0])
        if key and key not in todo:
            todo.append(key)
            add_dist(key, "part of the %s distribution"
                     % dists[key][0].metadata["Name"])
    seen = set(todo)
    while todo:
        key = todo.pop(0)
        name = dists[key][0].metadata["Name"]
        reqs = sorted({r for d in dists[key] for r in d.requires or ()})
        for r in reqs:
            req, _, marker = r.partition(";")
            if marker.strip() and not marker_holds(marker.strip()):
                continue
            m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
            if not m:
                continue
            dkey = norm(m.group(1))
            why = "%s (required by %s)" % (req.strip(), name)
            if dkey in seen:
                continue
            seen.add(dkey)
            if dkey not in dists:
                out("missing", why)
                continue
            todo.append(dkey)
            add_dist(dkey, why)


# deps: what importing the included packages imports

def guards_imports(handler):
    """Whether an except clause catches a failed import."""
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) \
        else [handler.type]
    for k in kinds:
        name = k.id if isinstance(k, ast.Name) else \
            k.attr if isinstance(k, ast.Attribute) else None
        if name in ("ImportError", "ModuleNotFoundError", "Exception",
                    "BaseException"):
            return True
    return False


def unconditional_imports(stmts):
    """(line, level, module, names) of the imports that statements run
    whenever they run: those of class and with bodies, of try bodies whose
    handlers do not catch a failed import, of every try's else and finally;
    not those of functions, if blocks or loops."""
    for s in stmts:
        if isinstance(s, ast.Import):
            for a in s.names:
                yield s.lineno, 0, a.name, ()
        elif isinstance(s, ast.ImportFrom):
            yield s.lineno, s.level, s.module, [a.name for a in s.names]
        elif isinstance(s, (ast.ClassDef, ast.With, ast.AsyncWith)):
            yield from unconditional_imports(s.body)
        elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
            if not any(guards_imports(h) for h in s.handlers):
                yield from unconditional_imports(s.body)
            yield from unconditional_imports(s.orelse)
            yield from unconditional_imports(s.finalbody)


def imported_names(modname, is_package, level, module, names):
    """The absolute module names an import statement of modname may load:
    its module, and module.NAME for each name (a submodule, or not)."""
    if level:
        base = modname if is_package else modname.rpartition(".")[0]
        for _ in range(level - 1):
            base = base.rpartition(".")[0]
        target = ".".join(x for x in (base, module) if x)
    else:
        target = module
    if not target:
        return []
    return [target] + [target + "." + n for n in names if n != "*"]


def follow_imports(starts, included, add):
    """Scan, from the modules in starts, the imports every module reached
    runs when imported; add the installed top-level packages they name that
    are not included yet (and follow them too)."""
    queue, seen = list(starts), set()
    while queue:
        name = queue.pop(0)
        if name in seen or excluded(name):
            continue
        seen.add(name)
        if "." in name:
            queue.append(name.rpartition(".")[0])
        spec = spec_of(name)
        if spec is None or not (spec.origin or "").endswith(".py"):
            continue
        try:
            with open(spec.origin, "rb") as f:
                tree = ast.parse(f.read(), spec.origin)
        except (OSError, SyntaxError, ValueError):
            continue
        is_package = spec.submodule_search_locations is not None
        for line, level, module, names in unconditional_imports(tree.body):
            for target in imported_names(name, is_package, level, module,
                                         names):
                top = target.split(".")[0]
                if top in STDLIB or top == "__future__" or excluded(top):
                    continue
                if top not in included:
                    if spec_of(top) is None:
                        continue
                    add(top, "imported by %s (%s:%d); no requirement of "
                        "its distribution names it"
                        % (name, spec.origin, line))
                if target not in seen and spec_of(target) is not None:
                    queue.append(target)


def files_of(top):
    spec = spec_of(top)
    if spec is None:
        return
    if spec.origin and os.path.isfile(spec.origin):
        yield spec.origin
    for loc in spec.submodule_search_locations or ():
        for d, _, files in os.walk(loc):
            for f in files:
                yield os.path.join(d, f)


def cffi_user(top):
    """A cffi-built shared object of package top (it imports _cffi_backend
    from C), or None."""
    for path in files_of(top):
        if ".so" not in os.path.basename(path):
            continue
        try:
            with open(path, "rb") as f:
                if b"_cffi_backend\0" in f.read():
                    return path
        except OSError:
            continue
    return None


def deps():
    included = {n.split(".")[0] for n in NAMES}
    added = []

    def add(top, why):
        if top not in included and not excluded(top):
            included.add(top)
            added.append(top)
            out("add", top)
            out("why", why)

    requirements(add)
    follow_imports(list(NAMES) + list(added), included, add)
    if "_cffi_backend" not in included and spec_of("_cffi_backend"):
        for top in sorted(included):
            path = cffi_user(top)
            if path:
                add("_cffi_backend", "imported by %s, a cffi module (no "
                    "requirement names it)" % path)
                break


if MODE == "meta":
    meta()
else:
    deps()
