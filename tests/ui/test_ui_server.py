"""``kubespark ui``'s server over real HTTP against an emulated cluster (no browser).

The cache (list, watch, resume after a cut watch, relist after 410), the routes the page
renders (the list with filters, search and pages; an application; the cluster's compat row;
the doctor's diagnosis), server-sent events, the actions (off by default, CSRF-checked, the API
server's refusal reported word for word) and redaction of credentials.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from operator_harness import running_cluster, spark_pi
from ui_harness import API, create, running_ui, scheduled, set_status, sse_events, wait_until

from kubespark import AsyncClient
from kubespark.emulator.apiserver.faults import Faults
from kubespark.kube.requests import KubeRequest
from kubespark.ui.informer import Informer

SSA_ERROR = (
    "failed to create typed patch object: .spec.ports: element 0: associative list with keys "
    'has an element that omits key field "protocol"'
)


def _row(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in data["rows"] if r["name"] == name)


async def test_the_list_shows_every_kind_with_states_reasons_filters_and_pages(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        for name in ("failed-app", "stuck-app", "done-app"):
            await create(client, spark_pi(name))
        await set_status(
            client,
            "failed-app",
            {"applicationState": {"state": "SUBMISSION_FAILED", "errorMessage": SSA_ERROR}},
        )
        await set_status(
            client,
            "stuck-app",
            {
                "applicationState": {"state": "SUBMITTED"},
                "waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"},
                "submissionAttempts": 1,
            },
        )
        await set_status(client, "done-app", {"applicationState": {"state": "COMPLETED"}})
        await create(client, scheduled("nightly", spark_pi("t")), "scheduledsparkapplications")
        async with AsyncClient(cluster.kubeconfig) as ks:
            await ks.submit(spark_pi("direct"))
        async with running_ui(client) as ui, httpx.AsyncClient(base_url=ui.url) as http:

            async def listed() -> dict[str, Any] | None:
                data = (await http.get("/api/apps")).json()
                return data if data["all"] == 5 else None

            data = await wait_until(listed)
            assert {r["kind"] for r in data["rows"]} == {
                "SparkApplication",
                "ScheduledSparkApplication",
                "Submission",
            }
            failed = _row(data, "failed-app")
            assert (failed["state"], failed["group"]) == ("SUBMISSION_FAILED", "failed")
            assert "omits key field" in failed["reason"]
            stuck = _row(data, "stuck-app")
            assert (stuck["group"], stuck["reason"]) == (
                "waiting",
                "ImagePullBackOff: Back-off pulling image",
            )
            assert _row(data, "done-app")["group"] == "completed"
            assert _row(data, "direct")["spark_version"] == "3.5.1"
            only_failed = (await http.get("/api/apps", params={"group": "failed"})).json()
            assert [r["name"] for r in only_failed["rows"]] == ["failed-app"]
            searched = (await http.get("/api/apps", params={"q": "imagepull"})).json()
            assert [r["name"] for r in searched["rows"]] == ["stuck-app"]
            kind = (await http.get("/api/apps", params={"kind": "Submission"})).json()
            assert [r["name"] for r in kind["rows"]] == ["direct"]
            # Pages of 25: 30 more applications make two pages, newest first.
            for i in range(30):
                await create(client, spark_pi(f"bulk-{i:02d}"))

            async def two_pages() -> dict[str, Any] | None:
                data = (await http.get("/api/apps", params={"size": "25", "page": "2"})).json()
                return data if data["total"] == 35 else None

            second = await wait_until(two_pages)
            assert (second["page"], second["pages"], len(second["rows"])) == (2, 2, 10)


async def test_an_application_page_and_its_diagnosis_and_secrets_redacted(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        app = spark_pi(
            "secretive",
            sparkConf={
                "spark.kubernetes.authenticate.submission.oauthToken": "tok-very-secret-123",
                "spark.hadoop.fs.s3a.secret.key": "s3-very-secret-456",
            },
            driver={"env": [{"name": "DB_PASSWORD", "value": "pw-very-secret-789"}]},
        )
        await create(client, app)
        await set_status(
            client,
            "secretive",
            {
                "applicationState": {"state": "SUBMISSION_FAILED", "errorMessage": SSA_ERROR},
                "compatNotes": ["server 1.19.0: created the Service with POST"],
            },
        )
        async with running_ui(client) as ui, httpx.AsyncClient(base_url=ui.url) as http:
            params = {"kind": "SparkApplication", "namespace": "default", "name": "secretive"}

            async def failed() -> dict[str, Any] | None:
                page = (await http.get("/api/app", params=params)).json()
                return page if page.get("row", {}).get("state") == "SUBMISSION_FAILED" else None

            page = await wait_until(failed)
            text = json.dumps(page)
            assert "very-secret" not in text
            assert page["notes"] == ["server 1.19.0: created the Service with POST"]
            assert [h["state"] for h in page["history"]][-1] == "SUBMISSION_FAILED"
            assert page["diagnosable"] is True
            report = (await http.get("/api/diagnosis", params=params)).json()["report"]
            assert "spark35-ssa-old-k8s" in [d["issue"] for d in report["diagnoses"]]
            assert "very-secret" not in json.dumps(report)
            missing = await http.get("/api/app", params={**params, "name": "nope"})
            assert missing.status_code == 404


async def test_the_cluster_page_gives_the_compat_row_of_each_spark_version_in_use(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        await create(cluster.client, spark_pi("new", spark="3.5.1"))
        await create(cluster.client, spark_pi("old", spark="3.4.4"))
        async with running_ui(cluster.client) as ui, httpx.AsyncClient(base_url=ui.url) as http:

            async def both() -> dict[str, Any] | None:
                data = (await http.get("/api/cluster")).json()
                return data if len(data["rows"]) == 2 else None

            data = await wait_until(both)
            assert data["version"] == "v1.19.0"
            verdicts = {
                r["spark"]: {p["path"]: p["verdict"] for p in r["paths"]} for r in data["rows"]
            }
            assert verdicts["3.5.1"]["spark-submit"] == "incompatible"
            assert verdicts["3.5.1"]["kubespark"] == "compatible"
            assert verdicts["3.4.4"]["spark-submit"] == "compatible"


async def test_changes_arrive_as_server_sent_events(emulator_factory: Callable[..., Any]) -> None:
    async with (
        running_cluster(emulator_factory, operator=False) as cluster,
        running_ui(cluster.client) as ui,
        httpx.AsyncClient(base_url=ui.url) as http,
    ):
        stream = sse_events(http, "/api/stream", 2)
        hello = await anext(stream)
        assert hello[0] == "hello"
        await create(cluster.client, spark_pi("arrives"))
        change = await asyncio.wait_for(anext(stream), 20)
        assert change[0] == "change" and change[1]["version"] > hello[1]["version"]
        await stream.aclose()
        data = (await http.get("/api/apps", params={"q": "arrives"})).json()
        assert data["total"] == 1


async def test_the_cache_resumes_a_cut_watch_and_relists_after_410(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(
        emulator_factory, operator=False, emulator={"faults": Faults(watch_drop_after=0.3)}
    ) as cluster:
        client = cluster.client
        changes: list[str] = []
        informer = Informer(
            client,
            f"{API}/sparkapplications",
            lambda key, before, after: changes.append(key[1]),
            kind="SparkApplication",
        )
        task = asyncio.create_task(informer.run())
        try:
            await informer.synced.wait()
            for i in range(3):
                await create(client, spark_pi(f"after-cut-{i}"))
                await asyncio.sleep(0.4)  # each one after (at least) one more cut watch

            async def all_seen() -> bool:
                return {f"after-cut-{i}" for i in range(3)} <= {k[1] for k in informer.store}

            await wait_until(all_seen)
            assert sorted(changes) == [f"after-cut-{i}" for i in range(3)]  # once each
            # The version it resumes from expires: a 410, then a relist that finds what changed.
            store = cluster.emulator.emulator.api.store
            cluster.emulator.run(lambda: setattr(store, "_history_limit", 1))
            informer.resource_version = "1"
            for i in range(3):
                await client.send(
                    KubeRequest(
                        "DELETE", f"{API}/namespaces/default/sparkapplications/after-cut-{i}"
                    )
                )

            async def emptied() -> bool:
                return not informer.store

            await wait_until(emptied)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_actions_are_refused_without_the_flag_and_csrf_checked_with_it(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        await create(client, spark_pi("target"))
        body = {"action": "suspend", "kind": "SparkApplication", "namespace": "default"}
        body["name"] = "target"
        async with running_ui(client) as ui, httpx.AsyncClient(base_url=ui.url) as http:
            session = (await http.get("/api/session")).json()
            assert (session["actions"], session["csrf"]) == (False, "")
            refused = await http.post("/api/action", json=body)
            assert refused.status_code == 403 and "--allow-actions" in refused.json()["error"]
        async with (
            running_ui(client, allow_actions=True) as ui,
            httpx.AsyncClient(base_url=ui.url) as http,
        ):
            token = (await http.get("/api/session")).json()["csrf"]
            assert len(token) >= 32
            no_token = await http.post("/api/action", json=body)
            assert no_token.status_code == 403 and "X-CSRF-Token" in no_token.json()["error"]
            form = await http.post(
                "/api/action", content=json.dumps(body), headers={"X-CSRF-Token": token}
            )
            assert form.status_code == 403  # not JSON: what a plain HTML form would send
            other_site = await http.post(
                "/api/action",
                json=body,
                headers={"X-CSRF-Token": token, "Origin": "http://evil.example"},
            )
            assert other_site.status_code == 403 and "origin" in other_site.json()["error"]
            rebound = await http.get("/api/apps", headers={"Host": "evil.example:8080"})
            assert rebound.status_code == 403
            headers = {"X-CSRF-Token": token, "Origin": ui.url.rstrip("/")}

            async def listed() -> bool:
                return (await http.get("/api/apps")).json()["all"] == 1

            await wait_until(listed)
            done = await http.post("/api/action", json=body, headers=headers)
            assert done.status_code == 200, done.text
            obj = await client.send(
                KubeRequest("GET", f"{API}/namespaces/default/sparkapplications/target")
            )
            assert obj["spec"]["suspend"] is True
            # RBAC refuses the next write: the page gets the API server's own words.
            cluster.emulator.set_faults(Faults(fail_write=1, fail_write_code=403))
            denied = await http.post(
                "/api/action", json={**body, "action": "delete"}, headers=headers
            )
            assert denied.status_code == 403
            assert "is forbidden: User" in denied.json()["error"]
            assert denied.json()["reason"] == "Forbidden"


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "[::1]:8080", ":9000"])
def test_listen_addresses_parse(listen: str) -> None:
    from kubespark.ui import parse_listen

    host, port = parse_listen(listen)
    assert host and 0 <= port <= 65535


@pytest.mark.parametrize("listen", ["8080", "host:port", "127.0.0.1:70000"])
def test_bad_listen_addresses_are_input_errors(listen: str) -> None:
    from kubespark.errors import InputError
    from kubespark.ui import parse_listen

    with pytest.raises(InputError, match="--listen"):
        parse_listen(listen)


async def test_a_schedules_runs_run_now_rerun_and_deleting_a_submission(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        schedule = await create(
            client, scheduled("nightly", spark_pi("t")), "scheduledsparkapplications"
        )
        assert schedule["metadata"]["uid"]
        async with AsyncClient(cluster.kubeconfig) as ks:
            await ks.submit(spark_pi("direct"))
        async with (
            running_ui(client, allow_actions=True) as ui,
            httpx.AsyncClient(base_url=ui.url) as http,
        ):
            token = (await http.get("/api/session")).json()["csrf"]
            headers = {"X-CSRF-Token": token}

            async def listed() -> bool:
                return (await http.get("/api/apps")).json()["all"] == 2

            await wait_until(listed)
            act = {"kind": "ScheduledSparkApplication", "namespace": "default", "name": "nightly"}
            done = await http.post(
                "/api/action", json={**act, "action": "run-now"}, headers=headers
            )
            assert done.status_code == 200, done.text
            params = {
                "kind": "ScheduledSparkApplication",
                "namespace": "default",
                "name": "nightly",
            }

            async def one_run() -> list[dict[str, Any]] | None:
                runs = (await http.get("/api/app", params=params)).json()["runs"]
                return runs or None

            runs = await wait_until(one_run)
            run = runs[0]["name"]
            assert run.startswith("nightly-manual-")
            # Rerun: the run is deleted and created again from its own spec (a new uid).
            path = f"{API}/namespaces/default/sparkapplications/{run}"
            before = (await client.send(KubeRequest("GET", path)))["metadata"]["uid"]
            rerun = {"kind": "SparkApplication", "namespace": "default", "name": run}
            done = await http.post(
                "/api/action", json={**rerun, "action": "rerun"}, headers=headers
            )
            assert done.status_code == 200, done.text
            after = await client.send(KubeRequest("GET", path))
            assert after["metadata"]["uid"] != before
            labels = after["metadata"]["labels"]
            assert labels["sparkoperator.k8s.io/scheduled-app-name"] == "nightly"
            # An action that does not fit the kind is refused before anything is sent.
            wrong = await http.post("/api/action", json={**act, "action": "rerun"}, headers=headers)
            assert wrong.status_code == 400
            # Deleting a submission deletes its driver pod.
            direct = {"kind": "Submission", "namespace": "default", "name": "direct"}
            done = await http.post(
                "/api/action", json={**direct, "action": "delete"}, headers=headers
            )
            assert done.status_code == 200, done.text

            async def gone() -> bool:
                data = (await http.get("/api/apps", params={"kind": "Submission"})).json()
                return data["total"] == 0

            await wait_until(gone)


async def test_the_driver_log_streams_and_the_page_is_self_contained(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        app = spark_pi("chatty")
        app["spec"]["driver"]["annotations"] = {
            "kubespark.io/emulate-run-seconds": "100000",
            "kubespark.io/emulate-log": "hello from the driver\nBearer abc.def.ghi-token-xyz",
        }
        async with AsyncClient(cluster.kubeconfig) as ks:
            await ks.submit(app)
        async with (
            running_ui(cluster.client) as ui,
            httpx.AsyncClient(base_url=ui.url) as http,
        ):

            async def running() -> dict[str, Any] | None:
                data = (await http.get("/api/apps", params={"q": "chatty"})).json()
                rows = data["rows"]
                return rows[0] if rows and rows[0]["state"] == "RUNNING" else None

            row = await wait_until(running)
            lines = []
            query = f"/api/log?namespace=default&pod={row['driver_pod']}"
            async for name, data in sse_events(http, query, 50):
                assert name == "line"
                lines.append(data)
                if any("Bearer" in line for line in lines):
                    break
            assert any("hello from the driver" in line for line in lines)
            assert not any("abc.def.ghi-token-xyz" in line for line in lines)
            page = (await http.get("/")).text
            assert "http://" not in page and "https://" not in page  # nothing from elsewhere
            csp = (await http.get("/")).headers["content-security-policy"]
            assert "default-src 'self'" in csp
            for asset in ("/assets/ui.js", "/assets/ui.css"):
                text = (await http.get(asset)).text
                assert "https://" not in text and "http://" not in text
