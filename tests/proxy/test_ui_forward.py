"""``ui-proxy``'s local forward: each request under one Service's proxy path, with the
kubeconfig's credentials and nothing of the browser's.

Against the recording upstream (real HTTP/1.1 on 127.0.0.1), which echoes what arrived; the
API server's own proxy subresource is tested with the emulator.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from proxy_upstream import TOKEN, FakeUpstream

from kubespark.kube.config import load_connection
from kubespark.proxy.messages import ClientRequest
from kubespark.proxy.uiforward import UIForward, forward_ui
from kubespark.proxy.upstream import Upstream

PROXY = "/api/v1/namespaces/default/services/spark-pi-driver-svc:4040/proxy/"


async def test_requests_go_under_the_proxy_path_with_the_kubeconfigs_token(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    connection = load_connection(upstream.kubeconfig(tmp_path / "kc.yaml", token=TOKEN))
    async with (
        forward_ui(connection, PROXY) as (handler, url),
        httpx.AsyncClient(base_url=url, timeout=10) as browser,
    ):
        assert url.startswith("http://127.0.0.1:")
        jobs = await browser.get("/jobs/job/", params={"id": "3"})
        assert jobs.status_code == 200
        echo = jobs.json()
        assert echo["target"] == PROXY + "jobs/job/?id=3"
        assert echo["headers"]["authorization"] == [f"Bearer {TOKEN}"]
        # A link the API server already rewrote under the proxy path goes as it is.
        again = await browser.get(PROXY + "stages/")
        assert again.json()["target"] == PROXY + "stages/"
        # The browser's own credentials never reach the API server: the kubeconfig's do.
        forged = await browser.get("/", headers={"Authorization": "Bearer someone-else"})
        assert forged.json()["headers"]["authorization"] == [f"Bearer {TOKEN}"]
        posted = await browser.post("/jobs/job/kill/", data={"id": "3"})
        assert posted.json()["method"] == "POST" and posted.json()["body"] == "id=3"
        # Nothing outside the Service's proxy path is reachable.
        climbing = await browser.get("/%2e%2e/%2e%2e/secrets")
        assert climbing.status_code == 400 and "leaves the Spark UI" in climbing.text
        assert handler.requests == 5
    assert all(s.target.startswith(PROXY) for s in upstream.seen)


async def test_a_redirect_to_the_api_server_stays_on_the_local_port(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    connection = load_connection(upstream.kubeconfig(tmp_path / "kc.yaml", token=TOKEN))
    handler = UIForward(Upstream(connection), PROXY)
    location = (upstream.url + PROXY + "jobs/").encode()
    assert handler._local(b"location", location) == (b"location", (PROXY + "jobs/").encode())
    assert handler._local(b"location", b"/jobs/") == (b"location", b"/jobs/")
    request = ClientRequest("GET", b"/environment/", ())
    assert handler.target_of(request) == (PROXY + "environment/").encode()
    await handler.upstream.aclose()
