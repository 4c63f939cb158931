"""The examples of docs/butler.md's migration guide, which includes them from here."""

# Each section is shown on its own in the guide, with the imports it needs.
# ruff: noqa: E402, PT009, RUF012

from __future__ import annotations

import pathlib

import pytest

HERE = pathlib.Path(__file__)

# --- a suite as it is written today ---
import shutil
import tempfile
import unittest

from lsst.daf.butler.tests import (
    addDataIdValue,
    addDatasetType,
    makeTestCollection,
    makeTestRepo,
)


class CalibrateTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp()
        cls.repo = makeTestRepo(cls.root, {"instrument": ["notACam"], "detector": [1, 2]})
        addDataIdValue(cls.repo, "physical_filter", "k2020", instrument="notACam")
        addDataIdValue(cls.repo, "day_obs", 20250101, instrument="notACam")
        addDataIdValue(cls.repo, "visit", 101, physical_filter="k2020", day_obs=20250101)
        addDatasetType(cls.repo, "calexp_summary", {"instrument", "visit", "detector"}, "StructuredDataDict")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.butler = makeTestCollection(self.repo)  # a new run in the shared repository

    def test_summary_round_trip(self):
        data_id = {"instrument": "notACam", "visit": 101, "detector": 1}
        self.butler.put({"median": 10.0}, "calexp_summary", data_id)
        self.assertEqual(self.butler.get("calexp_summary", data_id), {"median": 10.0})


# --- end a suite as it is written today ---


# --- level 1: the switch, for a unittest runner ---
from butler_testkit.butler import fast_repos


def run_with_the_switch(test_case: type[unittest.TestCase]) -> unittest.TestResult:
    """Run an unchanged unittest suite with every repository from the fast path."""
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(test_case)
    with fast_repos():
        return unittest.TextTestRunner(verbosity=0).run(suite)


# --- end level 1: the switch, for a unittest runner ---


def test_level_1_the_suite_passes_with_the_switch() -> None:
    result = run_with_the_switch(CalibrateTestCase)
    assert result.wasSuccessful()
    assert result.testsRun == 1


def test_level_1_the_pytest_option(pytester: pytest.Pytester) -> None:
    source = pytester.path / "test_calibrate.py"
    text = HERE.read_text()
    start = text.index("# --- a suite as it is written today ---")
    end = text.index("# --- end a suite as it is written today ---")
    source.write_text("import unittest\n" + text[start:end])
    pytester.makeini("[pytest]\nbutler_fast_repos = true\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*butler-testkit fast repositories*"])


# --- level 2: the compatibility functions ---
from butler_testkit.butler import (
    ClassRepositoryMixin,
)
from butler_testkit.butler import (
    addDataIdValue as fast_addDataIdValue,
)
from butler_testkit.butler import (
    addDatasetType as fast_addDatasetType,
)
from butler_testkit.butler import (
    makeTestCollection as fast_makeTestCollection,
)
from butler_testkit.butler import (
    makeTestRepo as fast_makeTestRepo,
)


class FastCalibrateTestCase(ClassRepositoryMixin, unittest.TestCase):
    """The same class, with butler-testkit's functions and a reset after every test."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp()
        cls.repo = fast_makeTestRepo(cls.root, {"instrument": ["notACam"], "detector": [1, 2]})
        fast_addDataIdValue(cls.repo, "physical_filter", "k2020", instrument="notACam")
        fast_addDataIdValue(cls.repo, "day_obs", 20250101, instrument="notACam")
        fast_addDataIdValue(cls.repo, "visit", 101, physical_filter="k2020", day_obs=20250101)
        fast_addDatasetType(
            cls.repo, "calexp_summary", {"instrument", "visit", "detector"}, "StructuredDataDict"
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.butler = fast_makeTestCollection(self.repo, "calibrate")

    def test_summary_round_trip(self):
        data_id = {"instrument": "notACam", "visit": 101, "detector": 1}
        self.butler.put({"median": 10.0}, "calexp_summary", data_id)
        self.assertEqual(self.butler.get("calexp_summary", data_id), {"median": 10.0})

    def test_every_test_starts_from_set_up_class(self):
        # The same run name as the other test: its dataset is gone.
        self.assertEqual(list(self.butler.registry.queryDatasets("calexp_summary", collections=...)), [])


# --- end level 2: the compatibility functions ---


@pytest.mark.parametrize(
    "order",
    [
        ("test_summary_round_trip", "test_every_test_starts_from_set_up_class"),
        ("test_every_test_starts_from_set_up_class", "test_summary_round_trip"),
    ],
)
def test_level_2_the_class_runs_in_any_order(order: tuple[str, ...]) -> None:
    suite = unittest.TestSuite(FastCalibrateTestCase(name) for name in order)
    result = unittest.TestResult()
    suite.run(result)
    assert result.errors == [] and result.failures == [], result.errors + result.failures


# --- level 3: the fixtures ---
@pytest.mark.butler_repo(instrument="HSC", detectors=2, visits=1, dataset_types={"calexp_summary": "BtkDict"})
def test_summary_round_trip(butler, butler_repo):
    (data_id, *_) = butler_repo.seeded.data_ids("visit", "detector")
    butler.put({"median": 10.0}, "calexp_summary", data_id)
    assert butler.get("calexp_summary", data_id) == {"median": 10.0}


# --- end level 3: the fixtures ---


# --- level 3: the fixtures, with unittest ---
from butler_testkit.unittest import ButlerRepoMixin


class SeededCalibrateTestCase(ButlerRepoMixin, unittest.TestCase):
    butler_repo_spec = {
        "instrument": "HSC",
        "detectors": 2,
        "visits": 1,
        "dataset_types": {"calexp_summary": "BtkDict"},
    }

    def test_summary_round_trip(self):
        data_id = self.butler_repo.seeded.data_ids("visit", "detector")[0]
        self.butler.put({"median": 10.0}, "calexp_summary", data_id)
        self.assertEqual(self.butler.get("calexp_summary", data_id), {"median": 10.0})


# --- end level 3: the fixtures, with unittest ---
