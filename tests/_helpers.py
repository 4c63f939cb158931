"""Small helpers shared by our tests (fixtures live in conftest.py)."""

from __future__ import annotations

from butler_testkit.factories import MetricsRecord

UPSTREAM_IN_MEMORY = "lsst.daf.butler.datastores.inMemoryDatastore.InMemoryDatastore"


def make_metrics(n: int = 5, *, use_none: bool = False) -> MetricsRecord:
    """A MetricsRecord with predictable contents."""
    if use_none:
        return MetricsRecord(summary={"answer": 42}, output=None, data=None)
    return MetricsRecord(summary={"answer": 42, "sigma": 0.5}, output={"written": True}, data=list(range(n)))
