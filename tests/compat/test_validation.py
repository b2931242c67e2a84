"""validate_document / run_validation: findings, severities, lines, fixes, custom resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typedef_strategies import kind_objects

from kubespark.apisurface import ProblemKind, check_object, load_surface
from kubespark.compat.applyability import predict_apply
from kubespark.compat.manifests import Document, read_documents
from kubespark.compat.validate_run import EXIT_CLEAN, EXIT_INPUT, EXIT_PROBLEMS, run_validation
from kubespark.compat.validation import Rule, Severity, validate_document
from kubespark.versions import Version


def one(text: str, version: str, **kw: Any) -> Any:
    (doc,) = read_documents(text, "m.yaml")
    assert isinstance(doc, Document)
    return validate_document(load_surface(version), doc, **kw)


def rules(report: Any) -> list[tuple[str, Severity, str, int]]:
    return [(f.rule.id, f.severity, f.path, f.line) for f in report.findings]


def test_the_spark_service_on_1_19(spark351_applied: dict[str, Any]) -> None:
    text = yaml.safe_dump(spark351_applied["Service"], sort_keys=False)
    lines = text.splitlines()
    at = {
        key: lines.index(next(x for x in lines if x.strip().startswith(key))) + 1
        for key in ("ipFamilies:", "ipFamilyPolicy:")
    }
    report = one(text, "1.19")
    assert rules(report) == [
        ("unknown-field", Severity.WARNING, ".spec.ipFamilies", at["ipFamilies:"]),
        ("unknown-field", Severity.WARNING, ".spec.ipFamilyPolicy", at["ipFamilyPolicy:"]),
        ("apply-would-fail", Severity.WARNING, ".spec.ipFamilies", at["ipFamilies:"]),
    ]
    assert [f.added_in for f in report.findings[:2]] == [Version(1, 20), Version(1, 20)]
    apply = report.findings[2].message
    assert "HTTP 500: failed to create typed patch object: errors:" in apply
    assert 'omits key field "protocol"' in apply
    assert (report.errors, report.warnings) == (0, 3)

    strict = one(text, "1.19", strict=True)
    assert {f.severity for f in strict.findings} == {Severity.ERROR}
    assert one(text, "1.21").findings == ()


def test_not_served_api_with_a_lossless_mapping_is_an_error_that_fix_converts() -> None:
    text = """\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: ui
spec:
  backend:
    serviceName: ui
    servicePort: 80
"""
    report = one(text, "1.22", fix=True)
    (finding,) = report.findings
    assert (finding.rule, finding.severity, finding.line) == (
        Rule.API_NOT_SERVED,
        Severity.ERROR,
        1,
    )
    assert "extensions/v1beta1 Ingress (removed in 1.22)" in finding.message
    assert "networking.k8s.io/v1" in finding.fix
    assert report.fixed["apiVersion"] == "networking.k8s.io/v1"
    assert report.fixed["spec"]["defaultBackend"] == {
        "service": {"name": "ui", "port": {"number": 80}}
    }
    assert report.changed


def test_not_served_api_without_mapping_names_the_replacement() -> None:
    report = one(
        "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n",
        "1.19",
        fix=True,
    )
    (finding,) = report.findings
    assert finding.rule is Rule.API_NOT_SERVED
    assert "apps/v1" in finding.fix
    assert report.fixed is None


def test_invalid_values_and_missing_required_fields_are_errors_at_their_lines() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "3"
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
"""
    report = one(text, "1.25")
    assert rules(report) == [
        ("invalid-field", Severity.ERROR, ".spec.replicas", 6),
        ("missing-required", Severity.ERROR, ".spec.selector", 5),
        ("apply-would-fail", Severity.WARNING, ".spec.replicas", 6),  # a string is no number
    ]
    assert "correct the values" in report.findings[2].fix


