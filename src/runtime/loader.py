"""_inbuilt_support: the Python half of an inbuilt executable's loader.

The builder compiles this file into every archive as the module
_inbuilt_support; the C loader (src/runtime/finder.c, resources.c) imports
it only when one of these services is first asked for, so a program that
never reads a resource or metadata never loads it.

What the archive holds is one read-only virtual tree under the
executable's path ROOT, the way a wheel's files would sit in site-packages
(packages as directories, data files, .py source, extension modules' .so
files, .dist-info directories).  Which path is which entry is the C side's
one rule (src/runtime/vpath.c, src/common/modpath.c), the same the file
layer (vfs.c) answers os.stat() and open() with: here it is asked through
_inbuilt.tree_kind(rel), tree_read(rel), tree_list(rel) and
module_dir(name).

On it are built: the resource reader of importlib.resources (files()
returns a Traversable, VirtualPath), loader.get_data(), the distributions
of importlib.metadata (_inbuilt.read("meta", name), names("meta", prefix)),
and linecache lookups that never touch the disk.  This module calls only
those primitives of _inbuilt; nothing of _inbuilt's primitives calls it.
"""

import errno
import io
import posixpath
import sys

import _inbuilt

ROOT = _inbuilt.root

# What _inbuilt.module_kind() answers.
KIND_NONE, KIND_MODULE, KIND_PACKAGE, KIND_NAMESPACE, KIND_OTHER = range(5)
# What _inbuilt.tree_kind() answers.
TREE_NONE, TREE_FILE, TREE_DIR = range(3)


def relative(path):
    """The archive-relative form of path ("a/b/f.txt", "" for ROOT itself),
    or None when path is not under ROOT."""
    path = posixpath.normpath(str(path))
    if path == ROOT:
        return ""
    if path.startswith(ROOT + "/"):
        return path[len(ROOT) + 1:]
    return None


def read(rel):
    """The bytes of the file rel of the virtual tree, or None when it is no
    file.  A file of INBUILT_OVERLAY's directory comes first."""
    path = _inbuilt.overlay_file(rel)
    if path is not None:
        with io.open_code(path) as f:
            return f.read()
    return _inbuilt.tree_read(rel)


def is_dir(rel):
    """Whether rel is a directory of the virtual tree."""
    return _inbuilt.tree_kind(rel) == TREE_DIR


def is_file(rel):
    """Whether rel is a file of the virtual tree (or of the overlay)."""
    return (_inbuilt.overlay_file(rel) is not None
            or _inbuilt.tree_kind(rel) == TREE_FILE)


def listdir(rel):
    """The sorted names directly inside directory rel."""
    return sorted(_inbuilt.tree_list(rel) or ())


def _not_found(rel, what="file"):
    """A FileNotFoundError for rel that names its package (the deepest one
    whose directory holds it) and the file, relative to that package."""
    parts = rel.split("/")
    for i in range(len(parts) - 1, 0, -1):
        package = ".".join(parts[:i])
        if _inbuilt.module_kind(package) in (KIND_PACKAGE, KIND_NAMESPACE):
            where = "in package %r" % package
            name = "/".join(parts[i:])
            break
    else:
        where, name = "at the top level", rel
    return FileNotFoundError(
        errno.ENOENT, "No %s %r %s of this executable (%s)" %
        (what, name, where, sys.executable), ROOT + "/" + rel)


VirtualPath = ResourceReader = None


