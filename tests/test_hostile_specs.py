"""Every hostile network file of the shared corpus (conftest.HOSTILE_SPECS) is refused:
exit 2, nothing on stdout, one error line naming the file and saying why, within a
capped address space (a regression that allocates instead fails there, not the machine)."""
from __future__ import annotations

import os
import resource
import subprocess
import sys


def test_a_hostile_spec_is_refused_naming_the_file(tmp_path, hostile_spec):
    make, said = hostile_spec
    path = tmp_path / "hostile.yaml"
    path.write_text(make())
    cap = 3 * 2**30

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    # one BLAS thread: a threaded BLAS reserves address space per core at import
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "gradcli", "check", str(path)],
                          capture_output=True, text=True, preexec_fn=limit, timeout=300,
                          env=env)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()[:1]
    assert line.startswith(f"error: {path}"), line
    assert said in line, line
    assert "internal" not in done.stderr and "Traceback" not in done.stderr
