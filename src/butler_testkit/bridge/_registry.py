"""`InMemoryRegistry`: the one-line replacement for daf_butler's ``DummyRegistry``."""

from __future__ import annotations

__all__ = ("InMemoryRegistry",)

from lsst.daf.butler import DimensionUniverse

from ._manager import InMemoryBridgeManager


class InMemoryRegistry:
    """What a datastore test needs of a registry: dimensions and a bridge manager.

    Switch a test from daf_butler's ``DummyRegistry`` by changing its import
    to ``from butler_testkit import InMemoryRegistry as DummyRegistry``.

    Parameters
    ----------
    universe : `~lsst.daf.butler.DimensionUniverse`, optional
        The dimensions; daf_butler's default universe by default.
    ephemeral : `bool`, optional
        Passed to `InMemoryBridgeManager`: `True` to give every datastore the
        ephemeral bridge, as ``DummyRegistry`` does; `False` (the default) to
        give a ``FileDatastore`` the persistent one, as a SQL registry does.

    Attributes
    ----------
    dimensions : `~lsst.daf.butler.DimensionUniverse`
        The dimensions.
    """

    def __init__(self, universe: DimensionUniverse | None = None, *, ephemeral: bool = False) -> None:
        self._bridge_manager = InMemoryBridgeManager(universe=universe, ephemeral=ephemeral)
        self.dimensions = self._bridge_manager.universe

    def getDatastoreBridgeManager(self) -> InMemoryBridgeManager:
        """Return the registry's bridge manager.

        Returns
        -------
        manager : `InMemoryBridgeManager`
            The same manager on every call.
        """
        return self._bridge_manager
