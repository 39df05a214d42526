"""Fewer page faults and pages (src/runtime/pages.c, archpages.c): the
executable's writable data copied in at once, CPython's object arenas and
(unless INBUILT_HUGEPAGES=arenas) the C heap on transparent huge pages
unless INBUILT_HUGEPAGES=0, the archive's pages dropped once read.  What a
program computes does not change; what the kernel does for it does."""
import os
import re

from helpers import clean_env, describe, py_json, run

THP = "/sys/kernel/mm/transparent_hugepage/enabled"
IMPORT_SET = "import json, decimal, email.mime.text, asyncio"

# Prints the process's mappings marked for huge pages ("hg" in VmFlags),
# its huge pages in use, and its minor faults so far, as JSON.
REPORT = r"""
import json, re
def report():
    smaps = open('/proc/self/smaps').read()
    marked = 0
    for block in re.split(r'\n(?=[0-9a-f]+-[0-9a-f]+ )', smaps):
        flags = re.search(r'^VmFlags:(.*)$', block, re.M)
        if flags and ' hg' in flags.group(1):
            marked += 1
    huge = sum(int(k) for k in
               re.findall(r'^AnonHugePages:\s+(\d+) kB', smaps, re.M))
    stat = open('/proc/self/stat').read().rsplit(')', 1)[1].split()
    return {'marked': marked, 'huge_kb': huge, 'minflt': int(stat[7])}
"""


def thp_mode():
    """The kernel's transparent huge page mode: always, madvise or never
    (the bracketed word)."""
    try:
        text = open(THP).read()
    except OSError:
        return "never"
    return re.search(r"\[(\w+)\]", text).group(1)


def test_heaps_are_marked_for_huge_pages_unless_turned_off(stdlib_exe):
    code = REPORT + "x = [str(i) for i in range(300000)]\nprint(json.dumps(report()))"
    on = py_json(stdlib_exe, code)
    off = py_json(stdlib_exe, code, env=clean_env(INBUILT_HUGEPAGES="0"))
    arenas = py_json(stdlib_exe, code,
                     env=clean_env(INBUILT_HUGEPAGES="arenas"))
    assert off["marked"] == 0 and off["huge_kb"] == 0, off
    # The arena chunk and the C heap's new part ("arenas": the first
    # only), where the kernel has huge pages at all.
    if os.path.exists(THP):
        assert on["marked"] == 2 and arenas["marked"] == 1, (on, arenas)
    else:
        assert on["marked"] == arenas["marked"] == 0, (on, arenas)
    if thp_mode() in ("always", "madvise"):
        assert on["huge_kb"] >= 4096, on
    else:
        assert on["huge_kb"] == 0, on


def test_huge_pages_take_fewer_faults_for_the_same_imports(stdlib_exe):
    code = REPORT + IMPORT_SET + "\nprint(json.dumps(report()))"
    on = py_json(stdlib_exe, code)
    off = py_json(stdlib_exe, code, env=clean_env(INBUILT_HUGEPAGES="0"))
    if thp_mode() in ("always", "madvise"):
        assert on["minflt"] < 0.7 * off["minflt"], (on, off)
    else:
        assert on["minflt"] <= off["minflt"] * 1.05, (on, off)


# Objects in waves well over one 32 MiB chunk of arenas: every arena is
# carved, freed (its memory given back) and reused; the resident size
# falls after each wave as it does under python3.
WAVES = REPORT + r"""
def rss_kb():
    return int(re.search(r'^VmRSS:\s+(\d+)', open('/proc/self/status').read(),
                         re.M).group(1))
peaks, lows, sums = [], [], []
for wave in range(3):
    objs = [(i, str(i), [i]) for i in range(1_500_000)]
    sums.append(sum(o[0] for o in objs if o[1] == str(o[2][0])))
    peaks.append(rss_kb())
    del objs
    lows.append(rss_kb())
print(json.dumps({'peaks': peaks, 'lows': lows, 'sums': sums,
                  'marked': report()['marked']}))
"""


