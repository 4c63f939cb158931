"""A downstream-style test: code that opens its own Butler from the repository root.

Nothing here names a registry engine but the last class: this folder's
conftest runs the pytest test on both engines by overriding the
``butler_registry`` fixture, as a downstream conftest would, and a unittest
class is put on PostgreSQL by one class attribute.
"""

from __future__ import annotations

import unittest

import pytest
from lsst.daf.butler import Butler

from butler_testkit.factories import MetricsRecord
from butler_testkit.unittest import ButlerRepoMixin

REPOSITORY = {
    "instrument": "HSC",
    "detectors": 3,
    "visits": 2,
    "dataset_types": {
        "calexp_metrics": "BtkMetrics",
        "detector_summary": ("BtkDict", ["instrument", "visit", "detector"]),
    },
}


def summarize_detectors(repo_root: str, input_collection: str, output_run: str) -> int:
    """Pipeline-like code under test: read every input, write one summary per input.

    Like a real task, it opens its own Butler from the repository root.
    """
    written = 0
    with Butler.from_config(
        repo_root, writeable=True, run=output_run, collections=[input_collection]
    ) as butler:
        for ref in butler.query_datasets("calexp_metrics", collections=input_collection):
            metrics = butler.get(ref)
            summary = {"total": sum(metrics.data), "count": butler.get(ref.makeComponentRef("counter"))}
            butler.put(summary, "detector_summary", ref.dataId)
            written += 1
    return written


def _write_inputs(butler, seeded):
    expected = {}
    for data_id in seeded.data_ids("visit", "detector"):
        values = list(range(data_id["detector"] + 2))
        butler.put(MetricsRecord(summary={"visit": data_id["visit"]}, data=values), "calexp_metrics", data_id)
        expected[(data_id["visit"], data_id["detector"])] = {"total": sum(values), "count": len(values)}
    return expected


def _check_outputs(butler, output_run, expected):
    found = {}
    for ref in butler.query_datasets("detector_summary", collections=output_run):
        found[(ref.dataId["visit"], ref.dataId["detector"])] = butler.get(ref)
    assert found == expected
    assert len(found) == 6  # 2 visits x 3 detectors


@pytest.mark.butler_repo(**REPOSITORY)
def test_with_the_pytest_fixture(butler, butler_repo):
    expected = _write_inputs(butler, butler_repo.seeded)
    assert summarize_detectors(str(butler_repo.root), butler.run, "summaries") == 6
    _check_outputs(butler, "summaries", expected)


class DownstreamTestCase(ButlerRepoMixin, unittest.TestCase):
    butler_repo_spec = REPOSITORY

    def test_with_the_unittest_mixin(self):
        expected = _write_inputs(self.butler, self.butler_repo.seeded)
        assert summarize_detectors(str(self.butler_repo.root), self.butler.run, "summaries") == 6
        _check_outputs(self.butler, "summaries", expected)

    def test_each_test_gets_its_own_repository(self):
        # Declared alike, so from one template, but nothing another test wrote.
        assert self.butler.get_dataset_type("detector_summary").storageClass_name == "BtkDict"
        assert self.butler.registry.queryDatasets("calexp_metrics", collections=...).count() == 0


class DownstreamOnPostgresTestCase(DownstreamTestCase):
    butler_registry = "postgresql"

    def test_the_registry_is_on_postgresql(self):
        assert self.butler_repo.registry_dialect == "postgresql"
