"""The code of docs/tutorial.md, which includes it from here, so that it is always tested."""

# Each section is shown on its own in the tutorial, with the imports it needs.
# ruff: noqa: E402

from __future__ import annotations

# --- function under test ---
import numpy as np


def measure_background(butler, image_ref, summary_ref, *, bbox=None):
    """Write the median of an image's unmasked pixels (in a box, if given)."""
    parameters = None if bbox is None else {"bbox": bbox}
    image = butler.get(image_ref, parameters=parameters)
    good = image.image[image.mask == 0]
    summary = {
        "median": float(np.median(good)),
        "n_good": int(good.size),
        "exposure_time": image.metadata["EXPTIME"],
    }
    butler.put(summary, summary_ref)
    return summary


# --- end function under test ---

# --- an image to test with ---
from butler_testkit.factories import BBox, ImageRecord


def make_image() -> ImageRecord:
    """A 4x6 image of 10s with one masked hot pixel at the origin."""
    image = np.full((4, 6), 10.0, dtype=np.float32)
    mask = np.zeros((4, 6), dtype=np.int32)
    image[0, 0], mask[0, 0] = 1000.0, 1
    return ImageRecord(image=image, mask=mask, variance=np.ones_like(image), metadata={"EXPTIME": 30.0})


# --- end an image to test with ---


# --- pytest ---
def test_measure_background(butler_datastore, butler_refs):
    calexp = butler_refs.ref("calexp", storage_class="BtkImage")
    background = butler_refs.ref("background", storage_class="BtkDict", data_id=calexp.dataId)
    butler_datastore.put(make_image(), calexp)

    summary = measure_background(butler_datastore, calexp, background)

    assert summary == {"median": 10.0, "n_good": 23, "exposure_time": 30.0}
    assert butler_datastore.get(background) == summary
    # What was stored is untouched: the function got a copy.
    assert butler_datastore.get(calexp) == make_image()


def test_measure_background_in_a_box(butler_datastore, butler_refs):
    calexp = butler_refs.ref("calexp", storage_class="BtkImage")
    background = butler_refs.ref("background", storage_class="BtkDict", data_id=calexp.dataId)
    butler_datastore.put(make_image(), calexp)

    summary = measure_background(butler_datastore, calexp, background, bbox=BBox(0, 0, 2, 2))

    assert summary["n_good"] == 3  # the hot pixel is in the box, and masked


# --- end pytest ---

# --- real butler ---
from lsst.daf.butler import Butler, Config, DatasetRef, DatasetType


def test_measure_background_with_a_butler(tmp_path, butler_data_ids, butler_storage_classes):
    config = Config({"datastore": {"cls": "butler_testkit.InMemoryDatastore"}})
    Butler.makeRepo(str(tmp_path), config=config)
    with Butler.from_config(str(tmp_path), writeable=True, run="u/me/background") as butler:
        data_id = butler_data_ids.data_id(["instrument", "visit", "detector"])
        butler_data_ids.insert_records(butler.registry)
        for name, storage_class in (("calexp", "BtkImage"), ("background", "BtkDict")):
            butler.registry.registerDatasetType(DatasetType(name, data_id.dimensions, storage_class))
        calexp = butler.put(make_image(), "calexp", data_id)
        background = DatasetRef(butler.get_dataset_type("background"), data_id, run=butler.run)

        measure_background(butler, calexp, background)

        assert butler.get("background", data_id)["median"] == 10.0


# --- end real butler ---

# --- unittest ---
import unittest

from butler_testkit.unittest import ButlerTestCaseMixin


class MeasureBackgroundTestCase(ButlerTestCaseMixin, unittest.TestCase):
    butler_instrument = "LSSTCam"

    def test_measure_background(self):
        calexp = self.butler_refs.ref("calexp", storage_class="BtkImage")
        background = self.butler_refs.ref("background", storage_class="BtkDict", data_id=calexp.dataId)
        self.butler_datastore.put(make_image(), calexp)

        summary = measure_background(self.butler_datastore, calexp, background)

        assert summary["median"] == 10.0
        assert calexp.dataId["instrument"] == "LSSTCam"


# --- end unittest ---
