"""Redaction of credentials from anything kubespark prints, logs or answers.

Owns the shapes a credential takes in text kubespark repeats (logs the doctor reads, URLs in the
proxy's banner and Status bodies, parse errors of kubeconfigs, ``-o json``): bearer and basic
``Authorization`` values, ``user:pass@`` in URLs, kubeconfig and Spark keys naming a token,
password, secret or private key (``token:``, ``client-key-data:``,
``spark.kubernetes.authenticate.submission.oauthToken=``), PEM private keys and JWTs. Each is
replaced by ``<redacted>`` and the text around it kept, so a diagnosis that quotes a line still
reads (``401 Unauthorized ... Bearer <redacted>``).

Besides shapes, it redacts by value: the credentials this process has read (a kubeconfig's
token, password and client key, a token file, what an exec plugin or auth provider answered, the
proxy's ``--token-file``) are registered with :func:`remember_secret` where they are read, and
replaced wherever they appear, shape or not. That register is the one piece of process-wide state
here, on purpose: text reaches ``redact_text`` from every layer (CLI errors, the doctor, the
proxy's and the operator's logs, Status bodies), and a secret known in one must be hidden in all;
threading it through each call would leave some call without it. It only grows.

It must not decide what to print, and must not log: callers pass what they are about to show.
A secret this process never read and that has no recognisable shape (a bare random word in a
server's free text) can pass; credential files are never echoed in the first place (see
``kubespark.bounded``'s callers for kubeconfigs).
"""

from __future__ import annotations

import base64
import io
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "RedactingStream",
    "is_secret_key",
    "redact",
    "redact_known",
    "redact_text",
    "redact_url",
    "remember_secret",
]

REDACTED = "<redacted>"

# Names whose value is a credential: suffixes, so "oauthTokenFile" (a path) and "secretName" (a
# reference) are kept while "oauthToken", "id-token", "client-key-data" and "password" are not.
_SECRET_NAME = (
    r"(?:[\w.-]*?(?:token|password|passwd|pwd|secret|client[-_]?key[-_]?data|client[-_]?key"
    r"|private[-_.]?key|api[-_.]?key|access[-_.]?key|secret[-_.]?key|credentials?|cookie)"
    r"|auth|authorization)"
)
_SECRET_KEY = re.compile(rf"{_SECRET_NAME}", re.I)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys, whole blocks first (multi-line text), then a lone BEGIN line.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        f"-----BEGIN PRIVATE KEY----- {REDACTED}",
    ),
    # Authorization headers and bare bearer/basic credentials.
    (
        re.compile(
            r"(?i)\b(authorization\b[\"']?\s*[:=]\s*[\"']?)(bearer|basic|negotiate)?\s*[^\s\"',;}]+"
        ),
        rf"\1\2 {REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # user:password@ in URLs (k8s://https://user:pw@host, http://u:p@proxy).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:]*):[^\s/@]*@"), rf"\1:{REDACTED}@"),
    # key: value, key=value, "key": "value" (not "token expired": a separator is needed).
    (
        re.compile(
            rf"(?i)((?<![\w.-]){_SECRET_NAME}[\"']?\s*[:=]\s*[\"']?)"
            r"(?!<redacted>|(?:bearer|basic|negotiate)\b)([^\s\"',;}\]]+)"
        ),
        rf"\1{REDACTED}",
    ),
    # Command-line flags: --password VALUE, --token=VALUE.
    (
        re.compile(rf"(?i)((?<![\w-])--{_SECRET_NAME}(?:=|\s+))(?!<redacted>)([^\s\"']+)"),
        rf"\1{REDACTED}",
    ),
    # JWTs (service-account and OIDC tokens) wherever they stand.
    (re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}"), REDACTED),
)


# Values shorter than this are not registered: "abc" as a password would shred every text it
# occurs in, and a value that short is guessed, not leaked.
MIN_SECRET_LENGTH = 4
# Below this length a value is replaced only standing alone (no letter or digit either side), so
# a short password does not cut words that happen to contain it.
_WHOLE_WORD_BELOW = 12


