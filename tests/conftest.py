"""Test-session ordering for ``make test`` (pytest -n 2 --maxschedchunk=1).

The 10-minute soak and the 200-fault sync test (on the real Bluetooth stack) take most of
the suite's time. The soak is
collected first, so that it starts at once on one worker, and the fault test last, so that it
runs on the other worker once that one has taken the short tests; collected where they fell,
the soak started after minutes of other tests (14.6 minutes on a clean clone), and with both
first they shared a worker (13.2); this way the suite takes about 10 minutes on 2 cores.
``--maxschedchunk=1`` (Makefile) hands out the short tests one at a time, so few of them queue
up behind the soak.
"""
from __future__ import annotations

import pytest

FIRST = "test_soak_"
LAST = "test_sync_survives_"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return 0 if item.name.startswith(FIRST) else 2 if item.name.startswith(LAST) else 1

    items.sort(key=rank)  # stable: the rest keep their order
