"""An emulated Kubernetes API server of any version, with a simulated kubelet.

Owns the HTTP surface real clients use (discovery, CRUD, watch, patch, server-side apply), the
in-memory store with resourceVersions and watches, garbage collection, CRDs, fault injection, and
the kubelet that moves pods through their phases. Every version-dependent behaviour comes from the
API surface; it must not import the client-side planner, driver builder or operator.

Entry points: :func:`run_emulator` (``async with``), :func:`emulator_in_thread` (synchronous
callers), :class:`Emulator` and :class:`EmulatorOptions`; faults with :class:`Faults`. The
pytest plugin is ``kubespark.emulator.testing``.
"""

from kubespark.emulator.apiserver.faults import Faults
from kubespark.emulator.server import (
    Emulator,
    EmulatorOptions,
    EmulatorThread,
    emulator_in_thread,
    run_emulator,
)

__all__ = [
    "Emulator",
    "EmulatorOptions",
    "EmulatorThread",
    "Faults",
    "emulator_in_thread",
    "run_emulator",
]
