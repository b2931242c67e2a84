"""Object names: the rule each resource's names follow, and ``generateName``.

Owns checking ``metadata.name`` (and ``generateName``'s prefix) against the rule the server
applies to a resource (DNS-1123 subdomain, DNS-1123 label, DNS-1035 label, path segment),
worded as that version words it (``facts.ServerFacts.name_messages``), and the random suffix
apiserver appends for ``generateName``. No storage, no HTTP.
"""

from __future__ import annotations

import random
import re

from kubespark.emulator.apiserver.facts import ServerFacts
from kubespark.emulator.apiserver.wire import FieldError

__all__ = ["check_name", "generate_name"]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

# apiserver's SimpleNameGenerator: five characters from an alphabet without vowels and
# look-alikes (k8s.io/apiserver/pkg/storage/names, utilrand.String).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_MAX_GENERATED_PREFIX = 63 - 5


def generate_name(prefix: str, rng: random.Random) -> str:
    return prefix[:_MAX_GENERATED_PREFIX] + "".join(rng.choice(_SUFFIX_ALPHABET) for _ in range(5))


def _rule_problems(name: str, rule: str, facts: ServerFacts) -> list[str]:
    problems: list[str] = []
    if rule == "path-segment":
        if name in (".", ".."):
            problems.append(f"may not be '{name}'")
        for bad in ("/", "%"):
            if bad in name:
                problems.append(f"may not contain '{bad}'")
        return problems
    limit = 253 if rule == "dns1123-subdomain" else 63
    if len(name) > limit:
        problems.append(f"must be no more than {limit} characters")
    pattern = {
        "dns1123-subdomain": _SUBDOMAIN,
        "dns1123-label": _LABEL_1123,
        "dns1035-label": _LABEL_1035,
    }[rule]
    if not pattern.match(name):
        problems.append(facts.name_messages[rule])
    return problems


def _mask_trailing_dash(name: str) -> str:
    """apimachinery's ``maskTrailingDash``, quirk included: a trailing '-' and the character
    before it become one 'a' (``name[:len(name)-2] + "a"``), so the dash a generated suffix
    follows does not end the name being judged."""
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def check_name(name: str, generate_prefix: str, rule: str, facts: ServerFacts) -> list[FieldError]:
    """Field errors for ``metadata.generateName`` and ``metadata.name``, as ObjectMeta's
    validation gives them: ``name`` is the one the object will have (already generated from the
    prefix, as apiserver generates it before validating), and a bad prefix fails both fields."""
    errs: list[FieldError] = []
    if generate_prefix:
        # Judged as a prefix (prefix=true): DNS rules mask the trailing dash; a path segment
        # prefix is checked for '/' and '%' only (IsValidPathSegmentPrefix: "." is fine).
        if rule == "path-segment":
            problems = [
                p
                for p in _rule_problems(generate_prefix, rule, facts)
                if not p.startswith("may not be '")
            ]
        else:
            problems = _rule_problems(_mask_trailing_dash(generate_prefix), rule, facts)
        errs += [
            FieldError("Invalid", "metadata.generateName", problem, value=generate_prefix)
            for problem in problems
        ]
    if not name:
        errs.append(FieldError("Required", "metadata.name", "name or generateName is required"))
        return errs
    return errs + [
        FieldError("Invalid", "metadata.name", problem, value=name)
        for problem in _rule_problems(name, rule, facts)
    ]
