"""Label and annotation keys, and the annotations' total size, as apimachinery validates them.

Owns ``ValidateLabels``' key half and ``ValidateAnnotations`` (k8s.io/apimachinery
``pkg/api/validation/objectmeta.go`` and ``pkg/util/validation/validation.go``): a key is a
qualified name, ``[prefix/]name`` with the name at most 63 characters of alphanumerics, ``-``,
``_`` and ``.`` starting and ending alphanumeric, and the prefix a DNS-1123 subdomain; annotation
keys are judged lower-cased; all annotations together at most 256 KiB. The messages are the API
server's own. Label values are checked beside the caller (they have their own rule). It must not
read anything but the metadata it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.emulator.apiserver.wire import FieldError

__all__ = ["ANNOTATIONS_LIMIT", "metadata_key_errors"]

ANNOTATIONS_LIMIT = 256 * 1024  # TotalAnnotationSizeLimitB
_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAME_MESSAGE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


@dataclass(frozen=True, slots=True)
class _Part:
    """One part of a qualified name: its name in messages, its length limit, its pattern."""

    called: str
    most: int
    pattern: re.Pattern[str]
    message: str

    def problems(self, text: str) -> list[str]:
        if not text:
            return [f"{self.called} part must be non-empty"]
        if len(text) > self.most:
            return [f"{self.called} part must be no more than {self.most} characters"]
        if not self.pattern.match(text):
            return [f"{self.called} part {self.message}"]
        return []


_PREFIX_PART = _Part("prefix", 253, _SUBDOMAIN, _SUBDOMAIN_MESSAGE)
_NAME_PART = _Part("name", 63, _NAME, _NAME_MESSAGE)


def qualified_name_problems(key: str) -> list[str]:
    """IsQualifiedName: what is wrong with a label or annotation key (empty: nothing)."""
    parts = key.split("/")
    if len(parts) > 2:
        return [
            f"a qualified name {_NAME_MESSAGE} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    if len(parts) == 2 and (problems := _PREFIX_PART.problems(parts[0])):
        return problems
    return _NAME_PART.problems(parts[-1])


def metadata_key_errors(meta: Mapping[str, Any]) -> list[FieldError]:
    """Field errors for bad label and annotation keys and oversized annotations."""
    errs: list[FieldError] = []
    labels = meta.get("labels")
    if isinstance(labels, Mapping):
        for key in labels:
            for problem in qualified_name_problems(str(key)):
                errs.append(FieldError("Invalid", "metadata.labels", problem, value=key))
    annotations = meta.get("annotations")
    if isinstance(annotations, Mapping):
        for key in annotations:
            for problem in qualified_name_problems(str(key).lower()):
                errs.append(FieldError("Invalid", "metadata.annotations", problem, value=key))
        size = sum(len(str(k)) + len(str(v)) for k, v in annotations.items())
        if size > ANNOTATIONS_LIMIT:
            errs.append(
                FieldError(
                    "TooLong",
                    "metadata.annotations",
                    f"may not be more than {ANNOTATIONS_LIMIT} bytes",
                    value="",
                )
            )
    return errs
