"""Deliberately broken datastores: each breaks one promise, and the suite must notice.

Every class is our InMemoryDatastore with one behaviour wrong, as a real
implementation might get it wrong. ``BROKEN`` names, for each, a test of
the conformance suite that must fail against it.
"""

from __future__ import annotations

from typing import Any

from lsst.daf.butler.datastore import DatasetRefURIs

from butler_testkit import InMemoryDatastore
from butler_testkit.datastore import DatastoreState, StoredDataset
from butler_testkit.datastore._refs import dataset_key


class LyingExists(InMemoryDatastore):
    """Says every dataset exists."""

    def exists(self, ref):
        return True


class LostTrash(InMemoryDatastore):
    """Forgets what it was asked to trash, so emptyTrash removes nothing."""

    def trash(self, ref, ignore_errors=True):
        return None


class NonAtomicPut(InMemoryDatastore):
    """Leaves what it was given behind when a put fails."""

    def put(self, inMemoryDataset, ref, provenance=None):
        try:
            super().put(inMemoryDataset, ref, provenance)
        except Exception:
            if dataset_key(ref) not in self._state.datasets:
                self._state.add(dataset_key(ref), StoredDataset(inMemoryDataset, ref))
            raise


class AliasingGet(InMemoryDatastore):
    """Hands out the stored object itself."""

    def get(self, ref, parameters=None, storageClass=None):
        if parameters is None and storageClass is None and not ref.isComponent():
            return self._stored_entry(ref, "get").obj
        return super().get(ref, parameters, storageClass)


class RollbackUndoesNothing(InMemoryDatastore):
    """Registers no undo, so a failed transaction keeps its work."""

    def _register_undo(self, name, undo):
        return None


class LeakyForget(InMemoryDatastore):
    """Keeps every object put in a cache that ``forget`` leaves alone.

    ``remove`` and ``emptyTrash`` empty the cache, so only ``forget`` leaks.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[Any, Any] = {}

    def put(self, inMemoryDataset, ref, provenance=None):
        super().put(inMemoryDataset, ref, provenance)
        self._kept[dataset_key(ref)] = inMemoryDataset

    def remove(self, ref):
        super().remove(ref)
        self._kept.pop(dataset_key(ref), None)

    def emptyTrash(self, ignore_errors=True, refs=None, dry_run=False):
        removed = super().emptyTrash(ignore_errors=ignore_errors, refs=refs, dry_run=dry_run)
        if not dry_run:
            self._kept = {key: obj for key, obj in self._kept.items() if key in self._state.datasets}
        return removed


class WrongErrorForUnknown(InMemoryDatastore):
    """Raises KeyError, not FileNotFoundError, for a dataset it does not have."""

    def get(self, ref, parameters=None, storageClass=None):
        if not self.knows(ref):
            raise KeyError(ref.id)
        return super().get(ref, parameters, storageClass)


class IgnoresParameters(InMemoryDatastore):
    """Drops read parameters on the floor."""

    def get(self, ref, parameters=None, storageClass=None):
        return super().get(ref, None, storageClass)


class WrongComponents(InMemoryDatastore):
    """Returns the summary whatever component is asked for."""

    def get(self, ref, parameters=None, storageClass=None):
        if ref.isComponent() and ref.datasetType.component() in ("data", "output"):
            ref = ref.makeCompositeRef().makeComponentRef("summary")
        return super().get(ref, parameters, storageClass)


class UnstableUris(InMemoryDatastore):
    """Names a dataset differently on every call."""

    _calls = 0

    def getURIs(self, ref, predict=False):
        type(self)._calls += 1
        uris = super().getURIs(ref, predict)
        return DatasetRefURIs(uris.primaryURI.replace(query=f"call={self._calls}"), {})


class IgnoresConstraints(InMemoryDatastore):
    """Stores whatever its constraints reject."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._constraints_cache.accepts = lambda ref: True


class UnsharedClone(InMemoryDatastore):
    """Gives a clone its own, empty, state."""

    def clone(self, bridgeManager):
        return type(self)(self.config, bridgeManager)


class OverwritingReput(InMemoryDatastore):
    """Replaces a stored dataset when it is put again."""

    def put(self, inMemoryDataset, ref, provenance=None):
        self._state.pop([dataset_key(ref)])
        super().put(inMemoryDataset, ref, provenance)


_ONE_STATE = DatastoreState()


class SharedAcrossInstances(InMemoryDatastore):
    """Keeps every instance's datasets in one process-wide state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Neither the repository's objects nor its registry's records: one
        # state for every instance, whatever root or registry it was given.
        kwargs.pop("repository", None)
        kwargs.pop("scope", None)
        kwargs["state"] = _ONE_STATE
        super().__init__(*args, **kwargs)


class EmptiesTheWholeTrash(InMemoryDatastore):
    """Ignores the selection given to emptyTrash."""

    def emptyTrash(self, ignore_errors=True, refs=None, dry_run=False):
        return super().emptyTrash(ignore_errors, None, dry_run)


BROKEN: dict[str, str] = {
    "LyingExists": "test_an_unknown_dataset_neither_exists_nor_is_known",
    "LostTrash": "test_a_trashed_dataset_is_readable_until_the_trash_is_emptied",
    "NonAtomicPut": "test_a_failed_put_stores_nothing",
    "AliasingGet": "test_mutating_a_retrieved_object_changes_nothing_stored",
    "RollbackUndoesNothing": "test_a_failed_transaction_undoes_its_puts_and_propagates",
    "LeakyForget": "test_forget_releases_the_stored_object",
    "WrongErrorForUnknown": "test_getting_an_unknown_dataset_raises_file_not_found",
    "IgnoresParameters": "test_a_slice_of_the_composite_slices_data_only",
    "WrongComponents": "test_a_component_equals_the_parents_attribute[data]",
    "UnstableUris": "test_uris_are_the_same_on_every_call",
    "IgnoresConstraints": "test_a_rejected_dataset_type_raises_on_put_and_is_not_stored",
    "UnsharedClone": "test_a_clone_and_its_original_see_each_others_puts",
    "OverwritingReput": "test_putting_a_stored_dataset_again_raises_file_exists",
    "SharedAcrossInstances": "test_two_datastores_share_nothing",
    "EmptiesTheWholeTrash": "test_emptying_a_selection_removes_only_the_selection",
}
"""Broken datastore class name -> a conformance test that must fail against it."""
