# lint.py: find reads of files next to __file__ (src/builder/lint.c defines
# check() in the compile server, then calls check(source, filename)).
import ast
OPENERS = {'open', 'open_code'}
PATH_READERS = {'open', 'read_text', 'read_bytes'}
def check(source, filename):
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return []
    tainted = set()
    def uses_file(node):
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and (n.id == '__file__'
                                            or n.id in tainted):
                return True
        return False
    assigns = [n for n in ast.walk(tree)
               if isinstance(n, (ast.Assign, ast.AnnAssign))
               and n.value is not None]
    changed = True
    while changed:
        changed = False
        for a in assigns:
            if not uses_file(a.value):
                continue
            for t in getattr(a, 'targets', None) or [a.target]:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name) and n.id not in tainted:
                        tainted.add(n.id)
                        changed = True
    def is_main_test(t):
        if not (isinstance(t, ast.Compare) and len(t.ops) == 1
                and isinstance(t.ops[0], ast.Eq)):
            return False
        sides = [t.left, t.comparators[0]]
        return any(isinstance(x, ast.Name) and x.id == '__name__'
                   for x in sides) and \
            any(isinstance(x, ast.Constant) and x.value == '__main__'
                for x in sides)
    main_only = set()
    for s in tree.body:
        if isinstance(s, ast.If) and is_main_test(s.test):
            for b in s.body:
                main_only.update(id(n) for n in ast.walk(b))
    def names_in(nodes):
        return {n.id for n in nodes if isinstance(n, ast.Name)}
    in_main = names_in(n for n in ast.walk(tree) if id(n) in main_only)
    for s in tree.body:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and s.name in in_main:
            own = {id(n) for n in ast.walk(s)}
            elsewhere = names_in(n for n in ast.walk(tree)
                                 if id(n) not in main_only
                                 and id(n) not in own)
            consts = {n.value for n in ast.walk(tree)
                      if isinstance(n, ast.Constant)}
            if s.name not in elsewhere and s.name not in consts:
                main_only.update(own)
    lines = set()
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call) or id(n) in main_only:
            continue
        f = n.func
        if isinstance(f, ast.Name) and f.id in OPENERS and n.args:
            hit = uses_file(n.args[0])
        elif isinstance(f, ast.Attribute) and f.attr in OPENERS \
                and n.args and isinstance(f.value, ast.Name) \
                and f.value.id in ('io', 'codecs', 'os'):
            hit = uses_file(n.args[0])
        elif isinstance(f, ast.Attribute) and f.attr in PATH_READERS:
            hit = uses_file(f.value)
        else:
            hit = False
        if hit:
            lines.add(n.lineno)
    return sorted(lines)
