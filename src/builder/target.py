# target.py: what the builder asks a target interpreter (src/builder/target.c
# runs it with python -I -c TEXT).  Prints NUL-terminated "key=value"
# records; paths are written as bytes with os.fsencode, so any file name
# survives.
import importlib.util, os, sys, sysconfig
w = sys.stdout.buffer.write
def out(k, v): w(k.encode() + b'=' + os.fsencode(v) + b'\0')
out('version', '%d.%d' % sys.version_info[:2])
out('full_version', '%d.%d.%d' % sys.version_info[:3])
out('prefix', sys.prefix)
out('magic', str(int.from_bytes(importlib.util.MAGIC_NUMBER, 'little')))
out('hexversion', str(sys.hexversion))
for p in sys.path: out('path', os.path.abspath(p or '.'))
for k in ('stdlib', 'platstdlib'): out('stdlib', sysconfig.get_path(k))
d = sysconfig.get_config_var('DESTSHARED')
if d: out('stdlib', d)
for p in sys.path:
    if p.endswith('lib-dynload'): out('stdlib', p)
v = sysconfig.get_config_var
out('base_prefix', sys.base_prefix)
out('stdlib_dir', sysconfig.get_path('stdlib'))
out('platstdlib_dir', sysconfig.get_path('platstdlib'))
out('include', sysconfig.get_path('include'))
out('platinclude', sysconfig.get_path('platinclude'))
out('staticlib', os.path.join(v('LIBPL') or '', v('LIBRARY') or
    'libpython%d.%d.a' % sys.version_info[:2]))
out('ext_suffix', v('EXT_SUFFIX') or '.so')
out('ext_cflags', ' '.join(((v('CFLAGS') or '') + ' ' +
    (v('CCSHARED') or '')).split()))
seen = []
for x in ' '.join(v(k) or '' for k in ('LIBS', 'MODLIBS', 'SYSLIBS')).split() + ['-lpthread', '-lutil']:
    if x not in seen and not x.startswith(('-Wl,-rpath', '-Wl,-R')):
        seen.append(x)
out('libs', ' '.join(seen))
