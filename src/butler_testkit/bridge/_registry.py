"""`InMemoryRegistry`: the one-line replacement for daf_butler's ``DummyRegistry``."""

from __future__ import annotations

__all__ = ("InMemoryRegistry",)

from collections.abc import Container

from lsst.daf.butler import DatasetId, DimensionUniverse

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
    datasets : `~collections.abc.Container` [`~lsst.daf.butler.DatasetId`], optional
        Passed to `InMemoryBridgeManager`: the IDs of the datasets this
        registry knows, so that recording any other fails as a foreign key
        does; every ID is known if `None`.

    Attributes
    ----------
    dimensions : `~lsst.daf.butler.DimensionUniverse`
        The dimensions.
    """

    def __init__(
        self,
        universe: DimensionUniverse | None = None,
        *,
        ephemeral: bool = False,
        datasets: Container[DatasetId] | None = None,
    ) -> None:
        self._bridge_manager = InMemoryBridgeManager(
            universe=universe, ephemeral=ephemeral, datasets=datasets
        )
        self.dimensions = self._bridge_manager.universe

    def getDatastoreBridgeManager(self) -> InMemoryBridgeManager:
        """Return the registry's bridge manager.

        Returns
        -------
        manager : `InMemoryBridgeManager`
            The same manager on every call.
        """
        return self._bridge_manager