def test_arenas_are_reused_and_given_back(stdlib_exe):
    r = py_json(stdlib_exe, WAVES)
    assert r["sums"] == [sum(range(1_500_000))] * 3
    assert min(r["peaks"]) > 150_000, r  # over four chunks of arenas
    for peak, low in zip(r["peaks"], r["lows"]):
        assert low < peak / 2, r
    # Reused: the third wave is no larger than the first.
    assert r["peaks"][2] < r["peaks"][0] * 1.2, r
    # The arenas were pages.c's (marked chunks; python3 marks none), and
    # INBUILT_HUGEPAGES=0 gives them back to CPython's own allocator.
    if os.path.exists(THP):
        assert r["marked"] >= 2, r
    off = py_json(stdlib_exe, WAVES, env=clean_env(INBUILT_HUGEPAGES="0"))
    assert off["sums"] == r["sums"] and off["marked"] == 0, off


def test_allocation_in_threads_and_forked_children(stdlib_exe):
    code = r"""
import json, os, threading
def work(out, k):
    out[k] = sum(len(str(i) * 3) for i in range(200000))
out = {}
threads = [threading.Thread(target=work, args=(out, k)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    data = [str(i) * 2 for i in range(500000)]
    os.write(w, str(sum(map(len, data))).encode())
    os._exit(0)
os.close(w)
child = int(os.read(r, 100))
os.waitpid(pid, 0)
print(json.dumps({'threads': sorted(out.values()), 'child': child,
                  'marked': report()['marked']}))
"""
    r = py_json(stdlib_exe, REPORT + code)
    expect = sum(len(str(i) * 3) for i in range(200000))
    assert r["threads"] == [expect] * 4
    assert r["child"] == sum(len(str(i) * 2) for i in range(500000))
    # Threads and the child allocated from pages.c's marked chunks, which
    # python3 does not have.
    if os.path.exists(THP):
        assert r["marked"] >= 2, r


def test_system_malloc_still_works(stdlib_exe):
    # With PYTHONMALLOC=malloc, pymalloc's arena allocator that pages.c
    # replaces is not used: the imports still come from the archive (its
    # loader, not python3's), the C heap is still a marked one, and the
    # frames' data stack still comes from a marked chunk.
    code = (REPORT + IMPORT_SET + "\n"
            "print(json.dumps({'loader': type(json.__loader__).__name__,"
            " 'marked': report()['marked']}))")
    r = py_json(stdlib_exe, code, env=clean_env(PYTHONMALLOC="malloc"))
    assert r["loader"] == "Importer", r
    if os.path.exists(THP):
        assert r["marked"] == 2, r


# The resident size of the archive's mapping (the executable's largest)
# after the imports, then what a module read again after that computes.
ARCHIVE_RSS = r"""
import importlib, json, os, re, sys
def archive_rss_kb():
    exe = os.path.realpath(sys.executable)
    best = (0, 0)
    for block in re.split(r'\n(?=[0-9a-f]+-[0-9a-f]+ )',
                          open('/proc/self/smaps').read()):
        if block.split('\n')[0].endswith(' ' + exe):
            size = int(re.search(r'^Size:\s+(\d+)', block, re.M).group(1))
            rss = int(re.search(r'^Rss:\s+(\d+)', block, re.M).group(1))
            best = max(best, (size, rss))
    return best
""" + IMPORT_SET + r"""
size, rss = archive_rss_kb()
import json.decoder
importlib.reload(json.decoder)
print(json.dumps({'size': size, 'rss': rss, 'count': len(sys.modules),
                  'again': json.decoder.JSONDecoder().decode('[1, {"a": 2}]')}))
"""


