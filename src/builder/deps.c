/* deps.c: which installed distributions provide the included packages,
 * and what they require, found by the target interpreter itself
 * (importlib.metadata reads the .dist-info and .egg-info directories of its
 * environment).  One script answers both questions, so that the packages
 * --include follows and the metadata the executable embeds come from one
 * mapping of names to distributions.  Only metadata is read: no package is
 * imported, so nothing of the user's code runs at build time. */
#include "deps.h"

#include <stdlib.h>
#include <string.h>

#include "spawn.h"

/* argv: MODE, roots..., "--", names...  MODE "deps" prints NUL-terminated
 * "add=NAME", "why=TEXT" and "missing=TEXT" records.  Markers are evaluated
 * with the environment's `packaging` (or pip's copy of it); without either,
 * a requirement with a marker is followed unless the marker names an extra,
 * the safe side of a build that must not miss a module.  A cffi-built
 * extension module imports _cffi_backend from C, which its distribution's
 * requirements may not name (Debian's cryptography): one found among the
 * packages adds _cffi_backend when the roots have it.  MODE "meta" prints
 * "dist=DIR" for each distribution directory that provides the top-level
 * package of a name: of each project the first in root order (in a root,
 * in name order). */
static const char deps_script[] =
    "import os, re, sys\n"
    "from importlib import metadata\n"
    "from importlib.machinery import PathFinder\n"
    "mode, a = sys.argv[1], sys.argv[2:]\n"
    "roots, names = a[:a.index('--')], a[a.index('--') + 1:]\n"
    "w = sys.stdout.buffer.write\n"
    "def out(k, v): w(k.encode() + b'=' + os.fsencode(v) + b'\\0')\n"
    "try:\n"
    "    from packaging.markers import Marker\n"
    "except ImportError:\n"
    "    try:\n"
    "        from pip._vendor.packaging.markers import Marker\n"
    "    except ImportError:\n"
    "        Marker = None\n"
    "def norm(n): return re.sub(r'[-_.]+', '-', n).lower()\n"
    "dists = {}\n"
    "for d in metadata.distributions(path=roots):\n"
    "    n = d.metadata['Name']\n"
    "    if n: dists.setdefault(norm(n), []).append(d)\n"
    "def tops(d):\n"
    "    t = d.read_text('top_level.txt')\n"
    "    if t: return [x.strip().replace('/', '.') for x in t.split()\n"
    "                  if x.strip()]\n"
    "    r = set()\n"
    "    for f in d.files or ():\n"
    "        p = f.parts\n"
    "        if not p or p[0].endswith(('.dist-info', '.egg-info')) or \\\n"
    "           p[0] in ('..', '__pycache__') or '.pth' in p[0]: continue\n"
    "        if len(p) > 1: r.add(p[0])\n"
    "        elif p[0].endswith('.py'): r.add(p[0][:-3])\n"
    "        elif '.cpython-' in p[0] or p[0].endswith('.abi3.so'):\n"
    "            r.add(p[0].split('.')[0])\n"
    "    return sorted(r)\n"
    "if mode == 'meta':\n"
    "    want, taken = {n.split('.')[0] for n in names}, set()\n"
    "    for root in roots:\n"
    "        found = [(os.path.basename(str(d._path)), d) for d in\n"
    "                 metadata.distributions(path=[root])]\n"
    "        for base, d in sorted(found, key=lambda x: x[0]):\n"
    "            k = norm(d.metadata['Name'] or base.split('-')[0])\n"
    "            if k in taken or not os.path.isdir(str(d._path)): continue\n"
    "            if want.intersection(tops(d)):\n"
    "                taken.add(k)\n"
    "                out('dist', str(d._path))\n"
    "    sys.exit(0)\n"
    "def alltops(k): return sorted({t for d in dists[k] for t in tops(d)})\n"
    "def requires(k): return sorted({r for d in dists[k]\n"
    "                                for r in d.requires or ()})\n"
    "owner = {}\n"
    "for k in dists:\n"
    "    for t in alltops(k): owner.setdefault(t, k)\n"
    "def holds(m):\n"
    "    if Marker is None: return 'extra' not in m\n"
    "    try: return Marker(m).evaluate({'extra': ''})\n"
    "    except Exception: return 'extra' not in m\n"
    "def add(k, by):\n"
    "    for t in alltops(k):\n"
    "        if '.' in t or not t.isidentifier(): continue\n"
    "        if PathFinder.find_spec(t, roots) is None: continue\n"
    "        added.append(t)\n"
    "        out('add', t)\n"
    "        out('why', by)\n"
    "added = []\n"
    "todo = []\n"
    "for n in names:\n"
    "    k = owner.get(n.split('.')[0])\n"
    "    if k and k not in todo:\n"
    "        todo.append(k)\n"
    "        add(k, 'part of the %s distribution' % "
    "dists[k][0].metadata['Name'])\n"
    "seen = set(todo)\n"
    "while todo:\n"
    "    k = todo.pop(0)\n"
    "    name = dists[k][0].metadata['Name']\n"
    "    for r in requires(k):\n"
    "        req, _, m = r.partition(';')\n"
    "        if m.strip() and not holds(m.strip()): continue\n"
    "        dn = re.match(r'\\s*([A-Za-z0-9][A-Za-z0-9._-]*)', req)\n"
    "        if not dn: continue\n"
    "        dk = norm(dn.group(1))\n"
    "        by = '%s (required by %s)' % (req.strip(), name)\n"
    "        if dk in seen: continue\n"
    "        seen.add(dk)\n"
    "        if dk not in dists:\n"
    "            out('missing', by)\n"
    "            continue\n"
    "        todo.append(dk)\n"
    "        add(dk, by)\n"
    "def files_of(t):\n"
    "    s = PathFinder.find_spec(t, roots)\n"
    "    if s is None: return\n"
    "    if s.origin and os.path.isfile(s.origin): yield s.origin\n"
    "    for loc in s.submodule_search_locations or ():\n"
    "        for d, _, fs in os.walk(loc):\n"
    "            for f in fs: yield os.path.join(d, f)\n"
    "def cffi_user(t):\n"
    "    for f in files_of(t):\n"
    "        if '.so' not in os.path.basename(f): continue\n"
    "        try:\n"
    "            with open(f, 'rb') as fh: b = fh.read()\n"
    "        except OSError: continue\n"
    "        if b'_cffi_backend\\0' in b: return f\n"
    "tops_in = {n.split('.')[0] for n in names} | set(added)\n"
    "if '_cffi_backend' not in tops_in and \\\n"
    "        PathFinder.find_spec('_cffi_backend', roots) is not None:\n"
    "    for t in sorted(tops_in):\n"
    "        f = cffi_user(t)\n"
    "        if f:\n"
    "            out('add', '_cffi_backend')\n"
    "            out('why', 'imported by %s, a cffi module (no requirement "
    "names it)' % f)\n"
    "            break\n";