def _define_classes():
    """Define VirtualPath and ResourceReader on first use: their base
    classes import importlib.resources (pathlib, tempfile, ...), which a
    program that only imports linecache must not pay for."""
    global VirtualPath, ResourceReader
    if VirtualPath is not None:
        return
    try:
        from importlib.resources.abc import (Traversable,
                                             TraversableResources)
    except ImportError:  # 3.10
        from importlib.abc import Traversable, TraversableResources

    class _VirtualPath(Traversable):
        """A file or directory of the executable's virtual tree (a
        Traversable): read from memory, never from the disk."""

        def __init__(self, rel):
            self._rel = rel.strip("/")

        def __repr__(self):
            return "VirtualPath(%r)" % str(self)

        def __str__(self):
            return ROOT + "/" + self._rel if self._rel else ROOT

        def __fspath__(self):
            # Any file API reads str(path) from memory (vfs.c).
            return str(self)

        def __eq__(self, other):
            return isinstance(other, VirtualPath) and other._rel == self._rel

        def __hash__(self):
            return hash(self._rel)

        @property
        def name(self):
            return self._rel.rpartition("/")[2] or posixpath.basename(ROOT)

        @property
        def parent(self):
            return VirtualPath(self._rel.rpartition("/")[0])

        @property
        def suffix(self):
            return posixpath.splitext(self.name)[1]

        @property
        def stem(self):
            return posixpath.splitext(self.name)[0]

        def is_dir(self):
            return is_dir(self._rel)

        def is_file(self):
            return is_file(self._rel)

        def exists(self):
            return self.is_dir() or self.is_file()

        def iterdir(self):
            if not self.is_dir():
                raise _not_found(self._rel, "directory")
            prefix = self._rel + "/" if self._rel else ""
            return iter([VirtualPath(prefix + n) for n in listdir(self._rel)])

        def joinpath(self, *descendants):
            rel = self._rel
            for part in descendants:
                part = str(part)
                if part.startswith("/"):
                    raise ValueError("%r is absolute: resources are named "
                                     "relative to their package" % part)
                rel = posixpath.normpath(posixpath.join(rel, part)) if rel \
                    else posixpath.normpath(part)
                if rel == "." or rel.startswith("../") or rel == "..":
                    raise ValueError("%r leaves the executable's tree" % part)
            return VirtualPath(rel)

        def __truediv__(self, child):
            return self.joinpath(child)

        def read_bytes(self):
            data = read(self._rel)
            if data is None:
                raise _not_found(self._rel)
            return data

        def read_text(self, encoding=None, errors=None):
            return self.read_bytes().decode(encoding or "utf-8",
                                            errors or "strict")

        def open(self, mode="r", *args, **kwargs):
            if mode not in ("r", "rb", "rt"):
                raise ValueError("%s is read-only: mode %r is not supported" %
                                 (self, mode))
            stream = io.BytesIO(self.read_bytes())
            if "b" in mode:
                return stream
            return io.TextIOWrapper(stream, *args, **kwargs)


    class _ResourceReader(TraversableResources):
        """What the loader's get_resource_reader() returns: files() is the
        package's virtual directory."""

        def __init__(self, rel):
            self._rel = rel

        def files(self):
            return VirtualPath(self._rel)

    _VirtualPath.__name__ = _VirtualPath.__qualname__ = "VirtualPath"
    _ResourceReader.__name__ = "ResourceReader"
    _ResourceReader.__qualname__ = "ResourceReader"
    VirtualPath, ResourceReader = _VirtualPath, _ResourceReader
    _register_as_file(_VirtualPath)


def _register_as_file(cls):
    """importlib.resources.as_file() of a shared object of the virtual tree
    gives the path its memory file (or cache file) is opened by, with the
    libraries it needs loaded from memory first: a real file, which ctypes
    loads with no copy on disk.  Anything else is its own path, which every
    file API answers from memory (vfs.c); only with INBUILT_VFS=0 does it
    get as_file()'s own temporary copy."""
    try:
        from importlib.resources import _common
    except ImportError:  # 3.10
        from importlib import _common
    import contextlib
    import pathlib

    generic = _common.as_file.dispatch(object)

    def as_file(path):
        target = _inbuilt.loadable(path._rel) if path._rel else None
        if target is not None:
            return contextlib.nullcontext(pathlib.Path(target))
        import os
        if os.path.isdir(ROOT + "/"):
            # The file layer (vfs.c) answers the path itself: no copy.
            return contextlib.nullcontext(pathlib.Path(str(path)))
        return generic(path)  # INBUILT_VFS=0

    _common.as_file.register(cls, as_file)


