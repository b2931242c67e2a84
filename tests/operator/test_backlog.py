"""A burst of new applications does not hold up the ones already running (issue 13).

With one worker and a backlog of new applications queued, an application whose driver finishes
reaches COMPLETED while new ones are still waiting for their first submission: the work queue
puts submitted applications first (``operator.application``'s lane choice) and still lets the
backlog through.
"""

from __future__ import annotations

import asyncio
from typing import Any

from operator_harness import running_cluster, spark_pi, state_of

BACKLOG = 60


async def test_a_finished_driver_completes_ahead_of_a_backlog_of_new_applications(
    emulator_factory: Any,
) -> None:
    # Fake time for the operator: no requeue timer fires, only watch events move applications.
    async with running_cluster(emulator_factory, "1.21", fake_time=True, workers=1) as cluster:
        await cluster.create(spark_pi("early", run_seconds=1))
        await cluster.wait_state("early", "RUNNING")
        backlog = [f"new-{n:03d}" for n in range(BACKLOG)]
        await asyncio.gather(*(cluster.create(spark_pi(name, run_seconds=600)) for name in backlog))
        await cluster.wait_state("early", "COMPLETED", within=60)
        pending = [name for name in backlog if not state_of(cluster.log.objects.get(name, {}))]
        print(f"{len(pending)} of {BACKLOG} new applications not yet submitted")
        # First in, first out, "early" would come after every one of them.
        assert pending, "COMPLETED only after the whole backlog was submitted"
        assert cluster.log.states["early"] == [
            "",
            "SUBMITTED",
            "RUNNING",
            "SUCCEEDING",
            "COMPLETED",
        ]
        # ... and the backlog keeps moving: every new application is submitted in the end.
        last = backlog[-1]
        await cluster.wait_for(last, lambda o: bool(state_of(o)), within=60)
        assert all(state_of(cluster.log.objects[name]) for name in backlog)
