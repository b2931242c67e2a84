"""What creates, updates and non-apply patches record in managedFields (Update operations).

From the field manager's source (managedfieldsupdater.go, skipnonapplied.go, capmanagers.go,
stripmeta.go, create.go ``managerOrUserAgent``) and the "Server-Side Apply" documentation
("Field management": every write is recorded; the manager defaults to the user agent).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from kubespark.apisurface import ApiSurface, load_surface
from kubespark.patch import PatchTarget, apply_patch, manager_from_user_agent, record_update

Target = Callable[..., PatchTarget]


def _service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"ports": [{"port": 80, "protocol": "TCP"}], "selector": {"app": "web"}},
    }


def _created(surface: ApiSurface, target: Target, now: datetime, manager: str) -> dict[str, Any]:
    body = _service()
    stored = {**body, "metadata": {**body["metadata"], "uid": "u1"}}
    return record_update(
        surface, target(surface, body), None, stored, now=now, field_manager=manager
    )


@pytest.mark.parametrize(
    ("user_agent", "manager"),
    [
        ("kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl"),
        ("Go-http-client/1.1", "Go-http-client"),
        ("OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"),
        ("fabric8-kubernetes-client/6.7.2", "fabric8-kubernetes-client"),
        ("spark\x07-operator/2.1", "spark-operator"),
        ("x" * 200, "x" * 128),
    ],
)
def test_manager_defaults_to_the_user_agent_product(user_agent: str, manager: str) -> None:
    assert manager_from_user_agent("", user_agent) == manager
    assert manager_from_user_agent("kubectl-edit", user_agent) == "kubectl-edit"


def test_a_create_is_recorded_as_an_update_of_its_manager(target: Target, now: datetime) -> None:
    surface = load_surface("1.21")
    body = _service()
    stored = record_update(
        surface,
        target(surface, body),
        None,
        body,
        now=now,
        user_agent="kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9",
    )
    [entry] = stored["metadata"]["managedFields"]
    assert entry == {
        "manager": "kubectl",
        "operation": "Update",
        "apiVersion": "v1",
        "time": "2026-11-27T06:06:09Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:ports": {
                    ".": {},
                    'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}, "f:protocol": {}},
                },
                "f:selector": {".": {}, "f:app": {}},
            },
        },
    }


def test_an_update_moves_changed_fields_and_drops_removed_ones(
    target: Target, now: datetime
) -> None:
    surface = load_surface("1.21")
    live = _created(surface, target, now, "creator")
    new = json.loads(json.dumps(live))
    new["metadata"]["labels"] = {"app": "web", "tier": "front"}
    new["spec"]["selector"] = {"app": "web2"}
    del new["spec"]["ports"]
    later = now + timedelta(minutes=1)
    stored = record_update(
        surface, target(surface, new), live, new, now=later, field_manager="editor"
    )
    entries = {e["manager"]: e for e in stored["metadata"]["managedFields"]}
    assert entries["editor"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:tier": {}}},
        "f:spec": {"f:selector": {"f:app": {}}},
    }
    assert entries["editor"]["time"] == "2026-11-27T06:07:09Z"
    assert entries["creator"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        # Still owns the selector map itself; a member without children prints as {}.
        "f:spec": {"f:selector": {}},
    }
    assert entries["creator"]["time"] == "2026-11-27T06:06:09Z"


def test_a_write_that_changes_nothing_leaves_managed_fields_alone(
    target: Target, now: datetime
) -> None:
    surface = load_surface("1.21")
    live = _created(surface, target, now, "creator")
    again = record_update(
        surface,
        target(surface, live),
        live,
        json.loads(json.dumps(live)),
        now=now + timedelta(hours=1),
        field_manager="editor",
    )
    assert again["metadata"]["managedFields"] == live["metadata"]["managedFields"]


def test_an_object_nobody_tracks_stays_untracked_until_applied(
    target: Target, now: datetime
) -> None:
    surface = load_surface("1.21")
    legacy = {**_service(), "metadata": {**_service()["metadata"], "uid": "u1"}}
    changed = json.loads(json.dumps(legacy))
    changed["spec"]["selector"] = {"app": "other"}
    stored = record_update(
        surface, target(surface, legacy), legacy, changed, now=now, field_manager="editor"
    )
    assert "managedFields" not in stored["metadata"]


def test_a_client_may_reset_managed_fields(target: Target, now: datetime) -> None:
    surface = load_surface("1.21")
    live = _created(surface, target, now, "creator")
    reset = json.loads(json.dumps(live))
    reset["metadata"]["managedFields"] = []
    stored = record_update(
        surface, target(surface, live), live, reset, now=now, field_manager="editor"
    )
    assert "managedFields" not in stored["metadata"]


def test_more_than_ten_updaters_merge_into_ancient_changes(target: Target, now: datetime) -> None:
    surface = load_surface("1.21")
    live = _created(surface, target, now, "manager-00")
    for i in range(1, 12):
        new = json.loads(json.dumps(live))
        new["metadata"]["labels"][f"l{i}"] = "x"
        live = record_update(
            surface,
            target(surface, live),
            live,
            new,
            now=now + timedelta(seconds=i),
            field_manager=f"manager-{i:02d}",
        )
    managers = [e["manager"] for e in live["metadata"]["managedFields"]]
    assert len(managers) == 10
    assert "ancient-changes" in managers
    assert "manager-00" not in managers and "manager-11" in managers
    ancient = next(
        e for e in live["metadata"]["managedFields"] if e["manager"] == "ancient-changes"
    )
    # The oldest two updaters' fields are in the bucket, with the newer one's time.
    assert ancient["fieldsV1"]["f:metadata"]["f:labels"].keys() >= {"f:app", "f:l1"}


def test_a_non_apply_patch_records_its_manager(target: Target, now: datetime) -> None:
    surface = load_surface("1.21")
    live = _created(surface, target, now, "creator")
    result = apply_patch(
        surface,
        target(surface, live),
        live,
        json.dumps({"metadata": {"labels": {"edited": "yes"}}}),
        content_type="application/merge-patch+json",
        user_agent="kubectl/v1.32.0",
        field_manager="kubectl-edit",
        now=now,
    )
    entries = {e["manager"]: e for e in result.object["metadata"]["managedFields"]}
    assert entries["kubectl-edit"]["fieldsV1"] == {"f:metadata": {"f:labels": {"f:edited": {}}}}
    assert result.changed and not result.created
