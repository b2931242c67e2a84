"""Undo the escaping that logs and API objects put on multi-line messages.

Owns turning one physical line into the logical lines it carries: a JSON log line or a
``kubectl -o json`` value holds a whole spark-submit output as ``...\\n...`` with ``\\"`` quotes
and ``\\u0026`` ampersands; Go's ``%q`` does the same in operator logs. Only lines the prefilter
picked pass through here. It must not guess at other encodings.
"""

from __future__ import annotations

import re

__all__ = ["ANSI", "logical_lines", "unescape"]

_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HINT = re.compile(r'\\(?:n|"|u[0-9a-fA-F]{4}|t)')
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A message escaped inside a message (a JSON log line quoting a Go error that quoted a Status)
# needs two rounds; more would be a guess.
_MAX_ROUNDS = 2


def _replace(m: re.Match[str]) -> str:
    code = m.group(1)
    return _SIMPLE[code] if len(code) == 1 else chr(int(code[1:], 16))


def unescape(text: str) -> str:
    """JSON-string unescaping of the escapes present; text without escapes is returned as is."""
    for _ in range(_MAX_ROUNDS):
        if not _HINT.search(text):
            break
        text = _ESCAPE.sub(_replace, text)
    return text


def logical_lines(physical: str) -> list[str]:
    """The lines a physical line carries: itself, or its unescaped message split at newlines."""
    plain = ANSI.sub("", physical).rstrip("\r\n")
    if not _HINT.search(plain):
        return [plain]
    return [line.rstrip("\r") for line in unescape(plain).split("\n")]
