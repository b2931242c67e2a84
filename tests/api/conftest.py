"""The Python API's tests share the operator tests' harness (an emulator with the CRDs and the
real operator running in a thread)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operator"))
