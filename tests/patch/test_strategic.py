"""Strategic merge patch, with strategies and merge keys from the API surface.

Cases from the Kubernetes documentation ("Update API Objects in Place Using kubectl patch":
containers merged by name with the new one first, tolerations replaced, ``$retainKeys`` on a
Deployment strategy) and the strategic merge patch design document (sig-api-machinery
"strategic-merge-patch.md": ``$patch`` replace/delete, ``$deleteFromPrimitiveList``,
``$setElementOrder``), with errors as ``k8s.io/apimachinery/pkg/util/mergepatch`` words them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from kubespark.apisurface import load_surface
from kubespark.kube.errors import BadRequest, InternalError, NotFound
from kubespark.patch import PatchTarget, apply_patch
from kubespark.patch.strategic import SMPError, SmpSchema, strategic_merge

SMP = "application/strategic-merge-patch+json"
DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"


def _schema(version: str = "1.21") -> SmpSchema:
    return SmpSchema.of(load_surface(version).types, DEPLOYMENT)


def _demo() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "patch-demo", "finalizers": ["a", "b", "c"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "30%"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [{"name": "patch-demo-ctr", "image": "nginx"}],
                    "tolerations": [{"effect": "NoSchedule", "key": "dedicated", "value": "a"}],
                },
            },
        },
    }


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return containers


def test_containers_merge_by_name_new_ones_first() -> None:
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}
        }
    }
    result = strategic_merge(_demo(), patch, _schema())
    assert _containers(result) == [
        {"name": "patch-demo-ctr-2", "image": "redis"},
        {"name": "patch-demo-ctr", "image": "nginx"},
    ]


def test_a_container_is_updated_in_place_by_name() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "patch-demo-ctr", "image": "nginx:1.27"}]}
            }
        }
    }
    result = strategic_merge(_demo(), patch, _schema())
    assert _containers(result) == [{"name": "patch-demo-ctr", "image": "nginx:1.27"}]


def test_a_list_without_a_merge_strategy_is_replaced() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]
                }
            }
        }
    }
    result = strategic_merge(_demo(), patch, _schema())
    assert result["spec"]["template"]["spec"]["tolerations"] == [
        {"effect": "NoSchedule", "key": "disktype", "value": "ssd"}
    ]


def test_retain_keys_clears_what_it_does_not_name() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = strategic_merge(_demo(), patch, _schema())
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_must_name_every_patched_key() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}
    with pytest.raises(SMPError) as caught:
        strategic_merge(_demo(), patch, _schema())
    assert (caught.value.code, caught.value.message) == (400, "invalid patch format of retainKeys")


def test_patch_delete_removes_a_list_element_by_key() -> None:
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "patch-demo-ctr", "$patch": "delete"}]}}
        }
    }
    assert _containers(strategic_merge(_demo(), patch, _schema())) == []


def test_patch_replace_replaces_a_list() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "only", "image": "busybox"},
                        {"$patch": "replace"},
                    ]
                }
            }
        }
    }
    assert _containers(strategic_merge(_demo(), patch, _schema())) == [
        {"name": "only", "image": "busybox"}
    ]


def test_patch_replace_replaces_a_map() -> None:
    patch = {"spec": {"selector": {"$patch": "replace", "matchLabels": {"app": "x"}}}}
    result = strategic_merge(_demo(), patch, _schema())
    assert result["spec"]["selector"] == {"matchLabels": {"app": "x"}}


def test_patch_merge_on_a_map_is_refused() -> None:
    with pytest.raises(SMPError) as caught:
        strategic_merge(_demo(), {"spec": {"$patch": "merge"}}, _schema())
    assert caught.value.message == "unknown patch type: merge in map: map[$patch:merge]"


def test_delete_from_primitive_list() -> None:
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}
    result = strategic_merge(_demo(), patch, _schema())
    assert result["metadata"]["finalizers"] == ["a", "c"]


def test_primitive_merge_lists_union_in_patch_then_live_order() -> None:
    patch = {"metadata": {"finalizers": ["d", "a"]}}
    result = strategic_merge(_demo(), patch, _schema())
    assert result["metadata"]["finalizers"] == ["d", "a", "b", "c"]


def test_set_element_order_reorders_a_merged_list() -> None:
    demo = _demo()
    _containers(demo).append({"name": "second", "image": "redis"})
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "second"}, {"name": "patch-demo-ctr"}],
                    "containers": [{"name": "second", "image": "redis:7"}],
                }
            }
        }
    }
    result = strategic_merge(demo, patch, _schema())
    assert [c["name"] for c in _containers(result)] == ["second", "patch-demo-ctr"]
    assert _containers(result)[0]["image"] == "redis:7"


def test_null_deletes_a_field() -> None:
    result = strategic_merge(_demo(), {"spec": {"replicas": None}}, _schema())
    assert "replicas" not in result["spec"]


def test_an_element_without_its_merge_key_is_an_error() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}
    with pytest.raises(SMPError) as caught:
        strategic_merge(_demo(), patch, _schema())
    assert (caught.value.code, caught.value.message) == (
        500,
        "map: map[image:x] does not contain declared merge key: name",
    )


def test_inputs_are_not_modified() -> None:
    demo, patch = (
        _demo(),
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "patch-demo-ctr", "$patch": "delete"}]}
                }
            }
        },
    )
    before = (json.dumps(demo), json.dumps(patch))
    strategic_merge(demo, patch, _schema())
    assert (json.dumps(demo), json.dumps(patch)) == before


def _target() -> PatchTarget:
    surface = load_surface("1.21")
    resource = surface.resource("apps/v1", "Deployment")
    assert resource is not None
    return PatchTarget.for_resource(resource, "patch-demo", "default")


def test_through_the_server_answers(now: datetime) -> None:
    surface = load_surface("1.21")
    live = {**_demo(), "metadata": {**_demo()["metadata"], "namespace": "default", "uid": "u"}}
    live["metadata"]["managedFields"] = [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": "2026-01-01T00:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        }
    ]
    body = json.dumps({"spec": {"replicas": 5}})
    result = apply_patch(
        surface,
        _target(),
        live,
        body,
        content_type=SMP,
        now=now,
        user_agent="kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9",
    )
    assert result.object["spec"]["replicas"] == 5
    managers = {e["manager"]: e for e in result.object["metadata"]["managedFields"]}
    assert managers["kubectl"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "kubectl-create" not in managers  # it owned nothing else
    with pytest.raises(NotFound) as missing:
        apply_patch(surface, _target(), None, body, content_type=SMP, now=now)
    assert missing.value.status.message == 'deployments.apps "patch-demo" not found'
    with pytest.raises(BadRequest) as bad:
        apply_patch(surface, _target(), live, "[1]", content_type=SMP, now=now)
    assert bad.value.status.message == (
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    )
    with pytest.raises(InternalError) as internal:
        apply_patch(
            surface, _target(), live, '{"spec": {"$patch": "merge"}}', content_type=SMP, now=now
        )
    assert internal.value.status.code == 500 and internal.value.status.reason == ""


def test_force_is_refused_for_non_apply_patches(now: datetime) -> None:
    from kubespark.kube.errors import Invalid

    surface = load_surface("1.21")
    with pytest.raises(Invalid) as caught:
        apply_patch(surface, _target(), _demo(), "{}", content_type=SMP, now=now, force=True)
    assert caught.value.status.message == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
        "non-apply patch"
    )
