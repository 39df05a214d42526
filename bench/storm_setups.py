"""The environments bench/storm.py compares: how each is laid out on the
slow filesystem and how a process on one simulated node starts from it.

Every setup builds its tree under a backing directory (served by mdsfs at
one mountpoint per node, or used directly by the -local setups) once per
storm.py run, and then, for a process on node `node` whose mountpoint is
`root`, gives the argv that runs the Python code `code` there.  Setups that
put something on the node first (squashfs, bcast) do it from inside the
launched processes, so that its cost is in the measured time, and report
that cost and the node memory it took through finish_run().

See bench/STORM.md for what each setup is and what it leaves out.
"""

import os
import shutil
import subprocess
import sys
import zipfile

import measure

STOCK_PYTHON = measure.STOCK_PYTHON
STDLIB = "/usr/lib/python3.11"
NUMPY = "/usr/lib/python3/dist-packages/numpy"

# The tree under a stock-layout backing directory.
PY_REL = "usr/bin/python3.11"
STDLIB_REL = "usr/lib/python3.11"
DYNLOAD_REL = STDLIB_REL + "/lib-dynload"
DIST_REL = "usr/lib/python3/dist-packages"
ZIP_REL = "usr/lib/python311.zip"

# Run by every process of the squashfs and bcast setups, from the slow
# filesystem: the first process of a node makes the environment available
# under NODEDIR/root (mounts the image / extracts the tarball), the others
# wait for it on a lock; then each runs the interpreter from there.  The
# first one writes the nanoseconds this took to NODEDIR/prep_ns.
NODE_SCRIPT = r"""#!/bin/sh
# storm-node.sh squash|bcast NODEDIR SOURCE CODE   (see storm_setups.py)
set -eu
mode=$1 dir=$2 src=$3 code=$4
mkdir -p "$dir"
exec 9>>"$dir/lock"
flock 9
if [ ! -e "$dir/ready" ]; then
    t0=$(date +%s%N)
    mkdir -p "$dir/root"
    case $mode in
    squash) squashfuse "$src" "$dir/root" 9>&- ;;
    bcast) tar -xf "$src" -C "$dir/root" ;;
    esac
    t1=$(date +%s%N)
    echo $((t1 - t0)) > "$dir/prep_ns"
    : > "$dir/ready"
fi
exec 9>&-
exec "$dir/root/usr/bin/python3.11" -I -S -c "$code"
"""


def copy_tree(src, dst, ignore=None):
    """Hard-link src into dst (same filesystem), else copy it; symlinks
    are kept as they are."""
    try:
        shutil.copytree(src, dst, symlinks=True, copy_function=os.link,
                        ignore=ignore)
    except (OSError, shutil.Error):
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True, ignore=ignore)


def link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# Not needed to run Python: the static library and build files.
_BUILD_FILES = shutil.ignore_patterns("config-3.11-*")


def make_stock_tree(backing):
    """Debian's interpreter, its stdlib (with Debian's precompiled
    __pycache__) and numpy under backing, laid out as in /usr."""
    os.makedirs(os.path.join(backing, "usr", "bin"))
    os.makedirs(os.path.dirname(os.path.join(backing, DIST_REL)))
    shutil.copy2(STOCK_PYTHON, os.path.join(backing, PY_REL))
    copy_tree(STDLIB, os.path.join(backing, STDLIB_REL), _BUILD_FILES)
    os.makedirs(os.path.join(backing, DIST_REL))
    copy_tree(NUMPY, os.path.join(backing, DIST_REL, "numpy"))
    resolve_absolute_links(backing)


def resolve_absolute_links(tree):
    """An absolute symlink would leave the mount: put the file it names
    there instead (Debian: sitecustomize.py -> /etc/python3.11/...)."""
    for root, dirs, files in os.walk(tree):
        for name in files + dirs:
            path = os.path.join(root, name)
            if os.path.islink(path) and os.readlink(path).startswith("/"):
                target = os.path.realpath(path)
                os.unlink(path)
                if os.path.isfile(target):
                    shutil.copy2(target, path)


def path_code(paths, code):
    """code run with sys.path set to exactly paths."""
    return "import sys; sys.path[:] = %r\n%s" % (list(paths), code)


class Setup:
    """One way of putting Python on the slow filesystem."""

    name = None
    slow = True  # served through mdsfs; False: run from the backing dir
    env = {}     # added to the processes' environment

    def prepare(self, backing, ctx):
        """Build the environment under backing (ctx: the StormContext)."""
        raise NotImplementedError

    def argv(self, root, node, code):
        """The argv of a process on node `node` that runs code, with the
        backing tree at root."""
        raise NotImplementedError

    def start_run(self, run_dir):
        """Called before each storm; run_dir is node-local scratch."""

    def finish_run(self):
        """Called after each storm, before the mounts go away; returns
        {"prep_s": slowest node's preparation, "node_bytes": memory one
        node's copy takes} or {}."""
        return {}


