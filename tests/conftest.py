"""Test-session ordering for ``make test`` (pytest -n 2).

The 10-minute soak and the 200-fault sync test take most of the suite's time. Collected first,
they start at once, one on each worker, while the short tests fill in around them; collected
where they fall, the soak started after minutes of other tests and the run took 14.6 minutes
instead of about 11. ``--maxschedchunk=1`` (Makefile) keeps later tests from queueing up behind
the soak.
"""
from __future__ import annotations

import pytest

LONGEST_FIRST = ("test_soak_", "test_sync_survives_")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.name.startswith(LONGEST_FIRST))  # stable: rest in order
