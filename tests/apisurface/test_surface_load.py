"""The bundled API surface: facts re-derived from the generator's sources, loading, budgets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import kubespark.apisurface as aps
from kubespark.apisurface import GroupVersionKind, ListType, SchemaKind, load_surface
from kubespark.errors import InputError
from kubespark.versions import Version

DATA = Path(aps.__file__).parent / "data"
CORE = "io.k8s.api.core.v1."


def props(version: str, type_name: str) -> set[str]:
    return set(load_surface(version).types[type_name].properties)


def served(version: str, api_version: str, kind: str) -> bool:
    return load_surface(version).resource(api_version, kind) is not None


def test_known_versions_span_1_16_to_the_newest_published() -> None:
    versions = aps.known_versions()
    assert versions[0] == Version(1, 16)
    assert versions == tuple(Version(1, m) for m in range(16, versions[-1].minor + 1))
    # The newest minor is the newest whose schemas kubernetes-validate publishes; the manifest
    # records which release that came from.
    newest = aps.newest_version()
    minor = aps.manifest()["minors"][str(newest)]
    assert minor["definitions"]["file"].endswith(f"/v{newest}.0-local/_definitions.json")
    assert newest >= Version(1, 37)


def test_manifest_names_every_package_and_file_read() -> None:
    man = aps.manifest()
    names = {(p["name"], p["version"]) for p in man["packages"]}
    assert names == {("kubernetes-validate", "1.24.1"), ("kubernetes-validate", "1.37.0")}
    assert all(len(p["sha256"]) == 64 for p in man["packages"])
    for minor, entry in man["minors"].items():
        assert entry["definitions"]["package"].startswith("kubernetes-validate==")
        lk = entry["resources"]["package"]
        assert lk.startswith(f"lightkube-models=={minor}."), lk
        assert len(entry["resources"]["sha256"]) == 64


def test_service_ports_are_a_map_keyed_by_port_and_protocol_on_1_19() -> None:
    ports = load_surface("1.19").types[CORE + "ServiceSpec"].properties["ports"]
    assert ports.kind is SchemaKind.ARRAY
    assert ports.list_type is ListType.MAP
    assert ports.list_map_keys == ("port", "protocol")
    assert (ports.patch_strategy, ports.patch_merge_key) == ("merge", "port")
    assert ports.items is not None and ports.items.ref == CORE + "ServicePort"


def test_ip_families_arrive_in_1_20() -> None:
    assert not {"ipFamilies", "ipFamilyPolicy"} & props("1.19", CORE + "ServiceSpec")
    assert {"ipFamilies", "ipFamilyPolicy"} <= props("1.20", CORE + "ServiceSpec")
    assert "ipFamily" in props("1.19", CORE + "ServiceSpec")  # the alpha field 1.20 replaced


def test_config_map_immutable_arrives_in_1_18() -> None:
    # ConfigMap.immutable (alpha in 1.18, beta 1.19) is in the schema from 1.18 on.
    assert "immutable" not in props("1.17", CORE + "ConfigMap")
    assert "immutable" in props("1.18", CORE + "ConfigMap")
    assert "immutable" in props("1.19", CORE + "ConfigMap")


@pytest.mark.parametrize(
    ("api_version", "kind", "first", "gone"),
    [
        ("policy/v1", "PodDisruptionBudget", "1.21", None),
        ("networking.k8s.io/v1", "Ingress", "1.19", None),
        ("batch/v1", "CronJob", "1.21", None),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "1.16", None),
        ("extensions/v1beta1", "Ingress", "1.16", "1.22"),
        ("batch/v1beta1", "CronJob", "1.16", "1.25"),
        ("policy/v1beta1", "PodDisruptionBudget", "1.16", "1.25"),
    ],
)
def test_group_versions_served(api_version: str, kind: str, first: str, gone: str | None) -> None:
    for version in aps.known_versions():
        expected = version >= Version(*map(int, first.split("."))) and (
            gone is None or version < Version(*map(int, gone.split(".")))
        )
        assert served(str(version), api_version, kind) is expected, (version, api_version, kind)


def test_scope_and_subresources() -> None:
    s = load_surface("1.19")
    pod = s.resource("v1", "Pod")
    node = s.resource("v1", "Node")
    assert pod is not None and node is not None
    assert pod.namespaced and not node.namespaced
    assert pod.scope == "Namespaced" and node.scope == "Cluster"
    assert {"status", "log", "exec", "attach", "portforward", "binding", "eviction"} <= set(
        pod.subresources
    )
    assert pod.plural == "pods" and pod.singular == "pod" and "po" in pod.short_names
    assert pod.type_name == CORE + "Pod"
    eviction = next(d for d in pod.subresource_details if d.name == "eviction")
    assert eviction.gvk == GroupVersionKind("policy", "v1beta1", "Eviction")
    deploy = s.resource("apps/v1", "Deployment")
    assert deploy is not None and "deploy" in deploy.short_names
    scale = next(d for d in deploy.subresource_details if d.name == "scale")
    assert scale.gvk == GroupVersionKind("autoscaling", "v1", "Scale")
    assert {"create", "get", "list", "watch", "patch", "update", "delete"} <= deploy.verbs
    assert "ephemeralcontainers" in load_surface("1.25").resource("v1", "Pod").subresources  # type: ignore[union-attr]


def test_resource_lookup_by_plural_and_served_versions_order() -> None:
    s = load_surface("1.20")
    ing = s.resource_for_plural("networking.k8s.io", "v1", "ingresses")
    assert ing is not None and ing.gvk.kind == "Ingress"
    versions = [r.gvk.version for r in s.served_versions_of("networking.k8s.io", "Ingress")]
    assert versions == ["v1", "v1beta1"]  # GA before beta, as discovery prefers


def test_every_resource_body_type_exists() -> None:
    for version in aps.known_versions():
        s = load_surface(version)
        for r in s.resources:
            assert r.type_name in s.types, (version, r.gvk)
            assert r.gvk in s.type_of(r).gvks


def test_versions_accept_real_spellings_and_reject_unknown() -> None:
    assert load_surface("v1.19.16-eks-25803e").version == Version(1, 19)
    assert load_surface("v1.19.16-eks-25803e").server_version == Version(1, 19, 16)
    assert load_surface(Version(1, 19)) is load_surface("1.19")
    assert load_surface("1.19").types is load_surface("1.19.3").types  # cached per minor
    with pytest.raises(InputError) as err:
        load_surface("1.15")
    assert "1.16" in err.value.message and str(aps.newest_version()) in err.value.message
    assert err.value.fix
    with pytest.raises(InputError):
        load_surface("not-a-version")


def test_identical_types_are_shared_across_versions() -> None:
    a = load_surface("1.30").types["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    b = load_surface("1.31").types["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    assert a is b


def test_load_time_printed() -> None:
    # Measured in a fresh interpreter (nothing cached), printed, not asserted
    # (engineering.md); bench/bench_apisurface.py reports the same with ratios.
    code = (
        "import time, kubespark.apisurface as a\n"
        "for v in ('1.19', str(a.newest_version())):\n"
        "    t = time.perf_counter(); s = a.load_surface(v)\n"
        "    print(f'load_surface({v}): {(time.perf_counter() - t) * 1e3:.1f} ms, '\n"
        "          f'{len(s.types)} types, {len(s.resources)} resources')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    print(out.stdout, end="")
    assert out.stdout.count("load_surface(") == 2


def test_data_size_budget() -> None:
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    print(f"bundled API surface: {total / 1e6:.2f} MB for {len(aps.known_versions())} minors")
    assert total < 15_000_000


def test_types_are_content_addressed() -> None:
    store = json.loads((DATA / "types.json").read_text())
    for minor in aps.known_versions():
        index = json.loads((DATA / "versions" / f"{minor}.json").read_text())["types"]
        for name, h in index.items():
            assert store[h][0] == name


@pytest.mark.parametrize(
    ("version", "api_version", "kind", "served", "optional"),
    [
        ("1.16", "apps/v1beta2", "Deployment", False, True),  # switched off in 1.16
        ("1.17", "extensions/v1beta1", "Deployment", False, True),
        ("1.17", "extensions/v1beta1", "Ingress", True, False),  # stayed on until 1.22
        ("1.19", "batch/v2alpha1", "CronJob", False, True),  # alpha: always off
        ("1.19", "batch/v1beta1", "CronJob", True, False),  # beta from before 1.24: on
        ("1.27", "authentication.k8s.io/v1beta1", "SelfSubjectReview", False, True),  # KEP-3136
        ("1.26", "flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", True, False),  # exception
        ("1.25", "storage.k8s.io/v1beta1", "CSIStorageCapacity", True, False),  # beta of 1.21
    ],
)
def test_default_enablement(
    version: str, api_version: str, kind: str, served: bool, optional: bool
) -> None:
    s = load_surface(version)
    assert (s.resource(api_version, kind) is not None) is served
    found = s.optional_resource(api_version, kind)
    assert (found is not None) is optional
    if found is not None:
        assert found.stability in ("alpha", "beta")


def test_no_alpha_resource_is_served_by_default() -> None:
    for version in aps.known_versions():
        s = load_surface(version)
        assert not [r.gvk for r in s.resources if r.stability == "alpha"]
        assert not {r.gvk for r in s.resources} & {r.gvk for r in s.optional_resources}
