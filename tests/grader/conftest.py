"""Fixtures for the grader tests."""

import importlib
import sys

try:
    importlib.import_module("autodiff_lab.check")
except ImportError:  # TEMPORARY: remove with _check_standin.py once branch `check` is merged
    from . import _check_standin

    sys.modules["autodiff_lab.check"] = _check_standin
