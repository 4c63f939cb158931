"""Deletion and trash: remove, trash, emptyTrash, forget."""

from __future__ import annotations

__all__ = ("DeletionTests",)

import pytest
from lsst.daf.butler.datastore import Datastore
from lsst.resources import ResourcePath

from .._capabilities import requires
from .._refs import ConformanceRefs
from .._samples import sample_metrics
from .._views import StoredStateView


class DeletionTests:
    """Datasets go away when, and only when, they should."""

    conformance_area = "deletion and trash"

    def test_a_removed_dataset_is_gone(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.remove(ref)
        assert not datastore.exists(ref)
        assert not datastore.knows(ref)
        with pytest.raises(FileNotFoundError):
            datastore.get(ref)

    @requires("predicted_uris")
    def test_after_removal_a_uri_is_only_a_prediction(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.remove(ref)
        assert all(uri.fragment == "predicted" for uri in datastore.getURIs(ref, predict=True).iter_all())

    def test_removing_twice_raises_file_not_found(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.remove(ref)
        with pytest.raises(FileNotFoundError):
            datastore.remove(ref)

    def test_removing_leaves_other_datasets_alone(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        removed, kept = refs.refs(2)
        datastore.put(sample_metrics(token="removed"), removed)
        datastore.put(sample_metrics(token="kept"), kept)
        datastore.remove(removed)
        assert datastore.get(kept) == sample_metrics(token="kept")

    def test_trashing_an_unknown_dataset_raises_unless_errors_are_ignored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        with pytest.raises(FileNotFoundError):
            datastore.trash(refs.ref(), ignore_errors=False)

    def test_trashing_an_unknown_dataset_with_errors_ignored_does_nothing(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored, unknown = refs.refs(2)
        datastore.put(sample_metrics(), stored)
        datastore.trash(unknown, ignore_errors=True)
        datastore.emptyTrash()
        assert datastore.exists(stored)

    def test_trashing_unknown_datasets_in_bulk_does_not_raise(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        datastore.trash(refs.refs(3), ignore_errors=False)

    def test_trashing_an_unknown_dataset_does_not_doom_a_later_put(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.trash([ref])
        datastore.put(sample_metrics(), ref)
        datastore.emptyTrash()
        assert datastore.get(ref) == sample_metrics()

    def test_a_trashed_dataset_is_readable_until_the_trash_is_emptied(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.trash(ref)
        assert datastore.exists(ref)
        assert datastore.get(ref) == sample_metrics()
        datastore.emptyTrash()
        assert not datastore.exists(ref)
        with pytest.raises(FileNotFoundError):
            datastore.get(ref)

    def test_emptying_the_trash_removes_the_trashed_and_nothing_else(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        trashed, kept = refs.refs(3), refs.refs(2)
        for ref in trashed + kept:
            datastore.put(sample_metrics(), ref)
        datastore.trash(trashed)
        datastore.emptyTrash()
        assert datastore.mexists(trashed + kept) == {ref: ref in kept for ref in trashed + kept}

    def test_trashing_twice_is_harmless(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.trash(ref)
        datastore.trash(ref)
        datastore.emptyTrash()
        assert not datastore.exists(ref)

    def test_emptying_a_selection_removes_only_the_selection(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        selected, other = refs.refs(2), refs.refs(2)
        for ref in selected + other:
            datastore.put(sample_metrics(), ref)
        datastore.trash(selected + other)
        datastore.emptyTrash(refs=selected)
        assert datastore.mexists(selected + other) == {ref: ref in other for ref in selected + other}

    def test_emptying_an_empty_selection_removes_nothing(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.trash(ref)
        datastore.emptyTrash(refs=[])
        assert datastore.exists(ref)

    def test_a_selected_dataset_that_is_not_trashed_stays(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.emptyTrash(refs=[ref])
        assert datastore.exists(ref)

    def test_a_dry_run_removes_nothing(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.trash(ref)
        datastore.emptyTrash(dry_run=True)
        assert datastore.get(ref) == sample_metrics()
        datastore.emptyTrash()
        assert not datastore.exists(ref)

    def test_a_forgotten_dataset_is_unknown_and_forgetting_again_does_nothing(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        forgotten, kept = refs.refs(2)
        datastore.put(sample_metrics(), forgotten)
        datastore.put(sample_metrics(), kept)
        datastore.forget([forgotten])
        assert not datastore.exists(forgotten)
        assert not datastore.knows(forgotten)
        datastore.forget([forgotten])
        assert datastore.exists(kept)

    def test_forgetting_an_unknown_dataset_does_nothing(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored, unknown = refs.refs(2)
        datastore.put(sample_metrics(), stored)
        datastore.forget([unknown])
        assert datastore.exists(stored)

    def test_emptying_the_trash_returns_a_set_of_uris(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.trash(ref)
        for removed in (datastore.emptyTrash(dry_run=True), datastore.emptyTrash()):
            assert isinstance(removed, set)
            assert all(isinstance(uri, ResourcePath) for uri in removed)

    @requires("persistent_artifacts")
    def test_the_artifact_outlives_forget(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        uris = list(datastore.getURIs(ref).iter_all())
        datastore.forget([ref])
        assert uris
        assert all(uri.exists() for uri in uris)

    @requires("persistent_artifacts")
    def test_emptying_the_trash_returns_the_removed_uris(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        uris = set(datastore.getURIs(ref).iter_all())
        datastore.trash(ref)
        assert datastore.emptyTrash(dry_run=True) == uris
        assert all(uri.exists() for uri in uris)
        assert datastore.emptyTrash() == uris
        assert not any(uri.exists() for uri in uris)

    def test_the_trash_holds_exactly_the_trashed_datasets(
        self, datastore: Datastore, refs: ConformanceRefs, stored_state: StoredStateView
    ) -> None:
        trashed, kept = refs.refs(2)
        datastore.put(sample_metrics(), trashed)
        datastore.put(sample_metrics(), kept)
        datastore.trash(trashed)
        assert stored_state.trashed_ids(datastore) == {trashed.id}
        assert stored_state.stored_ids(datastore) == {trashed.id, kept.id}
        datastore.emptyTrash()
        assert stored_state.trashed_ids(datastore) == set()
        assert stored_state.stored_ids(datastore) == {kept.id}
