"""A datastore of one's own offers the "stored" fault point (the example of docs/instrumented.md)."""

# The example comes first, with the imports it needs, as the docs show it.
# ruff: noqa: E402

from __future__ import annotations

# --- stored point hook ---
from lsst.daf.butler.datastores.inMemoryDatastore import InMemoryDatastore as UpstreamInMemoryDatastore

from butler_testkit.datastore import checking_stored_point, stored_point_check


class HookedDatastore(UpstreamInMemoryDatastore):
    """Upstream's in-memory datastore, able to fail midway through a put."""

    def at_stored_point(self, check):
        return checking_stored_point(self, check)

    def put(self, inMemoryDataset, ref, provenance=None):
        super().put(inMemoryDataset, ref, provenance=provenance)
        check = stored_point_check(self)  # None unless a wrapper's put installed one
        if check is not None:
            try:
                check(ref)
            except BaseException:
                self.forget([ref])  # nothing half stored
                raise


# --- end stored point hook ---

import pytest
from lsst.daf.butler.datastore import DatastoreConfig

from butler_testkit import Fault, FaultPlan, InjectedFaultError, InstrumentedDatastore
from butler_testkit.datastore import StoredPointHook
from tests._helpers import make_metrics


def test_a_datastore_of_our_own_fails_inside_its_put(registry, make_ref, monkeypatch):
    hooked = HookedDatastore(DatastoreConfig({}), registry.getDatastoreBridgeManager())
    assert isinstance(hooked, StoredPointHook)
    instrumented = InstrumentedDatastore.wrap(hooked, faults=FaultPlan(Fault("put", point="stored")))
    monkeypatch.setattr(instrumented, "_undo_put", lambda ref: pytest.fail("the wrapper had to undo"))
    with pytest.raises(InjectedFaultError):
        instrumented.put(make_metrics(), ref := make_ref())
    assert not hooked.exists(ref)
    hooked.put(make_metrics(), ref)  # directly: no fault
    assert hooked.exists(ref)
