"""Discovery reads the server version and operator images over real HTTP; RBAC limits are notes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.discovery import _is_operator_image, discover


class _Forbidding(BaseHTTPRequestHandler):
    """A 1.22 server whose RBAC forbids listing Deployments cluster-wide."""

    def do_GET(self) -> None:
        if self.path == "/version":
            code, body = 200, {"gitVersion": "v1.22.17+k3s1"}
        elif self.path.startswith("/apis/apps/v1/deployments"):
            code = 403
            body = {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "message": 'deployments.apps is forbidden: User "dev" cannot list resource',
                "reason": "Forbidden",
                "code": 403,
            }
        else:
            code, body = 404, {"kind": "Status", "code": 404}
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forbidding)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    doc = {
        "clusters": [
            {"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}
        ],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    yield path
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


async def test_forbidden_listing_is_a_note_not_a_failure(kubeconfig: Path) -> None:
    async with KubeClient.from_kubeconfig(str(kubeconfig)) as client:
        facts = await discover(client)
    assert str(facts.kubernetes) == "1.22.17" and facts.kubernetes.vendor == "+k3s1"
    assert facts.operator_images == ()
    assert len(facts.notes) == 1 and "forbidden" in facts.notes[0]


def test_wrong_context_is_an_input_error(kubeconfig: Path) -> None:
    with pytest.raises(InputError):
        KubeClient.from_kubeconfig(str(kubeconfig), "no-such-context")


@pytest.mark.parametrize(
    ("image", "is_operator"),
    [
        ("ghcr.io/kubeflow/spark-operator/controller:2.1.0", True),
        ("docker.io/kubeflow/spark-operator:v1beta2-1.6.2-3.5.0", True),
        ("gcr.io/spark-operator/spark-operator:v1beta2-1.3.8-3.1.1", True),
        ("kubeflow/spark-operator@sha256:" + "a" * 64, True),
        ("gcr.io/spark-operator/spark:v3.1.1", False),  # the Spark base image, not the operator
        ("apache/spark:3.5.1", False),
        ("registry:5000/spark-operator-helper:1.0", False),
    ],
)
def test_operator_images_are_recognised_by_repository(image: str, is_operator: bool) -> None:
    assert _is_operator_image(image) is is_operator
