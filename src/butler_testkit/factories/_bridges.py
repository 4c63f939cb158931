"""The bridge manager a datastore under test is given."""

from __future__ import annotations

__all__ = ("make_bridge_manager",)

from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager


def make_bridge_manager() -> DatastoreRegistryBridgeManager:
    """Return a new, empty registry bridge manager for a datastore under test.

    Returns
    -------
    manager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
        A manager sharing nothing with any other, in the default dimension
        universe.

    Notes
    -----
    For now this is upstream's
    ``lsst.daf.butler.tests.DummyRegistry().getDatastoreBridgeManager()``,
    which is enough for our ``InMemoryDatastore`` (it reads only the
    universe) and for ``FileDatastore`` (ephemeral bridges and in-memory
    opaque tables). It will become butler-testkit's own in-memory bridge
    fakes (``butler_testkit.bridge``) once they land; this function is the
    one place to change, for the ``butler_bridge_manager`` fixture and the
    unittest mixins alike.
    """
    from lsst.daf.butler.tests import DummyRegistry

    return DummyRegistry().getDatastoreBridgeManager()
