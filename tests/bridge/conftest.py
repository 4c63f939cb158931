"""Fixtures for the fake bridges, opaque tables and the datastores driven through them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from lsst.daf.butler import ddl
from lsst.daf.butler.datastore import Datastore, DatastoreConfig, DatastoreTransaction
from lsst.daf.butler.datastore.stored_file_info import NULLSTR
from lsst.daf.butler.datastores.fileDatastore import FileDatastore
from lsst.daf.butler.registry.interfaces import FakeDatasetRef

from butler_testkit import InMemoryBridgeManager, InMemoryOpaqueTable, InMemoryOpaqueTableManager
from tests.bridge._file_configs import file_datastore_config


def record_row(dataset_id: uuid.UUID, component: str = NULLSTR, path: str | None = None) -> dict[str, Any]:
    """A row of FileDatastore's records table (``NULLSTR``: no component)."""
    return {
        "dataset_id": dataset_id,
        "path": path or f"run/{dataset_id}.json",
        "formatter": "lsst.daf.butler.formatters.json.JsonFormatter",
        "storage_class": "BtkMetrics",
        "component": component,
        "checksum": None,
        "file_size": 10,
    }


@pytest.fixture
def manager() -> InMemoryBridgeManager:
    return InMemoryBridgeManager()


@pytest.fixture
def opaque(manager: InMemoryBridgeManager) -> InMemoryOpaqueTableManager:
    """The opaque tables of ``manager``: one registry, one transaction journal."""
    assert isinstance(manager.opaque, InMemoryOpaqueTableManager)
    return manager.opaque


@pytest.fixture
def records(opaque: InMemoryOpaqueTableManager) -> InMemoryOpaqueTable:
    """A table with FileDatastore's own record schema."""
    return opaque.register("records", FileDatastore.makeTableSpec())


@pytest.fixture
def catalogue(opaque: InMemoryOpaqueTableManager) -> InMemoryOpaqueTable:
    """A table with every kind of constraint: primary key, unique, index, NOT NULL."""
    spec = ddl.TableSpec(
        fields=[
            ddl.FieldSpec("key", dtype=sqlalchemy.BigInteger, primaryKey=True),
            ddl.FieldSpec("code", dtype=sqlalchemy.String, length=8, nullable=True),
            ddl.FieldSpec("owner", dtype=ddl.GUID, nullable=False),
            ddl.FieldSpec("label", dtype=sqlalchemy.String, length=256, nullable=True),
            ddl.FieldSpec("weight", dtype=sqlalchemy.Float, nullable=True),
            ddl.FieldSpec("flag", dtype=sqlalchemy.Boolean, nullable=True),
        ],
        unique={("code",)},
        indexes=[ddl.IndexSpec("owner")],
    )
    return opaque.register("catalogue", spec)


@pytest.fixture
def fake_ids(request: pytest.FixtureRequest) -> Callable[[int], list[uuid.UUID]]:
    """Dataset IDs that are the same on every run of a test."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, request.node.nodeid)
    counter = iter(range(1, 1_000_000))

    def make(n: int) -> list[uuid.UUID]:
        return [uuid.uuid5(namespace, str(next(counter))) for _ in range(n)]

    return make


@pytest.fixture
def fake_refs(fake_ids: Callable[[int], list[uuid.UUID]]) -> Callable[[int], list[FakeDatasetRef]]:
    def make(n: int) -> list[FakeDatasetRef]:
        return [FakeDatasetRef(dataset_id) for dataset_id in fake_ids(n)]

    return make


@pytest.fixture
def transaction() -> DatastoreTransaction:
    return DatastoreTransaction()


MakeFileDatastore = Callable[..., Datastore]


@pytest.fixture
def make_file_datastore(tmp_path: Path, manager: InMemoryBridgeManager) -> MakeFileDatastore:
    """Build an upstream FileDatastore under ``tmp_path`` on ``manager`` (or another one)."""

    def make(
        subdir: str = "repo", bridge_manager: InMemoryBridgeManager | None = None, **overrides: Any
    ) -> Datastore:
        config = file_datastore_config(str(tmp_path / subdir), **overrides)
        return Datastore.fromConfig(DatastoreConfig(config), bridge_manager or manager)

    return make
