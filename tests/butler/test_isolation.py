"""Two tests doing the same things to their repositories never see each other's.

Each check runs a generated module of two tests through pytester, in both
orders and under ``-n 2``: each test first asserts that its repository is
empty of what the other one creates, then creates its own.
"""

from __future__ import annotations

ISOLATION_MODULE = """
import pytest
from lsst.daf.butler import CollectionType, DatasetType


def _check_then_make(butler, who):
    other = "b" if who == "a" else "a"
    registry = butler.registry
    # Dimension records.
    assert [r.name for r in registry.queryDimensionRecords("instrument")] == []
    registry.insertDimensionData("instrument", {"name": f"Cam_{who}", "visit_max": 10})
    # Chained and calibration collections.
    assert "chain" not in butler.collections.query("*")
    assert "calib" not in butler.collections.query("*")
    butler.collections.register("calib", CollectionType.CALIBRATION)
    butler.collections.register("chain", CollectionType.CHAINED)
    butler.collections.redefine_chain("chain", [butler.run, "calib"])
    # A dataset type of the same name with a different storage class.
    storage_class = "BtkDict" if who == "a" else "BtkList"
    assert list(registry.queryDatasetTypes()) == []
    dataset_type = DatasetType("thing", butler.dimensions.conform(["instrument"]), storage_class)
    registry.registerDatasetType(dataset_type)
    # A dataset with the same data ID; the datastore records follow it.
    value = {"who": who} if who == "a" else [who]
    ref = butler.put(value, "thing", instrument=f"Cam_{who}")
    assert butler.get("thing", instrument=f"Cam_{who}") == value
    assert butler._datastore.stored_refs() == [ref]
    assert butler.get_dataset_type("thing").storageClass_name == storage_class


# In file order: a after nothing, b after a, b after b, a after b.
def test_a(butler):
    _check_then_make(butler, "a")


def test_b(butler):
    _check_then_make(butler, "b")


def test_b_again(butler):
    _check_then_make(butler, "b")


def test_a_again(butler):
    _check_then_make(butler, "a")
"""


def test_in_both_orders(pytester):
    pytester.makepyfile(test_isolation_module=ISOLATION_MODULE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_under_xdist(pytester):
    pytester.makepyfile(test_isolation_module=ISOLATION_MODULE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4)
