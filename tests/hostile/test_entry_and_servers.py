"""The exit-code contract at the CLI's entry, and servers that answer HTTP but are not Kubernetes.

The servers are real HTTP servers on 127.0.0.1 (a web page, an empty JSON API, and one that
passes discovery but answers writes with no object: the ``KeyError: 'metadata'`` of issue 12),
driven by the ``kubespark`` script's own entry in-process.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubespark.cli import check as check_command

from .make_corpus import app
from .test_corpus import run

_DISCOVERY: dict[str, Any] = {
    "/version": {"gitVersion": "v1.29.0", "major": "1", "minor": "29"},
    "/api": {"kind": "APIVersions", "versions": ["v1"]},
    "/api/v1": {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": p, "singularName": "", "namespaced": True, "kind": k, "verbs": ["create"]}
            for p, k in (("pods", "Pod"), ("services", "Service"), ("configmaps", "ConfigMap"))
        ],
    },
}


def _handler(kind: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if kind == "html":
                body, content_type = b"<html><body>Sign in</body></html>", "text/html"
            elif kind == "half" and self.command == "GET" and self.path in _DISCOVERY:
                body, content_type = json.dumps(_DISCOVERY[self.path]).encode(), "application/json"
            else:
                body, content_type = b"{}", "application/json"
            # The client may hang up once it knows enough: a broken pipe here would print the
            # server thread's traceback into the captured stderr the test judges.
            with contextlib.suppress(OSError):
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serving(kind: str, tmp_path: Path) -> Iterator[Path]:
    """A kubeconfig whose server is a non-Kubernetes HTTP server of ``kind``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(kind))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    kubeconfig = tmp_path / f"{kind}.yaml"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {"token": "kubespark-test-token-0123456789"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    try:
        yield kubeconfig
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("kind", ["html", "empty", "half"])
def test_a_server_that_is_not_kubernetes_is_named_as_such(kind: str, tmp_path: Path) -> None:
    application = tmp_path / "app.yaml"
    application.write_text(app())
    with serving(kind, tmp_path) as kubeconfig:
        outcome = run("submit", str(application), "--kubeconfig", str(kubeconfig))
    assert outcome.code == 2, outcome
    assert "is not a Kubernetes API server" in outcome.err, outcome.err
    assert outcome.problems("app.yaml", named=False) == []


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom while holding Authorization: Bearer kubespark-test-token-0123456789")


def test_an_internal_error_is_one_redacted_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(check_command, "evaluate", _boom)
    monkeypatch.delenv("KUBESPARK_DEBUG", raising=False)
    outcome = run("check", "--spark", "3.5.1", "--k8s", "1.29")
    assert outcome.code == 3
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: internal error")
    assert "RuntimeError: boom" in lines[0] and "--debug" in lines[0]
    assert "Traceback" not in outcome.err and "kubespark-test-token" not in outcome.err


@pytest.mark.parametrize("how", ["--debug after", "--debug before", "KUBESPARK_DEBUG=1"])
def test_debug_shows_the_traceback_redacted(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setattr(check_command, "evaluate", _boom)
    args = ["check", "--spark", "3.5.1", "--k8s", "1.29"]
    if how == "--debug after":
        args.append("--debug")
    elif how == "--debug before":
        args.insert(0, "--debug")
    else:
        monkeypatch.setenv("KUBESPARK_DEBUG", "1")
    outcome = run(*args)
    assert outcome.code == 3
    assert "Traceback" in outcome.err and "_boom" in outcome.err
    assert "kubespark-test-token" not in outcome.err


def test_bad_input_stays_exit_2_without_a_traceback(tmp_path: Path) -> None:
    outcome = run("submit", str(tmp_path / "absent.yaml"), "--dry-run", "--k8s", "1.29")
    assert outcome.code == 2 and outcome.err.startswith("error:")
    assert "Traceback" not in outcome.err


def test_json_output_carries_no_credential() -> None:
    # The planned driver ConfigMap holds spark.properties, with the app's oauthToken conf in it.
    application = Path(__file__).parent / "corpus" / "app-sparkconf-secret.yaml"
    outcome = run("submit", str(application), "--dry-run", "--k8s", "1.29", "-o", "json")
    assert outcome.code == 0, outcome.err
    assert "s3cr3t" not in outcome.out
    assert "spark.kubernetes.authenticate.submission.oauthToken=<redacted>" in outcome.out
