"""Resource release: nothing deleted stays in memory or in the bookkeeping."""

from __future__ import annotations

__all__ = ("ResourceTests",)

import pytest
from lsst.daf.butler import DatasetRef, DatasetTypeNotSupportedError
from lsst.daf.butler.datastore import Datastore

from .._factory import DatastoreFactory
from .._refs import ConformanceRefs
from .._samples import DeliberateError, TrackedRecord, live_tracked, sample_metrics
from .._views import StoredStateView


def _put_tracked(datastore: Datastore, ref: DatasetRef) -> str:
    """Put a tracked record and return its token; the caller keeps no reference to it."""
    token = f"tracked {ref.id}"
    values = sample_metrics(token=token)
    datastore.put(TrackedRecord(summary=values.summary, output=values.output, data=values.data), ref)
    return token


class ResourceTests:
    """Deleting a dataset lets go of it."""

    conformance_area = "resource release"

    def test_forget_releases_the_stored_object(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        token = _put_tracked(datastore, ref)
        datastore.forget([ref])
        assert live_tracked(token) == 0

    def test_remove_releases_the_stored_object(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        token = _put_tracked(datastore, ref)
        datastore.remove(ref)
        assert live_tracked(token) == 0

    def test_emptying_the_trash_releases_the_stored_objects(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        trashed = refs.refs(3)
        tokens = [_put_tracked(datastore, ref) for ref in trashed]
        datastore.trash(trashed)
        datastore.emptyTrash()
        assert [live_tracked(token) for token in tokens] == [0, 0, 0]

    def test_a_rolled_back_put_releases_the_object(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        with pytest.raises(DeliberateError), datastore.transaction():
            token = _put_tracked(datastore, ref)
            raise DeliberateError
        assert live_tracked(token) == 0

    def test_a_refused_put_keeps_nothing(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints={"reject": ["metric"]})
        ref = refs.ref()
        with pytest.raises(DatasetTypeNotSupportedError):
            _put_tracked(datastore, ref)
        assert live_tracked(f"tracked {ref.id}") == 0

    def test_forget_leaves_no_bookkeeping(
        self, datastore: Datastore, refs: ConformanceRefs, stored_state: StoredStateView
    ) -> None:
        forgotten, trashed_and_forgotten = refs.refs(2)
        datastore.put(sample_metrics(), forgotten)
        datastore.put(sample_metrics(), trashed_and_forgotten)
        datastore.trash(trashed_and_forgotten)
        datastore.forget([forgotten, trashed_and_forgotten])
        assert stored_state.stored_ids(datastore) == set()
        assert stored_state.trashed_ids(datastore) == set()

    def test_remove_leaves_no_bookkeeping(
        self, datastore: Datastore, refs: ConformanceRefs, stored_state: StoredStateView
    ) -> None:
        removed, kept = refs.refs(2)
        datastore.put(sample_metrics(), removed)
        datastore.put(sample_metrics(), kept)
        datastore.remove(removed)
        assert stored_state.stored_ids(datastore) == {kept.id}
        assert stored_state.trashed_ids(datastore) == set()

    def test_a_failed_put_leaves_no_bookkeeping(
        self, datastore: Datastore, refs: ConformanceRefs, stored_state: StoredStateView
    ) -> None:
        ref = refs.ref()
        with pytest.raises(TypeError):
            datastore.put(12345, ref)
        assert stored_state.stored_ids(datastore) == set()
