"""The spark.properties file as Java writes it, and Spark's size strings.

Owns ``java.util.Properties.store`` (the escaping of keys and values, the comment header) so the
ConfigMap spark-submit would write can be reproduced, ``Properties.load`` to read it back, and
Spark's ``byteStringAsMb`` for memory settings. Pure functions only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from kubespark.errors import InputError

__all__ = ["java_date", "load_properties", "mebibytes", "store_properties"]


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}
_ESCAPES |= {c: "\\" + c for c in "=:#!"}
_VALUE_TABLE = str.maketrans(_ESCAPES)
_KEY_TABLE = str.maketrans({**_ESCAPES, " ": "\\ "})


def _escape(text: str, *, is_key: bool) -> str:
    # Properties.saveConvert(text, escapeSpace=is_key, escUnicode=false), as store(Writer) calls
    # it: one translation table instead of a loop over characters (it runs for every property
    # of every submission). A value's leading space is escaped too.
    if is_key:
        return text.translate(_KEY_TABLE)
    if text.startswith(" "):
        return "\\ " + text[1:].translate(_VALUE_TABLE)
    return text.translate(_VALUE_TABLE)


def java_date(epoch_ms: int) -> str:
    """``java.util.Date.toString()`` in UTC: ``Fri Nov 27 06:06:09 UTC 2026``."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch_ms / 1000))


def store_properties(
    properties: Mapping[str, str], *, comment: str, epoch_ms: int | None = None
) -> str:
    """The text ``Properties.store(writer, comment)`` writes.

    Java writes the entries in its hash table's order and a date line of the moment of writing;
    here entries are sorted by key and the date line is written only for a given time, so equal
    input gives equal text (a resubmission can then adopt an immutable ConfigMap).
    """
    lines = [f"#{comment}"]
    if epoch_ms is not None:
        lines.append(f"#{java_date(epoch_ms)}")
    lines += [
        f"{_escape(k, is_key=True)}={_escape(v, is_key=False)}"
        for k, v in sorted(properties.items())
    ]
    return "\n".join(lines) + "\n"


_UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out, chars = [], iter(text)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        nxt = next(chars, "")
        if nxt == "u":
            out.append(chr(int("".join(next(chars, "0") for _ in range(4)), 16)))
        else:
            out.append(_UNESCAPE.get(nxt, nxt))
    return "".join(out)


_SEPARATOR = re.compile(r"(?<!\\)(?:\\\\)*[=:]")


def load_properties(text: str) -> dict[str, str]:
    """``Properties.load`` for the single-line entries ``store`` writes."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped or stripped[0] in "#!":
            continue
        match = _SEPARATOR.search(stripped)
        if match is None:
            out[_unescape(stripped)] = ""
            continue
        key = stripped[: match.end() - 1]
        out[_unescape(key.rstrip())] = _unescape(stripped[match.end() :].lstrip())
    return out


_SIZE = re.compile(r"^\s*([0-9]+)\s*([a-zA-Z]*)\s*$")
_UNIT_MIB = {
    "": 1.0,  # Spark's memory settings without a unit are MiB
    "b": 1 / (1024 * 1024),
    "k": 1 / 1024,
    "kb": 1 / 1024,
    "m": 1,
    "mb": 1,
    "g": 1024,
    "gb": 1024,
    "t": 1024 * 1024,
    "tb": 1024 * 1024,
    "p": 1024**3,
    "pb": 1024**3,
}


def mebibytes(value: str, *, what: str) -> int:
    """Spark's ``byteStringAsMb``: ``512m`` -> 512, ``1g`` -> 1024, ``2048`` -> 2048."""
    match = _SIZE.match(value)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNIT_MIB:
        raise InputError(
            f"{value!r} is not a size Spark understands",
            where=what,
            fix="write a whole number with an optional unit: 512m, 2g, 1024 (MiB)",
        )
    return int(int(match.group(1)) * _UNIT_MIB[unit])
