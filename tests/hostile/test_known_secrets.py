"""Secrets without a shape: redacted by value once read, and a failing exec plugin's stderr.

The plugin tests run the real ``kubespark`` script as a child process with a kubeconfig whose
user runs a shell-script exec plugin, and search everything the process wrote (stdout, stderr,
``-o json``) for a secret drawn at random: hex, with no shape the redactor knows.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubespark.kube.credentials import plugin_said
from kubespark.redaction import REDACTED, RedactingFilter, redact, redact_text, remember_secret

from .make_corpus import app

KUBESPARK = Path(sys.executable).parent / "kubespark"


def _secret() -> str:
    return secrets.token_hex(20)  # 40 hex characters: no prefix, key or scheme to spot


def test_a_remembered_secret_is_redacted_wherever_it_stands() -> None:
    secret = _secret()
    remember_secret(secret)
    for text in (
        f"upstream said: session {secret} is not valid",
        f"{secret}",
        f'{{"detail":"{secret}"}}',
        f"x{secret}y",  # long values go as substrings: a token glued to text is still the token
    ):
        assert secret not in redact_text(text)
        assert REDACTED in redact_text(text)
    assert secret not in json.dumps(redact({"note": [f"had {secret}"]}))


def test_short_values_go_only_as_whole_words_and_tiny_ones_not_at_all() -> None:
    remember_secret("Pw7x")  # a 4-character password
    assert redact_text("password was Pw7x.") == f"password was {REDACTED}."
    assert redact_text("xPw7xy stays") == "xPw7xy stays"
    remember_secret("ab1")  # under MIN_SECRET_LENGTH: would shred text, never registered
    assert redact_text("tab1 ab1") == "tab1 ab1"


def test_bytes_register_their_text_lines_and_base64() -> None:
    line = "MHcCAQEEIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijk"
    body = f"-----BEGIN EC PRIVATE KEY-----\n{line}\n-----END".encode()
    remember_secret(body)
    assert line not in redact_text(f"a fragment: {line}")
    assert base64.b64encode(body).decode() not in redact_text(base64.b64encode(body).decode())


def test_log_records_are_redacted_by_the_filter() -> None:
    secret = _secret()
    remember_secret(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("kubespark.test.known-secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("upstream answered %s with %r", "401", {"token": secret})
        try:
            raise RuntimeError(f"carrying {secret}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert secret not in stream.getvalue()
    assert "upstream answered 401" in stream.getvalue()
    assert "RuntimeError: carrying <redacted>" in stream.getvalue()


@pytest.mark.parametrize(
    ("stderr", "shown"),
    [
        (
            "Unable to locate credentials. You can configure credentials by running "
            '"aws configure".\n',
            "Unable to locate credentials.",
        ),
        ("AADSTS700082: The refresh token has expired due to inactivity.\n", "AADSTS700082"),
        ("error: gke-gcloud-auth-plugin failed\nsecond line\n", "gke-gcloud-auth-plugin failed"),
        ("", ""),
    ],
)
def test_a_plugin_first_line_that_explains_is_kept(stderr: str, shown: str) -> None:
    said = plugin_said(stderr)
    assert shown in said
    assert "second line" not in said


def test_generated_looking_words_in_the_first_line_are_replaced() -> None:
    for secret in (_secret(), secrets.token_urlsafe(24), "a1b2c3d4e5f6g7h8"):
        said = plugin_said(f"login failed, session {secret} refused\n")
        assert secret not in said and said == "login failed, session <redacted> refused"


# ---- the real script, a real exec plugin ----------------------------------------------------


def _kubeconfig(tmp_path: Path, server: str, plugin: str) -> Path:
    script = tmp_path / "plugin.sh"
    script.write_text("#!/bin/sh\n" + plugin)
    script.chmod(0o700)
    kubeconfig = tmp_path / "kubeconfig.yaml"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [
                    {
                        "name": "u",
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": str(script),
                                "interactiveMode": "Never",
                            }
                        },
                    }
                ],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return kubeconfig


def _kubespark(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KUBESPARK_DEBUG"}
    return subprocess.run(
        [str(KUBESPARK), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.mark.slow  # three fresh kubespark processes per case; the corpus runs them in-process
@pytest.mark.parametrize("where", ["first line", "alone", "later line"])
def test_a_failing_plugin_never_shows_its_shapeless_secret(tmp_path: Path, where: str) -> None:
    secret = _secret()
    stderr = {
        "first line": f"refresh failed for session {secret}",
        "alone": secret,
        "later line": f"refresh failed\\ndebug: session={secret}",
    }[where]
    kubeconfig = _kubeconfig(tmp_path, "https://127.0.0.1:1", f'printf "{stderr}\\n" >&2\nexit 3\n')
    application = tmp_path / "app.yaml"
    application.write_text(app())
    for args in (
        ("submit", str(application), "--kubeconfig", str(kubeconfig)),
        ("submit", str(application), "--kubeconfig", str(kubeconfig), "-o", "json"),
        ("list", "--kubeconfig", str(kubeconfig), "-o", "json"),
    ):
        done = _kubespark(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert secret not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert "exec: executable" in done.stderr and "exit code 3" in done.stderr


class _EchoingServer(http.server.BaseHTTPRequestHandler):
    """Not Kubernetes: answers every request 401 quoting the credential it was sent."""

    def do_GET(self) -> None:
        said = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        body = json.dumps(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "code": 401,
                "reason": "Unauthorized",
                "message": f"session {said} is unknown here",
            }
        ).encode()
        with contextlib.suppress(OSError):  # the client may give up on its other requests
            self.send_response(401)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _echoing() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.slow  # a fresh kubespark process
def test_a_plugin_token_a_server_echoes_back_is_redacted_by_value(tmp_path: Path) -> None:
    secret = _secret()
    credential = json.dumps(
        {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "kind": "ExecCredential",
            "status": {"token": secret},
        }
    )
    with _echoing() as url:
        kubeconfig = _kubeconfig(tmp_path, url, f"echo '{credential}'\n")
        done = _kubespark("list", "--kubeconfig", str(kubeconfig), "-o", "json", cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert secret not in done.stdout + done.stderr, done.stderr
    # The server's free text is shown (it says why), the token in it is not.
    assert f"session {REDACTED} is unknown here" in done.stderr, done.stderr


def test_every_command_output_is_redacted_by_value(tmp_path: Path) -> None:
    """The CLI's stdout and stderr: a known secret any command prints (here quoted back in a
    refusal of the flag that carried it) never reaches the terminal."""
    from kubespark.cli.app import main

    secret = _secret()
    remember_secret(secret)
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        contextlib.suppress(SystemExit),
    ):
        main(["check", "--spark", "3.5.1", "--k8s", f"1.29{secret}"])
    assert secret not in out.getvalue() + err.getvalue()
    assert REDACTED in out.getvalue() + err.getvalue()  # the flag was quoted back, hidden
