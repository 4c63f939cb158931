"""The bridge manager a datastore under test is given."""

from __future__ import annotations

__all__ = ("make_bridge_manager",)

from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager


def make_bridge_manager() -> DatastoreRegistryBridgeManager:
    """Return a new, empty registry bridge manager for a datastore under test.

    Returns
    -------
    manager : `~butler_testkit.InMemoryBridgeManager`
        butler-testkit's in-memory bridges and opaque tables, sharing nothing
        with any other manager, in the default dimension universe: enough for
        our ``InMemoryDatastore`` (which reads only the universe) and for
        upstream's ``FileDatastore`` and ``ChainedDatastore``.

    Notes
    -----
    This is the one place the ``butler_bridge_manager`` fixture, the
    unittest mixins and the conformance targets get their bridge manager.
    """
    from ..bridge import InMemoryBridgeManager
    from ._data_ids import default_universe

    return InMemoryBridgeManager(universe=default_universe())
