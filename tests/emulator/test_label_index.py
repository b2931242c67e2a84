"""The Endpoints controller's label indexes answer exactly what a scan of the namespace would."""

from __future__ import annotations

import random

from kubespark.emulator.controllers.labelindex import LabelIndex, SelectorIndex, selects

KEYS = ("app", "spark-role", "spark-app-selector", "tier")
VALUES = ("a", "b", "c", "driver", "executor")


def _labels(rng: random.Random) -> dict[str, str]:
    return {k: rng.choice(VALUES) for k in rng.sample(KEYS, rng.randint(0, len(KEYS)))}


def test_indexes_agree_with_a_scan_through_puts_relabels_and_removals() -> None:
    rng = random.Random(7)
    pods: dict[tuple[str, str], dict[str, str]] = {}
    services: dict[tuple[str, str], dict[str, str]] = {}
    pod_index, service_index = LabelIndex(), SelectorIndex()
    for step in range(3000):
        ns, name = rng.choice(("default", "team")), f"o{rng.randrange(60)}"
        if step % 7 == 0:
            pods.pop((ns, name), None)
            pod_index.remove(ns, name)
            services.pop((ns, name), None)
            service_index.remove(ns, name)
            continue
        labels, selector = _labels(rng), _labels(rng)
        pods[(ns, name)] = labels
        pod_index.put(ns, name, labels)
        if selector:
            services[(ns, name)] = selector
        else:
            services.pop((ns, name), None)  # a Service without a selector has no Endpoints
        service_index.put(ns, name, selector)
        probe = _labels(rng)
        for where in ("default", "team"):
            expected = sorted(
                n for (s, n), lab in pods.items() if s == where and selects(probe, lab)
            )
            assert pod_index.matching(where, probe) == expected
            chosen = {n for (s, n), sel in services.items() if s == where and selects(sel, probe)}
            assert service_index.selecting(where, probe) == chosen


def test_an_empty_selector_selects_nothing() -> None:
    index = LabelIndex()
    index.put("default", "p", {"app": "a"})
    assert index.matching("default", {}) == []
    assert not selects({}, {"app": "a"})
