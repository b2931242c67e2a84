"""SPDY/3.1 framing, sans I/O: the frames kubectl's spdystream exchanges with a server.

Owns the byte layout of SPDY/3 control frames (SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS,
PING, GOAWAY, HEADERS, WINDOW_UPDATE) and DATA frames, and the header blocks' compression:
one zlib stream per direction per connection, primed with SPDY/3's dictionary and flushed
after each block. :class:`Codec` turns bytes into frames and frames into bytes; it never
touches a socket and knows nothing of exec or port-forward (that is spdysession's). Flow
control's arithmetic is here too (:class:`SendWindows`, :class:`ReceiveCredit`): SPDY/3.1's
per-stream windows (64 KiB, or SETTINGS_INITIAL_WINDOW_SIZE) and its session window, spent by
DATA and refilled by WINDOW_UPDATE; the waiting is the session's.
Spec: https://www.chromium.org/spdy/spdy-protocol/spdy-protocol-draft3-1/
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DICTIONARY",
    "FLAG_FIN",
    "Codec",
    "Data",
    "Frame",
    "FrameError",
    "GoAway",
    "Headers",
    "Ping",
    "ReceiveCredit",
    "RstStream",
    "SendWindows",
    "Settings",
    "SynReply",
    "SynStream",
    "WindowUpdate",
]

VERSION = 3
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
MAX_HEADER_BLOCK = 256 * 1024  # a bound on one decompressed header block
MAX_FRAME = 1 << 24  # the 24-bit length field's ceiling

_SYN_STREAM, _SYN_REPLY, _RST_STREAM, _SETTINGS = 1, 2, 3, 4
_PING, _GOAWAY, _HEADERS, _WINDOW_UPDATE = 6, 7, 8, 9
_STREAM_MASK = 0x7FFFFFFF
INITIAL_WINDOW = 64 * 1024  # SPDY/3.1: every stream's and the session's window at the start
SETTINGS_INITIAL_WINDOW_SIZE = 7
_UNBOUNDED = 1 << 30

# The spec's zlib dictionary: length-prefixed header names and values, then a run of common
# strings. Built from its words so it can be read; tests pin its length and digest.
_DICT_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language "
    "accept-ranges age allow authorization cache-control connection content-base "
    "content-encoding content-language content-length content-location content-md5 "
    "content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
    "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
    "server te trailer transfer-encoding upgrade user-agent vary via warning "
    "www-authenticate method get status 200_OK version HTTP/1.1 url public set-cookie "
    "keep-alive origin"
)
_DICT_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504"
    "505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, "
    "Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)


def _dictionary() -> bytes:
    words = [word.replace("_", " ") for word in _DICT_WORDS.split()]  # "200_OK" is "200 OK"
    return b"".join(struct.pack("!I", len(w)) + w.encode() for w in words) + _DICT_TAIL.encode()


DICTIONARY = _dictionary()


class FrameError(ValueError):
    """Bytes that are not a SPDY/3 frame this codec accepts (the connection must end)."""


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Mapping[str, str]
    flags: int = 0
    associated: int = 0
    priority: int = 0


@dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Mapping[str, str] = field(default_factory=dict)
    flags: int = 0


@dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int  # 1 PROTOCOL_ERROR ... 5 CANCEL ...


@dataclass(frozen=True)
class Settings:
    entries: tuple[tuple[int, int, int], ...]  # (flags, id, value)
    flags: int = 0


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_good: int
    status: int = 0


@dataclass(frozen=True)
class Headers:
    stream_id: int
    headers: Mapping[str, str]
    flags: int = 0


@dataclass(frozen=True)
class WindowUpdate:
    stream_id: int
    delta: int


@dataclass(frozen=True)
class Data:
    stream_id: int
    data: bytes
    flags: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


Frame = SynStream | SynReply | RstStream | Settings | Ping | GoAway | Headers | WindowUpdate | Data


class Codec:
    """One side of a SPDY/3 connection's framing: ``feed`` bytes in, ``encode`` frames out.

    Header compression state spans the connection, so one Codec serves one connection.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(level=9, zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        """Every complete frame in the bytes received so far (partial ones wait for more)."""
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head = bytes(self._buffer[:8])
            body = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            frame = self._parse(head, body)
            if frame is not None:
                frames.append(frame)
        return frames

    def _parse(self, head: bytes, body: bytes) -> Frame | None:
        flags = head[4]
        if not head[0] & 0x80:
            return Data(int.from_bytes(head[:4], "big") & _STREAM_MASK, body, flags)
        version = int.from_bytes(head[:2], "big") & 0x7FFF
        kind = int.from_bytes(head[2:4], "big")
        if version != VERSION:
            raise FrameError(f"SPDY version {version} is not supported (only 3)")
        try:
            return self._control(kind, flags, body)
        except (struct.error, IndexError) as err:
            raise FrameError(f"control frame type {kind} is malformed") from err

    def _control(self, kind: int, flags: int, body: bytes) -> Frame | None:
        if kind == _SYN_STREAM:
            stream, assoc = struct.unpack_from("!II", body)
            return SynStream(
                stream & _STREAM_MASK,
                self._headers(body[10:]),
                flags,
                assoc & _STREAM_MASK,
                body[8] >> 5,
            )
        if kind == _SYN_REPLY:
            (stream,) = struct.unpack_from("!I", body)
            return SynReply(stream & _STREAM_MASK, self._headers(body[4:]), flags)
        if kind == _HEADERS:
            (stream,) = struct.unpack_from("!I", body)
            return Headers(stream & _STREAM_MASK, self._headers(body[4:]), flags)
        if kind == _RST_STREAM:
            stream, status = struct.unpack_from("!II", body)
            return RstStream(stream & _STREAM_MASK, status)
        if kind == _SETTINGS:
            (count,) = struct.unpack_from("!I", body)
            entries = []
            for index in range(count):
                word, value = struct.unpack_from("!II", body, 4 + 8 * index)
                entries.append((word >> 24, word & 0xFFFFFF, value))
            return Settings(tuple(entries), flags)
        if kind == _PING:
            return Ping(struct.unpack_from("!I", body)[0])
        if kind == _GOAWAY:
            last, status = struct.unpack_from("!II", body)
            return GoAway(last & _STREAM_MASK, status)
        if kind == _WINDOW_UPDATE:
            stream, delta = struct.unpack_from("!II", body)
            return WindowUpdate(stream & _STREAM_MASK, delta & _STREAM_MASK)
        return None  # the spec says to ignore unknown control frames (CREDENTIAL, NOOP)

    def _headers(self, block: bytes) -> dict[str, str]:
        try:
            raw = self._inflate.decompress(block, MAX_HEADER_BLOCK)
        except zlib.error as err:
            raise FrameError(f"header block does not decompress: {err}") from err
        if self._inflate.unconsumed_tail:
            raise FrameError(f"header block is larger than {MAX_HEADER_BLOCK} bytes")
        (count,) = struct.unpack_from("!I", raw)
        headers: dict[str, str] = {}
        at = 4
        for _ in range(count):
            (size,) = struct.unpack_from("!I", raw, at)
            name = raw[at + 4 : at + 4 + size].decode("latin-1")
            at += 4 + size
            (size,) = struct.unpack_from("!I", raw, at)
            headers[name] = raw[at + 4 : at + 4 + size].decode("latin-1")
            at += 4 + size
        return headers

    def _block(self, headers: Mapping[str, str]) -> bytes:
        raw = struct.pack("!I", len(headers))
        for name, value in headers.items():
            key, val = name.lower().encode("latin-1"), value.encode("latin-1")
            raw += struct.pack("!I", len(key)) + key + struct.pack("!I", len(val)) + val
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def encode(self, frame: Frame) -> bytes:
        """The frame's bytes (header blocks compressed in this connection's zlib stream)."""
        if isinstance(frame, Data):
            if len(frame.data) >= MAX_FRAME:
                raise FrameError("DATA frame is larger than 16 MiB")
            word = frame.stream_id & _STREAM_MASK
            return struct.pack("!IB", word, frame.flags) + _length(frame.data) + frame.data
        kind, flags, body = self._control_body(frame)
        return struct.pack("!HHB", 0x8000 | VERSION, kind, flags) + _length(body) + body

    def _control_body(self, frame: Frame) -> tuple[int, int, bytes]:
        if isinstance(frame, SynStream):
            head = struct.pack("!IIBB", frame.stream_id, frame.associated, frame.priority << 5, 0)
            return _SYN_STREAM, frame.flags, head + self._block(frame.headers)
        if isinstance(frame, SynReply):
            return (
                _SYN_REPLY,
                frame.flags,
                struct.pack("!I", frame.stream_id) + self._block(frame.headers),
            )
        if isinstance(frame, Headers):
            return (
                _HEADERS,
                frame.flags,
                struct.pack("!I", frame.stream_id) + self._block(frame.headers),
            )
        if isinstance(frame, RstStream):
            return _RST_STREAM, 0, struct.pack("!II", frame.stream_id, frame.status)
        if isinstance(frame, Settings):
            body = struct.pack("!I", len(frame.entries))
            for flags, ident, value in frame.entries:
                body += struct.pack("!II", (flags << 24) | ident, value)
            return _SETTINGS, frame.flags, body
        if isinstance(frame, Ping):
            return _PING, 0, struct.pack("!I", frame.ping_id)
        if isinstance(frame, GoAway):
            return _GOAWAY, 0, struct.pack("!II", frame.last_good, frame.status)
        if isinstance(frame, WindowUpdate):
            return _WINDOW_UPDATE, 0, struct.pack("!II", frame.stream_id, frame.delta)
        raise TypeError(f"not a SPDY frame: {frame!r}")


@dataclass
class SendWindows:
    """How much DATA this side may still send: per stream and for the session (stream 0).

    Spending is always counted. The windows bind only once the peer has shown it keeps them,
    by a SETTINGS_INITIAL_WINDOW_SIZE or a WINDOW_UPDATE: spdystream (every kubectl, and the
    kubelet itself) neither sends WINDOW_UPDATE nor waits for one, so a sender bound from the
    first byte would stall kubectl after 64 KiB, where a real kubelet streams on.
    """

    initial: int = INITIAL_WINDOW
    session: int = INITIAL_WINDOW
    streams: dict[int, int] = field(default_factory=dict)
    enforced: bool = False

    def settings(self, frame: Settings) -> None:
        """A new initial window moves every open stream's window by the difference (3.1 2.6.8)."""
        for _flags, ident, value in frame.entries:
            if ident == SETTINGS_INITIAL_WINDOW_SIZE:
                delta, self.initial = value - self.initial, value
                for stream in self.streams:
                    self.streams[stream] += delta
                self.enforced = True

    def update(self, frame: WindowUpdate) -> None:
        if frame.stream_id == 0:
            self.session += frame.delta
        else:
            self.streams[frame.stream_id] = self.window(frame.stream_id) + frame.delta
        self.enforced = True

    def window(self, stream: int) -> int:
        return self.streams.get(stream, self.initial)

    def room(self, stream: int) -> int:
        """Bytes that may go on ``stream`` now (<= 0: wait for a WINDOW_UPDATE)."""
        if not self.enforced:
            return _UNBOUNDED
        return min(self.session, self.window(stream))

    def spend(self, stream: int, size: int) -> None:
        self.session -= size
        self.streams[stream] = self.window(stream) - size

    def forget(self, stream: int) -> None:
        self.streams.pop(stream, None)


@dataclass
class ReceiveCredit:
    """The WINDOW_UPDATEs to send as received DATA is consumed: once half a window has been
    consumed on a stream (or over the session), that much is given back."""

    threshold: int = INITIAL_WINDOW // 2
    streams: dict[int, int] = field(default_factory=dict)
    session: int = 0

    def consumed(self, stream: int, size: int) -> list[WindowUpdate]:
        updates: list[WindowUpdate] = []
        pending = self.streams.get(stream, 0) + size
        if pending >= self.threshold:
            updates.append(WindowUpdate(stream, pending))
            pending = 0
        self.streams[stream] = pending
        self.session += size
        if self.session >= self.threshold:
            updates.append(WindowUpdate(0, self.session))
            self.session = 0
        return updates

    def forget(self, stream: int) -> None:
        self.streams.pop(stream, None)


def _length(body: bytes) -> bytes:
    return len(body).to_bytes(3, "big")
