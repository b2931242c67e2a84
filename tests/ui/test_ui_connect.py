"""SparkConnects (``v1alpha1``) in ``kubespark ui`` over real HTTP against the emulator.

A Connect server the operator runs is listed beside the applications (kind, Ready, executors
running/total, Spark version), filtered and searched as they are; its page has the server pod,
its executors (by the labels the server gives them), the Events about it, the ``sc://`` address
clients dial, its log live and the spec redacted; the Spark UI is linked only while it is Ready;
a NotReady one says why; the only action is delete (CSRF-checked). A cluster without the
SparkConnect CRD, or a user whose RBAC forbids listing them, gets everything else and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from operator_harness import running_cluster, spark_pi
from ui_harness import CONNECTS, create, running_ui, spark_connect, sse_events, wait_until

from kubespark.kube.client import KubeClient
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.sparkconnect import connect_status

CRD = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sparkconnects.sparkoperator.k8s.io"
PAGE = {"kind": "SparkConnect", "namespace": "default", "name": "sc"}
Obj = dict[str, Any]


def _row(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((r for r in data["rows"] if r["name"] == name), None)


async def test_a_running_spark_connect_is_listed_shown_followed_and_deleted(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory) as cluster:
        client = cluster.client
        await client.send(KubeRequest("POST", CONNECTS, (), JSON, spark_connect()))
        await create(client, spark_pi("batch", run_seconds=100000))
        async with (
            running_ui(client, allow_actions=True) as ui,
            httpx.AsyncClient(base_url=ui.url) as http,
        ):

            async def ready() -> dict[str, Any] | None:
                row = _row((await http.get("/api/apps")).json(), "sc")
                return row if row and (row["state"], row["executors"]) == ("Ready", "2/2") else None

            row = await wait_until(ready, 60)
            assert (row["kind"], row["group"], row["spark_version"]) == (
                "SparkConnect",
                "running",
                "4.0.1",
            )
            assert row["driver_pod"] == "sc-server" and row["ageSeconds"] is not None
            assert row["reason"] == ""
            # Filtered and searched as the other kinds are.
            only = (await http.get("/api/apps", params={"kind": "SparkConnect"})).json()
            assert [r["name"] for r in only["rows"]] == ["sc"]
            found = (await http.get("/api/apps", params={"q": "sparkconnect ready"})).json()
            assert [r["name"] for r in found["rows"]] == ["sc"]
            running = (await http.get("/api/apps", params={"group": "running"})).json()
            assert "sc" in {r["name"] for r in running["rows"]}

            page = (await http.get("/api/app", params=PAGE)).json()
            assert [h["state"] for h in page["history"]][-1] == "Ready"
            assert page["driver"] == {"pod": "sc-server", "phase": "Running", "running": True}
            assert [e["name"] for e in page["executors"]] == ["sc-exec-1", "sc-exec-2"]
            assert {e["phase"] for e in page["executors"]} == {"Running"}
            assert page["connect"]["address"] == "sc://sc-server.default.svc:15002"
            assert page["connect"]["service"] == "sc-server" and page["connect"]["podIp"]
            assert page["sparkUI"] == "/spark-ui/default/sc-server:4040/"
            assert page["waiting"] is None and page["error"] == ""
            assert page["diagnosable"] is False
            assert ("Pod", "sc-server") in {(e["kind"], e["name"]) for e in page["events"]}
            assert page["spec"]["sparkVersion"] == "4.0.1"
            env = page["spec"]["server"]["template"]["spec"]["containers"][0]["env"]
            assert env == [{"name": "DB_PASSWORD", "value": "<redacted>"}]
            # The server's log, live, as a driver's is.
            lines: list[str] = []
            query = "/api/log?namespace=default&pod=sc-server"
            async for name, data in sse_events(http, query, 50):
                assert name == "line"
                lines.append(data)
                if "Spark Connect server started" in data:
                    break
            assert any("Running Spark version 4.0.1" in line for line in lines)

            # Actions: delete only (no spec.suspend, nothing to rerun), CSRF-checked.
            session = (await http.get("/api/session")).json()
            assert session["allowed"]["SparkConnect"] == ["delete"]
            headers = {"X-CSRF-Token": session["csrf"]}
            suspend = await http.post(
                "/api/action", json={**PAGE, "action": "suspend"}, headers=headers
            )
            assert suspend.status_code == 400
            assert "'suspend' does not apply to a SparkConnect" in suspend.json()["error"]
            no_token = await http.post("/api/action", json={**PAGE, "action": "delete"})
            assert no_token.status_code == 403
            done = await http.post(
                "/api/action", json={**PAGE, "action": "delete"}, headers=headers
            )
            assert done.status_code == 200, done.text
            assert done.json()["message"] == "SparkConnect sc deleted"

            async def gone() -> bool:
                data = (await http.get("/api/apps", params={"kind": "SparkConnect"})).json()
                return data["total"] == 0

            await wait_until(gone)
            missing = await http.get("/api/app", params=PAGE)
            assert missing.status_code == 404
            assert _row((await http.get("/api/apps")).json(), "batch") is not None


async def _write_status(client: KubeClient, status: Obj) -> None:
    """Write ``status`` as the operator's reconciler would (the ``/status`` subresource)."""
    obj = await client.send(KubeRequest("GET", f"{CONNECTS}/sc"))
    body = {**obj, "status": status}
    await client.send(KubeRequest("PUT", f"{CONNECTS}/sc/status", (), JSON, body))


def _server_pod(ready: bool) -> Obj:
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    status = {"podIP": "10.0.0.9", "conditions": conditions, "message": "pulling apache/spark"}
    return {"metadata": {"name": "sc-server"}, "status": status}


