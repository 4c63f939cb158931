"""Tests written as lsst-pipe-base writes its own, for running with and without the switch.

Not collected by our own suite (no ``test_`` prefix): ``test_switch_downstream``
copies it into a pytester directory and runs it both ways.
"""

# Written in the downstream style on purpose: unittest assertions, module aliases.
# ruff: noqa: PT009, PT027, N812

import os
import random
import shutil
import tempfile
import unittest

import lsst.daf.butler.tests as butlerTests
from lsst.daf.butler import Butler, Config, DatasetType
from lsst.daf.butler.tests import makeTestCollection, makeTestRepo
from lsst.daf.butler.tests.utils import create_populated_sqlite_registry

BASE = "resource://lsst.daf.butler/tests/registry_data/base.yaml"


class MakeTestRepoTestCase(unittest.TestCase):
    """One repository per class, one run per test (as pipe_base's test_testUtils)."""

    @classmethod
    def setUpClass(cls):
        random.seed(1234)
        cls.root = tempfile.mkdtemp()
        cls.repo = butlerTests.makeTestRepo(cls.root, {"instrument": ["notACam"], "detector": [1, 2]})
        butlerTests.addDataIdValue(cls.repo, "visit", 101, instrument="notACam")
        butlerTests.addDatasetType(
            cls.repo, "metric", {"instrument", "visit", "detector"}, "StructuredDataDict"
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.butler = butlerTests.makeTestCollection(self.repo, uniqueId=self.id())

    def test_records_from_data_ids(self):
        detectors = sorted(record.id for record in self.butler.registry.queryDimensionRecords("detector"))
        self.assertEqual(detectors, [1, 2])
        (visit,) = self.butler.registry.queryDimensionRecords("visit")
        self.assertEqual(visit.id, 101)

    def test_put_and_get(self):
        data_id = {"instrument": "notACam", "visit": 101, "detector": 1}
        self.butler.put({"value": 3}, "metric", data_id)
        self.assertEqual(self.butler.get("metric", data_id), {"value": 3})
        self.assertEqual(self.butler.run, f"test_{self.id()}")

    def test_datastore_lives_in_the_butler(self):
        # With the in-memory datastore, another Butler on the root sees the
        # registry entries but not the datasets.
        data_id = {"instrument": "notACam", "visit": 101, "detector": 2}
        ref = self.butler.put({"value": 4}, "metric", data_id)
        with Butler.from_config(self.root) as other:
            self.assertIsNotNone(other.registry.getDataset(ref.id))
            self.assertFalse(other.stored(ref))

    def test_bad_dimension_is_refused(self):
        with self.assertRaises(ValueError):
            butlerTests.addDatasetType(self.repo, "bad", {"no_such_dimension"}, "StructuredDataDict")


class FileRepositoryTestCase(unittest.TestCase):
    """A new file repository per test (as pipe_base's executor tests)."""

    def setUp(self):
        self.root = tempfile.mkdtemp()
        config = Butler.makeRepo(self.root)
        self.butler = Butler.from_config(config, writeable=True, run="fake")
        self.enterContext(self.butler)
        self.butler.registry.registerDatasetType(
            DatasetType("input", self.butler.dimensions.empty, "StructuredDataDict")
        )

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def test_round_trip_through_files(self):
        self.butler.put({"zero": 0}, "input")
        self.assertEqual(self.butler.get("input"), {"zero": 0})
        self.assertTrue(os.path.exists(os.path.join(self.root, "fake")))

    def test_second_butler_reads_the_files(self):
        self.butler.put({"one": 1}, "input")
        with Butler.from_config(self.root, collections=["fake"]) as other:
            self.assertEqual(other.get("input"), {"one": 1})

    def test_repository_exists_twice_is_refused(self):
        with self.assertRaises(FileExistsError):
            Butler.makeRepo(self.root)

    def test_configuration_is_written(self):
        written = Config(os.path.join(self.root, "butler.yaml"))
        self.assertIn("<butlerRoot>", written["registry", "db"])


class StandaloneRepositoryTestCase(unittest.TestCase):
    """``standalone=True`` with ``searchPaths`` (as pipe_base's SimplePipelineExecutor tests)."""

    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.config_dir = tempfile.mkdtemp()
        with open(os.path.join(self.config_dir, "storageClasses.yaml"), "w") as stream:
            stream.write("storageClasses:\n  DownstreamDict:\n    pytype: dict\n")
        os.mkdir(os.path.join(self.config_dir, "datastores"))
        with open(os.path.join(self.config_dir, "datastores", "fileDatastore.yaml"), "w") as stream:
            stream.write("formatters:\n  DownstreamDict: lsst.daf.butler.formatters.json.JsonFormatter\n")
        self.addCleanup(shutil.rmtree, self.config_dir, ignore_errors=True)
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)

    def test_storage_class_from_the_search_path(self):
        config = Butler.makeRepo(self.root, standalone=True, searchPaths=[self.config_dir])
        self.assertIn("DownstreamDict", config["storageClasses"])
        with Butler.from_config(config, writeable=True, run="run") as butler:
            butler.registry.registerDatasetType(DatasetType("d", butler.dimensions.empty, "DownstreamDict"))
            butler.put({"a": 1}, "d")
            self.assertEqual(butler.get("d"), {"a": 1})


class PopulatedRegistryTestCase(unittest.TestCase):
    """Registry-only Butlers from export files (as pipe_base's InMemoryRepo)."""

    def test_imported_records(self):
        butler = create_populated_sqlite_registry(BASE)
        instruments = [record.name for record in butler.registry.queryDimensionRecords("instrument")]
        self.assertEqual(instruments, ["Cam1"])
        butler.registry.insertDimensionData("instrument", {"name": "Extra"})

    def test_each_call_is_independent(self):
        butler = create_populated_sqlite_registry(BASE)
        instruments = [record.name for record in butler.registry.queryDimensionRecords("instrument")]
        self.assertEqual(instruments, ["Cam1"])


def test_function_style_make_test_repo(tmp_path):
    repo = makeTestRepo(str(tmp_path), {"instrument": ["notACam"]})
    butler = makeTestCollection(repo, uniqueId="function")
    assert butler.run == "test_function"
    assert [record.name for record in butler.registry.queryDimensionRecords("instrument")] == ["notACam"]
