"""Property: with faults injected at random, the state is that of the calls that took effect.

A call failed "before" (or a put failed midway, at "stored") took no effect;
one failed "after" took its whole effect, and its caller was told it failed.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType, DimensionUniverse
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.tests import DummyRegistry

from butler_testkit import Fault, FaultPlan, InjectedFaultError, InstrumentedDatastore
from butler_testkit.factories import installed_storage_classes

POOL = 5
# A put can fail before it starts, midway (stored, not yet returned) or after
# it completed; other calls before they do anything or after they are done.
PUT_POINTS = st.sampled_from([None, "before", "stored", "after"])
OTHER_POINTS = st.sampled_from([None, "before", "after"])


class FaultyDatastoreMachine(RuleBasedStateMachine):
    """Random calls, some failing on purpose, against a model of the successes."""

    @initialize(isolation=st.sampled_from(["copy", "reference"]))
    def setup(self, isolation):
        self._scope = installed_storage_classes()
        self._scope.__enter__()
        universe = DimensionUniverse()
        dataset_type = DatasetType("thing", universe.conform(["instrument"]), "BtkDict")
        data_id = DataCoordinate.standardize({"instrument": "Cam"}, universe=universe)
        self.refs = [
            DatasetRef(dataset_type, data_id, run="run", id=uuid.UUID(int=index + 1)) for index in range(POOL)
        ]
        config = DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore", "isolation": isolation})
        inner = Datastore.fromConfig(config, DummyRegistry().getDatastoreBridgeManager())
        self.datastore = InstrumentedDatastore.wrap(inner)
        self.stored: dict[uuid.UUID, dict] = {}
        self.trashed: set[uuid.UUID] = set()

    def teardown(self):
        if hasattr(self, "_scope"):
            self._scope.__exit__(None, None, None)

    def _call(self, operation, point, call):
        """Run ``call``, failing at ``point`` if given; return whether it took effect."""
        self.datastore.faults = None if point is None else FaultPlan(Fault(operation, point=point))
        try:
            call()
        except InjectedFaultError:
            assert point is not None, "a fault fired although none was planned"
            return point == "after"
        finally:
            self.datastore.faults = None
        assert point is None, f"a fault planned at {point!r} did not fire"
        return True

    @rule(index=st.integers(0, POOL - 1), value=st.integers(0, 99), point=PUT_POINTS)
    def put(self, index, value, point):
        ref = self.refs[index]
        if ref.id in self.stored:
            with pytest.raises(FileExistsError):
                self.datastore.put({"value": value}, ref)
            return
        if self._call("put", point, lambda: self.datastore.put({"value": value}, ref)):
            self.stored[ref.id] = {"value": value}

    @rule(index=st.integers(0, POOL - 1), point=OTHER_POINTS)
    def get(self, index, point):
        ref = self.refs[index]
        if ref.id not in self.stored:
            with pytest.raises(FileNotFoundError):
                self.datastore.get(ref)
            return
        result = []
        self._call("get", point, lambda: result.append(self.datastore.get(ref)))
        # A get failed after reading has nothing to hand back.
        assert result == ([] if point else [self.stored[ref.id]])

    @rule(indices=st.sets(st.integers(0, POOL - 1)), point=OTHER_POINTS)
    def trash(self, indices, point):
        refs = [self.refs[index] for index in indices]
        if self._call("trash", point, lambda: self.datastore.trash(refs)):
            self.trashed |= {ref.id for ref in refs if ref.id in self.stored}

    @rule(point=OTHER_POINTS)
    def empty_trash(self, point):
        if self._call("emptyTrash", point, lambda: self.datastore.emptyTrash()):
            for dataset_id in self.trashed:
                del self.stored[dataset_id]
            self.trashed.clear()

    @rule(indices=st.sets(st.integers(0, POOL - 1)), point=OTHER_POINTS)
    def forget(self, indices, point):
        refs = [self.refs[index] for index in indices]
        if self._call("forget", point, lambda: self.datastore.forget(refs)):
            for ref in refs:
                self.stored.pop(ref.id, None)
                self.trashed.discard(ref.id)

    @precondition(lambda self: bool(self.stored))
    @rule(data=st.data(), point=OTHER_POINTS)
    def remove(self, data, point):
        dataset_id = data.draw(st.sampled_from(sorted(self.stored)))
        ref = next(ref for ref in self.refs if ref.id == dataset_id)
        if self._call("remove", point, lambda: self.datastore.remove(ref)):
            del self.stored[dataset_id]
            self.trashed.discard(dataset_id)

    @invariant()
    def state_matches_the_successful_calls(self):
        if not hasattr(self, "datastore"):
            return
        inner = self.datastore.wrapped
        assert {ref.id for ref in inner.stored_refs()} == set(self.stored)
        assert {ref.id for ref in inner.trashed_refs()} == self.trashed
        for ref in self.refs:
            if ref.id in self.stored:
                assert inner.get(ref) == self.stored[ref.id]


FaultyDatastoreMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_faults_leave_the_state_of_the_successful_calls = FaultyDatastoreMachine.TestCase
