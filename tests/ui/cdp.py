"""Headless Chromium driven over the DevTools protocol on a pipe (no extra dependency).

``--remote-debugging-pipe`` makes Chromium read protocol commands from fd 3 and write answers to
fd 4, each a JSON message ending in a NUL byte. :class:`Browser` starts it with the flags the
matrix tests use and a fresh profile, opens one page, and offers what the dashboard tests need:
navigate, evaluate an expression (awaiting promises), wait until an expression is true, press
keys, and take a screenshot. Calls block; the async helpers run them in a thread, so a server in
the test's own event loop keeps answering the page.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


def _place_pipes(read_end: int, write_end: int) -> None:
    """In the child: Chromium reads commands on fd 3 and writes answers on fd 4."""
    high_read, high_write = os.dup(read_end), os.dup(write_end)
    os.dup2(high_read, 3)
    os.dup2(high_write, 4)


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        if not Path(CHROMIUM).exists():
            if os.environ.get("CI"):
                pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium")
            pytest.skip("chromium is not installed here: apt-get install -y chromium")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=lambda: _place_pipes(to_chrome_r, from_chrome_w),
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    # -- the protocol -------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_chrome, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._arrived:
                        self._answers[message["id"]] = message
                        self._arrived.notify_all()
                elif message.get("method") == "Page.javascriptDialogOpening":
                    # confirm() before a delete: accepted, as a user clicking OK
                    self._send("Page.handleJavaScriptDialog", message.get("sessionId"), accept=True)

    def _send(self, method: str, session: str | None, **params: Any) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        return self._next

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        ident = self._send(method, session, **params)
        with self._arrived:
            if not self._arrived.wait_for(lambda: ident in self._answers, timeout=60):
                raise TimeoutError(f"Chromium did not answer {method}")
            answer = self._answers.pop(ident)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result") or {}
        return result

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        return self.call(method, self.session, **params)

    # -- what tests do ------------------------------------------------------------------------

    def evaluate(self, expression: str) -> Any:
        answer = self.page(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return (answer.get("result") or {}).get("value")

    async def js(self, expression: str) -> Any:
        return await asyncio.to_thread(self.evaluate, expression)

    async def goto(self, url: str) -> None:
        await asyncio.to_thread(self.page, "Page.navigate", url=url)

    async def wait_for(self, expression: str, seconds: float = 30.0) -> Any:
        """Poll ``expression`` in the page until it is truthy; its value."""
        async with asyncio.timeout(seconds):
            while True:
                try:
                    value = await self.js(expression)
                except RuntimeError:
                    value = None  # the page is (re)loading
                if value:
                    return value
                await asyncio.sleep(0.15)

    async def key(self, key: str) -> None:
        for kind in ("keyDown", "keyUp"):
            await asyncio.to_thread(
                self.page, "Input.dispatchKeyEvent", type=kind, key=key, text=key
            )

    async def screenshot(self, path: Path) -> bytes:
        answer = await asyncio.to_thread(self.page, "Page.captureScreenshot", format="png")
        data = base64.b64decode(answer["data"])
        await asyncio.to_thread(path.write_bytes, data)
        return data

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
