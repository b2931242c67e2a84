"""Bad names, label values and strategic-merge-patch directives, as real clients see them.

The installed kubectl and the official ``kubernetes`` Python client talk to emulated 1.19 and
1.30 servers; the answers are the API server's: a 422 Invalid Status whose causes carry the
field path and ``Invalid value: "...": <apimachinery's message>`` (the name wording changed in
1.20), and for ``$patch``/``$retainKeys``/``$setElementOrder`` the status code and text the
patch handler gives each ``mergepatch`` error (400, 422 or 500).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kubespark.emulator.testing import RunningEmulator

KUBECTL = shutil.which("kubectl")
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
SUBDOMAIN = {
    "1.19": "a DNS-1123 subdomain must consist of lower case alphanumeric characters",
    "1.30": "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
}
SMP = "application/strategic-merge-patch+json"


Served = tuple[RunningEmulator, client.CoreV1Api, str]


@pytest.fixture(params=["1.19", "1.30"])
def served(
    request: pytest.FixtureRequest, emulator_factory: Callable[..., RunningEmulator]
) -> Iterator[Served]:
    emu = emulator_factory(version=request.param)
    api_client = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        yield emu, client.CoreV1Api(api_client), request.param
    finally:
        api_client.close()


def _refused(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def _configmap(name: str = "cm", **labels: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels or None))


def _pod(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(
        "default",
        client.V1Pod(
            metadata=client.V1ObjectMeta(name="p", labels={"app": "x"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]),
        ),
    )


# ---- the official client ----------------------------------------------------------------------


def test_a_bad_label_value_is_a_422_with_the_field_and_apimachinery_message(
    served: Served,
) -> None:
    _, core, _ = served
    code, status = _refused(
        lambda: core.create_namespaced_config_map("default", _configmap(k="bad value!"))
    )
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        f'ConfigMap "cm" is invalid: metadata.labels: Invalid value: "bad value!": {LABEL_VALUE}'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": f'Invalid value: "bad value!": {LABEL_VALUE}',
            "field": "metadata.labels",
        }
    ]


def test_every_bad_label_is_its_own_cause(
    served: Served,
) -> None:
    _, core, _ = served
    long_value = "v" * 64
    code, status = _refused(
        lambda: core.create_namespaced_config_map(
            "default", _configmap(a="-starts-badly", b=long_value)
        )
    )
    assert code == 422
    messages = sorted(c["message"] for c in status["details"]["causes"])
    assert messages == sorted(
        [
            f'Invalid value: "-starts-badly": {LABEL_VALUE}',
            f'Invalid value: "{long_value}": must be no more than 63 characters',
        ]
    )
    assert {c["field"] for c in status["details"]["causes"]} == {"metadata.labels"}
    assert status["message"].startswith('ConfigMap "cm" is invalid: [metadata.labels: ')
    # Values that fit the rule pass: empty, 63 characters, dots, dashes and underscores inside.
    core.create_namespaced_config_map("default", _configmap(a="", b="v" * 63, c="A.b-c_9"))


def test_names_follow_their_kind_and_the_versions_wording(
    served: Served,
) -> None:
    _, core, version = served
    code, status = _refused(
        lambda: core.create_namespaced_config_map("default", _configmap("Bad_Name"))
    )
    assert code == 422
    [cause] = status["details"]["causes"]
    assert cause["field"] == "metadata.name"
    assert cause["message"].startswith(f'Invalid value: "Bad_Name": {SUBDOMAIN[version]}')
    # Services: a DNS-1035 label (a leading digit is refused, dots too), same in every version.
    for name in ("1svc", "a.b"):
        service = client.V1Service(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]),
        )
        code, status = _refused(lambda s=service: core.create_namespaced_service("default", s))
        assert code == 422
        assert "a DNS-1035 label must consist of" in status["details"]["causes"][0]["message"]
    # generateName: the prefix, checked with its trailing '-' cut, named as generateName.
    prefixed = client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="UPPER-"))
    code, status = _refused(lambda: core.create_namespaced_config_map("default", prefixed))
    assert code == 422
    # Both fields fail: the prefix (its trailing '-' masked), and the name generated from it.
    generate, named = status["details"]["causes"]
    assert generate["field"] == "metadata.generateName"
    assert generate["message"].startswith('Invalid value: "UPPER-": ')
    assert named["field"] == "metadata.name" and named["message"].startswith(
        'Invalid value: "UPPER'
    )
    assert '" is invalid: [metadata.generateName: Invalid value: "UPPER-": ' in status["message"]
    ok = core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(generate_name="fine-"))
    )
    assert ok.metadata.name.startswith("fine-") and len(ok.metadata.name) == len("fine-") + 5


@pytest.mark.parametrize(
    ("patch", "code", "reason", "message"),
    [
        (
            {"metadata": {"labels": {"$patch": "merge"}}},
            500,
            "",
            "unknown patch type: merge in map: map[$patch:merge]",
        ),
        (
            {"metadata": {"labels": {"$patch": 5}}},
            500,
            "",
            "unknown patch type: %!s(int64=5) in map: map[$patch:5]",
        ),
        (
            {"spec": {"containers": [{"name": "c", "$patch": "merge"}]}},
            500,
            "",
            "merging lists cannot yet be specified in the patch",
        ),
        (
            {"spec": {"containers": [{"name": "c", "$patch": "bogus"}]}},
            500,
            "",
            "unknown patch type: bogus in map: map[$patch:bogus name:c]",
        ),
        ({"spec": {"$retainKeys": "x"}}, 400, "BadRequest", "invalid patch format of retainKeys"),
        (
            {"spec": {"$retainKeys": ["containers"], "dnsPolicy": "None"}},
            400,
            "BadRequest",
            "invalid patch format of retainKeys",
        ),
        (
            {"metadata": {"$setElementOrder/finalizers": "x"}},
            500,
            "",
            "expected a []interface {}, but received a string",
        ),
        (
            {"spec": {"containers": [{"image": "no-name"}]}},
            500,
            "",
            "map: map[image:no-name] does not contain declared merge key: name",
        ),
    ],
)
def test_patch_directive_errors_are_answered_as_the_patch_handler_does(
    served: Served,
    patch: dict[str, Any],
    code: int,
    reason: str,
    message: str,
) -> None:
    _, core, _ = served
    _pod(core)
    got, status = _refused(
        lambda: core.patch_namespaced_pod("p", "default", patch, _content_type=SMP)
    )
    assert got == code and status["code"] == code
    assert status.get("reason", "") == reason
    assert status["message"] == message
    # The object is untouched, and a good directive still works.
    kept = core.patch_namespaced_pod(
        "p", "default", {"metadata": {"labels": {"$patch": "replace", "b": "c"}}}, _content_type=SMP
    )
    assert kept.metadata.labels == {"b": "c"}


# ---- kubectl ----------------------------------------------------------------------------------


def _kubectl(
    emu: RunningEmulator, tmp: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    cmd = [KUBECTL, "--kubeconfig", str(emu.kubeconfig_path), "--cache-dir", str(tmp), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60, check=False)


def _manifest(name: str, label: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{k: '{label}'}}\n"
    )


def test_kubectl_shows_the_servers_invalid_label_and_name_messages(
    served: Served, tmp_path: Path
) -> None:
    emu, _, version = served
    labelled = _kubectl(emu, tmp_path, "create", "-f", "-", stdin=_manifest("cm", "bad_"))
    assert labelled.returncode == 1
    assert labelled.stderr.strip() == (
        f'The ConfigMap "cm" is invalid: metadata.labels: Invalid value: "bad_": {LABEL_VALUE}'
    )
    named = _kubectl(emu, tmp_path, "create", "-f", "-", stdin=_manifest("Bad_Name", "ok"))
    assert named.returncode == 1
    assert named.stderr.startswith(
        'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        f"{SUBDOMAIN[version]}"
    ), named.stderr
    fine = _kubectl(emu, tmp_path, "create", "-f", "-", stdin=_manifest("fine", "A.b-c_9"))
    assert fine.returncode == 0, fine.stderr


def test_kubectl_patch_shows_the_directive_errors(served: Served, tmp_path: Path) -> None:
    emu, core, _ = served
    _pod(core)
    bogus = _kubectl(
        emu, tmp_path, "patch", "pod", "p", "--type", "strategic", "-p",
        '{"metadata":{"labels":{"$patch":"bogus"}}}',
    )  # fmt: skip
    assert bogus.returncode == 1
    assert bogus.stderr.strip() == (
        "Error from server: unknown patch type: bogus in map: map[$patch:bogus]"
    )
    retain = _kubectl(
        emu, tmp_path, "patch", "pod", "p", "--type", "strategic", "-p",
        '{"spec":{"$retainKeys":"all"}}',
    )  # fmt: skip
    assert retain.returncode == 1
    assert retain.stderr.strip() == (
        "Error from server (BadRequest): invalid patch format of retainKeys"
    )
    good = _kubectl(
        emu, tmp_path, "patch", "pod", "p", "--type", "strategic", "-p",
        '{"metadata":{"labels":{"$patch":"replace","x":"y"}}}', "-o", "json",
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["metadata"]["labels"] == {"x": "y"}
