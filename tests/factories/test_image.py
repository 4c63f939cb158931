"""The image-like composite: its box, its record and their delegates."""

from __future__ import annotations

import numpy as np
import pytest

from butler_testkit.factories import BBox, ImageRecord


def _record(rows: int = 4, columns: int = 5) -> ImageRecord:
    image = np.arange(rows * columns, dtype=np.float32).reshape(rows, columns)
    return ImageRecord(
        image=image,
        mask=np.zeros((rows, columns), dtype=np.int32),
        variance=np.ones((rows, columns), dtype=np.float32),
        metadata={"EXPTIME": 30.0},
    )


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((0, 0, 0, 3), ValueError, "size must be positive"),
        ((-1, 0, 2, 3), ValueError, "origin must not be negative"),
        ((0, 0, 2.5, 3), TypeError, "width must be an int"),
        ((True, 0, 2, 3), TypeError, "x0 must be an int"),
    ],
)
def test_bbox_validates_its_values(args, error, message):
    with pytest.raises(error, match=message):
        BBox(*args)


def test_bbox_slices_and_shape():
    box = BBox(1, 2, 3, 4)
    assert box.shape == (4, 3)
    assert box.slices == (slice(2, 6), slice(1, 4))
    assert BBox(np.int64(1), 0, 1, 1).x0 == 1 and type(BBox(np.int64(1), 0, 1, 1).x0) is int


@pytest.mark.parametrize(
    ("planes", "error", "message"),
    [
        ({"image": [[1.0]]}, TypeError, "image must be a numpy array"),
        ({"image": np.zeros(3)}, ValueError, "must be 2-d"),
        ({"image": np.zeros((2, 2)), "mask": np.zeros((2, 3))}, ValueError, "differ in shape"),
        ({"metadata": ["not", "a", "dict"]}, TypeError, "metadata must be a dict"),
    ],
)
def test_image_record_validates_its_planes(planes, error, message):
    with pytest.raises(error, match=message):
        ImageRecord(**planes)


def test_image_record_equality_compares_values_and_dtypes():
    assert _record() == _record()
    other = _record()
    other.image = other.image.astype(np.float64)
    assert _record() != other
    other = _record()
    other.metadata["EXPTIME"] = 15.0
    assert _record() != other
    assert ImageRecord() == ImageRecord()
    assert _record() != ImageRecord(image=_record().image)


def test_derived_shape_and_bbox():
    record = _record(3, 7)
    assert record.shape == (3, 7)
    assert record.bbox == BBox(0, 0, 7, 3)
    assert ImageRecord(metadata={"a": 1}).shape is None


def test_bbox_parameter_crops_every_plane_and_leaves_the_input_alone(storage_classes):
    from lsst.daf.butler import StorageClassFactory

    delegate = StorageClassFactory().getStorageClass("BtkImage").delegate()
    record = _record()
    cropped = delegate.handleParameters(record, {"bbox": BBox(1, 1, 2, 3)})
    assert cropped.shape == (3, 2)
    assert np.array_equal(cropped.image, record.image[1:4, 1:3])
    assert cropped.metadata == record.metadata
    assert record == _record()
    cropped.image[0, 0] = -1
    assert record == _record()


@pytest.mark.parametrize(
    ("bbox", "error", "message"),
    [
        ((1, 1, 2, 2), TypeError, "must be a butler_testkit.factories.BBox"),
        (BBox(4, 0, 2, 2), ValueError, "does not fit inside a 5x4 image"),
        (BBox(0, 3, 1, 2), ValueError, "does not fit"),
    ],
)
def test_a_bad_bbox_parameter_is_a_typed_error(storage_classes, bbox, error, message):
    from lsst.daf.butler import StorageClassFactory

    for name, value in (("BtkImage", _record()), ("BtkArray", _record().image)):
        delegate = StorageClassFactory().getStorageClass(name).delegate()
        with pytest.raises(error, match=message):
            delegate.handleParameters(value, {"bbox": bbox})


def test_a_bad_bbox_on_get_changes_nothing_stored(datastore, make_ref):
    ref = make_ref(storage_class="BtkImage")
    datastore.put(_record(), ref)
    with pytest.raises(ValueError, match="does not fit"):
        datastore.get(ref, parameters={"bbox": BBox(0, 0, 10, 10)})
    assert datastore.get(ref) == _record()


def test_assembly_from_some_components_and_refusal_of_unknown_ones(storage_classes):
    from lsst.daf.butler import StorageClassFactory

    delegate = StorageClassFactory().getStorageClass("BtkImage").delegate()
    partial = delegate.assemble({"variance": _record().variance})
    assert partial.image is None and partial.shape == (4, 5) and partial.metadata == {}
    with pytest.raises(ValueError, match=r"unknown components \['shape'\]"):
        delegate.assemble({"shape": (4, 5)})
    assert delegate.selectResponsibleComponent("bbox", {"mask", "metadata"}) == "mask"
    with pytest.raises(ValueError, match="Cannot compute component 'bbox'"):
        delegate.selectResponsibleComponent("bbox", {"metadata"})


def test_copies_share_nothing(storage_classes):
    from lsst.daf.butler import StorageClassFactory

    delegate = StorageClassFactory().getStorageClass("BtkImage").delegate()
    record = _record()
    copied = delegate.copy(record)
    copied.image[0, 0] = 99
    copied.metadata["EXPTIME"] = 1.0
    assert record == _record()
