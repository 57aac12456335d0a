"""`make bench` keeps working: one quick round of every workload, in a subprocess (times are not checked;
speed targets are reported by the benchmark, not asserted by tests)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_quick_bench_runs_every_workload_and_prints_the_targets():
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for heading in ("## 1. MLP training step", "## 2. Tracing overhead", "## 3. Scalar engine",
                    "## 4. Jacobian", "## 5. Memory", "## 6. Training on the shipped digits", "## Targets"):
        assert heading in out
    assert "numpy (by hand)" in out and "micrograd.engine.Value" in out and "65,818" in out
    assert "quick run" in out
    # the run restarted itself with malloc's thresholds fixed (bench/README.md, "Page faults")
    assert "malloc   mmap threshold 32 MiB, trim threshold 256 MiB (fixed)" in out


def test_the_mlp_table_gives_the_median_ratio_and_its_range():
    sys.path.insert(0, str(BENCH))
    try:
        from run import median_and_range
    finally:
        sys.path.remove(str(BENCH))
    assert median_and_range([1.2, 1.04, 1.08]) == "1.08x (1.04 to 1.20)"
    assert median_and_range([1.0, 1.0], spread=False) == "1.00x"
    assert median_and_range([1.13]) == "1.13x"  # one process: no range
