"""``kubespark ui`` in real headless Chromium, against the emulator with the operator running.

The list shows running, completed, failed and stuck applications with their states and reasons;
a change appears without a reload (server-sent events); a failed application's page shows its
driver's error from the log and the doctor's diagnosis; a stuck one why it waits; keys work;
actions are absent without ``--allow-actions``, performed with it, and an RBAC refusal shows the
API server's words. Screenshots at 1280 px go to ``docs/ui/`` when ``KUBESPARK_UI_SHOTS`` names
that directory (how docs/ui.md's were taken).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser
from operator_harness import running_cluster, spark_pi
from ui_harness import API, CONNECTS, create, running_ui, set_status, spark_connect, wait_until

from kubespark.emulator.apiserver.faults import Faults
from kubespark.kube.requests import JSON, KubeRequest

pytestmark = pytest.mark.chromium

RUN = "kubespark.io/emulate-run-seconds"
CRASH_LOG = 'Exception in thread "main" java.lang.IllegalStateException: boom from the driver'


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(tmp_path / "chromium-profile")
    try:
        yield opened
    finally:
        opened.close()


def _shot(name: str) -> Path | None:
    where = os.environ.get("KUBESPARK_UI_SHOTS")
    return Path(where) / name if where else None


def _app(name: str, **annotations: str) -> dict[str, Any]:
    return spark_pi(name, driver={"annotations": {RUN: "3", **annotations}})


async def test_states_reasons_live_updates_and_a_failed_driver_diagnosed(
    emulator_factory: Callable[..., Any], browser: Browser, tmp_path: Path
) -> None:
    async with running_cluster(emulator_factory) as cluster:
        client = cluster.client
        await create(client, _app("done-app", **{RUN: "1"}))
        await create(client, _app("long-app", **{RUN: "100000"}))
        await create(
            client,
            _app(
                "crash-app",
                **{"kubespark.io/emulate-exit-code": "1", "kubespark.io/emulate-log": CRASH_LOG},
            ),
        )
        await create(
            client, _app("stuck-app", **{"kubespark.io/emulate-image-pull-failure": "true"})
        )
        await client.send(KubeRequest("POST", CONNECTS, (), JSON, spark_connect("sc")))
        async with running_ui(client) as ui:
            await browser.goto(ui.url)
            states = (
                "Object.fromEntries([...document.querySelectorAll('#apps tbody tr')]"
                ".map(r => [r.dataset.name, r.querySelector('.state').dataset.group + '|' "
                "+ r.querySelector('.reason').textContent]))"
            )
            want = (
                "(s => s['done-app']?.startsWith('completed') && s['long-app']?.startsWith("
                "'running') && s['crash-app']?.startsWith('failed') && "
                "s['stuck-app']?.startsWith('waiting|ImagePullBackOff') && "
                "s['sc']?.startsWith('running'))"
            )
            seen = await browser.wait_for(f"{want}({states}) && {states}", 120)
            assert "ImagePullBackOff" in seen["stuck-app"]
            # The Connect server's row: its kind, Ready, and its executors running of all.
            cells = await browser.wait_for(
                "(c => c.length && c)([...document.querySelectorAll('#apps tr[data-name=sc] td')]"
                ".map(c => c.textContent))"
            )
            assert cells[2:4] == ["SparkConnect", "Ready"]
            assert cells[6:8] == ["2/2", "4.0.1"]
            assert await browser.js("document.getElementById('actions')") is None
            if (shot := _shot("list.png")) is not None:
                await browser.screenshot(shot)
            # Live: a new application appears in the same page (no reload: the marker stays).
            await browser.js("window.noReload = 'still here'")
            await create(client, _app("late-app"))
            await browser.wait_for("!!document.querySelector('#apps tr[data-name=\"late-app\"]')")
            assert await browser.js("window.noReload") == "still here"
            # Keyboard: '/' focuses the search box; typing filters.
            await browser.key("/")
            assert await browser.js("document.activeElement.id") == "search"
            # The failed driver's page: its error from the log, and the doctor's reading.
            await browser.goto(ui.url + "#/app/SparkApplication/default/crash-app")
            # Read in one expression: a live update re-renders the page, so an element found by
            # one call may be replaced before the next.
            failed = await browser.wait_for(
                "((e, h) => e && h && {error: e.textContent, source: e.dataset.source,"
                " history: h.textContent})(document.getElementById('first-error'),"
                " document.getElementById('history'))",
                60,
            )
            assert "boom from the driver" in failed["error"]
            assert failed["source"].startswith("cluster: log of pod default/crash-app-driver")
            assert "FAILED" in failed["history"]
            assert await browser.js("document.getElementById('actions')") is None
            if (shot := _shot("app-failed.png")) is not None:
                await browser.screenshot(shot)
            await browser.goto(ui.url + "#/app/SparkApplication/default/stuck-app")
            waiting = await browser.wait_for("document.getElementById('waiting')?.textContent")
            assert "ImagePullBackOff" in waiting
            # The Connect server's page: the address clients dial, its log, the Spark UI.
            await browser.goto(ui.url + "#/app/SparkConnect/default/sc")
            address = await browser.wait_for(
                "document.getElementById('connect-address')?.textContent"
            )
            assert address == "sc://sc-server.default.svc:15002"
            assert await browser.wait_for("!!document.getElementById('spark-ui')")
            log = await browser.wait_for(
                "(t => t.includes('Spark Connect server started') && t)"
                "(document.getElementById('log')?.textContent || '')",
                30,
            )
            assert "Running Spark version 4.0.1" in log
            await browser.goto(ui.url + "#/cluster")
            row = await browser.wait_for(
                "document.querySelector('#compat tr[data-spark=\"3.5.1\"]')?.textContent"
            )
            assert "incompatible" in row and "compatible" in row.replace("incompatible", "")
            if (shot := _shot("cluster.png")) is not None:
                await browser.screenshot(shot)


async def test_actions_with_the_flag_and_the_api_servers_refusal(
    emulator_factory: Callable[..., Any], browser: Browser
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        await create(client, _app("target"))
        await set_status(client, "target", {"applicationState": {"state": "RUNNING"}})
        async with running_ui(client, allow_actions=True) as ui:
            await browser.goto(ui.url + "#/app/SparkApplication/default/target")
            await browser.wait_for(
                "!!document.querySelector('#actions button[data-action=suspend]')"
            )
            await browser.js(
                "document.querySelector('#actions button[data-action=suspend]').click()"
            )
            path = f"{API}/namespaces/default/sparkapplications/target"

            async def suspended() -> bool:
                obj = await client.send(KubeRequest("GET", path))
                return bool(obj["spec"].get("suspend"))

            await wait_until(suspended)
            # The page follows the change live: suspend gives way to resume.
            await browser.wait_for(
                "!!document.querySelector('#actions button[data-action=resume]')"
            )
            cluster.emulator.set_faults(Faults(fail_write=1, fail_write_code=403))
            await browser.js(
                "document.querySelector('#actions button[data-action=delete]').click()"
            )
            refusal = await browser.wait_for(
                "(t => t.startsWith('refused') && t)"
                "(document.getElementById('action-result').textContent)"
            )
            assert "HTTP 403" in refusal and "is forbidden: User" in refusal
            assert await client.send(KubeRequest("GET", path))  # still there


async def test_a_known_issue_is_diagnosed_with_ranked_remedies(
    emulator_factory: Callable[..., Any], browser: Browser
) -> None:
    async with running_cluster(emulator_factory, operator=False) as cluster:
        client = cluster.client
        await create(client, _app("ssa-app"))
        error = (
            "failed to create typed patch object: .spec.ports: element 0: associative list "
            'with keys has an element that omits key field "protocol"'
        )
        state = {"state": "SUBMISSION_FAILED", "errorMessage": error}
        await set_status(client, "ssa-app", {"applicationState": state})
        async with running_ui(client) as ui:
            await browser.goto(ui.url + "#/app/SparkApplication/default/ssa-app")
            remedies = await browser.wait_for(
                "[...document.querySelectorAll("
                "'#diagnosis [data-issue=spark35-ssa-old-k8s] ol.remedies li')]"
                ".map(li => li.textContent)",
                60,
            )
            assert remedies[0].startswith("[upgrade] Upgrade Kubernetes to 1.21")
            assert any(r.startswith("[downgrade]") for r in remedies[1:])
