"""One controller loop run as an asyncio task: started with the emulator, cancelled at stop.

Owns only the task's life; what a pass does is the subclass's ``_run``.
"""

from __future__ import annotations

import asyncio


class ControllerLoop:
    """A controller whose ``_run`` loops until :meth:`stop` cancels it."""

    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
