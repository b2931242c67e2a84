"""The CronJob controller on the emulator's clock: at speed 60 an emulated minute is a second,
so every-minute schedules fire every second and the policies can be watched at work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from emu_helpers import Served

from kubespark.emulator.apiserver.objects import parse_rfc3339

Serve = Callable[..., AbstractAsyncContextManager[Served]]


def _cronjob(
    name: str, api_version: str, policy: str, run_seconds: str, **spec: Any
) -> dict[str, Any]:
    annotations = {"kubespark.io/emulate-run-seconds": run_seconds}
    return {
        "apiVersion": api_version,
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": policy,
            "jobTemplate": {
                "metadata": {"labels": {"from": name}},
                "spec": {
                    "template": {
                        "metadata": {"annotations": annotations},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox:1.36"}],
                        },
                    }
                },
            },
            **spec,
        },
    }


async def _jobs(client: httpx.AsyncClient, owner: str) -> list[dict[str, Any]]:
    items = (await client.get("/apis/batch/v1/namespaces/default/jobs")).json()["items"]
    return [
        j
        for j in items
        if any(r["name"] == owner for r in j["metadata"].get("ownerReferences") or [])
    ]


async def _events(client: httpx.AsyncClient, name: str, reason: str) -> list[str]:
    items = (await client.get("/api/v1/namespaces/default/events")).json()["items"]
    return [
        e["message"] for e in items if e["involvedObject"]["name"] == name and e["reason"] == reason
    ]


async def _until(check: Callable[[], Any], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


async def test_policies_history_and_suspend(serve: Serve) -> None:
    async with serve("1.29", speed=60.0) as (_, client):
        base = "/apis/batch/v1/namespaces/default/cronjobs"
        bodies = [
            _cronjob("allow", "batch/v1", "Allow", "3", successfulJobsHistoryLimit=2),
            _cronjob("forbid", "batch/v1", "Forbid", "100000"),
            _cronjob("replace", "batch/v1", "Replace", "100000"),
            _cronjob("paused", "batch/v1", "Allow", "1", suspend=True),
        ]
        for body in bodies:
            assert (await client.post(base, json=body)).status_code == 201

        async def allow_kept_history() -> bool:
            made = await _events(client, "allow", "SuccessfulCreate")
            return len(made) >= 4 and bool(await _events(client, "allow", "SuccessfulDelete"))

        await _until(allow_kept_history)
        allow = (await client.get(f"{base}/allow")).json()

        async def history_within_limit() -> bool:
            # a Job that just finished waits for the next pass (an emulated second) to go
            done = [j for j in await _jobs(client, "allow") if j["status"].get("succeeded")]
            return len(done) <= 2  # successfulJobsHistoryLimit

        await _until(history_within_limit)
        jobs = await _jobs(client, "allow")
        for job in jobs:
            minutes = int(job["metadata"]["name"].rsplit("-", 1)[1])
            assert job["metadata"]["labels"]["from"] == "allow"
            scheduled = job["metadata"]["annotations"][
                "batch.kubernetes.io/cronjob-scheduled-timestamp"
            ]
            assert parse_rfc3339(scheduled) == minutes * 60
            (owner,) = job["metadata"]["ownerReferences"]
            assert (owner["kind"], owner["controller"]) == ("CronJob", True)
        assert parse_rfc3339(allow["status"]["lastScheduleTime"]) % 60 == 0
        assert "lastSuccessfulTime" in allow["status"]
        assert await _events(client, "allow", "SawCompletedJob")

        forbid_jobs = await _jobs(client, "forbid")
        assert len(forbid_jobs) == 1  # the first never ends, so no second starts
        forbid = (await client.get(f"{base}/forbid")).json()
        assert [a["name"] for a in forbid["status"]["active"]] == [
            forbid_jobs[0]["metadata"]["name"]
        ]
        replaced = await _events(client, "replace", "SuccessfulDelete")
        assert replaced  # each new start deleted the running one
        live = [
            j for j in await _jobs(client, "replace") if not j["metadata"].get("deletionTimestamp")
        ]
        assert len(live) == 1
        assert await _jobs(client, "paused") == []
        assert "lastScheduleTime" not in (await client.get(f"{base}/paused")).json().get(
            "status", {}
        )


async def test_batch_v1beta1_cronjobs_before_1_21(serve: Serve) -> None:
    async with serve("1.19", speed=60.0) as (_, client):
        base = "/apis/batch/v1beta1/namespaces/default/cronjobs"
        body = _cronjob("old", "batch/v1beta1", "Allow", "1")
        assert (await client.post(base, json=body)).status_code == 201

        async def ran() -> bool:
            return bool(await _jobs(client, "old"))

        await _until(ran)
        (job, *_) = await _jobs(client, "old")
        assert job["metadata"]["ownerReferences"][0]["apiVersion"] == "batch/v1beta1"
        assert "batch.kubernetes.io/cronjob-scheduled-timestamp" not in (
            job["metadata"].get("annotations") or {}
        )
        status = (await client.get(f"{base}/old")).json()["status"]
        assert "lastScheduleTime" in status and "lastSuccessfulTime" not in status


async def test_an_invalid_schedule_is_a_warning_event(serve: Serve) -> None:
    async with serve("1.29", speed=60.0) as (_, client):
        body = _cronjob("bad", "batch/v1", "Allow", "1")
        body["spec"]["timeZone"] = "Mars/Olympus_Mons"
        base = "/apis/batch/v1/namespaces/default/cronjobs"
        # accepted: the emulator does not validate schedules and zones on create (docs)
        assert (await client.post(base, json=body)).status_code == 201

        async def warned() -> bool:
            return bool(await _events(client, "bad", "InvalidSchedule"))

        await _until(warned)
