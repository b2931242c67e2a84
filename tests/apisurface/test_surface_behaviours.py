"""Behaviours schemas do not show: apply, key defaults, field validation, error wording."""

from __future__ import annotations

import pytest

from kubespark.apisurface import FieldValidation, GroupVersionKind, load_surface

SERVICE = GroupVersionKind("", "v1", "Service")
SVC_PORTS = ("io.k8s.api.core.v1.ServiceSpec", "ports")
CTR_PORTS = ("io.k8s.api.core.v1.Container", "ports")


@pytest.mark.parametrize(
    ("version", "stage"), [("1.16", "beta"), ("1.21.14", "beta"), ("1.22", "ga"), ("1.37", "ga")]
)
def test_server_side_apply_is_on_from_1_16(version: str, stage: str) -> None:
    b = load_surface(version).behaviours
    assert b.server_side_apply
    assert b.server_side_apply_stage == stage


@pytest.mark.parametrize(
    ("version", "service", "container"),
    [
        ("1.19", False, False),
        ("1.19.16", False, False),  # the 1.19 cherry-pick dropped the default (PR 100713)
        ("1.20", False, True),  # a bare minor is its .0 patch
        ("1.20.5", False, True),
        ("1.20.6", True, True),  # backport PR 100714
        ("v1.20.15-eks-abc", True, True),
        ("1.21", True, True),
        ("1.37", True, True),
    ],
)
def test_protocol_defaults_for_apply(version: str, service: bool, container: bool) -> None:
    b = load_surface(version).behaviours
    assert (SVC_PORTS in b.apply_key_defaults) is service
    assert (CTR_PORTS in b.apply_key_defaults) is container
    if service:
        assert b.apply_key_defaults[SVC_PORTS] == {"protocol": "TCP"}
        assert b.key_defaults_by_element["io.k8s.api.core.v1.ServicePort"] == {"protocol": "TCP"}
    # every source is the entry's text, never a leaked "source:" key
    assert all(s and not s.startswith("source") for s in b.sources)


def test_patch_shapes_behaviours_but_not_types() -> None:
    early, late = load_surface("1.20.5"), load_surface("1.20.6")
    assert early.types is late.types
    assert early.behaviours != late.behaviours
    assert late.server_version is not None and str(late.server_version) == "1.20.6"


@pytest.mark.parametrize(
    ("version", "modes", "default"),
    [
        ("1.19", FieldValidation.NONE, "Ignore"),
        ("1.23", FieldValidation.NONE, "Ignore"),  # alpha, gate off by default
        ("1.25", FieldValidation.IGNORE_WARN_STRICT, "Warn"),
        ("1.27", FieldValidation.IGNORE_WARN_STRICT, "Warn"),
    ],
)
def test_field_validation(version: str, modes: FieldValidation, default: str) -> None:
    b = load_surface(version).behaviours
    assert (b.field_validation, b.default_field_validation) == (modes, default)


def test_typed_patch_error_on_1_18_matches_spark_operator_2048() -> None:
    # kubeflow/spark-operator#2048, Kubernetes 1.18.6, Spark 3.5 driver Service.
    fmt = load_surface("1.18.6").behaviours.typed_patch_error
    errors = [
        fmt.omitted_key_error(".spec.ports", 0, "protocol", ("port", "protocol")),
        fmt.unknown_field_error(".spec.ipFamilies"),
    ]
    assert fmt.render(errors, gvk=SERVICE, name="x-driver-svc") == (
        "failed to create typed patch object: errors:\n"
        "  .spec.ports: element 0: associative list with keys has an element that omits key "
        'field "protocol"\n'
        "  .spec.ipFamilies: field not declared in schema"
    )
    assert fmt.http_status == 500


def test_typed_patch_error_on_1_17_0_matches_spark_operator_2051() -> None:
    fmt = load_surface("1.17.0").behaviours.typed_patch_error
    assert fmt.unknown_field_error(".spec.ipFamilies") == (
        ".spec.ipFamilies",
        "schema error: invalid atom: inlined",
    )
    assert load_surface("1.17.5").behaviours.typed_patch_error.unknown_field == (
        "field not declared in schema"
    )


def test_typed_patch_error_names_the_object_from_1_23() -> None:
    assert "(" not in load_surface("1.22.17").behaviours.typed_patch_error.prefix
    fmt = load_surface("1.23").behaviours.typed_patch_error
    msg = fmt.render([fmt.unknown_field_error(".spec.x")], gvk=SERVICE, name="NAME")
    assert msg == (
        "failed to create typed patch object (/NAME; /v1, Kind=Service): "
        ".spec.x: field not declared in schema"
    )


def test_omitted_key_wording_by_version() -> None:
    def text(version: str) -> str:
        fmt = load_surface(version).behaviours.typed_patch_error
        return fmt.omitted_key_error(".spec.ports", 1, "protocol", ("port", "protocol"))[1]

    assert text("1.19.9").endswith('omits key field "protocol"')
    assert text("1.19.10").endswith("(and doesn't have default value)")
    assert text("1.20").endswith("(and doesn't have default value)")
    assert not load_surface("1.33").behaviours.typed_patch_error.optional_keys
    newest = load_surface("1.34").behaviours.typed_patch_error
    assert newest.optional_keys
    assert text("1.34") == (
        "element 1: associative list with keys has an element that omits all key fields "
        '["port" "protocol"] (and doesn\'t have default values for any key fields)'
    )


def test_field_validation_messages_from_1_25() -> None:
    assert load_surface("1.24").behaviours.field_validation_format is None
    fmt = load_surface("1.27").behaviours.field_validation_format
    assert fmt is not None and fmt.http_status == 400
    assert fmt.strict_message("Service", "v1", [".spec.ipFamilies", ".spec.foo"]) == (
        'Service in version "v1" cannot be handled as a Service: strict decoding error: '
        'unknown field "spec.ipFamilies", unknown field "spec.foo"'
    )
    assert fmt.warnings([".spec.foo"]) == ('unknown field "spec.foo"',)


@pytest.mark.parametrize(
    ("version", "walk", "values", "resets"),
    [
        ("1.16.0", "collect-all", "smd-v1-invalid-atom", False),
        ("1.17.5", "collect-all", "smd-v1", False),
        ("1.18.6", "stop-at-first", "smd-v3", False),
        ("1.20.5", "stop-at-first", "smd-v3", False),
        ("1.20.6", "stop-at-first", "smd-v4", False),
        ("1.21", "stop-at-first", "smd-v4", True),
        ("1.29", "stop-at-first", "smd-v4.4", True),
    ],
)
def test_typing_walk_value_style_and_status_reset(
    version: str, walk: str, values: str, resets: bool
) -> None:
    b = load_surface(version).behaviours
    assert (b.typed_patch_error.walk, b.typed_patch_error.value_style) == (walk, values)
    assert b.apply_resets_status is resets


def test_every_known_patch_has_exactly_one_entry_per_behaviour() -> None:
    # behaviours_for raises DataError when entries overlap or leave a gap; probe every
    # boundary patch the data names and the .0 and a late patch of every minor.
    for minor in range(16, 38):
        for patch in (None, 0, 4, 5, 6, 7, 9, 10, 30):
            load_surface(f"1.{minor}" if patch is None else f"1.{minor}.{patch}")
