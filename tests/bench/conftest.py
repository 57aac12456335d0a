"""The bench/ folder is scripts, not a package: load its modules by path."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="session")
def bench_module():
    def load(name: str):
        if str(BENCH) not in sys.path:
            sys.path.insert(0, str(BENCH))  # the modules import each other (timing, machine)
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