class Stock(Setup):
    """Debian's python3.11 run from the slow filesystem, defaults
    otherwise (-I only keeps the caller's environment out)."""

    name = "stock"

    def prepare(self, backing, ctx):
        make_stock_tree(backing)

    def argv(self, root, node, code):
        return [os.path.join(root, PY_REL), "-I", "-c", code]


class StockLocal(Stock):
    """stock run from the local disk (warm page cache), no server: the
    CPU cost alone."""

    name = "stock-local"
    slow = False


class Tuned(Setup):
    """stock's tree with what a careful user does: -I -S (no site, no
    user site, no environment), Debian's precompiled bytecode, and sys.path
    cut to the directories the workload needs, in the order that finds
    the most modules first."""

    name = "tuned"

    def prepare(self, backing, ctx):
        make_stock_tree(backing)

    def argv(self, root, node, code):
        paths = [os.path.join(root, p)
                 for p in (STDLIB_REL, DYNLOAD_REL, DIST_REL)]
        return [os.path.join(root, PY_REL), "-I", "-S", "-c",
                path_code(paths, code)]


class Zip(Setup):
    """The stdlib's pure-Python modules as precompiled bytecode in
    usr/lib/python311.zip, which CPython puts first on sys.path by
    itself; extension modules stay files (lib-dynload); numpy, a package
    with extension modules in most subpackages, stays a directory (zipimport
    cannot load a .so).  Run like tuned: -I -S and a sys.path of
    [the zip, lib-dynload, dist-packages]."""

    name = "zip"

    def prepare(self, backing, ctx):
        os.makedirs(os.path.join(backing, "usr", "bin"))
        shutil.copy2(STOCK_PYTHON, os.path.join(backing, PY_REL))
        stdlib = os.path.join(backing, STDLIB_REL)
        os.makedirs(stdlib)
        copy_tree(os.path.join(STDLIB, "lib-dynload"),
                  os.path.join(backing, DYNLOAD_REL))
        # getpath's landmark for the prefix; the module itself is in the zip
        link_or_copy(os.path.join(STDLIB, "os.py"),
                     os.path.join(stdlib, "os.py"))
        write_bytecode_zip(STDLIB, os.path.join(backing, ZIP_REL),
                           skip=("lib-dynload", "site-packages",
                                 "dist-packages", "__pycache__"),
                           skip_prefix="config-3.11-")
        os.makedirs(os.path.join(backing, DIST_REL))
        copy_tree(NUMPY, os.path.join(backing, DIST_REL, "numpy"))

    def argv(self, root, node, code):
        paths = [os.path.join(root, p)
                 for p in (ZIP_REL, DYNLOAD_REL, DIST_REL)]
        return [os.path.join(root, PY_REL), "-I", "-S", "-c",
                path_code(paths, code)]


def write_bytecode_zip(src, out, skip=(), skip_prefix=None):
    """Compile every .py under src into out as sourceless .pyc, at the
    same relative path (a/b.py -> a/b.pyc); directories named in skip,
    or starting with skip_prefix, are left out, and files that do not
    compile (test data) too.  Written through a temporary name."""
    from importlib._bootstrap_external import _code_to_timestamp_pyc

    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        for root, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if d not in skip and not (
                skip_prefix and d.startswith(skip_prefix)))
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        source = f.read()
                    code = compile(source, path, "exec", dont_inherit=True)
                except (SyntaxError, ValueError, UnicodeDecodeError):
                    continue
                st = os.stat(path)
                rel = os.path.relpath(path, src)[:-3] + ".pyc"
                z.writestr(rel, bytes(_code_to_timestamp_pyc(
                    code, int(st.st_mtime), st.st_size)))
    os.replace(tmp, out)