def test_archive_pages_are_dropped_once_read(stdlib_exe):
    # The import set unmarshals about 3 MB of bytecode from the archive,
    # and large folios map whole 2 MiB blocks of it; once the imports are
    # done only the archive's index and names stay mapped.  The pages come
    # back, unchanged, when read again.
    r = py_json(stdlib_exe, ARCHIVE_RSS)
    assert r["size"] > 20_000, r  # the archive: the stdlib's bytecode
    assert 0 < r["rss"] < 1024, r
    assert r["again"] == [1, {"a": 2}] and r["count"] > 100, r


# After the imports of IMPORTS (each an outermost import once the
# interpreter has started), the pages of the C heap from 64 KiB above its
# free top up to the end of the huge page the top is in, as present (bit
# 63 of /proc/self/pagemap) and in all; then work that grows the heap
# again, here and in a forked child, and what it computes.
HEAP_TAIL = r"""
import ctypes, json, os, struct
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                'arena ordblks smblks hblks hblkhd usmblks fsmblks '
                'uordblks fordblks keepcost'.split()]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.sbrk.restype = ctypes.c_void_p
libc.sbrk.argtypes = [ctypes.c_ssize_t]
pagemap = open('/proc/self/pagemap', 'rb')
IMPORTS
top = libc.sbrk(0) - libc.mallinfo2().keepcost
start = (top + (64 << 10) + 4095) & ~4095
end = ((top + (2 << 20)) & ~((2 << 20) - 1)) - 4096
present = total = 0
if start < end:
    pagemap.seek(start // 4096 * 8)
    words = struct.unpack('%dQ' % ((end - start) // 4096),
                          pagemap.read((end - start) // 4096 * 8))
    total = len(words)
    present = sum(w >> 63 for w in words)
data = [str(i) * 3 for i in range(300000)]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    more = [bytes(1000) + str(i).encode() for i in range(20000)]
    os.write(w, str(sum(map(len, more))).encode())
    os._exit(0)
os.close(w)
child = int(os.read(r, 100))
os.waitpid(pid, 0)
print(json.dumps({'present': present, 'total': total,
                  'sum': sum(map(len, data)), 'child': child}))
"""
# Import statements that leave the heap's top at different places.
TAIL_IMPORTS = ("import json", IMPORT_SET, "import argparse, csv",
                "import xml.dom.minidom", "import unittest", "import logging",
                "import http.client", "import tomllib, zipfile")


def heap_tails(exe, env):
    """HEAP_TAIL's reports for those of TAIL_IMPORTS that leave more than
    64 KiB between the heap's top and the end of its huge page."""
    found = []
    for imports in TAIL_IMPORTS:
        r = py_json(exe, HEAP_TAIL.replace("IMPORTS", imports), env=env)
        assert r["sum"] == sum(len(str(i) * 3) for i in range(300000)), r
        assert r["child"] == sum(1000 + len(str(i)) for i in range(20000))
        if r["total"] > 0:
            found.append(r)
    return found


def test_unused_part_of_the_last_huge_page_is_given_back(stdlib_exe):
    if thp_mode() not in ("always", "madvise"):
        return  # no huge pages: nothing to give back
    given = heap_tails(stdlib_exe, clean_env())
    kept = heap_tails(stdlib_exe, clean_env(INBUILT_HUGEPAGES="keep"))
    assert given and kept
    # Given back, none of it is resident.
    assert all(r["present"] == 0 for r in given), given
    # Kept, the rest of the huge page is resident (but where the kernel
    # had no huge page at hand for the heap's growth, and it took small
    # pages: not all runs can show it).
    assert any(r["present"] == r["total"] for r in kept), kept


def test_an_unknown_hugepages_choice_is_an_error(stdlib_exe):
    r = run([stdlib_exe, "-c", "print(1)"],
            env=clean_env(INBUILT_HUGEPAGES="bogus"))
    assert r.returncode == 1 and r.stdout == "", describe(r)
    assert "INBUILT_HUGEPAGES=bogus" in r.stderr, describe(r)
    assert "0, arenas or keep" in r.stderr, describe(r)