async def test_not_ready_says_why_the_spark_ui_waits_for_ready_and_failed_shows_the_error(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        await client.send(KubeRequest("POST", CONNECTS, (), JSON, spark_connect()))
        executors = [{"status": {"phase": p}} for p in ("Running", "Pending")]
        waiting = connect_status(
            {}, _server_pod(False), "sc-server", executors, "2026-12-07T09:00:00Z"
        )
        await _write_status(client, waiting)
        async with running_ui(client) as ui, httpx.AsyncClient(base_url=ui.url) as http:

            def in_state(state: str) -> Callable[[], Any]:
                async def check() -> dict[str, Any] | None:
                    page = (await http.get("/api/app", params=PAGE)).json()
                    return page if page.get("row", {}).get("state") == state else None

                return check

            page = await wait_until(in_state("NotReady"))
            row = page["row"]
            assert (row["group"], row["executors"]) == ("waiting", "1/2")
            assert row["reason"] == "Server pod is not ready: pulling apache/spark"
            assert page["waiting"] == {
                "reason": "ServerPodNotReady",
                "message": "Server pod is not ready: pulling apache/spark",
            }
            assert page["sparkUI"] is None  # the server is not up: nothing answers there yet
            assert page["driver"]["running"] is False
            assert page["connect"]["address"] == "sc://sc-server.default.svc:15002"
            stuck = (await http.get("/api/apps", params={"group": "waiting"})).json()
            assert [r["name"] for r in stuck["rows"]] == ["sc"]

            ready = connect_status(
                waiting, _server_pod(True), "sc-server", executors, "2026-12-07T09:01:00Z"
            )
            await _write_status(client, ready)
            page = await wait_until(in_state("Ready"))
            assert page["sparkUI"] == "/spark-ui/default/sc-server:4040/"
            assert page["waiting"] is None and page["row"]["reason"] == ""
            assert [h["state"] for h in page["history"]] == ["NotReady", "Ready"]
            assert page["history"][0]["detail"].startswith("Server pod is not ready")

            message = "spec.sparkVersion: Spark 3.3.2 has no Spark Connect (3.4 and later)"
            await _write_status(client, {**ready, "state": "Failed", "errorMessage": message})
            page = await wait_until(in_state("Failed"))
            assert (page["row"]["group"], page["error"]) == ("failed", message)
            assert page["sparkUI"] is None and page["waiting"] is None
            assert page["diagnosable"] is False
            report = (await http.get("/api/diagnosis", params=PAGE)).json()
            assert report == {"report": None}
            failed = (await http.get("/api/apps", params={"group": "failed"})).json()
            assert [r["name"] for r in failed["rows"]] == ["sc"]


async def test_a_cluster_without_the_spark_connect_crd_serves_the_rest(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        await client.send(KubeRequest("DELETE", CRD))

        async def unserved() -> bool:
            try:
                await client.send(KubeRequest("GET", CONNECTS))
            except NotFound:
                return True
            return False

        await wait_until(unserved)
        await create(client, spark_pi("batch"))
        async with running_ui(client) as ui, httpx.AsyncClient(base_url=ui.url) as http:

            async def listed() -> dict[str, Any] | None:
                data = (await http.get("/api/apps")).json()
                return data if data["all"] == 1 else None

            data = await wait_until(listed)
            assert [r["name"] for r in data["rows"]] == ["batch"]
            assert data["problems"] == ["SparkConnect: not served (CRD not installed?)"]
            cluster_page = (await http.get("/api/cluster")).json()
            assert cluster_page["problems"] == data["problems"]
            assert (await http.get("/api/app", params=PAGE)).status_code == 404


class _AsUser(httpx.AsyncHTTPTransport):
    """Every request impersonates ``user``, as ``kubectl --as`` sends it (the emulator's admin
    kubeconfig may impersonate; its RBAC then decides as for that user)."""

    def __init__(self, user: str) -> None:
        super().__init__()
        self.user = user

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Impersonate-User"] = self.user
        return await super().handle_async_request(request)


async def test_a_user_not_allowed_to_list_spark_connects_sees_the_rest_and_why(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(
        emulator_factory, "1.29", operator=False, emulator={"authorization": "rbac"}
    ) as cluster:
        admin = cluster.client
        rules = [
            {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list", "watch"]},
            {
                "apiGroups": ["sparkoperator.k8s.io"],
                "resources": ["sparkapplications", "scheduledsparkapplications"],
                "verbs": ["get", "list", "watch"],
            },
        ]
        rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default"
        role = {"metadata": {"name": "spark-viewer"}, "rules": rules}
        binding = {
            "metadata": {"name": "alice-views-spark"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "spark-viewer",
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}
            ],
        }
        await admin.send(KubeRequest("POST", f"{rbac}/roles", (), JSON, role))
        await admin.send(KubeRequest("POST", f"{rbac}/rolebindings", (), JSON, binding))
        await admin.send(KubeRequest("POST", CONNECTS, (), JSON, spark_connect()))
        await create(admin, spark_pi("batch"))
        alice = KubeClient.from_kubeconfig(str(cluster.kubeconfig), transport=_AsUser("alice"))
        async with (
            alice,
            running_ui(alice, namespaces=("default",)) as ui,
            httpx.AsyncClient(base_url=ui.url) as http,
        ):

            async def listed() -> dict[str, Any] | None:
                data = (await http.get("/api/apps")).json()
                return data if data["all"] == 1 and data["problems"] else None

            data = await wait_until(listed)
            assert [r["name"] for r in data["rows"]] == ["batch"]
            assert data["problems"] == [
                "SparkConnect: forbidden: sparkconnects.sparkoperator.k8s.io is forbidden: User "
                '"alice" cannot list resource "sparkconnects" in API group "sparkoperator.k8s.io" '
                'in the namespace "default"'
            ]
