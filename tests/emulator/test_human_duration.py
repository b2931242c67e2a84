"""The AGE column's rendering against apimachinery's own HumanDuration cases.

The expected strings are those of k8s.io/apimachinery pkg/util/duration/duration_test.go
(TestHumanDuration), plus the boundaries where the unit changes.
"""

from __future__ import annotations

import pytest

from kubespark.emulator.apiserver.tables import human_duration

HOUR, DAY = 3600, 86400


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (1, "1s"),
        (70, "70s"),
        (190, "3m10s"),
        (70 * 60, "70m"),
        (47 * HOUR, "47h"),
        (49 * HOUR, "2d1h"),
        ((8 * 24 + 2) * HOUR, "8d"),
        (367 * DAY, "367d"),
        ((365 * 2 * 24 + 25) * HOUR, "2y1d"),
        ((365 * 8 * 24 + 2) * HOUR, "8y"),
        # where the unit or the second unit changes
        (119.9, "119s"),
        (120, "2m"),
        (599, "9m59s"),
        (600, "10m"),
        (180 * 60, "3h"),
        (8 * HOUR + 60, "8h"),
        (7 * HOUR + 59 * 60, "7h59m"),
        (48 * HOUR, "2d"),
        (-0.5, "0s"),
        (-2, "<invalid>"),
    ],
)
def test_human_duration_reads_as_kubectl_shows_it(seconds: float, shown: str) -> None:
    assert human_duration(seconds) == shown