def resource_reader(fullname):
    """The reader for module fullname: its own directory for a package, its
    package's for a module (as FileLoader does)."""
    _define_classes()
    kind = _inbuilt.module_kind(fullname)
    if kind in (KIND_PACKAGE, KIND_NAMESPACE):
        return ResourceReader(_inbuilt.module_dir(fullname))
    return ResourceReader(_inbuilt.module_dir(fullname.rpartition(".")[0]))


def get_data(path):
    """loader.get_data(path): the bytes of a file of the virtual tree, or of
    a file on disk for a path outside it (as FileLoader reads any path)."""
    rel = relative(path)
    if rel is None:
        with io.open_code(str(path)) as f:
            return f.read()
    data = read(rel)
    if data is None:
        raise _not_found(rel)
    return data


# INBUILT_OVERLAY (src/runtime/overlay.c finds the files)

_OverlayLoader = None


def overlay_spec(args):
    """The spec of module name found in the overlay as file path (a
    package's __init__.py when is_package), args being (name, path,
    is_package).  Its loader compiles the file each time, reading and
    writing no bytecode cache; a package's __path__ is its overlay
    directory, then its virtual directory when the archive has the package,
    and its resources are the virtual tree's (overlay files first)."""
    global _OverlayLoader
    from _frozen_importlib_external import (SourceFileLoader,
                                            spec_from_file_location)
    name, path, is_package = args
    if _OverlayLoader is None:
        class OverlayLoader(SourceFileLoader):
            def path_stats(self, path):
                raise OSError("no bytecode cache for overlay files")

            def set_data(self, path, data, *, _mode=0o666):
                pass

            def get_data(self, path):
                return get_data(path)

            def get_resource_reader(self, fullname):
                return resource_reader(fullname)

        _OverlayLoader = OverlayLoader
    locations = None
    if is_package:
        locations = [posixpath.dirname(path)]
        if _inbuilt.module_kind(name) in (KIND_PACKAGE, KIND_NAMESPACE):
            locations.append(ROOT + "/" + _inbuilt.module_dir(name))
    return spec_from_file_location(name, path, loader=_OverlayLoader(
        name, path), submodule_search_locations=locations)


# The filesystem allowed: an embedded package's directory on disk

def add_disk_location(spec):
    """With the filesystem allowed, add to the __path__ of embedded package
    spec.name (its submodule_search_locations, the virtual directory) the
    directory of the same package on disk, so that its submodules the
    executable lacks (ctypes.test, unittest.test) are imported from there,
    after the embedded ones.  The directory is looked for where CPython's
    path finder would look: under the sys.path entries for a top-level
    package, under the parent's directories on disk for a subpackage; the
    first one holding __init__.py for a package, every one for a namespace
    package.  One stat per place looked at; none when none is on disk."""
    parent, _, last = spec.name.rpartition(".")
    if parent:
        module = sys.modules.get(parent)
        bases = getattr(module, "__path__", None) or ()
    else:
        bases = sys.path
    namespace = spec.origin is None
    import os

    for base in bases:
        if not isinstance(base, str) or relative(base or ".") is not None:
            continue
        directory = os.path.join(base, last)
        if namespace:
            if os.path.isdir(directory):
                spec.submodule_search_locations.append(directory)
        elif os.path.isfile(os.path.join(directory, "__init__.py")):
            spec.submodule_search_locations.append(directory)
            return


# importlib.metadata

def _normalize(name):
    """A project name as PEP 503 compares them, with '_' for separators."""
    out, sep = [], False
    for ch in name.lower():
        if ch in "-_.":
            sep = True
            continue
        if sep and out:
            out.append("_")
        sep = False
        out.append(ch)
    return "".join(out)


def _metadata_dirs():
    """The names of the embedded .dist-info/.egg-info directories."""
    dirs = []
    for name in _inbuilt.names("meta", ""):
        top = name.split("/", 1)[0]
        if not dirs or dirs[-1] != top:
            dirs.append(top)
    return dirs


