"""Foreground servers of the CLI (``emulate``, ``proxy``): run until Ctrl-C or SIGTERM.

Owns turning those signals into the end of a wait, so a server command stops the way a
supervisor or a terminal asks it to and can shut down cleanly. It starts and stops nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

__all__ = ["until_interrupted"]


async def until_interrupted() -> None:
    """Return once SIGINT or SIGTERM arrives (where the loop can handle signals)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
