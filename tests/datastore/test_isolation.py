"""Isolation: no mutation of a put object, a got object or a component reaches what is stored.

For every kind of object (plain data, dataclasses, pydantic models, arrays,
composites, a type whose derived component only its formatter reads) and
every way of reading it (whole, component, derived component, parameters,
storage-class override), under each isolating mode.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from lsst.daf.butler import StorageClass, StorageClassFactory

from butler_testkit import strategies
from butler_testkit.factories import BBox, ImageRecord, Ledger, MetricsRecord, MetricsRecordModel
from tests.datastore._mutation import same, scramble

# Storage classes of this module only: arrays stored by a storage class
# without a delegate go through the pickle, their memory out of band.
_PLAIN_ARRAY = "BtkTestPlainArray"
_ARRAYS_IN_A_DICT = "BtkTestArrayDict"


@pytest.fixture(autouse=True)
def _array_storage_classes(storage_classes):
    factory = StorageClassFactory()
    factory.registerStorageClass(StorageClass(_PLAIN_ARRAY, pytype=np.ndarray))
    factory.registerStorageClass(StorageClass(_ARRAYS_IN_A_DICT, pytype=dict))


@dataclasses.dataclass(frozen=True)
class Read:
    """One way to read a dataset."""

    label: str
    component: str | None = None
    parameters: Mapping[str, Any] | None = None
    storage_class: str | None = None
    # A component defined only by the storage class read as.
    component_of_override: bool = False

    def get(self, datastore, ref):
        read_ref = ref
        if self.component_of_override:
            read_ref = ref.overrideStorageClass(self.storage_class).makeComponentRef(self.component)
            return datastore.get(read_ref, self.parameters)
        if self.component is not None:
            read_ref = ref.makeComponentRef(self.component)
        return datastore.get(read_ref, self.parameters, self.storage_class)


@dataclasses.dataclass(frozen=True)
class Kind:
    """A kind of dataset and the ways to read it."""

    name: str
    storage_class: str
    make: Callable[[], Any]
    reads: tuple[Read, ...]
    serializable: bool = True


def _metrics_dict() -> dict[str, Any]:
    rng = random.Random(7)
    return {
        "summary": {f"stat_{i}": rng.random() for i in range(10)},
        "output": {f"out_{i}": {"value": rng.random(), "n": i} for i in range(5)},
        "data": [rng.random() for _ in range(180)],
    }


def _metrics_record() -> MetricsRecord:
    return MetricsRecord(summary={"mean": 1.5, "n": 3}, output={"ok": True}, data=[10, 11, 12, 13, 14])


def _image() -> ImageRecord:
    return ImageRecord(
        image=np.arange(20, dtype=np.float32).reshape(4, 5),
        mask=np.arange(20, dtype=np.int32).reshape(4, 5) % 3,
        variance=np.full((4, 5), 0.25, dtype=np.float32),
        metadata={"EXPTIME": 30.0, "FILTER": "r_57"},
    )


WHOLE = Read("whole")

KINDS = (
    Kind(
        "plain dict",
        "BtkDict",
        lambda: {"a": 1, "nested": {"b": [1, 2.5, "three"]}, "rows": [[1, 2], [3, 4]]},
        (WHOLE,),
    ),
    Kind(
        "metrics dict",
        "BtkMetricsDict",
        _metrics_dict,
        (
            WHOLE,
            Read("as a dataclass", storage_class="BtkMetrics"),
            Read("as a model", storage_class="BtkMetricsModel"),
            Read("component of the override", "data", storage_class="BtkMetrics", component_of_override=True),
        ),
    ),
    Kind(
        "list",
        "BtkList",
        lambda: [[0], [1], [2], {"three": 3}],
        (WHOLE, Read("slice", parameters={"slice": slice(1, 3)})),
    ),
    Kind(
        "dataclass composite",
        "BtkMetrics",
        _metrics_record,
        (
            WHOLE,
            Read("component", "summary"),
            Read("list component", "data"),
            Read("component with a slice", "data", {"slice": slice(1, 3)}),
            Read("slice", parameters={"slice": slice(1, 3)}),
            Read("as a model", storage_class="BtkMetricsModel"),
            Read("as a dict", storage_class="BtkMetricsDict"),
        ),
    ),
    Kind(
        "pydantic model",
        "BtkMetricsModel",
        lambda: MetricsRecordModel(summary={"mean": 1.5}, output={"ok": [True]}, data=[1, 2, 3]),
        (WHOLE, Read("as a dataclass", storage_class="BtkMetrics")),
    ),
    Kind(
        "array with a copying delegate",
        "BtkArray",
        lambda: np.arange(30, dtype=np.float64).reshape(5, 6),
        (WHOLE, Read("cut-out", parameters={"bbox": BBox(1, 1, 3, 2)})),
    ),
    Kind(
        "array without a delegate",
        _PLAIN_ARRAY,
        lambda: np.asfortranarray(np.arange(30, dtype=np.int16).reshape(5, 6)),
        (WHOLE,),
        serializable=False,
    ),
    Kind(
        "arrays inside plain data",
        _ARRAYS_IN_A_DICT,
        lambda: {"image": np.ones((3, 3)), "planes": [np.zeros(4, dtype=np.uint8), np.arange(3)], "n": 2},
        (WHOLE,),
        serializable=False,
    ),
    Kind(
        "image composite",
        "BtkImage",
        _image,
        (
            WHOLE,
            Read("plane", "image"),
            Read("metadata", "metadata"),
            Read("cut-out", parameters={"bbox": BBox(1, 1, 3, 2)}),
            Read("plane cut-out", "variance", {"bbox": BBox(0, 1, 2, 2)}),
        ),
    ),
    Kind(
        "formatter-only derived component",
        "BtkLedger",
        lambda: Ledger(entries=["opened", "calibrated", "measured", "closed"]),
        (
            WHOLE,
            Read("first entries", parameters={"first": 2}),
            Read("header from the formatter", "header"),
            Read("header of the first entries", "header", {"first": 2}),
        ),
    ),
)

CASES = [
    pytest.param(kind, read, isolation, id=f"{isolation}-{kind.name}-{read.label}")
    for kind in KINDS
    for read in kind.reads
    for isolation in ("copy", "serialize")
    if isolation == "copy" or kind.serializable
]


def _stored(make_datastore, make_ref, kind: Kind, isolation: str):
    datastore = make_datastore(isolation=isolation)
    ref = make_ref(storage_class=kind.storage_class)
    original = kind.make()
    datastore.put(original, ref)
    return datastore, ref, original


def _every_read(datastore, ref, kind: Kind) -> dict[str, Any]:
    return {read.label: read.get(datastore, ref) for read in kind.reads}


def _assert_unchanged(datastore, ref, kind: Kind, expected: dict[str, Any]) -> None:
    for label, value in _every_read(datastore, ref, kind).items():
        assert same(value, expected[label]), f"{kind.name}: the {label} read changed"


@pytest.mark.parametrize(("kind", "read", "isolation"), CASES)
def test_mutating_the_put_object_changes_nothing_stored(make_datastore, make_ref, kind, read, isolation):
    datastore, ref, original = _stored(make_datastore, make_ref, kind, isolation)
    expected = copy.deepcopy(_every_read(datastore, ref, kind))
    scramble(original)
    assert not same(original, kind.make()), "the test must change the object it puts"
    _assert_unchanged(datastore, ref, kind, expected)


@pytest.mark.parametrize(("kind", "read", "isolation"), CASES)
def test_mutating_a_got_object_changes_nothing_stored_or_read(
    make_datastore, make_ref, kind, read, isolation
):
    datastore, ref, _ = _stored(make_datastore, make_ref, kind, isolation)
    others = _every_read(datastore, ref, kind)
    expected = copy.deepcopy(others)
    got = read.get(datastore, ref)
    scramble(got)
    assert not same(got, expected[read.label]), "the test must change the object it got"
    for label, value in others.items():
        assert same(value, expected[label]), f"{kind.name}: changing a {read.label} changed a {label}"
    _assert_unchanged(datastore, ref, kind, expected)


@pytest.mark.parametrize(("kind", "read", "isolation"), CASES)
def test_reads_share_nothing_mutable_with_each_other(make_datastore, make_ref, kind, read, isolation):
    datastore, ref, original = _stored(make_datastore, make_ref, kind, isolation)
    first, second = read.get(datastore, ref), read.get(datastore, ref)
    assert not _shares_mutable(first, second)
    assert not _shares_mutable(first, original)


def _mutable_parts(obj: Any, found: dict[int, Any]) -> dict[int, Any]:
    """Every mutable object reachable from ``obj``, by id (arrays by their memory)."""
    if isinstance(obj, np.ndarray):
        found[id(obj)] = obj
        return found
    if isinstance(obj, dict | list | set | bytearray):
        found[id(obj)] = obj
    items: Any = ()
    if isinstance(obj, dict):
        items = obj.values()
    elif isinstance(obj, list | tuple | set | frozenset):
        items = obj
    elif isinstance(obj, pydantic.BaseModel):
        items = [getattr(obj, name) for name in type(obj).model_fields]
        found[id(obj)] = obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        items = [getattr(obj, field.name) for field in dataclasses.fields(obj)]
        if not type(obj).__dataclass_params__.frozen:
            found[id(obj)] = obj
    for item in items:
        if id(item) not in found:
            _mutable_parts(item, found)
    return found


def _shares_mutable(first: Any, second: Any) -> bool:
    left, right = _mutable_parts(first, {}), _mutable_parts(second, {})
    if set(left) & set(right):
        return True
    left_arrays = [obj for obj in left.values() if isinstance(obj, np.ndarray)]
    right_arrays = [obj for obj in right.values() if isinstance(obj, np.ndarray)]
    return any(np.shares_memory(a, b) for a in left_arrays for b in right_arrays)


@pytest.mark.parametrize("isolation", ["copy", "serialize"])
def test_drawn_datasets_are_isolated_both_ways(make_datastore, make_ref, isolation):
    datastore = make_datastore(isolation=isolation)

    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(strategies.datasets())
    def isolated(pair):
        storage_class, value = pair
        ref = make_ref(storage_class=storage_class)
        expected = copy.deepcopy(value)
        datastore.put(value, ref)
        stored = datastore.get(ref)
        assert same(stored, expected)
        scramble(value)
        assert same(datastore.get(ref), expected)
        scramble(stored)
        assert same(datastore.get(ref), expected)

    isolated()