def _make_distribution_class():
    import importlib.metadata as metadata

    class InbuiltDistribution(metadata.Distribution):
        """A distribution whose metadata is embedded in the executable."""

        def __init__(self, dirname):
            self._dirname = dirname

        def __repr__(self):
            return "<InbuiltDistribution %s in %s>" % (self._dirname, ROOT)

        def read_text(self, filename):
            data = _inbuilt.read("meta", self._dirname + "/" + filename)
            if data is None:
                return None
            return data.decode("utf-8")

        def locate_file(self, path):
            _define_classes()
            return VirtualPath(str(path))

        @property
        def _path(self):
            _define_classes()
            return VirtualPath(self._dirname)

    return InbuiltDistribution


_distribution_class = None


def find_distributions(context=None):
    """The embedded distributions named context.name (all when None), when
    the search path is sys.path (the default) or holds ROOT: a search of
    other directories is not about this executable."""
    global _distribution_class
    path = vars(context).get("path") if context is not None else None
    if path is not None and path is not sys.path and ROOT not in path:
        return
    if _distribution_class is None:
        _distribution_class = _make_distribution_class()
    wanted = getattr(context, "name", None)
    wanted = _normalize(wanted) if wanted is not None else None
    for dirname in _metadata_dirs():
        project = dirname.rpartition(".")[0].partition("-")[0]
        if wanted is None or _normalize(project) == wanted:
            yield _distribution_class(dirname)


# linecache

