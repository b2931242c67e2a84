"""check_object / prune_unknown_fields / history on real objects and on random ones."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubespark.apisurface import GroupVersionKind, SchemaKind, load_surface
from kubespark.apisurface.check import (
    ProblemKind,
    check_object,
    check_value,
    prune_unknown_fields,
)
from kubespark.apisurface.history import (
    field_history,
    first_version_with,
    introduced_in,
    optional_in,
    removed_in,
    served_in,
)
from kubespark.apisurface.model import ApiSurface, Schema
from kubespark.versions import Version

TRACES = Path("/work/shared/reference/spark-submit-traces")
TRACES = (
    TRACES
    if TRACES.exists()
    else Path(__file__).parents[3] / "shared/reference/spark-submit-traces"
)


def spark_bodies(release: str) -> dict[str, dict[str, Any]]:
    out = {}
    for line in (TRACES / f"spark-{release}.jsonl").read_text().splitlines():
        body = json.loads(line)["body"]
        if isinstance(body, dict) and "kind" in body:
            out[body["kind"]] = body
    return out


@pytest.fixture(scope="module")
def spark351() -> dict[str, dict[str, Any]]:
    return spark_bodies("3.5.1")


def kinds(problems: list[Any]) -> list[tuple[str, ProblemKind]]:
    return [(p.path, p.kind) for p in problems]


def test_spark_351_service_on_1_19_has_unknown_ip_family_fields(spark351: Any) -> None:
    problems = check_object(load_surface("1.19"), spark351["Service"])
    assert kinds(problems) == [
        (".spec.ipFamilies", ProblemKind.UNKNOWN_FIELD),
        (".spec.ipFamilyPolicy", ProblemKind.UNKNOWN_FIELD),
    ]
    first = problems[0]
    assert (first.type_name, first.field) == ("io.k8s.api.core.v1.ServiceSpec", "ipFamilies")
    assert "1.20" in first.fix  # the version that added it
    assert check_object(load_surface("1.20"), spark351["Service"]) == []


def test_spark_351_configmap_and_pod_fit_1_19(spark351: Any) -> None:
    # 1.19's schema has ConfigMap.immutable (since 1.18), so the ConfigMap fits as sent.
    assert check_object(load_surface("1.19"), spark351["ConfigMap"]) == []
    assert check_object(load_surface("1.19"), spark351["Pod"]) == []
    assert kinds(check_object(load_surface("1.17"), spark351["ConfigMap"])) == [
        (".immutable", ProblemKind.UNKNOWN_FIELD)
    ]


def test_prune_drops_what_1_19_does_not_know_and_keeps_the_rest(spark351: Any) -> None:
    service = spark351["Service"]
    before = copy.deepcopy(service)
    pruned, removed = prune_unknown_fields(load_surface("1.19"), service)
    assert removed == [".spec.ipFamilies", ".spec.ipFamilyPolicy"]
    assert service == before  # the input is not modified
    assert (
        "ipFamilies" not in pruned["spec"] and pruned["spec"]["ports"] == service["spec"]["ports"]
    )
    assert pruned["metadata"] is service["metadata"]  # untouched parts are shared
    assert prune_unknown_fields(load_surface("1.21"), service) == (service, [])


def test_wrong_types_missing_required_enums_quantities() -> None:
    # Of the published schemas only 1.23's carry enums (from the `+enum` markers).
    s = load_surface("1.23")
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"a": 1}},
        "spec": {
            "containers": [
                {
                    "image": "x",
                    "ports": [{"containerPort": "80"}],
                    "resources": {"limits": {"cpu": "two"}},
                    "imagePullPolicy": "Sometimes",
                }
            ],
            "restartPolicy": "Never",
        },
    }
    got = kinds(check_object(s, pod))
    assert (".metadata.labels[a]", ProblemKind.WRONG_TYPE) in got
    assert (".spec.containers[0].name", ProblemKind.MISSING_REQUIRED) in got
    assert (".spec.containers[0].ports[0].containerPort", ProblemKind.WRONG_TYPE) in got
    assert (".spec.containers[0].resources.limits[cpu]", ProblemKind.INVALID_VALUE) in got
    assert (".spec.containers[0].imagePullPolicy", ProblemKind.NOT_IN_ENUM) in got
    assert len(got) == 5
    [enum] = [p for p in check_object(s, pod) if p.kind is ProblemKind.NOT_IN_ENUM]
    assert enum.allowed == ("Always", "IfNotPresent", "Never")
    # 1.24's published schema has no enums: the same value is not judged there.
    assert (".spec.containers[0].imagePullPolicy", ProblemKind.NOT_IN_ENUM) not in kinds(
        check_object(load_surface("1.24"), pod)
    )


def test_unknown_api_version_names_the_served_alternative() -> None:
    ingress = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "i"}}
    [problem] = check_object(load_surface("1.22"), ingress)
    assert problem.kind is ProblemKind.UNKNOWN_KIND
    assert "removed in 1.22" in problem.message
    assert "networking.k8s.io/v1" in problem.fix
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}}
    [problem] = check_object(load_surface("1.20"), pdb)
    assert "served from 1.21" in problem.message and "policy/v1beta1" in problem.fix
    assert check_object(load_surface("1.21"), pdb) == []


@pytest.mark.parametrize(
    ("obj", "kind"),
    [
        ([1, 2], ProblemKind.NOT_AN_OBJECT),
        ("text", ProblemKind.NOT_AN_OBJECT),
        ({"kind": "Pod"}, ProblemKind.MISSING_KIND),
        ({"apiVersion": "v1"}, ProblemKind.MISSING_KIND),
        ({"apiVersion": "v1", "kind": "Nope"}, ProblemKind.UNKNOWN_KIND),
    ],
)
def test_bad_objects_get_one_clear_problem(obj: Any, kind: ProblemKind) -> None:
    [problem] = check_object(load_surface("1.25"), obj)
    assert problem.kind is kind and problem.fix


def test_preserve_unknown_and_any_values_are_kept() -> None:
    s = load_surface("1.25")
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "x.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"plural": "xs", "kind": "X"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "default": {"anything": [1, {"goes": True}]},
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    assert check_object(s, crd) == []
    assert prune_unknown_fields(s, crd) == (crd, [])


def test_check_value_of_a_named_type() -> None:
    s = load_surface("1.19")
    problems = check_value(s, "io.k8s.api.core.v1.ServiceSpec", {"ipFamilies": ["IPv4"]})
    assert kinds(problems) == [(".ipFamilies", ProblemKind.UNKNOWN_FIELD)]


# --- history ------------------------------------------------------------------------------------


def test_field_history() -> None:
    h = field_history("io.k8s.api.core.v1.ServiceSpec", "ipFamilies")
    assert h.added_in == Version(1, 20) and h.removed_in is None
    assert not h.in_version(Version(1, 19)) and h.in_version(Version(1, 20, 3))
    old = field_history("io.k8s.api.core.v1.ServiceSpec", "ipFamily")
    assert old.added_in == Version(1, 16) and old.removed_in == Version(1, 20)
    assert field_history("io.k8s.api.core.v1.ServiceSpec", "nonsense").added_in is None


def test_first_version_with_paths() -> None:
    svc = GroupVersionKind("", "v1", "Service")
    assert first_version_with(svc, "spec.ipFamilies") == Version(1, 20)
    assert first_version_with(svc, ".spec.ports.appProtocol") == Version(1, 18)  # alpha
    assert first_version_with("io.k8s.api.core.v1.ConfigMap", "immutable") == Version(1, 18)
    assert first_version_with(svc, "spec.nope") is None


def test_served_and_removed() -> None:
    old = GroupVersionKind("extensions", "v1beta1", "Ingress")
    assert introduced_in(old) == Version(1, 16) and removed_in(old) == Version(1, 22)
    assert served_in(old)[-1] == Version(1, 21)
    assert introduced_in(GroupVersionKind("batch", "v1", "CronJob")) == Version(1, 21)
    assert removed_in(GroupVersionKind("batch", "v1", "CronJob")) is None


# --- properties over the real schemas -----------------------------------------------------------

_SCALARS: dict[SchemaKind, st.SearchStrategy[Any]] = {
    SchemaKind.STRING: st.text(max_size=5),
    SchemaKind.INTEGER: st.integers(-5, 5),
    SchemaKind.NUMBER: st.floats(allow_nan=False, allow_infinity=False),
    SchemaKind.BOOLEAN: st.booleans(),
    SchemaKind.INT_OR_STRING: st.one_of(st.integers(0, 9), st.text(max_size=3)),
    SchemaKind.QUANTITY: st.sampled_from(["1", "500m", "2Gi", 3]),
    SchemaKind.TIME: st.just("2024-01-01T00:00:00Z"),
    SchemaKind.ANY: st.recursive(
        st.none() | st.integers() | st.text(max_size=3),
        lambda c: st.lists(c, max_size=2) | st.dictionaries(st.text(max_size=3), c, max_size=2),
        max_leaves=4,
    ),
}
_JUNK_KEY = st.sampled_from(["bogus", "ipFamilies", "zz", "extra"])


def values(s: ApiSurface, schema: Schema, depth: int) -> st.SearchStrategy[Any]:
    if schema.enum:
        return st.sampled_from(schema.enum)
    if schema.kind is SchemaKind.OBJECT and schema.ref:
        return objects(s, schema.ref, depth)
    if schema.kind in (SchemaKind.ARRAY, SchemaKind.MAP):
        if depth <= 0 or schema.items is None:
            return st.just([] if schema.kind is SchemaKind.ARRAY else {})
        item = values(s, schema.items, depth - 1)
        if schema.kind is SchemaKind.ARRAY:
            return st.lists(item, max_size=2)
        return st.dictionaries(st.text(min_size=1, max_size=3), item, max_size=2)
    return _SCALARS.get(schema.kind, st.none())


def objects(s: ApiSurface, type_name: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    typedef = s.types.get(type_name)
    if typedef is None or depth <= 0:
        return st.just({})
    props = sorted(typedef.properties.items())
    return st.builds(
        lambda chosen, junk: {**dict(chosen), **junk},
        st.lists(
            st.sampled_from(props).flatmap(
                lambda kv: st.tuples(st.just(kv[0]), values(s, kv[1], depth - 1))
            ),
            max_size=4,
        )
        if props
        else st.just([]),
        st.dictionaries(
            _JUNK_KEY.filter(lambda k: k not in typedef.properties), st.integers(), max_size=1
        ),
    )


KINDS = [
    ("1.19", "v1", "Service"),
    ("1.19", "v1", "Pod"),
    ("1.22", "apps/v1", "Deployment"),
    ("1.37", "v1", "ConfigMap"),
    ("1.16", "networking.k8s.io/v1beta1", "Ingress"),
]


@st.composite
def random_objects(draw: st.DrawFn) -> tuple[ApiSurface, dict[str, Any]]:
    version, api_version, kind = draw(st.sampled_from(KINDS))
    s = load_surface(version)
    resource = s.resource(api_version, kind)
    assert resource is not None
    body = draw(objects(s, resource.type_name, 4))
    return s, {**body, "apiVersion": api_version, "kind": kind}


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(random_objects())
def test_prune_is_idempotent_and_leaves_no_unknown_fields(case: Any) -> None:
    surface, obj = case
    before = copy.deepcopy(obj)
    pruned, removed = prune_unknown_fields(surface, obj)
    assert obj == before
    unknown = [p.path for p in check_object(surface, obj) if p.kind is ProblemKind.UNKNOWN_FIELD]
    assert removed == unknown  # prune removes exactly what check reports, in the same order
    assert not [p for p in check_object(surface, pruned) if p.kind is ProblemKind.UNKNOWN_FIELD]
    assert prune_unknown_fields(surface, pruned) == (pruned, [])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(random_objects())
def test_pruning_for_an_older_version_keeps_what_it_knows(case: Any) -> None:
    _, obj = case
    old = load_surface("1.16")
    if old.resource(obj["apiVersion"], obj["kind"]) is None:
        return
    pruned, _ = prune_unknown_fields(old, obj)
    # Whatever 1.16 knows of the object survives unchanged at the top level.
    resource = old.resource(obj["apiVersion"], obj["kind"])
    assert resource is not None
    known = old.type_of(resource).properties
    assert set(pruned) == {k for k in obj if k in known}


def test_an_optional_api_names_runtime_config() -> None:
    cron = {"apiVersion": "batch/v2alpha1", "kind": "CronJob", "metadata": {"name": "c"}}
    [problem] = check_object(load_surface("1.19"), cron)
    assert problem.kind is ProblemKind.UNKNOWN_KIND
    assert "alpha, off by default" in problem.message
    assert "batch/v1beta1" in problem.fix and "--runtime-config" in problem.fix
    review = {"apiVersion": "authentication.k8s.io/v1beta1", "kind": "SelfSubjectReview"}
    [problem] = check_object(load_surface("1.27"), review)
    assert "beta, off by default" in problem.message
    assert "authentication.k8s.io/v1alpha1" not in problem.fix  # alpha is no alternative
    assert optional_in(GroupVersionKind("batch", "v2alpha1", "CronJob"))[0] == Version(1, 16)
