"""Fixtures shared by our own tests: storage classes, refs, datastores."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest
from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType, DimensionUniverse
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.tests import DummyRegistry

from butler_testkit import InMemoryDatastore
from butler_testkit.factories import installed_storage_classes


@pytest.fixture(autouse=True)
def storage_classes() -> Iterator[None]:
    """Install the catalogue for one test and restore the factory after it."""
    with installed_storage_classes():
        yield


@pytest.fixture(scope="session")
def universe() -> DimensionUniverse:
    return DimensionUniverse()


@pytest.fixture
def registry() -> DummyRegistry:
    return DummyRegistry()


MakeDatastore = Callable[..., Datastore]


@pytest.fixture
def make_datastore(registry: DummyRegistry) -> MakeDatastore:
    """Build a datastore from keyword configuration (ours unless cls= is given)."""

    def make(cls: str = "butler_testkit.InMemoryDatastore", **config: Any) -> Datastore:
        return Datastore.fromConfig(
            DatastoreConfig({"cls": cls, **config}), registry.getDatastoreBridgeManager()
        )

    return make


@pytest.fixture
def datastore(make_datastore: MakeDatastore) -> InMemoryDatastore:
    """Our datastore with the default (copy) isolation."""
    store = make_datastore()
    assert isinstance(store, InMemoryDatastore)
    return store


MakeRef = Callable[..., DatasetRef]


@pytest.fixture
def make_ref(universe: DimensionUniverse, request: pytest.FixtureRequest) -> MakeRef:
    """Build resolved refs with ids that are the same on every run of a test."""
    counter = iter(range(1, 1_000_000))
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, request.node.nodeid)

    def make(
        name: str = "metric",
        storage_class: str = "BtkMetrics",
        data_id: Mapping[str, Any] | None = None,
        dimensions: Sequence[str] = ("instrument", "visit"),
        run: str = "test/run",
        dataset_id: uuid.UUID | None = None,
    ) -> DatasetRef:
        number = next(counter)
        values = dict(data_id) if data_id is not None else {"instrument": "DummyCam", "visit": number}
        dataset_type = DatasetType(name, universe.conform(list(dimensions)), storage_class)
        coordinate = DataCoordinate.standardize(values, dimensions=dataset_type.dimensions)
        if dataset_id is None:
            dataset_id = uuid.uuid5(namespace, str(number))
        return DatasetRef(dataset_type, coordinate, run=run, id=dataset_id)

    return make
