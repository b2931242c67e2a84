"""Property-based fuzzing (hypothesis): whatever the input, a clean answer and never a crash.

Bounded in time: each property runs a fixed number of examples (``FUZZ`` below) with no
per-example deadline (the machine is shared), and inputs are kept small; the corpus test beside
this one covers the large worst cases. The targets: the bounded loader, the SparkApplication
model and loader, manifest validation, the doctor's readers, the emulator's request handling
(real HTTP) and the proxy's HTTP/1.1 framing (real sockets).
"""

from __future__ import annotations

import asyncio
import io
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubespark import bounded
from kubespark.compat.manifests import read_documents
from kubespark.doctor.engine import Input, examine
from kubespark.emulator.testing import RunningEmulator
from kubespark.errors import InputError
from kubespark.spark import load_application

from .make_corpus import app

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# YAML-ish text: the characters that make YAML's structure, plus a little of everything.
_yaml_chars = st.sampled_from([*"abc01:-[]{}&*!|>'\"#%@`,? \n\t\\", "---\n", "&a ", "*a"])
yaml_text = st.lists(_yaml_chars, max_size=300).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@FUZZ
@given(data=st.binary(max_size=400) | yaml_text.map(str.encode))
def test_the_bounded_loader_answers_or_refuses(data: bytes) -> None:
    try:
        text = bounded.decode(data, "fuzz.yaml")
        list(bounded.load_all(text, "fuzz.yaml"))
    except (InputError, yaml.YAMLError):
        pass


@FUZZ
@given(text=yaml_text)
def test_validation_reads_any_text_as_documents_or_problems(text: str) -> None:
    for item in read_documents(text, "fuzz.yaml"):
        assert item is not None


@FUZZ
@given(value=json_values)
def test_validation_reads_any_json(value: Any) -> None:
    import json

    list(read_documents(json.dumps(value), "fuzz.json", as_json=True))


# A valid application with one field replaced by an arbitrary value.
_PATHS = [
    ("metadata", "name"),
    ("spec", "sparkVersion"),
    ("spec", "image"),
    ("spec", "driver"),
    ("spec", "executor"),
    ("spec", "sparkConf"),
    ("spec", "restartPolicy"),
    ("spec", "type"),
    ("spec",),
    ("metadata",),
]


@FUZZ
@given(path=st.sampled_from(_PATHS), value=json_values)
def test_the_application_loader_answers_or_names_the_problem(
    path: tuple[str, ...], value: Any
) -> None:
    doc = yaml.safe_load(app())
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        load_application(yaml.safe_dump(doc))
    except InputError as err:
        assert err.render().strip()


@FUZZ
@given(lines=st.lists(st.text(max_size=120) | yaml_text, max_size=30))
def test_the_doctor_reads_any_text(lines: list[str]) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    examine([Input("fuzz.log", io.BytesIO(data))])


_METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"])
_PATHS_EMU = st.sampled_from(
    [
        "/api/v1/namespaces/default/configmaps",
        "/api/v1/namespaces/default/configmaps/x",
        "/api/v1/namespaces/default/pods",
        "/apis/apps/v1/namespaces/default/deployments",
        "/api/v1/namespaces/%00/pods",
        "/api/v1/namespaces/../../etc",
        "/_kubespark/faults",
    ]
)
_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/yaml",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/json-patch+json",
        "application/apply-patch+yaml",
        "text/plain",
    ]
)


@pytest.mark.slow
@FUZZ
@given(
    method=_METHODS,
    path=_PATHS_EMU,
    content_type=_CONTENT_TYPES,
    body=st.binary(max_size=300)
    | yaml_text.map(str.encode)
    | json_values.map(repr).map(str.encode),
    query=st.sampled_from(["", "?fieldManager=%ff", "?watch=x", "?limit=-1", "?dryRun=All"]),
)
def test_the_emulator_answers_every_request_without_a_500(
    emulator: RunningEmulator,
    method: str,
    path: str,
    content_type: str,
    body: bytes,
    query: str,
) -> None:
    if path == "/_kubespark/faults" and method != "GET":
        return  # a valid fault would change the emulator under the other examples
    with httpx.Client(base_url=emulator.url, verify=False, timeout=10) as client:
        answer = client.request(
            method, path + query, content=body, headers={"content-type": content_type}
        )
    assert answer.status_code < 500, answer.text


_SMP_KEYS = st.sampled_from(
    [
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$setElementOrder/finalizers",
        "$deleteFromPrimitiveList/finalizers",
        "$setElementOrder",
        "$deleteFromPrimitiveList",
        "$unknown",
        "containers",
        "finalizers",
        "labels",
        "name",
        "image",
    ]
)
_SMP_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from(["delete", "replace", "merge", "c", "x", "a.io/b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_SMP_KEYS, inner, max_size=3),
    max_leaves=12,
)
_SMP_PATCHES = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.dictionaries(_SMP_KEYS, _SMP_VALUES, max_size=3),
        "spec": st.dictionaries(_SMP_KEYS, _SMP_VALUES, max_size=3),
        "$patch": _SMP_VALUES,
    },
)


@pytest.mark.slow
@FUZZ
@given(patch=_SMP_PATCHES)
def test_strategic_merge_patches_get_the_servers_answers_never_the_emulators_crash(
    emulator: RunningEmulator, patch: dict[str, Any]
) -> None:
    """Directive soup on a live Pod: whatever the library refuses is answered as apiserver does
    (400, 422, or a plain 500 with the library's text), never as the emulator failing."""
    pods = "/api/v1/namespaces/default/pods"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "finalizers": ["a.io/b"]},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        client.post(pods, json=pod)  # 409 after the first example: the pod stays
        answer = client.patch(
            f"{pods}/p",
            json=patch,
            headers={"content-type": "application/strategic-merge-patch+json"},
        )
        assert client.get(pods).status_code == 200
    if answer.status_code >= 500:
        status = answer.json()
        assert status["kind"] == "Status" and status["code"] == answer.status_code
        assert not status["message"].startswith("Internal error occurred"), status["message"]


@pytest.mark.slow
@FUZZ
@given(data=st.binary(max_size=600) | yaml_text.map(str.encode))
def test_the_proxy_frames_any_bytes_and_keeps_serving(
    fuzz_proxy: tuple[int, list[str]], data: bytes
) -> None:
    port, errors = fuzz_proxy
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /version HTTP/1.1\r\nHost: localhost\r\n" + data + b"\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        assert client.get("/version").status_code == 200
    assert errors == []


@pytest.fixture(scope="module")
def fuzz_proxy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A proxy in front of an emulator, for the framing fuzz; its error log is collected."""
    import logging

    from kubespark.emulator.testing import _start
    from kubespark.proxy import ProxyOptions, ProxyThread

    running = _start("1.29", {})
    errors: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                errors.append(record.getMessage())

    handler = Collect()
    logging.getLogger("kubespark.proxy").addHandler(handler)
    options = ProxyOptions(
        upstream_kubeconfig=Path(running.kubeconfig_path), listen="127.0.0.1:0", tls=False
    )
    try:
        with ProxyThread.running(options) as proxy:
            yield proxy.port, errors
    finally:
        logging.getLogger("kubespark.proxy").removeHandler(handler)
        running.runner.stop()


def test_asyncio_is_left_clean() -> None:
    # The fuzzers above run event loops in threads; none may leave this thread's loop set.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
