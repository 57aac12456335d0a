"""Fixtures for the tests of autodiff_lab.check. check_cases.py (the anp primitives with hypothesis
strategies for their arguments) is shared by two test modules, so this folder goes on sys.path."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
