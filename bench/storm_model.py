"""The import storm projected to many nodes, from a model calibrated on
measured storm runs.

    python3 bench/storm_model.py STORM.csv... [--nodes 4 48 192 1000 10000]
        [--ranks 64] [--mds-ops 50000] [--rtt-us 200] [--data-gbs 10]

Each STORM.csv is written by `bench/storm.py --memory --csv STORM.csv`
(see bench/STORM.md); their rows are taken together.  From each setup's
row at the largest N (mpirun rows first) the model takes, as measured:

    c      CPU seconds per process (user + system, the storm's cpu_s / N)
    o      metadata server operations per process (server_ops / N; its
           caches off: every path walk of every process reaches the server)
    d      bytes each node reads through its mount (file data kept in the
           node's page cache from one process to the next)
    mem    per-node memory at that many processes per node, and how it
           grows per process, from two rows of the setup with different
           processes per node if there are (storm_memory.py)

and projects a storm of M nodes of P ranks each (n = M x P processes):

    time  =  c  +  max(o x RTT, n x o / R)  +  M x d / B

c: every rank has a core and spends its import's CPU time; o x RTT: a
rank's metadata operations one after the other, each a round trip, when
the server keeps up; n x o / R: the server's queue once it is saturated
(R operations per second for the whole machine: the storm's own model,
server_ops x L / K, checked within 7% on the server-bound rows of
docs/BENCHMARKS.md); M x d / B: every node's first reader fetching the
files' data at an aggregate bandwidth of B.  The terms are added, as if
they did not overlap: an upper bound when one of them dominates (within
2x of the true time then), which is the case at scale.

A second time column assumes clients that cache metadata perfectly, so
that only the first process of each node reaches the server (o
operations per node instead of per process): the best case for stock,
against the storm's worst (a real client is in between).  For inbuilt
it is what a client that caches the executable's lookup gives.

Node memory does not depend on M: the measured node, or, at another
number of ranks per node, the measured node grown by the measured
growth per process.

Not modelled: the launcher's own start (mpirun, srun: the same for every
setup), the network for anything but the files' data, and noise.
"""

import argparse
import csv
import sys


