"""The chart's RBAC, verb by resource, is what docs/security.md says, and no more than that.

The chart is rendered with Helm's own engine (deploy/render.py) with its default values; every
rule is compared with the documented table, so a grant added to the chart without a reason in
the docs (or the other way round) fails here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("deploy_render_rbac", ROOT / "deploy" / "render.py")
assert _spec is not None and _spec.loader is not None
render_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render_module)

Grant = tuple[str, str, str, frozenset[str]]  # role, API group, resource, verbs
_NEVER = {"*", "escalate", "bind", "impersonate"}


def chart_grants(values: dict[str, Any] | None = None) -> set[Grant]:
    out: set[Grant] = set()
    # The CRDs hold no roles: leaving them out skips most of the rendering's YAML.
    for doc in render_module.render(values or {}, include_crds=False):
        if doc["kind"] not in ("ClusterRole", "Role"):
            continue
        role = f"{doc['kind']} {doc['metadata']['name']}"
        for rule in doc["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    out.add((role, group or "core", resource, frozenset(rule["verbs"])))
    return out


def documented_grants() -> set[Grant]:
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("## The chart's RBAC, verb by resource", 1)[1]
    out: set[Grant] = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith(("ClusterRole ", "Role ")):
            continue
        role, groups, resources, verbs, _why = cells
        for group in groups.split(", "):
            for resource in resources.split(", "):
                out.add((role, group, resource, frozenset(verbs.split(", "))))
    return out


def documented_optional_grants() -> dict[str, set[Grant]]:
    """The second table: grants behind a value (its dotted path), by value."""
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("## The chart's RBAC, verb by resource", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[Grant]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[1].startswith(("ClusterRole ", "Role ")):
            continue
        value, role, groups, resources, verbs, _why = cells
        for group in groups.split(", "):
            for resource in resources.split(", "):
                grant = (role, group, resource, frozenset(verbs.split(", ")))
                out.setdefault(value, set()).add(grant)
    return out


def _turned_on(path: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    node = values
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = True
    return values


OPTIONAL = ["controller.driverPodDisruptionBudget.enable", "controller.batchScheduler.enable"]


@pytest.mark.parametrize("value", OPTIONAL)
def test_a_value_adds_exactly_its_documented_grants(value: str) -> None:
    documented = documented_optional_grants()
    assert set(documented) == set(OPTIONAL), "the optional-grants table and the test disagree"
    added = chart_grants(_turned_on(value)) - chart_grants()
    assert added == documented[value]


def test_optional_grants_follow_the_job_namespaces() -> None:
    values = _turned_on("controller.batchScheduler.enable")
    values["spark"] = {"jobNamespaces": ["team-a"]}
    roles = {g[0] for g in chart_grants(values) if g[2] == "podgroups"}
    assert roles == {"Role kubespark-operator"}  # in the job namespace's Role, not cluster-wide


def test_the_chart_grants_exactly_what_the_docs_list() -> None:
    documented = documented_grants()
    assert documented, "docs/security.md lost its RBAC table"
    granted = chart_grants()
    assert granted - documented == set(), "granted but not documented"
    assert documented - granted == set(), "documented but not granted"


def test_no_grant_reaches_secrets_or_escalation() -> None:
    for role, _group, resource, verbs in chart_grants():
        assert resource != "secrets" and "*" not in resource, (role, resource)
        assert not verbs & _NEVER, (role, resource, verbs)
