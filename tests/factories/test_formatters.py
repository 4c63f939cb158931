"""The catalogue's formatters: what they refuse, and how they say so."""

from __future__ import annotations

import numpy as np
import pytest
from lsst.daf.butler import FileDescriptor, Location, StorageClassFactory
from lsst.daf.butler.datastore import Datastore
from lsst.daf.butler.tests import DummyRegistry

from butler_testkit.factories import (
    ArrayFormatter,
    CatalogueJsonFormatter,
    DataIdFactory,
    ImageRecord,
    ImageRecordFormatter,
    RefFactory,
    file_datastore_config,
)


@pytest.fixture
def refs() -> RefFactory:
    return RefFactory(DataIdFactory(seed=2), seed=2)


def _formatter(cls, tmp_path, refs, storage_class: str, read_as: str | None = None):
    ref = refs.ref(f"ds_{storage_class}", storage_class=storage_class)
    factory = StorageClassFactory()
    descriptor = FileDescriptor(
        Location(str(tmp_path), "file" + (cls.default_extension or "")),
        storageClass=factory.getStorageClass(storage_class),
        readStorageClass=factory.getStorageClass(read_as or storage_class),
    )
    return cls(descriptor, ref=ref)


def test_json_refuses_values_json_cannot_hold(tmp_path, refs):
    formatter = _formatter(CatalogueJsonFormatter, tmp_path, refs, "BtkDict")
    with pytest.raises(TypeError, match="Cannot write a dict of storage class BtkDict as JSON"):
        formatter.encode({"a": {1, 2}})


def test_json_refuses_a_file_of_another_type(tmp_path, refs):
    formatter = _formatter(CatalogueJsonFormatter, tmp_path, refs, "BtkDict")
    with pytest.raises(TypeError, match="holds a JSON list, not a dict"):
        formatter.decode(b"[1, 2]")


def test_json_restores_tuples_dataclasses_and_models(tmp_path, refs):
    assert _formatter(CatalogueJsonFormatter, tmp_path, refs, "BtkTuple").decode(b"[1, 2]") == (1, 2)
    bbox = _formatter(CatalogueJsonFormatter, tmp_path, refs, "BtkBBox")
    assert bbox.decode(bbox.encode(bbox.file_descriptor.storageClass.pytype(1, 2, 3, 4))).width == 3


def test_arrays_are_never_pickled(tmp_path, refs):
    formatter = _formatter(ArrayFormatter, tmp_path, refs, "BtkArray")
    with pytest.raises(TypeError, match="without pickling"):
        formatter.encode(np.array([[object()]], dtype=object))
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    assert np.array_equal(formatter.decode(formatter.encode(array)), array)


def test_image_metadata_must_be_json(tmp_path, refs):
    formatter = _formatter(ImageRecordFormatter, tmp_path, refs, "BtkImage")
    with pytest.raises(TypeError, match="metadata as JSON"):
        formatter.encode(ImageRecord(image=np.zeros((2, 2)), metadata={"bad": object()}))


def test_an_image_without_some_planes_round_trips(tmp_path, refs):
    formatter = _formatter(ImageRecordFormatter, tmp_path, refs, "BtkImage")
    record = ImageRecord(variance=np.ones((2, 3), dtype=np.float32), metadata={"k": [1, 2]})
    assert formatter.decode(formatter.encode(record)) == record


def test_a_component_that_is_not_derived_cannot_be_read_from_a_component_file(tmp_path, refs):
    formatter = _formatter(CatalogueJsonFormatter, tmp_path, refs, "BtkList")
    with pytest.raises(ValueError, match="cannot read component 'summary'"):
        formatter._select([1, 2], "summary")


def test_a_failed_write_leaves_nothing_stored(tmp_path, refs):
    store = Datastore.fromConfig(file_datastore_config(tmp_path), DummyRegistry().getDatastoreBridgeManager())
    ref = refs.ref("plain", storage_class="BtkDict")
    with pytest.raises(RuntimeError, match="Failed to serialize") as caught:
        store.put({"a": {1, 2}}, ref)
    assert isinstance(caught.value.__cause__, TypeError)
    assert not store.exists(ref)
    assert not any(path.is_file() for path in tmp_path.rglob("*"))