def install_linecache(linecache):
    """Make linecache answer for files of the virtual tree from the archive:
    no stat, no open.  Other files go to the original updatecache."""
    original = linecache.updatecache

    def updatecache(filename, module_globals=None):
        rel = relative(filename) if isinstance(filename, str) else None
        try:
            data = read(rel) if rel else None
        except ImportError:
            # A corrupt source entry: no lines, as for a missing file;
            # get_source() reports the corruption.
            return []
        if data is None:
            return original(filename, module_globals)
        import tokenize
        text = data.decode(tokenize.detect_encoding(
            io.BytesIO(data).readline)[0], "replace")
        lines = text.splitlines(True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        # mtime None: checkcache() leaves the entry alone, as it does for
        # source a __loader__ gave.
        linecache.cache[filename] = (len(data), None, lines, filename)
        return lines

    updatecache.__wrapped__ = original
    updatecache.__doc__ = original.__doc__
    linecache.updatecache = updatecache


# threading

def install_thread_excepthook(threading):
    """Before 3.13 the default threading.excepthook (_thread._excepthook)
    prints with CPython's C traceback printer, which reads source lines from
    the disk by file name: for modules of the archive it finds none.  Put in
    its place a hook that prints the same text through the traceback module
    (hence linecache, hence the archive).  A hook the program set is left
    alone; threading.__excepthook__ follows, as it is the default's copy."""
    import _thread

    default = getattr(_thread, "_excepthook", None)
    if default is None or threading.excepthook is not default:
        return

    def excepthook(args, /):
        """Print an exception a thread did not handle (as the default
        threading.excepthook: SystemExit is silent; sys.stderr, else the
        thread's own stderr, else nothing)."""
        if args.exc_type is SystemExit:
            return
        stderr = sys.stderr
        if stderr is None:
            if args.thread is None:
                return
            stderr = getattr(args.thread, "_stderr", None)
            if stderr is None:
                return
        if args.thread is not None:
            name = args.thread.name
        else:
            name = _thread.get_ident()
        try:
            import traceback
        except Exception:
            return default(args)
        stderr.write("Exception in thread %s:\n" % (name,))
        traceback.print_exception(args.exc_type, args.exc_value,
                                  args.exc_traceback, file=stderr,
                                  limit=traceback_limit())
        stderr.flush()

    # As the default's: threading.__all__ lists the names whose
    # __module__ is threading's or _thread's (test_threading checks it).
    excepthook.__module__ = default.__module__
    threading.excepthook = excepthook
    if getattr(threading, "__excepthook__", None) is default:
        threading.__excepthook__ = excepthook


# ctypes

def install_ctypes(ctypes):
    """Let ctypes load the shared objects of the virtual tree by their path,
    as a package does with os.path.dirname(__file__) + "/libfoo.so" or with
    an extension module's __file__: the runtime makes the embedded object
    loadable (from memory) and ctypes opens that instead.  Other names go
    to ctypes unchanged; the CDLL keeps the name it was given."""
    original = ctypes._dlopen

    def _dlopen(name, *args):
        rel = None
        if name is not None:
            import os
            try:  # str, bytes or path-like, as _ctypes.dlopen takes
                rel = relative(os.fsdecode(name))
            except TypeError:
                rel = None
        if rel:
            path = _inbuilt.loadable(rel)
            if path is not None:
                name = path
        return original(name, *args)

    _dlopen.__wrapped__ = original
    ctypes._dlopen = _dlopen


# sys.excepthook, sys.unraisablehook

def traceback_limit():
    """The traceback module's limit that prints the frames CPython's C
    printer prints under sys.tracebacklimit: the innermost ones (the
    module's own reading of it keeps the outermost), none for a limit <= 0,
    all when it is unset or not an int."""
    limit = getattr(sys, "tracebacklimit", None)
    if not isinstance(limit, int):
        return -sys.maxsize
    return -min(limit, sys.maxsize) if limit > 0 else 0


def print_exception(args):
    """Print (type, value, traceback) to sys.stderr as sys.excepthook
    does, through the traceback module (hence linecache, hence the
    archive)."""
    import traceback

    traceback.print_exception(*args, limit=traceback_limit())


# sys.excepthook: a module the executable does not hold

def missing_module_hint(exc):
    """Called after an uncaught exception is printed: when it, or one in
    its chain, is the ModuleNotFoundError of a module whose top-level
    package the executable does not hold, say so and how to build it in.
    Only then: a program that catches ImportError sees CPython's message
    unchanged, and importlib.util.find_spec() still answers None.  Not
    when the top-level name is in sys.modules: None there blocks it
    ("import of x halted; None in sys.modules"), and a module put there
    is no package ("'x' is not a package"); nothing was looked for."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            top = exc.name.partition(".")[0]
            if _inbuilt.module_kind(top) == KIND_NONE and \
                    top not in sys.modules and sys.stderr is not None:
                sys.stderr.write(
                    "%r is not in this executable: build it in with "
                    "`inbuilt build --include %s`\n" % (top, top))
                sys.stderr.flush()
            return
        exc = exc.__cause__ or exc.__context__


# sysconfig

def install_sysconfig(sysconfig):
    """The stdlib of every install scheme is the virtual root, where the
    stdlib's modules are: pydoc then links their documentation, and what
    sysconfig looks for there (the build's Makefile) is a miss in memory."""
    root = ROOT.replace("{", "{{").replace("}", "}}")
    for scheme in sysconfig._INSTALL_SCHEMES.values():
        for key in ("stdlib", "platstdlib"):
            if key in scheme:
                scheme[key] = root


# sys.unraisablehook

def unraisablehook(unraisable):
    """Print an exception CPython could not raise (in __del__, a weakref
    callback, ...) as its default hook does, "Exception ignored in: OBJ"
    then the traceback and the exception, without the chain, but through
    the traceback module, which finds source lines in the archive.  Raises
    when it cannot, and _inbuilt.unraisablehook falls back to CPython's."""
    stderr = sys.stderr
    if stderr is None:
        return
    import traceback

    obj, msg = unraisable.object, unraisable.err_msg
    if obj is not None:
        try:
            text = repr(obj)
        except Exception:
            text = "<object repr() failed>"
        if msg is not None:
            stderr.write("%s: %s\n" % (msg, text))
        else:
            stderr.write("Exception ignored in: %s\n" % text)
    elif msg is not None:
        stderr.write("%s:\n" % msg)
    if unraisable.exc_type is not None:
        stderr.write("".join(traceback.format_exception(
            unraisable.exc_type, unraisable.exc_value,
            unraisable.exc_traceback, chain=False,
            limit=traceback_limit())))
    stderr.flush()
