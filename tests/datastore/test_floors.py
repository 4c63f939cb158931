"""The datastore is given its default formatters; it works without the factories.

That no module under ``datastore/`` imports the factories is checked with
every other layer rule in ``tests/test_layers.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from lsst.daf.butler import Config

from butler_testkit.datastore import add_default_formatters, default_formatters
from butler_testkit.factories import FORMATTERS


def test_the_datastore_works_without_the_factories_and_takes_the_defaults_it_is_given(tmp_path):
    script = textwrap.dedent(
        """
        import sys, uuid
        from lsst.daf.butler import DatasetRef, DatasetType, DimensionUniverse, StorageClassFactory
        from lsst.daf.butler.datastore import DatastoreConfig
        from lsst.daf.butler.tests import DummyRegistry
        from butler_testkit.datastore import InMemoryDatastore, add_default_formatters

        pickle = "lsst.daf.butler.formatters.pickle.PickleFormatter"
        add_default_formatters({"StructuredDataDict": pickle})
        universe = DimensionUniverse()
        storage_class = StorageClassFactory().getStorageClass("StructuredDataDict")
        dataset_type = DatasetType("plain", universe.empty, storage_class)
        ref = DatasetRef(dataset_type, {}, run="run", id=uuid.UUID(int=1))
        config = DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore", "isolation": "serialize"})
        datastore = InMemoryDatastore(config, DummyRegistry().getDatastoreBridgeManager())
        datastore.put({"a": 1}, ref)
        assert datastore.get(ref) == {"a": 1}
        assert datastore.export([ref], transfer=None)[0].formatter == pickle
        assert "butler_testkit.factories" not in sys.modules
        print("ok")
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"


def test_the_catalogue_gives_its_formatters_when_imported():
    defaults = default_formatters()
    assert {name: defaults[name] for name in FORMATTERS} == dict(FORMATTERS)
    # Daf_butler's own defaults are still there.
    assert "StructuredDataDict" in defaults


def test_default_formatters_are_a_copy():
    defaults = default_formatters()
    defaults["BtkDict"] = "changed"
    assert default_formatters()["BtkDict"] == FORMATTERS["BtkDict"]


def test_adding_the_same_defaults_again_changes_nothing():
    add_default_formatters(FORMATTERS)
    assert Config(default_formatters()) == default_formatters()


def test_changing_a_default_formatter_is_refused_and_changes_nothing():
    other = "lsst.daf.butler.formatters.pickle.PickleFormatter"
    with pytest.raises(ValueError, match=r"'BtkDict' is .*CatalogueJsonFormatter.*, not .*PickleFormatter"):
        add_default_formatters({"BtkInt": FORMATTERS["BtkInt"], "BtkDict": other})
    assert default_formatters()["BtkDict"] == FORMATTERS["BtkDict"]


@pytest.mark.parametrize("entries", [["BtkDict"], {"BtkDict": 3}, {1: "x.Formatter"}])
def test_default_formatters_must_be_a_mapping_of_names(entries):
    with pytest.raises(TypeError, match="must map storage class or dataset type names"):
        add_default_formatters(entries)
