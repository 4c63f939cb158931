"""A repository made in setUpClass, reset after every test: no test sees another's writes."""

from __future__ import annotations

import shutil
import tempfile
import unittest

import pytest
from lsst.daf.butler import Config

from butler_testkit.butler import (
    ClassRepositoryMixin,
    RepositorySnapshot,
    addDataIdValue,
    addDatasetType,
    makeTestCollection,
    makeTestRepo,
)

DATASTORES = {
    "daf_butler in-memory": None,
    "file": "lsst.daf.butler.datastores.fileDatastore.FileDatastore",
    "butler-testkit in-memory": "butler_testkit.InMemoryDatastore",
}
DATA_ID = {"instrument": "notACam", "detector": 1}


def _case(datastore: str | None) -> type[unittest.TestCase]:
    class Case(ClassRepositoryMixin, unittest.TestCase):
        @classmethod
        def setUpClass(cls) -> None:
            cls.root = tempfile.mkdtemp()
            config = None if datastore is None else Config({"datastore": {"cls": datastore}})
            cls.repo = makeTestRepo(cls.root, {"instrument": ["notACam"], "detector": [1]}, config=config)
            addDatasetType(cls.repo, "metric", {"instrument", "detector"}, "StructuredDataDict")
            cls.base = makeTestCollection(cls.repo, "base")
            cls.ref = cls.base.put({"value": 0}, "metric", DATA_ID)

        @classmethod
        def tearDownClass(cls) -> None:
            shutil.rmtree(cls.root, ignore_errors=True)

        def test_writer(self) -> None:
            self._check_pristine()
            addDataIdValue(self.repo, "detector", 2)
            addDatasetType(self.repo, "other", {"instrument", "visit"}, "StructuredDataDict")
            self._add_visit()
            # (A clone made before the records were added would not see
            # them: daf_butler copies the cache of dimension records.)
            butler = makeTestCollection(self.repo, "writer")
            butler.put({"value": 1}, "metric", DATA_ID)
            butler.put({"value": 2}, "other", instrument="notACam", visit=7)
            self.base.pruneDatasets([self.ref], purge=True, unstore=True)
            self.base.registry.defaults = self.base.registry.defaults.clone(collections=["test_writer"])

        def test_reader(self) -> None:
            self._check_pristine()
            # What the writer made can be made again.
            addDatasetType(self.repo, "other", {"instrument", "visit"}, "StructuredDataDict")
            self._add_visit()
            butler = makeTestCollection(self.repo, "reader")
            butler.put({"value": 3}, "other", instrument="notACam", visit=7)
            assert butler.get("other", instrument="notACam", visit=7) == {"value": 3}

        def _add_visit(self) -> None:
            addDataIdValue(self.repo, "physical_filter", "k2020", instrument="notACam")
            addDataIdValue(self.repo, "day_obs", 20250101, instrument="notACam")
            addDataIdValue(self.repo, "visit", 7, physical_filter="k2020", day_obs=20250101)

        def _check_pristine(self) -> None:
            registry = self.repo.registry
            assert sorted(self.repo.collections.query("*")) == ["test_base"]
            assert [record.id for record in registry.queryDimensionRecords("detector")] == [1]
            assert [record.id for record in registry.queryDimensionRecords("visit")] == []
            assert sorted(t.name for t in registry.queryDatasetTypes()) == ["metric"]
            assert list(self.base.collections.defaults) == ["test_base"]
            (ref,) = registry.queryDatasets("metric", collections=...)
            assert ref.id == self.ref.id
            assert self.base.get(ref) == {"value": 0}

    return Case


@pytest.mark.parametrize("datastore", sorted(DATASTORES))
@pytest.mark.parametrize(
    "order",
    [
        ("test_writer", "test_reader"),
        ("test_reader", "test_writer"),
        ("test_writer", "test_writer", "test_reader"),
    ],
)
def test_every_test_starts_from_the_class_set_up(datastore: str, order: tuple[str, ...]) -> None:
    case = _case(DATASTORES[datastore])
    suite = unittest.TestSuite(case(name) for name in order)
    result = unittest.TestResult()
    suite.run(result)
    assert result.errors == [] and result.failures == [], result.errors + result.failures
    assert result.testsRun == len(order)


def test_a_snapshot_restores_the_files_of_a_file_datastore(tmp_path: object) -> None:
    root = tempfile.mkdtemp()
    try:
        config = Config({"datastore": {"cls": "lsst.daf.butler.datastores.fileDatastore.FileDatastore"}})
        repo = makeTestRepo(root, {"instrument": ["notACam"], "detector": [1]}, config=config)
        addDatasetType(repo, "metric", {"instrument", "detector"}, "StructuredDataDict")
        butler = makeTestCollection(repo, "run")
        kept = butler.put({"value": 0}, "metric", DATA_ID)
        snapshot = RepositorySnapshot(repo)
        butler.pruneDatasets([kept], purge=True, unstore=True)
        written = makeTestCollection(repo, "other").put({"value": 1}, "metric", DATA_ID)
        written_uri = repo.getURI(written)
        snapshot.restore(butler)
        assert not written_uri.exists()
        assert butler.get(kept) == {"value": 0}
        assert repo.getURI(kept).exists()
        snapshot.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_an_unsupported_datastore_is_refused(tmp_path: object) -> None:
    root = tempfile.mkdtemp()
    try:
        repo = makeTestRepo(root)
        repo._datastore = object()  # type: ignore[assignment]
        with pytest.raises(TypeError, match="Cannot snapshot a object"):
            RepositorySnapshot(repo)
    finally:
        shutil.rmtree(root, ignore_errors=True)
