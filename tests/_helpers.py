"""Small helpers shared by our tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os

from lsst.resources import ResourcePath

from butler_testkit.factories import MetricsRecord

UPSTREAM_IN_MEMORY = "lsst.daf.butler.datastores.inMemoryDatastore.InMemoryDatastore"


def make_metrics(n: int = 5, *, use_none: bool = False) -> MetricsRecord:
    """A MetricsRecord with predictable contents."""
    if use_none:
        return MetricsRecord(summary={"answer": 42}, output=None, data=None)
    return MetricsRecord(summary={"answer": 42, "sigma": 0.5}, output={"written": True}, data=list(range(n)))


def put_samples(datastore, refs) -> dict:
    """Put one sample of every catalogue storage class; return their refs by storage class."""
    from butler_testkit.factories import CATALOGUE
    from tests.factories.test_round_trips import SAMPLES

    stored = {}
    for storage_class in sorted(CATALOGUE):
        ref = refs.ref(f"ds_{storage_class}", storage_class=storage_class)
        datastore.put(SAMPLES[storage_class], ref)
        stored[storage_class] = ref
    return stored


def directory_uri(path) -> ResourcePath:
    """A local directory as a ResourcePath, as retrieveArtifacts wants its destination."""
    return ResourcePath(path, forceDirectory=True)


def files_under(root) -> list[str]:
    """Every file (and link) below ``root``, relative to it, sorted."""
    return sorted(
        os.path.relpath(os.path.join(directory, name), root)
        for directory, _, names in os.walk(root)
        for name in names
    )
