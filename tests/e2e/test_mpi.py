"""mpi4py and Debian's Open MPI embedded: the executable runs under mpirun
with point-to-point messages, collectives and numpy buffers."""
import shutil
import subprocess

import pytest

from helpers import PYTHON_TARGET, clean_env, inbuilt, run

pytestmark = pytest.mark.skipif(
    shutil.which("mpirun") is None or subprocess.run(
        [PYTHON_TARGET, "-c", "import mpi4py, numpy"],
        capture_output=True).returncode != 0,
    reason="openmpi-bin or python3-mpi4py missing (scripts/install-deps)")

SCRIPT = """
from mpi4py import MPI
import numpy as np
c = MPI.COMM_WORLD
r, n = c.Get_rank(), c.Get_size()
if r == 0:
    c.send({"from": 0}, dest=1, tag=7)
else:
    got = c.recv(source=0, tag=7)
total = c.allreduce(r + 1, op=MPI.SUM)
buf = np.arange(4, dtype="d") if r == 0 else np.zeros(4, dtype="d")
c.Bcast(buf, root=0)
gathered = c.gather(r * 10, root=0)
line = "rank %d/%d total %d buf %s" % (r, n, total, buf.tolist())
if r == 1:
    line += " got %s" % got
if r == 0:
    line += " gathered %s" % gathered
print(line, flush=True)
"""


def test_mpi4py_runs_under_mpirun_with_two_ranks(tmp_path):
    exe = tmp_path / "mpy"
    r = inbuilt("build", "--include", "mpi4py", "--include", "numpy",
                "-o", exe)
    assert r.returncode == 0, r.stderr
    script = tmp_path / "ring.py"
    script.write_text(SCRIPT)
    env = clean_env(OMPI_ALLOW_RUN_AS_ROOT=1,
                    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1,
                    OMPI_MCA_plm="isolated", OMPI_MCA_btl="self,vader")
    r = run(["mpirun", "--oversubscribe", "-n", "2", exe, script],
            env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = sorted(r.stdout.splitlines())
    assert lines == [
        "rank 0/2 total 3 buf [0.0, 1.0, 2.0, 3.0] gathered [0, 10]",
        "rank 1/2 total 3 buf [0.0, 1.0, 2.0, 3.0] got {'from': 0}",
    ], r.stdout + r.stderr
