"""Construction and configuration: fromConfig, names, roots, clones, validation."""

from __future__ import annotations

__all__ = ("ConstructionTests",)

import json
from collections.abc import Mapping

import pytest
from lsst.daf.butler import Config, LookupKey, StorageClass, StorageClassFactory
from lsst.daf.butler.datastore import Datastore, DatastoreConfig, DatastoreValidationError
from lsst.resources import ResourcePath

from ...factories import make_bridge_manager
from .._capabilities import Capabilities, declared, requires
from .._factory import DatastoreFactory
from .._refs import ConformanceRefs
from .._samples import DeliberateError, sample_metrics

_NEW_ROOT = "/conformance/new/root"

# Which of a datastore and its clone acts first; the other acts next.
_DIRECTIONS = ("original-then-clone", "clone-then-original")


def _pair(datastore: Datastore, direction: str) -> tuple[Datastore, Datastore]:
    clone = datastore.clone(make_bridge_manager())
    return (datastore, clone) if direction == _DIRECTIONS[0] else (clone, datastore)


def _config_copy(datastore: Datastore) -> DatastoreConfig:
    return DatastoreConfig(datastore.config.toDict())


class ConstructionTests:
    """How a datastore is built, named, cloned and validated."""

    conformance_area = "construction"

    def test_building_from_its_own_config_gives_the_same_class(self, datastore: Datastore) -> None:
        rebuilt = Datastore.fromConfig(_config_copy(datastore), make_bridge_manager())
        assert type(rebuilt) is type(datastore)

    @declared("ephemeral")
    def test_is_ephemeral_as_declared(self, datastore: Datastore, capabilities: Capabilities) -> None:
        assert datastore.isEphemeral is capabilities.ephemeral

    def test_the_name_is_a_non_empty_string(self, datastore: Datastore) -> None:
        assert isinstance(datastore.name, str)
        assert datastore.name.strip()

    def test_the_roots_are_keyed_by_the_names(self, datastore: Datastore) -> None:
        assert datastore.names
        assert set(datastore.roots) == set(datastore.names)

    def test_two_datastores_have_different_names(self, datastore_factory: DatastoreFactory) -> None:
        first, second = datastore_factory(), datastore_factory()
        assert not set(first.names) & set(second.names)

    @requires("ephemeral")
    def test_an_ephemeral_datastore_has_no_root(self, datastore: Datastore) -> None:
        assert all(root is None for root in datastore.roots.values())

    @requires("persistent_artifacts")
    def test_a_persistent_datastore_has_a_root_uri(self, datastore: Datastore) -> None:
        assert any(isinstance(root, ResourcePath) for root in datastore.roots.values())

    @requires("ephemeral")
    def test_setting_the_config_root_of_an_ephemeral_datastore_changes_nothing(
        self, datastore: Datastore
    ) -> None:
        config = _config_copy(datastore)
        before = config.toDict()
        type(datastore).setConfigRoot(_NEW_ROOT, config, Config({"datastore": before}))
        assert config.toDict() == before

    @requires("persistent_artifacts")
    def test_setting_the_config_root_of_a_persistent_datastore_writes_it(self, datastore: Datastore) -> None:
        config = _config_copy(datastore)
        type(datastore).setConfigRoot(_NEW_ROOT, config, Config({"datastore": config.toDict()}))
        assert _NEW_ROOT in json.dumps(config.toDict(), default=str)

    def test_a_clone_has_the_same_class_and_config(self, datastore: Datastore) -> None:
        clone = datastore.clone(make_bridge_manager())
        assert type(clone) is type(datastore)
        assert clone.config.toDict() == datastore.config.toDict()

    @requires("ephemeral")
    def test_a_clone_and_its_original_see_each_others_puts(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        clone = datastore.clone(make_bridge_manager())
        from_original, from_clone = refs.refs(2)
        datastore.put(sample_metrics(token="original"), from_original)
        clone.put(sample_metrics(token="clone"), from_clone)
        assert clone.get(from_original) == sample_metrics(token="original")
        assert datastore.get(from_clone) == sample_metrics(token="clone")

    @requires("ephemeral")
    def test_a_clone_and_its_original_share_the_trash_for_life(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        clone = datastore.clone(make_bridge_manager())
        first, second = refs.refs(2)
        datastore.put(sample_metrics(), first)
        datastore.put(sample_metrics(), second)
        datastore.trash(first)
        clone.emptyTrash()
        assert not datastore.exists(first)
        # After one emptyTrash the trash must still be one trash.
        clone.trash(second)
        datastore.emptyTrash()
        assert not clone.exists(second)

    # Every operation that crosses the boundary between a clone and its
    # original, in both directions: they must share one bookkeeping.

    @requires("ephemeral")
    @pytest.mark.parametrize("direction", _DIRECTIONS)
    def test_a_dataset_put_through_one_is_known_to_the_other(
        self, datastore: Datastore, refs: ConformanceRefs, direction: str
    ) -> None:
        first, second = _pair(datastore, direction)
        stored, missing = refs.refs(2)
        first.put(sample_metrics(), stored)
        assert second.knows(stored)
        assert second.mexists([stored, missing]) == {stored: True, missing: False}
        assert second.get(stored.makeComponentRef("data")) == sample_metrics().data

    @requires("ephemeral")
    @pytest.mark.parametrize("direction", _DIRECTIONS)
    def test_a_dataset_put_through_one_is_removed_through_the_other(
        self, datastore: Datastore, refs: ConformanceRefs, direction: str
    ) -> None:
        first, second = _pair(datastore, direction)
        removed, kept = refs.refs(2)
        first.put(sample_metrics(), removed)
        first.put(sample_metrics(), kept)
        second.remove(removed)
        assert not first.exists(removed)
        assert not second.exists(removed)
        assert first.get(kept) == sample_metrics()
        first.put(sample_metrics(token="again"), removed)
        assert second.get(removed) == sample_metrics(token="again")

    @requires("ephemeral")
    @pytest.mark.parametrize("direction", _DIRECTIONS)
    def test_a_dataset_put_through_one_is_trashed_and_emptied_through_the_other(
        self, datastore: Datastore, refs: ConformanceRefs, direction: str
    ) -> None:
        first, second = _pair(datastore, direction)
        trashed, kept = refs.refs(2)
        first.put(sample_metrics(), trashed)
        first.put(sample_metrics(), kept)
        second.trash(trashed)
        second.emptyTrash()
        assert not first.exists(trashed)
        assert first.exists(kept)

    @requires("ephemeral")
    @pytest.mark.parametrize("direction", _DIRECTIONS)
    def test_a_dataset_trashed_through_one_is_emptied_through_the_other(
        self, datastore: Datastore, refs: ConformanceRefs, direction: str
    ) -> None:
        first, second = _pair(datastore, direction)
        trashed, kept = refs.refs(2)
        second.put(sample_metrics(), trashed)
        second.put(sample_metrics(), kept)
        first.trash(trashed)
        assert second.get(trashed) == sample_metrics()
        second.emptyTrash()
        assert not first.exists(trashed)
        assert not second.exists(trashed)
        assert second.exists(kept)

    @requires("ephemeral")
    @pytest.mark.parametrize("direction", _DIRECTIONS)
    def test_a_selection_trashed_through_one_is_emptied_through_the_other(
        self, datastore: Datastore, refs: ConformanceRefs, direction: str
    ) -> None:
        first, second = _pair(datastore, direction)
        selected, other = refs.refs(2)
        first.put(sample_metrics(), selected)
        first.put(sample_metrics(), other)
        first.trash([selected, other])
        second.emptyTrash(refs=[selected])
        assert first.mexists([selected, other]) == {selected: False, other: True}

    @requires("ephemeral")
    @pytest.mark.parametrize("direction", _DIRECTIONS)
    def test_a_dataset_put_through_one_is_forgotten_through_the_other(
        self, datastore: Datastore, refs: ConformanceRefs, direction: str
    ) -> None:
        first, second = _pair(datastore, direction)
        forgotten, kept = refs.refs(2)
        first.put(sample_metrics(), forgotten)
        first.put(sample_metrics(), kept)
        second.forget([forgotten])
        assert not first.knows(forgotten)
        assert not second.knows(forgotten)
        assert first.get(kept) == sample_metrics()

    @requires("ephemeral")
    @pytest.mark.parametrize("direction", _DIRECTIONS)
    def test_a_put_rolled_back_through_one_is_unknown_to_the_other(
        self, datastore: Datastore, refs: ConformanceRefs, direction: str
    ) -> None:
        first, second = _pair(datastore, direction)
        ref = refs.ref()
        with pytest.raises(DeliberateError), first.transaction():
            first.put(sample_metrics(), ref)
            raise DeliberateError
        assert not second.exists(ref)

    def test_validation_accepts_the_catalogue(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        factory = StorageClassFactory()
        storage_classes = [factory.getStorageClass(name) for name in ("BtkMetrics", "BtkDict", "BtkImage")]
        ref = refs.ref()
        datastore.validateConfiguration([*storage_classes, ref.datasetType, ref])

    def test_validation_rejects_a_storage_class_it_cannot_handle(self, datastore: Datastore) -> None:
        # Neither importable nor known to any formatter configuration.
        unusable = StorageClass(
            "BtkConformanceUnusable", pytype="butler_testkit.conformance._no_such_module.Nothing"
        )
        with pytest.raises(DatastoreValidationError):
            datastore.validateConfiguration([unusable])

    def test_validating_something_that_is_not_an_entity_raises(self, datastore: Datastore) -> None:
        with pytest.raises(DatastoreValidationError):
            datastore.validateConfiguration(["not a reference, dataset type or storage class"])  # type: ignore[list-item]

    def test_a_key_of_the_catalogue_validates(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        storage_class = StorageClassFactory().getStorageClass("BtkMetrics")
        datastore.validateKey(LookupKey(name="BtkMetrics"), storage_class)
        datastore.validateKey(LookupKey(name=ref.datasetType.name), ref)

    def test_lookup_keys_include_the_accepted_names(self, datastore_factory: DatastoreFactory) -> None:
        datastore = datastore_factory(constraints={"accept": ["metric_kept"], "reject": ["metric_refused"]})
        assert "metric_kept" in {key.name for key in datastore.getLookupKeys()}

    def test_lookup_keys_include_the_rejected_names(self, datastore_factory: DatastoreFactory) -> None:
        datastore = datastore_factory(constraints={"accept": ["metric_kept"], "reject": ["metric_refused"]})
        assert "metric_refused" in {key.name for key in datastore.getLookupKeys()}

    def test_opaque_table_definitions_are_a_mapping(self, datastore: Datastore) -> None:
        assert isinstance(datastore.get_opaque_table_definitions(), Mapping)