def rows_of(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            rows += list(csv.DictReader(f))
    return rows


def calibrate(rows):
    """{setup: parameters} from the measured rows (see the module's
    comment)."""
    out = {}
    for setup in sorted({r["setup"] for r in rows}):
        mine = [r for r in rows if r["setup"] == setup
                and float(r.get("mem_node") or 0) > 0]
        if not mine:
            continue
        # mpirun first (the launcher of a real job), then the most ranks
        mine.sort(key=lambda r: (r["launcher"] == "mpirun", int(r["N"])))
        top = mine[-1]
        n, m = int(top["N"]), int(top["M"])
        per = n / m
        node = float(top["mem_node"])
        # growth per process from a row with fewer processes per node
        growth = None
        for r in mine:
            p = int(r["N"]) / int(r["M"])
            if r["launcher"] == top["launcher"] and p < per:
                growth = (node - float(r["mem_node"])) / (per - p)
        out[setup] = {
            "launcher": top["launcher"], "N": n, "M": m,
            "per_node": per, "cpu": float(top["cpu_s"]) / n,
            "ops": int(top["server_ops"]) / n,
            "node_read": float(top["node_read"]),
            "node_mem": node, "growth": growth,
            "total": float(top["total_s"]), "load": float(top["load"]),
            "load0": float(top.get("load0") or "nan"),
        }
    return out


def node_memory(p, ranks):
    """Memory of a node of `ranks` processes: measured, or grown from
    the measured point by the measured growth per process."""
    if ranks == p["per_node"] or p["growth"] is None:
        return p["node_mem"], ranks == p["per_node"]
    return p["node_mem"] + (ranks - p["per_node"]) * p["growth"], False


def project(p, nodes, ranks, args, cached=False):
    """(time s, cpu term, server term, data term) for nodes x ranks."""
    n = nodes * ranks
    ops_total = (nodes if cached else n) * p["ops"]
    server = max(p["ops"] * args.rtt_us / 1e6, ops_total / args.mds_ops)
    data = nodes * p["node_read"] / (args.data_gbs * 1e9)
    return p["cpu"] + server + data, p["cpu"], server, data


def fmt_s(s):
    if s >= 3600:
        return "%.1f h" % (s / 3600)
    if s >= 100:
        return "%.0f s" % s
    return "%.2f s" % s


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", nargs="+",
                    help="bench/storm.py --memory --csv output")
    ap.add_argument("--nodes", type=int, nargs="+",
                    default=[4, 48, 192, 1000, 10000])
    ap.add_argument("--ranks", type=int, default=64,
                    help="processes per node (default 64)")
    ap.add_argument("--mds-ops", type=float, default=50000,
                    help="metadata operations per second the server "
                    "answers for the whole machine (default 50000)")
    ap.add_argument("--rtt-us", type=float, default=200,
                    help="one metadata operation's round trip when the "
                    "server is not saturated, microseconds (default 200)")
    ap.add_argument("--data-gbs", type=float, default=10,
                    help="aggregate GB/s at which the nodes read the files' "
                    "data (default 10)")
    ap.add_argument("--setups", nargs="+",
                    default=["stock", "inbuilt", "inbuilt-memory"])
    args = ap.parse_args(argv)
    params = calibrate(rows_of(args.csv))
    missing = [s for s in args.setups if s not in params]
    if missing:
        sys.exit("storm_model: no --memory rows for %s in %s"
                 % (", ".join(missing), " ".join(args.csv)))

    print("Calibration (measured: bench/storm.py --memory, the row with "
          "the most processes, mpirun first):")
    print()
    print("| setup | measured at | CPU s per process | server ops per "
          "process | MB read per node | node MB | node MB growth per "
          "process |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for s in args.setups:
        p = params[s]
        print("| %s | %s, N = %d, M = %d (%g per node), load %.1f before, "
              "%.1f after | %.3f | %.1f | %.1f | %.1f | %s |" % (
                  s, p["launcher"], p["N"], p["M"], p["per_node"],
                  p["load0"], p["load"], p["cpu"], p["ops"],
                  p["node_read"] / 1e6,
                  p["node_mem"] / 1e6,
                  "%.2f" % (p["growth"] / 1e6) if p["growth"] is not None
                  else "-"))
    print()
    print("Projection: %d ranks per node; R = %g metadata operations/s "
          "for the machine, RTT = %g us, B = %g GB/s (time = CPU + "
          "metadata + data, bench/storm_model.py):" % (
              args.ranks, args.mds_ops, args.rtt_us, args.data_gbs))
    print()
    print("| setup | nodes | ranks | server ops | time | CPU | metadata "
          "| data | time, metadata cached per node (its metadata term) "
          "| node MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: |")
    grown = False
    for s in args.setups:
        p = params[s]
        mem, measured = node_memory(p, args.ranks)
        grown = grown or not measured
        for nodes in args.nodes:
            n = nodes * args.ranks
            t, c, srv, data = project(p, nodes, args.ranks, args)
            tc, _, srvc, _ = project(p, nodes, args.ranks, args, True)
            print("| %s | %d | %d | %.3g | %s | %.2f s | %s | %s | %s (%s) "
                  "| %.0f%s |" % (s, nodes, n, n * p["ops"], fmt_s(t), c,
                                  fmt_s(srv), fmt_s(data), fmt_s(tc),
                                  fmt_s(srvc), mem / 1e6,
                                  "" if measured else " (*)"))
    if grown:
        print()
        print("(*) node memory not measured at %d processes per node: the "
              "measured figure grown linearly (or, with one point, as "
              "measured)" % args.ranks)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