class _KnownSecrets:
    """The credential values this process has read; one pattern replacing them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: Iterable[str]) -> None:
        fresh = {v for v in values if len(v) >= MIN_SECRET_LENGTH} - self._values
        if not fresh:
            return
        with self._lock:
            self._values = self._values | fresh
            # Longest first, so a token is replaced whole before a shorter secret inside it.
            ordered = sorted(self._values, key=len, reverse=True)
            alternatives = [
                re.escape(v)
                if len(v) >= _WHOLE_WORD_BELOW
                else rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])"
                for v in ordered
            ]
            self._pattern = re.compile("|".join(alternatives))

    def sub(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text


_KNOWN = _KnownSecrets()


def remember_secret(value: str | bytes | None) -> None:
    """Redact ``value`` by value from now on, in every text this process shows.

    Bytes are taken as text when they are UTF-8 (a PEM key, a token file), and their base64
    form is registered too (how ``client-key-data`` and basic credentials travel). Every line of
    a multi-line value is registered, so a quoted fragment of a key is hidden as well.
    """
    if value is None:
        return
    raw = value if isinstance(value, bytes) else value.encode()
    text = raw.decode(errors="replace").strip()
    candidates = {text, base64.b64encode(raw).decode()}
    candidates |= {line.strip() for line in text.splitlines() if "-----" not in line}
    _KNOWN.add(c for c in candidates if c)


def redact_known(text: str) -> str:
    """``text`` with the secrets this process has read replaced; shapes left alone (for text
    shown as it is, a driver's log: only what is certainly a credential goes)."""
    return _KNOWN.sub(text) if text else text


def redact_text(text: str) -> str:
    """``text`` with every known secret and every credential shape replaced by ``<redacted>``."""
    if not text:
        return text
    text = _KNOWN.sub(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """A URL with the password of its userinfo and credential query values replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    return redact_text(urlunsplit(parts._replace(netloc=netloc)))


def is_secret_key(name: str) -> bool:
    """Whether a field or conf name holds a credential (``oauthToken``, ``client-key-data``)."""
    return _SECRET_KEY.fullmatch(name) is not None


def redact(value: Any) -> Any:
    """A JSON-like value with secret-named fields' values and credential shapes redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and is_secret_key(k) and _scalar(v) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return _redact_args(list(value))
    return value


def _redact_args(items: list[Any]) -> list[Any]:
    """Items of a list, where a flag naming a secret (``["--token", "x"]``) hides the next."""
    out: list[Any] = []
    hide = False
    for item in items:
        out.append(REDACTED if hide and isinstance(item, str) else redact(item))
        hide = isinstance(item, str) and _is_secret_flag(item)
    return out


def _is_secret_flag(text: str) -> bool:
    return text.startswith("-") and "=" not in text and is_secret_key(text.lstrip("-"))


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bytes | int) and value not in ("", None)


class RedactingFilter(logging.Filter):
    """A log handler's filter: the record's message redacted before any formatter sees it.

    Attached to the handlers the proxy and the operator log through, so a secret a library
    writes into a message (an upstream's error, a kopf failure quoting a response) is hidden
    as it is in everything else kubespark prints.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_text is None and record.exc_info[1] is not None:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return True


class RedactingStream(io.TextIOBase):
    """A text stream that writes through to another with the known secrets replaced.

    The CLI puts its stdout and stderr behind one for a command's run: whatever a command
    prints (a driver's log, a server's message, a table), a credential this process read is
    not in it. A secret split across two writes can pass; every printer here writes whole
    lines. Attributes other than writing (``isatty``, ``encoding``, ``buffer``) are the
    wrapped stream's.
    """

    def __init__(self, wrapped: io.TextIOBase | Any) -> None:
        super().__init__()
        self.wrapped = wrapped

    def write(self, text: str) -> int:
        self.wrapped.write(redact_known(text))
        return len(text)

    def flush(self) -> None:
        self.wrapped.flush()

    def isatty(self) -> bool:
        return bool(self.wrapped.isatty())

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return int(self.wrapped.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.wrapped, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)
