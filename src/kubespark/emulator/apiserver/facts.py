"""Facts about one minor's kube-apiserver binary that the API surface does not hold.

Owns reading ``data/server.yaml`` into :class:`ServerFacts` for a version: what ``/version``
reports, which discovery, OpenAPI and Table endpoints the server answers, and how it words
name-validation failures. This is the one place in the emulator where a version is compared
with a range, and only against the data file; code elsewhere asks the facts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kubespark.apisurface.discovery import version_document
from kubespark.errors import DataError
from kubespark.versions import Version, parse_kube_version

__all__ = ["ServerFacts", "server_facts"]


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """What one minor's API server reports and serves beyond its resources."""

    minor: Version
    git_version: str
    aggregated_discovery: tuple[str, ...]  # apidiscovery.k8s.io versions served, newest first
    openapi_v3: bool
    table_versions: tuple[str, ...]  # meta.k8s.io versions a Table may be asked in
    name_rules: dict[str, str]  # "plural.group" (or "plural" for core) -> rule name
    default_name_rule: str
    custom_resource_name_rule: str
    name_messages: dict[str, str]  # rule -> the message a bad name gets
    self_link: bool  # metadata.selfLink is filled
    return_deleted: frozenset[str] = frozenset()  # "plural.group" whose DELETE returns the object
    root_ca_configmap: bool = False  # kube-root-ca.crt is published in every namespace
    endpoint_slices: bool = False  # the EndpointSlice controller runs
    token_secrets: bool = False  # ServiceAccounts get a token Secret (the tokens controller)
    endpoint_slice_serving: bool = False  # it writes the serving/terminating conditions
    job_selector_label: str = "controller-uid"  # the key a Job's generated selector matches
    job_template_labels: tuple[tuple[str, str], ...] = ()  # (label, "uid" | "name")

    def version_info(self) -> dict[str, Any]:
        """The body of ``GET /version`` (the release ``git_version`` names)."""
        return version_document(parse_kube_version(self.git_version))

    def name_rule(self, group: str, plural: str, *, custom: bool) -> str:
        key = f"{plural}.{group}" if group else plural
        if key in self.name_rules:
            return self.name_rules[key]
        return self.custom_resource_name_rule if custom else self.default_name_rule

    def returns_deleted_object(self, group: str, plural: str) -> bool:
        """Whether a DELETE of this built-in resource answers the object (else a Status)."""
        return (f"{plural}.{group}" if group else plural) in self.return_deleted


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("kubespark.emulator").joinpath("data/server.yaml").read_text()
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise DataError("emulator/data/server.yaml is not a mapping")
    return loaded


def _within(minor: Version, entry: dict[str, Any]) -> bool:
    start = parse_kube_version(str(entry["from"]))
    until = entry.get("until")
    return start <= minor and (until is None or minor <= parse_kube_version(str(until)))


@functools.cache
def server_facts(minor: Version) -> ServerFacts:
    """The facts of one minor (a patch, if given, is ignored)."""
    minor = minor.minor_version
    data = _data()
    try:
        git = data["git_versions"].get(str(minor), f"v{minor}.0")
        endpoints = data["endpoints"]
        discovery = tuple(
            e["version"] for e in reversed(endpoints["aggregated_discovery"]) if _within(minor, e)
        )
        tables = tuple(e["version"] for e in endpoints["table_versions"] if _within(minor, e))
        messages: dict[str, str] = {}
        for entry in data["name_messages"]:
            if parse_kube_version(str(entry["from"])) <= minor:
                messages.update({k: v for k, v in entry.items() if k != "from"})
        rules = data["name_rules"]
        jobs = [e for e in data["job_labels"] if parse_kube_version(str(e["from"])) <= minor]
        job = jobs[-1] if jobs else data["job_labels"][0]  # older minors are refused elsewhere
        return ServerFacts(
            minor=minor,
            git_version=str(git),
            aggregated_discovery=discovery,
            openapi_v3=parse_kube_version(str(endpoints["openapi_v3_from"])) <= minor,
            table_versions=tables,
            name_rules=dict(rules["by_resource"]),
            default_name_rule=str(rules["default"]),
            custom_resource_name_rule=str(rules["custom_resources"]),
            name_messages=messages,
            self_link=minor <= parse_kube_version(str(data["self_link_until"])),
            root_ca_configmap=parse_kube_version(str(data["root_ca_configmap_from"])) <= minor,
            endpoint_slices=parse_kube_version(str(data["endpoint_slices_from"])) <= minor,
            token_secrets=minor
            <= parse_kube_version(str(data["service_account_token_secrets_until"])),
            endpoint_slice_serving=(
                parse_kube_version(str(data["endpoint_slice_serving_from"])) <= minor
            ),
            job_selector_label=str(job["selector"]),
            job_template_labels=tuple((str(k), str(v)) for k, v in job["template"].items()),
            return_deleted=frozenset(
                str(e["resource"]) for e in data["return_deleted_object"] if _within(minor, e)
            ),
        )
    except (KeyError, TypeError) as err:
        raise DataError(f"emulator/data/server.yaml: missing or malformed entry {err}") from None
