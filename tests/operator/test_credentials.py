"""Credentials as the kubeconfig gives them, for every connection the operator opens.

The emulator requires a bearer token (``bearer_tokens``); the operator's kubeconfig has only an
exec plugin (as EKS, GKE and AKS kubeconfigs do), a small script that prints an ExecCredential
(``client.authentication.k8s.io/v1``) with the token of the moment and a short expiry. The
operator learns of applications only through kopf's watches, so an application completing after
the token was rotated and the old one revoked, with every watch cut, shows that kopf's own
connections got the renewed token too.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from operator_harness import running_cluster, spark_pi, start_operator

from kubespark.errors import InputError
from kubespark.kube.credentials import Credentials, CredentialSource, RefreshingAuth

PLUGIN = """
import json, sys
from datetime import datetime, timedelta, timezone
token_file, count_file, lifetime = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(count_file, "a") as f:
    f.write("x")
expiry = datetime.now(timezone.utc) + timedelta(seconds=lifetime)
print(json.dumps({
    "apiVersion": "client.authentication.k8s.io/v1",
    "kind": "ExecCredential",
    "status": {
        "token": open(token_file).read().strip(),
        "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    },
}))
"""


def _exec_kubeconfig(tmp_path: Path, server: str, lifetime: float) -> tuple[Path, Path, Path]:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    token, count = tmp_path / "token", tmp_path / "runs"
    token.write_text("team-token-1")
    count.write_text("")
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(plugin), str(token), str(count), str(lifetime)],
            "interactiveMode": "Never",
        }
    }
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path, token, count


@pytest.mark.slow
async def test_an_exec_plugin_kubeconfig_reaches_kopfs_watches_and_renews(
    emulator_factory: Any, tmp_path: Path
) -> None:
    emulator = {"bearer_tokens": ("admin-token", "team-token-1")}
    async with running_cluster(emulator_factory, "1.21", operator=False, emulator=emulator) as c:
        authority = c.emulator.emulator.authn
        kubeconfig, token, runs = _exec_kubeconfig(tmp_path, c.emulator.url, lifetime=30)
        c.operator = start_operator(kubeconfig)
        await c.create(spark_pi("before", run_seconds=1))
        await c.wait_state("before", "COMPLETED", within=60)
        assert authority.seen.get("team-token-1", 0) > 0
        # Rotate: the old token is refused from now on and every open watch is cut, so kopf
        # must reconnect, be refused, log in again (running the plugin) and resume.
        token.write_text("team-token-2")
        authority.accept("team-token-2")
        authority.revoke("team-token-1")
        refused = authority.refused
        c.emulator.run(c.emulator.emulator.api.store.close_watchers)
        await c.create(spark_pi("after", run_seconds=1))
        done = await c.wait_state("after", "COMPLETED", within=60)
        assert done["status"]["submissionAttempts"] == 1
        assert authority.refused > refused  # the old token was really refused
        assert authority.seen.get("team-token-2", 0) > 0
        assert len(runs.read_text()) >= 2  # the plugin ran again


def test_the_client_renews_an_expiring_exec_token(tmp_path: Path) -> None:
    kubeconfig, token, runs = _exec_kubeconfig(tmp_path, "http://127.0.0.1:1", lifetime=11)
    user = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]
    source = CredentialSource(user)
    first = source.current()
    assert first.token == "team-token-1" and first.expiration is not None
    assert not source.expiring() and source.current() is first  # cached while fresh
    token.write_text("team-token-2")
    # An 11 s lifetime is inside the 10 s renewal margin within a second: renewed then.
    later = datetime.now(UTC) + timedelta(seconds=2)
    assert not first.fresh(later)
    assert source.current(refused=first).token == "team-token-2"
    assert len(runs.read_text()) == 2


def test_a_token_file_is_reread_after_a_401(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text("one\n")
    source = CredentialSource({"tokenFile": str(file)})
    auth = RefreshingAuth(source)
    seen: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200 if request.headers["Authorization"] == "Bearer two" else 401)

    with httpx.Client(transport=httpx.MockTransport(server), auth=auth) as http:
        assert http.get("http://x/").status_code == 401
        file.write_text("two\n")  # the kubelet rotated it
        assert http.get("http://x/").status_code == 200
    assert seen == ["Bearer one", "Bearer one", "Bearer one", "Bearer two"]


@pytest.mark.parametrize(
    ("user", "where"),
    [
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v2", "command": "x"}}, "exec"),
        (
            {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/no/such"}},
            "exec",
        ),
        (
            {
                "auth-provider": {
                    "name": "gcp",
                    "config": {"access-token": "t", "expiry": "2000-01-01T00:00:00Z"},
                }
            },
            "gcp",
        ),
        ({"tokenFile": "/no/such/token"}, "tokenFile"),
    ],
)
def test_unusable_credentials_name_the_kubeconfig_entry(user: dict[str, Any], where: str) -> None:
    with pytest.raises(InputError) as caught:
        CredentialSource(user).current()
    assert where in str(caught.value.where)
    assert caught.value.fix


def test_auth_providers_give_their_current_token() -> None:
    oidc = {"auth-provider": {"name": "oidc", "config": {"id-token": "id-1"}}}
    assert CredentialSource(oidc).current() == Credentials(token="id-1")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    gcp = {"auth-provider": {"name": "gcp", "config": {"access-token": "a", "expiry": soon}}}
    assert CredentialSource(gcp).current().token == "a"