def test_missing_kind_or_name_is_an_input_error() -> None:
    report = one("apiVersion: v1\nmetadata: {name: x}\n", "1.25")
    assert [f.rule for f in report.findings] == [Rule.INPUT_ERROR]
    assert "kind" in report.findings[0].message
    report = one("apiVersion: v1\nkind: ConfigMap\ndata: {}\n", "1.25")
    assert [(f.rule, f.path) for f in report.findings] == [(Rule.INPUT_ERROR, ".metadata.name")]


def test_apply_that_only_lacks_a_defaulted_key_says_kubespark_fills_it() -> None:
    text = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - port: 80
"""
    report = one(text, "1.20.0", fix=True)
    (finding,) = report.findings
    assert finding.rule is Rule.APPLY_WOULD_FAIL and finding.line == 7  # the element
    assert "set spec.ports[0].protocol" in finding.fix
    assert report.fixed["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]
    assert one(text, "1.20.6").findings == ()


def test_a_run_over_files_counts_and_exits(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    clean = run_validation(load_surface("1.19"), [str(tmp_path)])
    assert (clean.objects, clean.errors, clean.warnings, clean.exit_code) == (1, 0, 0, EXIT_CLEAN)

    (tmp_path / "new.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
        "spec: {ipFamilyPolicy: SingleStack, ports: [{port: 80, protocol: TCP}]}\n"
    )
    warned = run_validation(load_surface("1.19"), [str(tmp_path)])
    assert (warned.warnings, warned.exit_code) == (2, EXIT_CLEAN)  # unknown field + apply
    strict = run_validation(load_surface("1.19"), [str(tmp_path)], strict=True)
    assert (strict.errors, strict.exit_code) == (2, EXIT_PROBLEMS)

    (tmp_path / "bad.yaml").write_text("kind: [\n")
    broken = run_validation(load_surface("1.19"), [str(tmp_path)])
    assert broken.exit_code == EXIT_INPUT
    assert broken.objects == 2, "the other files were still read"


def test_custom_resources_of_crds_in_the_inputs_are_not_unknown_apis(tmp_path: Path) -> None:
    app = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n"
    crd = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""
    (tmp_path / "a-app.yaml").write_text(app)  # read before the CRD that defines it
    alone = run_validation(load_surface("1.25"), [str(tmp_path)])
    assert [f.rule for r in alone.reports for f in r.findings] == [Rule.API_NOT_SERVED]
    (tmp_path / "b-crd.yaml").write_text(crd)
    both = run_validation(load_surface("1.25"), [str(tmp_path)], fix=True)
    assert (both.reports, both.custom_resources, both.exit_code) == ([], 1, EXIT_CLEAN)
    assert [o["kind"] for o in both.fixed[str(tmp_path / "a-app.yaml")]] == ["Widget"]


KINDS = [("v1", "Service"), ("v1", "Pod"), ("apps/v1", "Deployment"), ("v1", "ConfigMap")]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([("1.29", "1.19"), ("1.37", "1.20"), ("1.21", "1.16")]).flatmap(
        lambda pair: st.tuples(
            st.just(pair[1]),
            st.sampled_from(KINDS).flatmap(
                lambda kind: kind_objects(load_surface(pair[0]), *kind, depth=4)
            ),
        )
    )
)
def test_fixed_objects_fit_the_target_for_create_and_apply(
    case: tuple[str, dict[str, Any]],
) -> None:
    version, obj = case
    surface = load_surface(version)
    doc = Document("m.yaml", 1, obj)
    report = validate_document(surface, doc, fix=True)
    fixed = report.fixed
    assert fixed is not None
    assert not [p for p in check_object(surface, fixed) if p.kind is ProblemKind.UNKNOWN_FIELD]
    assert not predict_apply(surface, fixed).fails
    unknown = [f for f in report.findings if f.rule is Rule.UNKNOWN_FIELD]
    assert bool(unknown) == any(
        p.kind is ProblemKind.UNKNOWN_FIELD for p in check_object(surface, obj)
    )
