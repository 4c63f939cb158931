"""The public Hypothesis strategies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType, StorageClass
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.tests import DummyRegistry

from butler_testkit import strategies
from butler_testkit.factories import (
    CATALOGUE,
    INSTRUMENTS,
    DataIdFactory,
    RefFactory,
    file_datastore_config,
    installed_storage_classes,
)


@given(strategies.data_ids(["instrument", "exposure", "visit", "detector", "skymap", "tract"]))
def test_drawn_data_ids_are_valid_and_consistent(data_id):
    assert isinstance(data_id, DataCoordinate) and data_id.hasFull()
    preset = INSTRUMENTS[data_id["instrument"]]
    assert data_id["band"] == preset.physical_filters[data_id["physical_filter"]]
    assert data_id["exposure"] == data_id["visit"]
    assert preset.split_exposure_id(data_id["visit"])[0] == data_id["day_obs"]
    assert preset.detector(data_id["detector"]).purpose == "SCIENCE"
    assert 0 <= data_id["tract"] < preset.skymap.tract_max


@given(
    strategies.data_ids(["instrument", "visit"], instrument="HSC", expanded=True, physical_filter="HSC-I2")
)
def test_drawn_data_ids_keep_the_instrument_and_values_given(data_id):
    assert (data_id["instrument"], data_id["band"]) == ("HSC", "i")
    assert data_id.records["visit"].physical_filter == "HSC-I2"


def test_data_id_strategies_check_their_arguments_at_once():
    with pytest.raises(ValueError, match="not dimensions"):
        strategies.data_ids(["nope"])
    with pytest.raises(LookupError, match="No instrument preset named 'DECam'"):
        strategies.data_ids(instrument="DECam")
    with pytest.raises(LookupError, match="not a catalogue storage class"):
        strategies.datasets("StructuredData")


@given(strategies.storage_classes(composite=True))
def test_drawn_composites_are_installed_catalogue_composites(storage_class):
    assert isinstance(storage_class, StorageClass)
    assert storage_class.name in CATALOGUE and storage_class.isComposite()


@given(strategies.storage_class_names(composite=False))
def test_drawn_names_can_exclude_composites(name):
    assert not CATALOGUE[name].get("components")


def test_a_storage_class_that_is_not_installed_is_a_lookup_error_naming_the_fixture():
    with installed_storage_classes() as scope:
        scope.redefine("BtkDict", {"pytype": "dict"})
        del scope.factory._storageClasses["BtkDict"]
        with pytest.raises(LookupError, match="butler_storage_classes fixture"):
            strategies._installed("BtkDict")


@given(strategies.dataset_types())
def test_drawn_dataset_types_use_the_catalogue(dataset_type):
    assert isinstance(dataset_type, DatasetType)
    assert dataset_type.storageClass_name in CATALOGUE
    assert not dataset_type.isComponent()


@given(strategies.refs(expanded=True))
def test_drawn_refs_are_resolved_with_data_ids_of_their_dimensions(ref):
    assert isinstance(ref, DatasetRef)
    assert ref.dataId.dimensions == ref.datasetType.dimensions
    assert ref.dataId.hasRecords()
    assert ref.id.version == 4 and ref.run.startswith("u/")


def _same(got, expected):
    if isinstance(expected, np.ndarray):
        return got.dtype == expected.dtype and np.array_equal(got, expected)
    return type(got) is type(expected) and got == expected


def _disassembles_into_several_files(storage_class: StorageClass, value) -> bool:
    """Whether upstream's FileDatastore can read this composite back once disassembled.

    It writes nothing for a composite whose components are all None, and
    cannot read one written as a single component file (it takes one file
    for a whole dataset): test_round_trips pins both down.
    """
    if not storage_class.isComposite():
        return True
    present = [name for name in storage_class.components if getattr(value, name) is not None]
    return len(present) >= 2


@pytest.mark.parametrize("storage_class", sorted(CATALOGUE))
def test_drawn_datasets_round_trip_through_our_datastore_and_file_datastores(tmp_path, storage_class):
    # One set of datastores for all the examples: a FileDatastore costs more
    # to build than an example does to run.
    def bridges():
        # Each file datastore needs its own records table.
        return DummyRegistry().getDatastoreBridgeManager()

    ours = Datastore.fromConfig(DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore"}), bridges())
    whole = Datastore.fromConfig(file_datastore_config(tmp_path / "whole", disassemble=False), bridges())
    parts = Datastore.fromConfig(file_datastore_config(tmp_path / "parts", disassemble=True), bridges())
    refs = RefFactory(DataIdFactory(instrument="LSSTCam", seed=8), seed=8)

    @settings(max_examples=25)
    @given(strategies.datasets(storage_class))
    def round_trip(value):
        ref = refs.ref(f"ds_{storage_class}", storage_class=storage_class)
        stores = [ours, whole]
        if _disassembles_into_several_files(ref.datasetType.storageClass, value):
            stores.append(parts)
        for store in stores:
            store.put(value, ref)
            assert _same(store.get(ref), value), store

    round_trip()


@given(strategies.datasets())
def test_datasets_without_a_storage_class_draw_pairs(pair):
    name, value = pair
    assert name in CATALOGUE
    assert isinstance(value, (tuple, list, dict, int, object))


@given(st.data())
def test_every_catalogue_storage_class_has_a_dataset_strategy(data):
    name = data.draw(strategies.storage_class_names())
    value = data.draw(strategies.datasets(name))
    with installed_storage_classes() as scope:
        assert scope[name].validateInstance(value)
