"""The end-to-end tests keep kubespark's discovery cache in a temporary folder of their own."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_discovery_cache(own_caches: None) -> None:
    """Every end-to-end test uses the root conftest's ``own_caches``."""
