"""The store's label index: a list or delete-collection by label finds what a scan would find.

The index narrows candidates (the objects carrying one required label) before the selector is
matched, so its answer must be the scan's exactly: the same objects, in the same order, through
creates, relabels and removals, for every selector form (required pairs or none).
"""

from __future__ import annotations

import random
from typing import Any

from emu_helpers import Served, configmap

from kubespark.emulator.apiserver.selectors import LabelSelector, parse_label_selector
from kubespark.emulator.apiserver.store import Store

KEYS = ("app", "spark-role", "spark-app-selector", "tier")
VALUES = ("a", "b", "c", "driver", "executor")
NAMESPACES = ("default", "team")
BUCKET = ("", "configmaps")


def _labels(rng: random.Random) -> dict[str, str]:
    return {k: rng.choice(VALUES) for k in rng.sample(KEYS, rng.randint(0, len(KEYS)))}


def _selector(rng: random.Random) -> str:
    """One to three requirements of any form, equality ones (the index's) most often."""
    parts = []
    for key in rng.sample(KEYS, rng.randint(1, 3)):
        value = rng.choice(VALUES)
        parts.append(
            rng.choice(
                (
                    f"{key}={value}",
                    f"{key}=={value}",
                    f"{key} in ({value})",
                    f"{key} in ({value},{rng.choice(VALUES)})",
                    f"{key}!={value}",
                    f"{key} notin ({value})",
                    key,
                    f"!{key}",
                )
            )
        )
    return ",".join(parts)


def _scan(store: Store, namespace: str | None, selector: LabelSelector) -> list[Any]:
    return [
        o for o in store.items(BUCKET, namespace) if selector.matches(o["metadata"].get("labels"))
    ]


def _indexed(store: Store, namespace: str | None, selector: LabelSelector) -> list[Any]:
    found = store.labelled(BUCKET, namespace, selector.required)
    candidates = store.items(BUCKET, namespace) if found is None else found
    return [o for o in candidates if selector.matches(o["metadata"].get("labels"))]


def test_required_pairs_are_the_equalities() -> None:
    selector = parse_label_selector("a=1,b==2,c in (3),d in (4,5),e!=6,f notin (7),g,!h,i=")
    assert selector.required == (("a", "1"), ("b", "2"), ("c", "3"), ("i", ""))
    assert parse_label_selector("").required == ()


def test_store_index_agrees_with_a_scan_through_puts_relabels_and_removals() -> None:
    rng = random.Random(13)
    store = Store()
    narrowed = 0
    for step in range(3000):
        ns, name = rng.choice(NAMESPACES), f"o{rng.randrange(60)}"
        if step % 7 == 0:
            store.remove(BUCKET, ns, name)
        else:
            meta: dict[str, Any] = {"name": name, "namespace": ns}
            if rng.random() < 0.9:  # and some objects with no labels at all
                meta["labels"] = _labels(rng)
            store.put(BUCKET, {"metadata": meta, "data": {"step": str(step)}})
        selector = parse_label_selector(_selector(rng))
        narrowed += bool(selector.required)
        for where in (*NAMESPACES, None):
            assert _indexed(store, where, selector) == _scan(store, where, selector)
    assert narrowed > 1000  # the index, not the scan, answered most of them


async def test_lists_and_delete_collection_over_http_match_the_scan(api: Served) -> None:
    _, client = api
    rng = random.Random(31)
    resp = await client.post("/api/v1/namespaces", json={"metadata": {"name": "team"}})
    assert resp.status_code == 201, resp.text
    for step in range(150):
        ns, name = rng.choice(NAMESPACES), f"c{rng.randrange(40)}"
        path = f"/api/v1/namespaces/{ns}/configmaps"
        if step % 9 == 0:
            await client.delete(f"{path}/{name}")
            continue
        body = configmap(name, **_labels(rng))
        if (await client.post(path, json=body)).status_code == 409:  # a relabel
            resp = await client.put(f"{path}/{name}", json=body)
            assert resp.status_code == 200, resp.text

    async def listed(path: str, selector: str = "") -> list[tuple[str, str]]:
        params = {"labelSelector": selector} if selector else {}
        resp = await client.get(path, params=params)
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        return [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]

    everything = (await client.get("/api/v1/configmaps")).json()["items"]
    for _ in range(60):
        text = _selector(rng)
        selector = parse_label_selector(text)
        for path, where in (
            ("/api/v1/configmaps", None),
            *((f"/api/v1/namespaces/{ns}/configmaps", ns) for ns in NAMESPACES),
        ):
            expected = [
                (i["metadata"]["namespace"], i["metadata"]["name"])
                for i in everything
                if where in (None, i["metadata"]["namespace"])
                and selector.matches(i["metadata"].get("labels"))
            ]
            assert await listed(path, text) == expected, text

    # delete-collection by label: exactly what the scan selects goes, the rest stays.
    team = "/api/v1/namespaces/team/configmaps"
    before = await listed(team)
    doomed = await listed(team, "tier=a")
    resp = await client.delete(team, params={"labelSelector": "tier=a"})
    assert resp.status_code == 200, resp.text
    assert [("team", i["metadata"]["name"]) for i in resp.json()["items"]] == doomed
    assert await listed(team) == [key for key in before if key not in doomed]
    assert await listed(team, "tier=a") == []
