"""What the numbers were measured on: CPU, cores, load, Python, numpy and its BLAS with its threads."""

from __future__ import annotations

import os
import platform
import sys


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description() -> str:
    """The BLAS numpy was built with, and its thread count (from threadpoolctl when it is installed, else
    from the environment variables that set it)."""
    import numpy

    blas = numpy.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pools = None
    else:
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if pools:
        threads = ", ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in pools)
    else:
        names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        set_by = [f"{v}={os.environ[v]}" for v in names if v in os.environ]
        threads = ", ".join(set_by) or f"threads: library default (one per core, {os.cpu_count()})"
    return f"{name}; {threads}"


def describe() -> list[str]:
    import numpy

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"CPU      {cpu_name()}, {os.cpu_count()} cores (load average {load})",
        f"Python   {sys.version.split()[0]} ({platform.python_implementation()}), {platform.system()} "
        f"{platform.release()}",
        f"numpy    {numpy.__version__}, BLAS {blas_description()}",
        f"malloc   {malloc_description()}",
    ]


def malloc_description() -> str:
    """glibc malloc's thresholds when they were set in the environment (bench/run.py sets them)."""
    mmap, trim = os.environ.get("MALLOC_MMAP_THRESHOLD_"), os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if mmap is None and trim is None:
        return "system defaults (adaptive thresholds)"
    mib = lambda v: "default" if v is None else f"{int(v) / 2**20:g} MiB"  # noqa: E731
    return f"mmap threshold {mib(mmap)}, trim threshold {mib(trim)} (fixed)"
