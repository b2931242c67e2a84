"""ScheduledSparkApplications on emulated 1.16, 1.19, 1.21 and newest: policies, history, input.

The operator runs on fake time (a manual clock the harness moves while the test waits), so the
``@every`` schedules here cost a tenth of their real duration; the emulator runs for real.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from operator_harness import CLUSTER_VERSIONS, Cluster, running_cluster, spark_pi, start_operator

from kubespark.operator.schedule import run_name

SCHEDULED = "scheduledsparkapplications"


def scheduled(
    name: str, schedule: str, policy: str = "Allow", run_seconds: float = 10, **spec: Any
) -> dict[str, Any]:
    template = spark_pi("x", run_seconds=run_seconds)["spec"]
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "schedule": schedule,
            "timeZone": "UTC",
            "concurrencyPolicy": policy,
            "template": template,
            **spec,
        },
    }


def runs_of(cluster: Cluster, name: str) -> dict[str, dict[str, Any]]:
    """Runs of a scheduled application the state log has seen (by run name)."""
    return {
        run: obj
        for run, obj in cluster.log.objects.items()
        if obj["metadata"].get("labels", {}).get("sparkoperator.k8s.io/scheduled-app-name") == name
    }


async def existing_runs(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    query = (("labelSelector", f"sparkoperator.k8s.io/scheduled-app-name={name}"),)
    from kubespark.kube.requests import KubeRequest

    listing = await cluster.client.send(KubeRequest("GET", cluster.apps_path(), query))
    return list(listing.get("items") or [])


async def wait_until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out: {what}")


def _epoch(run: str) -> int:
    return int(run.rsplit("-", 1)[1])


async def _allow_overlaps_and_keeps_history(cluster: Cluster) -> None:
    await cluster.create(
        scheduled("allow", "@every 2s", "Allow", run_seconds=50, successfulRunHistoryLimit=1),
        SCHEDULED,
    )

    async def two_at_once() -> bool:
        live = [
            r
            for r in await existing_runs(cluster, "allow")
            if r.get("status", {}).get("applicationState", {}).get("state")
            in ("SUBMITTED", "RUNNING")
        ]
        return len(live) >= 2

    await wait_until(two_at_once, 20, "two overlapping runs under Allow")
    status = (await cluster.get("allow", SCHEDULED))["status"]
    assert status["scheduleState"] == "Scheduled"
    assert status["lastRunName"] in {
        r["metadata"]["name"] for r in await existing_runs(cluster, "allow")
    }
    names = sorted(runs_of(cluster, "allow"), key=_epoch)
    epochs = [_epoch(n) for n in names]
    assert all(b - a >= 2 for a, b in itertools.pairwise(epochs)), epochs

    async def history_trimmed() -> bool:
        completed = [
            r
            for r in await existing_runs(cluster, "allow")
            if r.get("status", {}).get("applicationState", {}).get("state") == "COMPLETED"
        ]
        status = (await cluster.get("allow", SCHEDULED))["status"]
        past = status.get("pastSuccessfulRunNames", [])
        return len(completed) == 1 and past == [completed[0]["metadata"]["name"]]

    await wait_until(history_trimmed, 30, "one completed run kept (successfulRunHistoryLimit 1)")


async def _forbid_never_overlaps(cluster: Cluster) -> None:
    await cluster.create(scheduled("forbid", "@every 1s", "Forbid", run_seconds=40), SCHEDULED)

    async def second_run() -> bool:
        return len(await existing_runs(cluster, "forbid")) >= 2

    await wait_until(second_run, 25, "a second run after the first finished")
    runs = sorted(
        await existing_runs(cluster, "forbid"), key=lambda r: _epoch(r["metadata"]["name"])
    )
    first, second = runs[0], runs[1]
    # Both times on the operator's clock: when the first ended, which activation the second is.
    assert "terminationTime" in first["status"], (first["status"], second.get("status"))
    ended = datetime.fromisoformat(first["status"]["terminationTime"].replace("Z", "+00:00"))
    started = datetime.fromtimestamp(_epoch(second["metadata"]["name"]), UTC)
    assert started >= ended, "Forbid started a run while the previous one was still going"
    events = {e["reason"] for e in await cluster.events("forbid")}
    assert "ScheduledSparkApplicationSkipped" in events


async def _replace_deletes_the_unfinished_run(cluster: Cluster) -> None:
    await cluster.create(scheduled("replace", "@every 2s", "Replace", run_seconds=400), SCHEDULED)

    async def replaced() -> bool:
        return len(runs_of(cluster, "replace")) >= 3

    await wait_until(replaced, 25, "three runs started under Replace")
    seen = sorted(runs_of(cluster, "replace"), key=_epoch)

    async def only_the_newest_left() -> bool:
        live = [r["metadata"]["name"] for r in await existing_runs(cluster, "replace")]
        return all(name not in live for name in seen[:-2])

    # Each activation deleted the previous (never finished) run before starting its own.
    await wait_until(only_the_newest_left, 10, "earlier unfinished runs deleted")
    for name in seen[:-1]:
        assert cluster.log.states[name][-1] in ("SUBMITTED", "RUNNING", ""), name


async def _bad_cron_and_zone(cluster: Cluster) -> None:
    await cluster.create(scheduled("badcron", "61 * * * *"), SCHEDULED)
    await cluster.create(scheduled("badzone", "@hourly", timeZone="Mars/Olympus_Mons"), SCHEDULED)
    await cluster.create(scheduled("fewfields", "* * *"), SCHEDULED)

    async def failed(name: str) -> dict[str, Any]:
        async def check() -> bool:
            return (await cluster.get(name, SCHEDULED)).get("status", {}).get(
                "scheduleState"
            ) == "FailedValidation"

        await wait_until(check, 15, f"{name} FailedValidation")
        return dict((await cluster.get(name, SCHEDULED))["status"])

    cron = await failed("badcron")
    assert "spec.schedule" in cron["reason"] and "61" in cron["reason"]
    zone = await failed("badzone")
    assert "Mars/Olympus_Mons" in zone["reason"] and "spec.timeZone" in zone["reason"]
    few = await failed("fewfields")
    assert "expected exactly 5 fields, found 3" in few["reason"]
    assert not await existing_runs(cluster, "badcron")

    def fix(spec: dict[str, Any]) -> None:
        spec["schedule"] = "@hourly"

    await cluster.update_spec("badcron", fix, SCHEDULED)

    async def rescheduled() -> bool:
        status = (await cluster.get("badcron", SCHEDULED)).get("status", {})
        return status.get("scheduleState") == "Scheduled" and bool(status.get("nextRun"))

    await wait_until(rescheduled, 15, "a fixed schedule is scheduled again")


async def _suspended_starts_nothing(cluster: Cluster) -> None:
    await cluster.create(scheduled("asleep", "@every 1s", suspend=True), SCHEDULED)
    await cluster.elapse(10)  # ten activations' worth of the operator's time
    assert not await existing_runs(cluster, "asleep")


@pytest.mark.parametrize("version", CLUSTER_VERSIONS)
async def test_scheduled_applications(emulator_factory: Any, version: str) -> None:
    async with (
        running_cluster(emulator_factory, version, fake_time=True) as cluster,
        cluster.time_flows(),
    ):
        await asyncio.gather(
            _allow_overlaps_and_keeps_history(cluster),
            _forbid_never_overlaps(cluster),
            _replace_deletes_the_unfinished_run(cluster),
            _bad_cron_and_zone(cluster),
            _suspended_starts_nothing(cluster),
        )


@pytest.mark.parametrize("version", CLUSTER_VERSIONS)
async def test_no_duplicate_run_across_restarts(emulator_factory: Any, version: str) -> None:
    """A run created before the operator died is found, not created again, after a restart."""
    async with running_cluster(emulator_factory, version, fake_time=True) as cluster:
        created = await cluster.create(scheduled("daily", "@every 4s", run_seconds=2), SCHEDULED)

        async def scheduled_next() -> bool:
            return bool((await cluster.get("daily", SCHEDULED)).get("status", {}).get("nextRun"))

        await wait_until(scheduled_next, 10, "nextRun set")
        assert cluster.operator is not None
        cluster.operator.stop()
        cluster.operator = None
        status = (await cluster.get("daily", SCHEDULED))["status"]
        due = datetime.fromisoformat(status["nextRun"].replace("Z", "+00:00"))
        existing = await existing_runs(cluster, "daily")
        assert all(r["metadata"]["name"] != run_name("daily", due) for r in existing)
        # What the dead operator had written just before dying: the run of that activation.
        run = spark_pi(run_name("daily", due), run_seconds=2)
        run["metadata"]["labels"] = {"sparkoperator.k8s.io/scheduled-app-name": "daily"}
        run["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "sparkoperator.k8s.io/v1beta2",
                "kind": "ScheduledSparkApplication",
                "name": "daily",
                "uid": created["metadata"]["uid"],
            }
        ]
        await cluster.create(run)
        clock = cluster.manual_clock()
        clock.advance(max(0.0, (due - clock.now()).total_seconds()) + 0.1)  # it is due now
        cluster.operator = start_operator(cluster.kubeconfig, clock=clock)

        async def recorded() -> bool:
            return (await cluster.get("daily", SCHEDULED)).get("status", {}).get(
                "lastRunName"
            ) == run["metadata"]["name"]

        await wait_until(recorded, 15, "the existing run recorded as the last run")
        runs = [r["metadata"]["name"] for r in await existing_runs(cluster, "daily")]
        assert runs.count(run["metadata"]["name"]) == 1
        assert all(_epoch(n) != int(due.timestamp()) or n == run["metadata"]["name"] for n in runs)
        assert len([n for n in runs if _epoch(n) == int(due.timestamp())]) == 1
