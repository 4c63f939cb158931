"""Fixtures of the datastore tests that exchange files with upstream's FileDatastore."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lsst.daf.butler.datastore import Datastore

from butler_testkit.factories import file_datastore_config


@pytest.fixture
def file_datastore(registry, tmp_path) -> Callable[..., Datastore]:
    """Make upstream FileDatastores on the catalogue's formatters, each in a directory of its own."""
    made = iter(range(100))

    def make(disassemble: bool = False) -> Datastore:
        return Datastore.fromConfig(
            file_datastore_config(tmp_path / f"files{next(made)}", disassemble=disassemble),
            registry.getDatastoreBridgeManager(),
        )

    return make
