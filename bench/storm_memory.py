"""Per-node memory of a storm (bench/storm.py --memory), and one network
namespace per simulated node (--node-netns).

With --memory every process of a storm, once its workload is done and its
end time written, stops itself (SIGSTOP); when all have, storm.py reads
their memory here, then lets them go on (SIGCONT) and exit.  A node's
memory is what its processes map, each shared page counted once:

    node bytes = sum over the node's processes and holders of
                 (PSS - PSS of the memory files' own pages they map)
               + the bytes of the distinct memory files (memfd, /dev/shm)
                 they map or hold

PSS divides a page shared by k processes into k parts, so summing it over
the processes that share it counts the page once; memory files are
counted whole instead, since the holder keeps pages of them that no
process of the moment maps.  A memory file's own pages in a mapping are
its PSS less its anonymous pages: a private writable mapping of a shared
object's image (its data, its relocated read-only part) holds copies
made on write, which are the process's own.  Left out: the page cache of files read
with read() and not mapped (stock's .pyc files: reclaimable; storm.py
reports the bytes read per node beside it).  Pages shared with processes
of other simulated nodes (the local libc, libm ...: every node maps its
own executable through its own mount) are divided among all of them, so
a node's figure is a little below what a real node would hold.

inbuilt's holder of shared objects is one per user per network namespace
(src/runtime/holder.c): simulated nodes in one namespace would share one
holder and one copy of each memory file.  --node-netns gives each node a
fresh namespace for each run (`ip netns add`), and its processes enter it
through `nsenter --net=...`, so each node has its own holder and makes
its own copies, as on a cluster.  Needs root.
"""

import os
import subprocess

HOLDER_ARGV0 = b"inbuilt-so-holder"  # src/runtime/holder.h INB_HOLDER_ARGV0


def is_shmem(path):
    """Whether a mapping's or descriptor's path names a memory file."""
    return path.startswith("/memfd:") or path.startswith("/dev/shm/")


def file_bytes(path):
    """(key, allocated bytes) of the file a /proc link names, or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino), st.st_blocks * 512


def read_process(pid):
    """{"pss", "pss_shm", "files": {key: bytes}} of a live process, from
    /proc/PID/smaps and its descriptors; None if it is gone.  pss_shm is
    the PSS of memory files' pages it maps (copies made on write left
    out)."""
    pss = pss_shm = 0
    files = {}
    shm = False
    vma_pss = 0
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                head = line.split(None, 5)
                if not head:
                    continue
                if "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                    # a mapping: addr perms offset dev inode [path]
                    path = head[5].rstrip("\n") if len(head) > 5 else ""
                    shm = is_shmem(path)
                    if shm:
                        got = file_bytes("/proc/%d/map_files/%s"
                                         % (pid, head[0]))
                        if got:
                            files[got[0]] = got[1]
                elif head[0] == "Pss:":
                    vma_pss = int(head[1]) * 1024
                    pss += vma_pss
                elif head[0] == "Anonymous:" and shm:
                    # smaps gives Pss before Anonymous in each mapping
                    pss_shm += max(0, vma_pss - int(head[1]) * 1024)
        for fd in os.listdir("/proc/%d/fd" % pid):
            link = "/proc/%d/fd/%s" % (pid, fd)
            try:
                target = os.readlink(link)
            except OSError:
                continue
            if is_shmem(target):
                got = file_bytes(link)
                if got:
                    files[got[0]] = got[1]
    except (OSError, ValueError):
        return None
    return {"pss": pss, "pss_shm": pss_shm, "files": files}


def netns_id(pid):
    """The inode of a process's network namespace, or None."""
    try:
        return os.stat("/proc/%d/ns/net" % pid).st_ino
    except OSError:
        return None


def holders():
    """{pid: network namespace inode} of this user's running holders."""
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if f.read().split(b"\0")[0] != HOLDER_ARGV0:
                    continue
            if os.stat("/proc/" + d).st_uid != os.geteuid():
                continue
        except OSError:
            continue
        found[int(d)] = netns_id(int(d))
    return found


def node_memory(pids_by_node):
    """For {node: [pid, ...]} of stopped processes: {node: {"procs":
    count, "pss": sum of PSS, "holder_pss": the node's holders' PSS,
    "shm_bytes": its distinct memory files' bytes, "node_bytes": see the
    module's comment}}.  A holder belongs to the nodes whose processes
    share its network namespace."""
    hold = holders()
    hold_info = {pid: read_process(pid) for pid in hold}
    out = {}
    for node, pids in pids_by_node.items():
        procs = [p for p in (read_process(pid) for pid in pids) if p]
        nets = {netns_id(pid) for pid in pids}
        mine = [hold_info[h] for h, net in hold.items()
                if net in nets and hold_info[h]]
        files = {}
        for p in procs + mine:
            files.update(p["files"])
        shm = sum(files.values())
        pss = sum(p["pss"] for p in procs)
        hpss = sum(h["pss"] for h in mine)
        own = sum(p["pss"] - p["pss_shm"] for p in procs + mine)
        out[node] = {"procs": len(procs), "pss": pss, "holder_pss": hpss,
                     "holders": len(mine), "shm_bytes": shm,
                     "node_bytes": own + shm}
    return out


class NodeNamespaces:
    """One fresh network namespace per simulated node, deleted at exit
    (processes still in one, a holder idling, keep it alive until they
    end).  wrap(node, argv) runs argv in the node's namespace."""

    def __init__(self, prefix, m):
        self.names = ["%s-%d" % (prefix, i) for i in range(m)]
        self.made = []

    def __enter__(self):
        for name in self.names:
            r = subprocess.run(["ip", "netns", "add", name],
                               capture_output=True, text=True)
            if r.returncode != 0:
                self.__exit__()
                raise RuntimeError("ip netns add %s: %s"
                                   % (name, r.stderr.strip()))
            self.made.append(name)
        return self

    def __exit__(self, *exc):
        for name in self.made:
            subprocess.run(["ip", "netns", "delete", name],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.made = []
        return False

    def wrap(self, node, argv):
        return ["nsenter", "--net=/run/netns/" + self.names[node]] + argv


class NoNamespaces:
    """Stand-in for NodeNamespaces: every node in storm.py's namespace."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def wrap(self, node, argv):
        return argv
