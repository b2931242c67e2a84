"""A Spark release kubespark does not model fails at once, with no pod, unless annotated.

kubespark reproduces spark-submit from Spark 3.0 up to the newest minor in its data; a 2.4.8 or a
future 9.9 application would otherwise be submitted as some other release's spark-submit would.
"""

from __future__ import annotations

from typing import Any

import pytest
from operator_harness import running_cluster, spark_pi

from kubespark.knowledge.scope import ALLOW_ANNOTATION

pytestmark = pytest.mark.slow


async def test_unmodelled_spark_fails_without_a_pod_and_the_annotation_lets_it_run(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, "1.21") as cluster:
        old = spark_pi("old", spark="2.4.8")
        future = spark_pi("future", spark="9.9.0")
        tried = spark_pi("tried", spark="2.4.8", run_seconds=1)
        tried["metadata"]["annotations"] = {ALLOW_ANNOTATION: "true"}
        for app in (old, future, tried):
            await cluster.create(app)
        for name, why in (("old", "outside what kubespark models"), ("future", "newer than")):
            done = await cluster.wait_state(name, "FAILED")
            assert cluster.log.states[name] == ["", "FAILED"]
            message = done["status"]["applicationState"]["errorMessage"]
            assert why in message and ALLOW_ANNOTATION in message
            assert not await cluster.pods(f"sparkoperator.k8s.io/app-name={name}")
        await cluster.wait_state("tried", "COMPLETED", within=60)
