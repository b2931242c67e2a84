"""Serving an ASGI app in-process: the listening socket and uvicorn without its signal handling.

Owns what the emulator, the operator's metrics endpoint and the dashboard each did alike: take
the port at start (so a taken one is a clear :class:`InputError` naming the flag, not a failed
task later) and run uvicorn on that socket while the embedding program keeps its own signals.
It must not know what is served.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn

from kubespark.errors import InputError


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the embedding command owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listening_socket(
    host: str, port: int, *, where: str, fix: str, serves: str = "", backlog: int = 128
) -> socket.socket:
    """A TCP socket listening on ``host:port``; ``where``/``fix`` name the flag when it cannot.

    ``serves`` (e.g. " for /metrics") completes the message of a refusal.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP; without it every keep-alive answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as err:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port}{serves}: {err.strerror}", where=where, fix=fix
        ) from None
    return sock
