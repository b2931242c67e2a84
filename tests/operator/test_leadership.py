"""Leader election as kopf decides it, and namespace label selectors (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kubespark.errors import InputError
from kubespark.operator.connect import label_selector_matcher
from kubespark.operator.leadership import peering_decision

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def peer(priority: int, seen_ago: float, lifetime: int = 60) -> dict[str, object]:
    return {
        "priority": priority,
        "lifetime": lifetime,
        "lastseen": (NOW - timedelta(seconds=seen_ago)).isoformat(),
    }


def test_the_highest_live_priority_leads() -> None:
    status = {"me": peer(10, 0), "other": peer(5, 1)}
    assert peering_decision(status, identity="me", priority=10, now=NOW) == (True, None)
    active, wake = peering_decision(status, identity="other", priority=5, now=NOW)
    assert not active and wake == pytest.approx(60)


def test_a_dead_peer_does_not_block_and_equal_priorities_pause_both() -> None:
    assert peering_decision({"old": peer(99, 120)}, identity="me", priority=1, now=NOW)[0]
    assert not peering_decision({"twin": peer(7, 0)}, identity="me", priority=7, now=NOW)[0]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("team=spark", {"team": "spark"}, True),
        ("team==spark,env!=dev", {"team": "spark", "env": "prod"}, True),
        ("team=spark,env!=dev", {"team": "spark", "env": "dev"}, False),
        ("tier in (a, b)", {"tier": "b"}, True),
        ("tier notin (a,b)", {"tier": "b"}, False),
        ("spark", {"spark": ""}, True),
        ("!legacy", {"legacy": "1"}, False),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert label_selector_matcher(selector)(labels) is expected


def test_a_bad_selector_names_the_flag() -> None:
    with pytest.raises(InputError) as caught:
        label_selector_matcher("team=spark,!a=b")
    assert caught.value.where == "--namespace-selector"
