"""Redaction of credentials from anything kubespark prints, logs or answers.

Owns the shapes a credential takes in text kubespark repeats (logs the doctor reads, URLs in the
proxy's banner and Status bodies, parse errors of kubeconfigs, ``-o json``): bearer and basic
``Authorization`` values, ``user:pass@`` in URLs, kubeconfig and Spark keys naming a token,
password, secret or private key (``token:``, ``client-key-data:``,
``spark.kubernetes.authenticate.submission.oauthToken=``), PEM private keys and JWTs. Each is
replaced by ``<redacted>`` and the text around it kept, so a diagnosis that quotes a line still
reads (``401 Unauthorized ... Bearer <redacted>``).

It must not decide what to print, and must not log: callers pass what they are about to show.
Redaction is by shape, so a secret with no recognisable shape (a bare random word in free text)
can pass; credential files are never echoed in the first place (see ``kubespark.bounded``'s
callers for kubeconfigs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_text", "redact_url"]

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


def redact_text(text: str) -> str:
    """``text`` with every credential shape replaced by ``<redacted>``."""
    if not text:
        return text
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
