"""The kubeconfig loader against a real HTTP(S) server: what each kind of credential sends."""

from __future__ import annotations

import base64
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from kubespark.certificates import issue_serving_certificate
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.kubeconfig import read_kubeconfig, service_account, tls_for


@dataclass
class Server:
    """A /version endpoint that accepts one Authorization value and records what it saw."""

    url: str
    accept: str = ""
    seen: list[str] = field(default_factory=list)


async def _serve(tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    server = Server("")

    async def version(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        server.seen.append(given)
        if server.accept and given != server.accept:
            status = {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401}
            return web.json_response(status, status=401)
        return web.json_response({"gitVersion": "v1.29.0"})

    app = web.Application()
    app.router.add_get("/version", version)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async for s in _serve():
        yield s


def _kubeconfig(
    tmp_path: Path, cluster: dict[str, Any], user: dict[str, Any], **context: str
) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", **context}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


async def _version(path: Path) -> str:
    async with KubeClient.from_kubeconfig(str(path)) as client:
        return str((await client.version())["gitVersion"])


async def test_a_token_file_is_read_again_after_a_401(server: Server, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("one\n")
    server.accept = "Bearer one"
    path = _kubeconfig(tmp_path, {"server": server.url}, {"tokenFile": "token"})  # relative
    async with KubeClient.from_kubeconfig(str(path)) as client:
        assert (await client.version())["gitVersion"] == "v1.29.0"
        token.write_text("two")  # rotated, as projected service-account tokens are
        server.accept = "Bearer two"
        assert (await client.version())["gitVersion"] == "v1.29.0"
        assert server.seen[0] == "Bearer one" and server.seen[-1] == "Bearer two"
        server.seen.clear()
        await client.version()  # the renewed token is the one sent from now on
    assert server.seen == ["Bearer two"]


async def test_an_exec_plugin_token_is_sent_and_kept(server: Server, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, os, pathlib, sys\n"
        f"runs = pathlib.Path({str(runs)!r})\n"
        "runs.write_text(runs.read_text() + 'x' if runs.exists() else 'x')\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "assert info['kind'] == 'ExecCredential', info\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential',\n"
        "    'status': {'token': os.environ['TOKEN'] + sys.argv[1]}}))\n"
    )
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(plugin), "-7"],
            "env": [{"name": "TOKEN", "value": "from-plugin"}],
        }
    }
    server.accept = "Bearer from-plugin-7"
    async with KubeClient.from_kubeconfig(
        str(_kubeconfig(tmp_path, {"server": server.url}, user))
    ) as client:
        await client.version()
        await client.version()
    assert server.seen == ["Bearer from-plugin-7"] * 2
    assert runs.read_text() == "x"  # run once: the token has no expiry, so it is kept


async def test_a_failing_exec_plugin_is_an_input_error(server: Server, tmp_path: Path) -> None:
    plugin = {"command": sys.executable, "args": ["-c", "import sys; sys.exit('no login')"]}
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", **plugin}}
    with pytest.raises(InputError, match="no login") as err:
        await _version(_kubeconfig(tmp_path, {"server": server.url}, user))
    assert "exec" in (err.value.where or "")


async def test_basic_auth_is_sent(server: Server, tmp_path: Path) -> None:
    server.accept = "Basic " + base64.b64encode(b"ann:pw").decode()
    user = {"username": "ann", "password": "pw"}
    assert await _version(_kubeconfig(tmp_path, {"server": server.url}, user)) == "v1.29.0"


async def test_tls_trusts_the_kubeconfigs_ca_and_loads_the_client_certificate(
    tmp_path: Path,
) -> None:
    issued = issue_serving_certificate(
        tmp_path / "pki",
        authority="test-ca",
        subject="127.0.0.1",
        names=["127.0.0.1"],
        valid_days=1,
        cert_name="server.crt",
        key_name="server.key",
    )
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(issued.cert_file, issued.key_file)

    def data(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    async for server in _serve(tls):
        cluster = {"server": server.url, "certificate-authority-data": data(issued.ca_file)}
        # Any certificate and key pair will do to show they are loaded (the server asks none).
        user = {
            "client-certificate-data": data(issued.cert_file),
            "client-key-data": data(issued.key_file),
        }
        assert await _version(_kubeconfig(tmp_path, cluster, user)) == "v1.29.0"
        untrusted = _kubeconfig(tmp_path, {"server": server.url}, {})
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            await _version(untrusted)
        insecure = {"server": server.url, "insecure-skip-tls-verify": True}
        assert await _version(_kubeconfig(tmp_path, insecure, {})) == "v1.29.0"


def test_missing_entries_are_named(tmp_path: Path) -> None:
    path = _kubeconfig(tmp_path, {"server": "http://127.0.0.1:1"}, {})
    with pytest.raises(InputError, match="no context named 'other'"):
        read_kubeconfig(path, "other")
    doc = yaml.safe_load(path.read_text())
    doc["contexts"][0]["context"]["user"] = "ghost"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(InputError, match="no user named 'ghost'"):
        read_kubeconfig(path)


async def test_an_auth_provider_without_a_current_token_names_the_exec_plugin_fix(
    server: Server, tmp_path: Path
) -> None:
    user = {"auth-provider": {"name": "gcp", "config": {}}}
    with pytest.raises(InputError, match="gcp auth-provider gives no current token") as err:
        await _version(_kubeconfig(tmp_path, {"server": server.url}, user))
    assert "exec plugin" in (err.value.fix or "")


async def test_an_oidc_id_token_is_sent(server: Server, tmp_path: Path) -> None:
    server.accept = "Bearer id-token-1"
    user = {"auth-provider": {"name": "oidc", "config": {"id-token": "id-token-1"}}}
    await _version(_kubeconfig(tmp_path, {"server": server.url}, user))
    assert server.seen == ["Bearer id-token-1"]


def test_the_service_account_is_the_pods_identity(tmp_path: Path) -> None:
    (tmp_path / "namespace").write_text("spark-jobs")
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    found = service_account(tmp_path, env)
    assert found.cluster.server == "https://[fd00::1]:443"
    assert found.cluster.ca_file == tmp_path / "ca.crt"
    assert found.user.token_file == tmp_path / "token"
    assert found.namespace == "spark-jobs"
    with pytest.raises(InputError, match="not in a pod"):
        service_account(tmp_path, {})


def test_a_plain_http_server_gets_a_tls_context_that_trusts_nothing(tmp_path: Path) -> None:
    # No certificate bundle is loaded for a server that speaks no TLS (it costs start-up), and
    # nothing https is trusted through it: a redirect there would fail closed.
    context = read_kubeconfig(_kubeconfig(tmp_path, {"server": "http://127.0.0.1:1"}, {}))
    tls = tls_for(context)
    assert tls.cert_store_stats()["x509_ca"] == 0
    assert tls.verify_mode == ssl.CERT_REQUIRED and tls.check_hostname