/* Run deps_script in mode; its records are left in out.  what names the
 * step in the error when python fails. */
static void
run_script(const char *python, const char *mode, const struct inb_strv *roots,
           const struct inb_strv *names, struct inb_buf *out, const char *what)
{
    char **argv = inb_xmalloc((roots->n + names->n + 7) * sizeof(char *));
    size_t i, k = 0;
    int rc;

    argv[k++] = (char *)python;
    argv[k++] = "-I";
    argv[k++] = "-c";
    argv[k++] = (char *)deps_script;
    argv[k++] = (char *)mode;
    for (i = 0; i < roots->n; i++) {
        argv[k++] = roots->v[i];
    }
    argv[k++] = "--";
    for (i = 0; i < names->n; i++) {
        argv[k++] = names->v[i];
    }
    argv[k] = NULL;
    rc = inb_spawn_run(argv, out);
    free(argv);
    if (rc != 0) {
        inb_fatal("--python %s failed (exit status %d) reading %s", python, rc,
                  what);
    }
}

void
inb_deps_dist_dirs(const char *python, const struct inb_strv *roots,
                   const struct inb_strv *names, struct inb_strv *dirs)
{
    struct inb_buf out = {0};
    size_t n = 0;
    char *key, *value;

    memset(dirs, 0, sizeof(*dirs));
    if (names->n == 0) {
        return;
    }
    run_script(python, "meta", roots, names, &out,
               "the metadata of the included packages");
    while (inb_record_next(&out, &n, &key, &value)) {
        if (strcmp(key, "dist") == 0) {
            inb_strv_add(dirs, value);
        }
    }
    inb_buf_free(&out);
}

void
inb_deps_resolve(const char *python, const struct inb_strv *roots,
                 const struct inb_strv *names, struct inb_deps *d)
{
    struct inb_buf out = {0};
    size_t n = 0;
    char *key, *value;

    memset(d, 0, sizeof(*d));
    run_script(python, "deps", roots, names, &out,
               "the requirements of the included packages; --no-deps "
               "skips that step");
    while (inb_record_next(&out, &n, &key, &value)) {
        if (strcmp(key, "add") == 0) {
            inb_strv_add(&d->add, value);
        }
        else if (strcmp(key, "why") == 0) {
            inb_strv_add(&d->why, value);
        }
        else if (strcmp(key, "missing") == 0) {
            inb_strv_add(&d->missing, value);
        }
    }
    inb_buf_free(&out);
}
