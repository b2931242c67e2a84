"""SPDY/3.1 framing: round trips, the header dictionary, partial input, bad input."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from kubespark.emulator.apiserver import spdy

# The spec's dictionary is 1423 bytes ending "enq=0."; this digest pins its exact bytes.
_DICT_SHA256 = "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"

FRAMES: list[spdy.Frame] = [
    spdy.SynStream(1, {"streamtype": "error", "port": "8080", "requestid": "0"}, 0, 0, 3),
    spdy.SynStream(3, {"streamtype": "data", "port": "8080", "requestid": "0"}, spdy.FLAG_FIN),
    spdy.SynReply(1, {}),
    spdy.SynReply(3, {"x-stream-protocol-version": "portforward.k8s.io"}, spdy.FLAG_FIN),
    spdy.Headers(5, {"a": "b\x00c"}),
    spdy.RstStream(3, 5),
    spdy.Settings(((0, 4, 100), (1, 7, 65536))),
    spdy.Ping(7),
    spdy.GoAway(9, 0),
    spdy.WindowUpdate(3, 32768),
    spdy.Data(3, b"hello", 0),
    spdy.Data(3, b"", spdy.FLAG_FIN),
]


def test_dictionary_is_the_specs() -> None:
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b",*,enq=0.")
    assert hashlib.sha256(spdy.DICTIONARY).hexdigest() == _DICT_SHA256


def test_every_frame_round_trips_in_one_connection() -> None:
    sender, receiver = spdy.Codec(), spdy.Codec()
    wire = b"".join(sender.encode(frame) for frame in FRAMES)
    assert receiver.feed(wire) == FRAMES


def test_frames_cut_anywhere_are_reassembled() -> None:
    sender, receiver = spdy.Codec(), spdy.Codec()
    wire = b"".join(sender.encode(frame) for frame in FRAMES)
    got: list[spdy.Frame] = []
    for at in range(len(wire)):
        got += receiver.feed(wire[at : at + 1])
    assert got == FRAMES


def test_wire_layout_of_a_control_and_a_data_frame() -> None:
    codec = spdy.Codec()
    assert codec.encode(spdy.Ping(6)) == bytes.fromhex("80030006 00000004 00000006")
    assert codec.encode(spdy.Data(3, b"ab", spdy.FLAG_FIN)) == bytes.fromhex(
        "00000003 01000002 6162"
    )
    assert codec.encode(spdy.RstStream(1, 5)) == bytes.fromhex(
        "80030003 00000008 00000001 00000005"
    )


def test_header_blocks_use_the_dictionary_and_one_zlib_stream() -> None:
    codec = spdy.Codec()
    first = codec.encode(spdy.SynReply(1, {"content-type": "text/plain"}))
    second = codec.encode(spdy.SynReply(3, {"content-type": "text/plain"}))
    # A fresh zlib stream without the dictionary cannot read the first block ...
    with pytest.raises(zlib.error):
        zlib.decompressobj().decompress(first[12:])
    # ... one primed with it can, and the second block refers back to the first.
    inflate = zlib.decompressobj(zdict=spdy.DICTIONARY)
    assert b"text/plain" in inflate.decompress(first[12:])
    assert len(second) < len(first)
    assert b"text/plain" in inflate.decompress(second[12:])


def test_bad_input_is_a_frame_error() -> None:
    with pytest.raises(spdy.FrameError, match="version 2"):
        spdy.Codec().feed(bytes.fromhex("80020006 00000004 00000001"))
    with pytest.raises(spdy.FrameError, match="does not decompress"):
        spdy.Codec().feed(bytes.fromhex("80030002 00000008 00000001") + b"junk")
    with pytest.raises(spdy.FrameError, match="malformed"):
        spdy.Codec().feed(bytes.fromhex("80030006 00000002 0000"))


def test_unknown_control_frames_are_ignored() -> None:
    assert spdy.Codec().feed(
        bytes.fromhex("8003000a 00000000") + spdy.Codec().encode(spdy.Ping(1))
    ) == [spdy.Ping(1)]