class NodeLocal(Setup):
    """Base of the setups whose first process on a node puts the
    environment in node-local memory (/dev/shm) for the node's others."""

    mode = None    # NODE_SCRIPT's first argument
    source = None  # relative path of the image or tarball in backing

    def __init__(self):
        self.run_dir = None
        self.nodes = set()

    def prepare(self, backing, ctx):
        tree = os.path.join(ctx.work, self.name + "-tree")
        make_stock_tree(tree)
        self.make_source(tree, os.path.join(backing, self.source))
        shutil.rmtree(tree)
        script = os.path.join(backing, "storm-node.sh")
        with open(script, "w") as f:
            f.write(NODE_SCRIPT)
        os.chmod(script, 0o755)

    def make_source(self, tree, out):
        raise NotImplementedError

    def node_dir(self, node):
        return os.path.join(self.run_dir, "node%d" % node)

    def argv(self, root, node, code):
        d = self.node_dir(node)
        self.nodes.add(node)
        paths = [os.path.join(d, "root", p)
                 for p in (STDLIB_REL, DYNLOAD_REL, DIST_REL)]
        return ["/bin/sh", os.path.join(root, "storm-node.sh"), self.mode,
                d, os.path.join(root, self.source), path_code(paths, code)]

    def start_run(self, run_dir):
        self.run_dir = run_dir
        self.nodes = set()

    def finish_run(self):
        prep = []
        node_bytes = 0
        for node in sorted(self.nodes):
            d = self.node_dir(node)
            try:
                with open(os.path.join(d, "prep_ns")) as f:
                    prep.append(int(f.read()) / 1e9)
            except (OSError, ValueError):
                pass
            node_bytes = max(node_bytes, self.node_memory(d))
            self.clean_node(d)
        return {"prep_s": max(prep) if prep else 0.0,
                "node_bytes": node_bytes}

    def node_memory(self, d):
        return 0

    def clean_node(self, d):
        shutil.rmtree(d, ignore_errors=True)


class Squash(NodeLocal):
    """stock's tree as a squashfs image (mksquashfs, gzip) on the slow
    filesystem; the first process of each node mounts it with squashfuse
    at a node-local directory, like a container runtime; all run from
    there with -I -S and the short sys.path.  squashfuse lets the node's
    kernel cache entries and attributes (libfuse's default, 1 s)."""

    name = "squashfs"
    mode = "squash"
    source = "env.sqsh"

    def make_source(self, tree, out):
        r = subprocess.run(["mksquashfs", tree, out, "-noappend", "-quiet",
                            "-no-progress"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("storm: mksquashfs failed:\n" + r.stdout + r.stderr)

    def clean_node(self, d):
        root = os.path.join(d, "root")
        if is_mounted(root):
            subprocess.run(["fusermount3", "-u", root],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if is_mounted(root):
            subprocess.run(["fusermount3", "-u", "-z", root],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        super().clean_node(d)


class Bcast(NodeLocal):
    """stock's tree as an uncompressed tarball on the slow filesystem; the
    first process of each node extracts it to /dev/shm (node-local
    memory), the others wait; all run from there with -I -S and the short
    sys.path.  The extraction is in the measured time, and the memory it
    takes on each node is reported."""

    name = "bcast"
    mode = "bcast"
    source = "env.tar"

    def make_source(self, tree, out):
        r = subprocess.run(["tar", "-cf", out + ".tmp", "-C", tree, "."],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("storm: tar failed:\n" + r.stderr)
        os.replace(out + ".tmp", out)

    def node_memory(self, d):
        total = 0
        for root, dirs, files in os.walk(os.path.join(d, "root")):
            for name in files + dirs:
                st = os.lstat(os.path.join(root, name))
                total += st.st_blocks * 512
        return total


class Inbuilt(Setup):
    """The inbuilt executable with numpy (and the whole stdlib) on the
    slow filesystem; reading it is charged."""

    name = "inbuilt"

    def prepare(self, backing, ctx):
        if not ctx.npy:
            # outside every backing directory: those go after their runs
            ctx.npy = os.path.join(ctx.work, "npy")
            measure.build(ctx.inbuilt, ctx.npy, "--include", "numpy")
        link_or_copy(ctx.npy, os.path.join(backing, "npy"))

    def argv(self, root, node, code):
        return [os.path.join(root, "npy"), "-c", code]


class InbuiltMemory(Inbuilt):
    """inbuilt with INBUILT_SO_MODE=memory: every process copies the
    shared objects it loads into memory files of its own, as before
    shared mode (one copy per node through a holder) was the default."""

    name = "inbuilt-memory"
    env = {"INBUILT_SO_MODE": "memory"}


class InbuiltLocal(Inbuilt):
    """inbuilt run from the local disk, no server: the CPU cost alone."""

    name = "inbuilt-local"
    slow = False


def is_mounted(path):
    """Whether path is a mountpoint in /proc/mounts."""
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path for line in f)


SETUPS = {cls.name: cls for cls in (Stock, Tuned, Zip, Squash, Bcast,
                                    Inbuilt, StockLocal, InbuiltLocal,
                                    InbuiltMemory)}
# The setups run unless --setups names others (inbuilt-memory: on demand).
DEFAULT = [name for name in SETUPS if name != "inbuilt-memory"]
# The setups a user would pick instead of inbuilt (the -local ones are
# controls, not alternatives).
ALTERNATIVES = ("stock", "tuned", "zip", "squashfs", "bcast")
