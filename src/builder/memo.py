# memo.py: put before a script the target interpreter runs for the builder
# (src/builder/memo.c), it records what the run reads: every file opened
# (the "open" audit event: open(), io.open_code(), so every module
# imported, and failed opens of files that do not exist) and every
# directory listed (os.listdir, os.scandir: what the import system and
# importlib.metadata see of a directory); at exit also what the
# interpreter read before this ran: the interpreter, every module loaded
# from a file, the sys.path directories, and the site directories with
# their .pth files.  Written at exit as NUL-terminated "inb-read=PATH"
# records after the script's own output.
import sys as _inb_sys
def _inb_setup():
    import os, atexit
    seen = set()
    def note(p):
        if isinstance(p, (str, bytes)) or hasattr(p, '__fspath__'):
            try: seen.add(os.path.abspath(os.fsdecode(p)))
            except (TypeError, ValueError): pass
    def hook(event, args):
        if event == 'open' or event == 'os.listdir' or event == 'os.scandir':
            note(args[0] if args and args[0] is not None else '.')
    def report():
        note(_inb_sys.executable)
        for m in list(_inb_sys.modules.values()):
            note(getattr(m, '__file__', None))
        dirs = list(_inb_sys.path)
        try:
            import site
            dirs += site.getsitepackages()
        except Exception: pass
        for d in dirs:
            note(d or '.')
            try: names = os.listdir(d or '.')
            except OSError: continue
            for n in names:
                if n.endswith('.pth') or n == 'pyvenv.cfg': note(os.path.join(d, n))
        for d in (os.path.dirname(_inb_sys.executable),
                  os.path.dirname(os.path.dirname(_inb_sys.executable))):
            note(os.path.join(d, 'pyvenv.cfg'))
        w = _inb_sys.stdout.buffer.write
        _inb_sys.stdout.flush()
        for p in sorted(seen): w(b'inb-read=' + os.fsencode(p) + b'\0')
        _inb_sys.stdout.flush()
    _inb_sys.addaudithook(hook)
    atexit.register(report)
_inb_setup()
del _inb_setup
