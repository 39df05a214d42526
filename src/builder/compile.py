# compile.py: the builder's compile server (src/builder/compile.c).  The
# target interpreter runs it (python -I -S -W ignore -c TEXT), so bytecode
# is compiled by the very CPython version the executable links, with its
# own unicodedata for \N{...} escapes.
#
# Requests on stdin, replies on stdout; integers are 4-byte little-endian,
# each field is a length then that many bytes:
#   hello (sent first, unasked): status '0', field = 4-byte magic number
#       (importlib.util.MAGIC_NUMBER) + 4-byte sys.hexversion
#   'c' path relname optimize source: compile source as module relname
#       (path names it in messages); reply marshal.dumps(code)
#   'f' path relname optimize: the same for the source in the file at path
#   'x' text: exec text in the server's namespace; reply empty
#   'k' function path: call function(source of path, path), defined by
#       an 'x' request, which returns a list of ints; reply them in
#       decimal, comma-separated
# A reply is status '0' (ok) or '1' (error) and one field: the result, or
# the message "path:line:col: Type: message".
import importlib.util
import marshal
import os
import sys

inp = sys.stdin.buffer
out = sys.stdout.buffer
namespace = {"__builtins__": __builtins__}


def read(n):
    data = inp.read(n)
    if len(data) != n:
        sys.exit(0)
    return data


def field():
    return read(int.from_bytes(read(4), "little"))


def reply(ok, data):
    out.write((b"0" if ok else b"1") + len(data).to_bytes(4, "little"))
    out.write(data)
    out.flush()


def describe(path, e):
    line = offset = 0
    msg = str(e)
    if isinstance(e, SyntaxError):
        line, offset, msg = e.lineno or 0, e.offset or 0, e.msg
    return "%s:%d:%d: %s: %s" % (path, line, offset, type(e).__name__, msg)


def source_of(path):
    with open(path, "rb") as f:
        return f.read()


def compile_request(from_file):
    path, relname = os.fsdecode(field()), os.fsdecode(field())
    optimize = int(field())
    src = None if from_file else field()
    try:
        if from_file:
            src = source_of(path)
        if b"\0" in src:
            raise SyntaxError("source contains NUL bytes")
        code = compile(src, relname, "exec", dont_inherit=True,
                       optimize=optimize)
        reply(True, marshal.dumps(code))
    except OSError as e:
        reply(False, ("%s: cannot read: %s" % (path, e.strerror)).encode())
    except Exception as e:
        reply(False, describe(path, e).encode())


def call_request():
    name, path = field().decode(), os.fsdecode(field())
    try:
        result = namespace[name](source_of(path), path)
        reply(True, ",".join(str(int(x)) for x in result).encode())
    except Exception as e:
        reply(False, describe(path, e).encode())


reply(True, importlib.util.MAGIC_NUMBER +
      sys.hexversion.to_bytes(4, "little"))
while True:
    op = inp.read(1)
    if not op:
        break
    if op in (b"c", b"f"):
        compile_request(op == b"f")
    elif op == b"x":
        try:
            exec(field().decode(), namespace)
            reply(True, b"")
        except Exception as e:
            reply(False, describe("<builder>", e).encode())
    elif op == b"k":
        call_request()
    else:
        reply(False, b"unknown request %r" % op)
