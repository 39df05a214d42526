#!/bin/sh
# python-config.sh PYTHON: print make variables describing the target CPython
# (the one whose static libpython inbuilt links).  Fails with a message naming
# what is missing.
set -eu
py=${1:?usage: python-config.sh PYTHON}
if ! command -v "$py" >/dev/null 2>&1; then
    echo "python-config.sh: $py not found; run scripts/install-deps or set PYTHON=" >&2
    exit 1
fi
"$py" - <<'PYEOF'
import os, sys, sysconfig
v = sysconfig.get_config_var
libpl = v("LIBPL")
lib = os.path.join(libpl, v("LIBRARY") or "libpython%d.%d.a" % sys.version_info[:2])
if not os.path.exists(lib):
    sys.exit("python-config.sh: static %s not found; install the -dev package "
             "(scripts/install-deps)" % lib)
inc = sysconfig.get_path("include")
if not os.path.exists(os.path.join(inc, "Python.h")):
    sys.exit("python-config.sh: %s/Python.h not found; install the -dev package" % inc)
libs = " ".join(x for x in (v("LIBS"), v("MODLIBS"), v("SYSLIBS")) if x)
# Keep each library once, in order of first appearance.
seen, out = set(), []
for w in libs.split():
    # libpython is linked statically: its run-time search path would only
    # make the dynamic loader probe directories at every start.
    if w.startswith("-Wl,-rpath") or w.startswith("-Wl,-R"):
        continue
    if w not in seen:
        seen.add(w); out.append(w)
print("PY_EXE := %s" % os.path.realpath(sys.executable))
print("PY_VERSION := %d.%d" % sys.version_info[:2])
print("PY_INCLUDE := %s" % inc)
print("PY_PLATINCLUDE := %s" % sysconfig.get_path("platinclude"))
print("PY_STATICLIB := %s" % lib)
print("PY_LIBS := %s -lpthread -lutil" % " ".join(out))
print("PY_STDLIB := %s" % sysconfig.get_path("stdlib"))
print("PY_PLATSTDLIB := %s" % sysconfig.get_path("platstdlib"))
print("PY_PREFIX := %s" % sys.base_prefix)
print("PY_EXT_SUFFIX := %s" % v("EXT_SUFFIX"))
# How the target compiles extension modules (flags only: inbuilt's own
# compiler drives them).
print("PY_EXT_CFLAGS := %s" % " ".join(
    ((v("CFLAGS") or "") + " " + (v("CCSHARED") or "")).split()))
PYEOF
