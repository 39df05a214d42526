# cpysource.py: the recipes of the stdlib's lib-dynload extensions, read from
# a CPython source tree (src/builder/cpysource.c runs it with the target
# interpreter: python -I -c TEXT SRC NAME...).  Prints one line per module:
# its name and the Setup words that build it in, or "# skip NAME: why".
import glob, os, re, sys, sysconfig
src, names = sys.argv[1], sys.argv[2:]
v = sysconfig.get_config_vars()
mods = os.path.join(src, 'Modules')
try:
    with open(os.path.join(src, 'Include', 'patchlevel.h')) as f:
        ver = re.search(r'#define PY_VERSION\s+"(\d+\.\d+)', f.read()).group(1)
    with open(os.path.join(mods, 'Setup.stdlib.in')) as f:
        text = f.read().replace('\\\n', ' ')
except (OSError, AttributeError) as e:
    sys.exit('%s is not a CPython source tree of 3.11 or later (%s)' % (src, e))
if ver != '%d.%d' % sys.version_info[:2]:
    sys.exit('%s is the source of CPython %s, not of the target %d.%d' % ((src, ver) + sys.version_info[:2]))
recipes = {}
for line in text.splitlines():
    m = re.match(r'@MODULE_(\w+)_TRUE@(\w+)\s+(.*)', line.split('#')[0].strip())
    if m:
        recipes[m.group(2)] = (m.group(1), m.group(3).split())
if '_ctypes' not in recipes and os.path.exists(os.path.join(mods, '_ctypes', 'cfield.c')):
    recipes['_ctypes'] = ('_CTYPES', ['_ctypes/%s.c' % n for n in ('_ctypes', 'callbacks', 'callproc', 'stgdict', 'cfield')] + ['-DHAVE_FFI_PREP_CIF_VAR=1', '-DHAVE_FFI_PREP_CLOSURE_LOC=1', '-DHAVE_FFI_CLOSURE_ALLOC=1', '-lffi', '-ldl'])
def mpdec_objs():
    # The bundled libmpdec's objects, as the Makefile lists them.
    with open(os.path.join(src, 'Makefile.pre.in')) as f:
        mk = f.read()
    block = mk[mk.index('LIBMPDEC_OBJS='):].split('\n\n')[0]
    lines = [l for l in block.splitlines() if not l.strip().startswith('#')]
    return re.findall(r'Modules/_decimal/libmpdec/\w+\.o', '\n'.join(lines))
def path(w):
    if w.startswith('-I../'):
        return '-I' + os.path.join(src, w[5:])
    if w.startswith('-I') and not w.startswith('-I/'):
        return '-I' + os.path.join(src, w[2:])
    if w.endswith('libmpdec.a') and not os.path.isabs(w):
        return ' '.join(os.path.join(src, o[:-2] + '.c') for o in mpdec_objs())
    if w.endswith('.a') and not os.path.isabs(w):
        raise LookupError('needs %s, a library of CPython\'s own build' % w)
    if w.endswith('.c'):
        return os.path.join(mods, w)
    return w
libdirs = [d for d in (v.get('LIBDIR'), os.path.join(v.get('LIBDIR') or '', v.get('MULTIARCH') or '')) if d]
def static(w):
    # A self-contained library of the -dev packages, linked into the
    # module's object (so the executable needs no libssl.so & co.).
    if w[2:] not in ('ssl', 'crypto', 'sqlite3', 'ffi', 'bz2', 'lzma', 'uuid', 'crypt') or not w.startswith('-l'):
        return w
    for d in libdirs:
        if os.path.exists(os.path.join(d, 'lib%s.a' % w[2:])):
            return os.path.join(d, 'lib%s.a' % w[2:])
    return w
base = {'m', 'dl', 'pthread', 'rt', 'util', 'c'} | {w[2:] for w in ' '.join(v.get(k) or '' for k in ('LIBS', 'MODLIBS', 'SYSLIBS')).split() if w.startswith('-l')}
internal = os.path.join(sysconfig.get_paths()['include'], 'internal')
for name in names:
    if name not in recipes:
        print('# skip %s: no recipe in Modules/Setup.stdlib.in (3.11 builds it with setup.py)' % name)
        continue
    key, words = recipes[name]
    state = v.get('MODULE_%s_STATE' % key) or 'yes'
    if state not in ('yes', 'n/a'):
        print('# skip %s: configure found it %s' % (name, state))
        continue
    extra = ((v.get('MODULE_%s_CFLAGS' % key) or '') + ' ' + (v.get('MODULE_%s_LDFLAGS' % key) or '')).split()
    try:
        words = [static(path(w)) for w in words + extra]
    except LookupError as e:
        print('# skip %s: %s' % (name, e))
        continue
    shared = [w for w in words if w.startswith('-l') and w[2:] not in base]
    if shared:
        print('# skip %s: needs %s, not among the libraries linked statically (the executable would load it at every start; as a shared object it is loaded only when imported)' % (name, ' '.join(shared)))
        continue
    print(name, ' '.join(words), '-DPy_BUILD_CORE_BUILTIN', '-I' + internal, '-I' + os.path.join(src, 'Include', 'internal'))
