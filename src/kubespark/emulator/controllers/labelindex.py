"""Indexes the Endpoints controller reads instead of scanning a namespace on every event.

Owns two lookups over ``matchLabels``-style equality selectors, kept per namespace from the
store's events: the objects whose labels carry a selector (a Service's pods, a Service's
EndpointSlices) and the selectors that select a set of labels (the Services a pod event
concerns). Both answer exactly what a scan with the same test would; they only narrow the
candidates first, so one pod event costs what its own Services cost, not what every Service in
the namespace costs (with thousands of Spark applications, each with two Services, the scans
were most of the emulator's time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

__all__ = ["LabelIndex", "SelectorIndex", "selects"]

Pair = tuple[str, str, str]  # namespace, label key, label value


def selects(selector: Mapping[str, object], labels: Mapping[str, object]) -> bool:
    """An equality selector selects these labels (an empty selector selects nothing)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class LabelIndex:
    """The labels of one kind's objects, found by the selectors that select them."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, str], dict[str, str]] = {}
        self._by_pair: dict[Pair, set[str]] = defaultdict(set)

    def put(self, namespace: str, name: str, labels: Mapping[str, object]) -> None:
        self.remove(namespace, name)
        kept = {str(k): str(v) for k, v in labels.items()}
        self._labels[(namespace, name)] = kept
        for k, v in kept.items():
            self._by_pair[(namespace, k, v)].add(name)

    def remove(self, namespace: str, name: str) -> None:
        old = self._labels.pop((namespace, name), None)
        for k, v in (old or {}).items():
            names = self._by_pair.get((namespace, k, v))
            if names is not None:
                names.discard(name)
                if not names:
                    del self._by_pair[(namespace, k, v)]

    def matching(self, namespace: str, selector: Mapping[str, object]) -> list[str]:
        """Names (sorted, as the store lists them) of the objects ``selector`` selects."""
        if not selector:
            return []
        buckets = [self._by_pair.get((namespace, str(k), str(v))) for k, v in selector.items()]
        if any(b is None for b in buckets):
            return []
        smallest = min((b for b in buckets if b is not None), key=len)
        return sorted(
            n for n in smallest if selects(selector, self._labels.get((namespace, n)) or {})
        )


class SelectorIndex:
    """Selectors by name, found from the labels they select.

    Each selector is filed under one of its pairs, the one with the fewest selectors filed at
    the time (a Spark Service's own ``spark-app-selector``, not the ``spark-role`` every driver
    Service shares): a selector that selects some labels has all its pairs among them, so looking
    up every pair of the labels finds it.
    """

    def __init__(self) -> None:
        self._selectors: dict[tuple[str, str], tuple[dict[str, str], Pair]] = {}
        self._by_pair: dict[Pair, set[str]] = defaultdict(set)

    def put(self, namespace: str, name: str, selector: Mapping[str, object]) -> None:
        self.remove(namespace, name)
        kept = {str(k): str(v) for k, v in selector.items()}
        if not kept:
            return
        pairs = [(namespace, k, v) for k, v in kept.items()]
        pair = min(pairs, key=lambda p: len(self._by_pair.get(p, ())))
        self._selectors[(namespace, name)] = (kept, pair)
        self._by_pair[pair].add(name)

    def remove(self, namespace: str, name: str) -> None:
        old = self._selectors.pop((namespace, name), None)
        if old is None:
            return
        names = self._by_pair.get(old[1])
        if names is not None:
            names.discard(name)
            if not names:
                del self._by_pair[old[1]]

    def selecting(self, namespace: str, labels: Mapping[str, object]) -> set[str]:
        """Names of the selectors that select ``labels``."""
        found: set[str] = set()
        for k, v in labels.items():
            for name in self._by_pair.get((namespace, str(k), str(v)), ()):
                selector = self._selectors[(namespace, name)][0]
                if selects(selector, labels):
                    found.add(name)
        return found
