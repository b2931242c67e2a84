"""The client's behaviour where no server is needed: kubeconfig handling and unreachable servers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from kubespark.errors import InputError, UnreachableError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import ConnectionFailed, TemporaryAPIError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kubeconfig(tmp_path: Path, server: str, *, namespace: str | None = None) -> Path:
    context: dict[str, str] = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "secret-token"}}],
        "contexts": [{"name": "ctx", "context": context}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


async def test_unreachable_server_is_one_temporary_error_naming_the_server(tmp_path: Path) -> None:
    server = f"http://127.0.0.1:{_free_port()}"
    async with KubeClient.from_kubeconfig(str(_kubeconfig(tmp_path, server))) as client:
        with pytest.raises(ConnectionFailed) as err:
            await client.version()
    assert isinstance(err.value, TemporaryAPIError)
    assert isinstance(err.value, UnreachableError)
    assert server in err.value.message
    assert err.value.fix is not None


async def test_context_namespace_is_the_default_namespace(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path, "http://127.0.0.1:1", namespace="spark-jobs")
    async with KubeClient.from_kubeconfig(str(path)) as client:
        assert client.namespace == "spark-jobs"
        assert client.server.startswith("http://127.0.0.1:1")


def test_missing_kubeconfig_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(InputError) as err:
        KubeClient.from_kubeconfig(str(missing))
    assert str(missing) in err.value.render()


def test_unknown_context_names_the_context(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path, "http://127.0.0.1:1")
    with pytest.raises(InputError, match="other"):
        KubeClient.from_kubeconfig(str(path), context="other")


def test_malformed_kubeconfig_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("clusters: 3\n")
    with pytest.raises(InputError) as err:
        KubeClient.from_kubeconfig(str(path))
    assert str(path) in err.value.render()


def test_status_wire_body_omits_empty_reason_like_go_omitempty() -> None:
    from kubespark.kube.status import Status

    body = Status.failure(500, "failed to create typed patch object", reason="").to_wire()
    assert "reason" not in body
    assert body["code"] == 500 and body["status"] == "Failure" and body["metadata"] == {}
    assert Status.failure(404, 'pods "x" not found').to_wire()["reason"] == "NotFound"
