"""`InMemoryBridgeManager`: a registry's bridges to its datastores, in memory."""

from __future__ import annotations

__all__ = ("InMemoryBridgeManager",)

import contextlib
import copy
import types
import uuid
from collections.abc import Container, Iterator, Mapping

from lsst.daf.butler import DatasetId, DimensionUniverse
from lsst.daf.butler.registry.interfaces import (
    Database,
    DatasetIdRef,
    DatasetRecordStorageManager,
    DatastoreRegistryBridgeManager,
    OpaqueTableStorageManager,
    StaticTablesContext,
    VersionTuple,
)

from ._bridge import InMemoryBridge
from ._ephemeral import InMemoryEphemeralBridge
from ._journal import Journal
from ._opaque_manager import InMemoryOpaqueTableManager
from ._operations import BridgeOperation
from ._persistent import InMemoryPersistentBridge


class _SharedBridges:
    """The state every clone of one manager shares: its registry's bridges."""

    __slots__ = ("bridges", "datasets", "journal", "log")

    def __init__(self, journal: Journal, datasets: Container[DatasetId] | None) -> None:
        self.journal = journal
        self.datasets = datasets
        self.bridges: dict[str, InMemoryBridge] = {}
        self.log: list[BridgeOperation] = []


class InMemoryBridgeManager(DatastoreRegistryBridgeManager):
    """Bridges and opaque tables for datastores, with no database.

    Give it to a datastore where daf_butler expects a registry's bridge
    manager (``Datastore.fromConfig(config, InMemoryBridgeManager())``): a
    ``FileDatastore`` registers its bridge and its records table here, and
    tests look at what it recorded through `bridges`, `operations` and
    ``opaque.tables``.

    Parameters
    ----------
    opaque : `~lsst.daf.butler.registry.interfaces.OpaqueTableStorageManager`, optional
        The opaque tables; a new `InMemoryOpaqueTableManager` by default.
    universe : `~lsst.daf.butler.DimensionUniverse`, optional
        The dimensions; daf_butler's default universe by default.
    registry_schema_version : `~lsst.daf.butler.registry.interfaces.VersionTuple`, optional
        Recorded as every registry manager does; nothing depends on it.
    ephemeral : `bool`, optional
        Flavour of the bridges `register` returns when the datastore does not
        say. `False` (the default, as daf_butler's SQL and dummy managers):
        the persistent flavour, as a SQL registry gives a ``FileDatastore``.
        `True` gives every such datastore the ephemeral flavour, as
        daf_butler's ``DummyRegistry`` does.
    datasets : `~collections.abc.Container` [`~lsst.daf.butler.DatasetId`], optional
        The registry's dataset table: anything answering ``dataset_id in
        datasets`` (a `set` the test fills, say). Persistent bridges then
        refuse to record a dataset it does not hold, as the foreign key of
        the SQL bridge's table refuses a dataset the registry does not know.
        `None` (the default) stands for a registry that knows every dataset:
        a datastore under test is handed refs no registry ever inserted.

    Notes
    -----
    - **Clones share everything.** `clone` returns a manager on the same
      bridges, the same operation log and (by default) a clone of the same
      opaque tables: a Butler and its clones use one registry, so they must
      see the same datasets and the same trash. (daf_butler's
      ``DummyRegistry`` gives a clone no bridges but the same opaque rows.)
    - **Registry transactions.** `transaction` stands in for
      ``Registry.transaction()``: every change to a persistent bridge or an
      opaque table made inside it is undone if it raises. Open it around a
      datastore transaction to do what ``Butler.transaction()`` does. Its
      ephemeral bridges are not covered, as upstream's live outside the
      database.
    - **Names.** A name is registered as one flavour; asking for the other
      flavour under the same name raises `ValueError`.
    """

    def __init__(
        self,
        *,
        opaque: OpaqueTableStorageManager | None = None,
        universe: DimensionUniverse | None = None,
        registry_schema_version: VersionTuple | None = None,
        ephemeral: bool = False,
        datasets: Container[DatasetId] | None = None,
    ) -> None:
        if datasets is not None and not isinstance(datasets, Container):
            raise TypeError(f"datasets must be a container of dataset IDs; got {type(datasets).__name__}")
        if opaque is None:
            opaque = InMemoryOpaqueTableManager(registry_schema_version=registry_schema_version)
        if not isinstance(opaque, OpaqueTableStorageManager):
            raise TypeError(f"opaque must be an OpaqueTableStorageManager; got {type(opaque).__name__}")
        if universe is None:
            universe = DimensionUniverse()
        elif not isinstance(universe, DimensionUniverse):
            raise TypeError(f"universe must be a DimensionUniverse; got {type(universe).__name__}")
        if not isinstance(ephemeral, bool):
            raise TypeError(f"ephemeral must be a bool; got {ephemeral!r}")
        super().__init__(opaque=opaque, universe=universe, registry_schema_version=registry_schema_version)
        # Share the opaque tables' journal, so that one registry transaction
        # covers the tables and the persistent bridges, as one database would.
        journal = opaque._journal if isinstance(opaque, InMemoryOpaqueTableManager) else Journal()
        self._shared = _SharedBridges(journal, datasets)
        self._ephemeral_default = ephemeral

    @classmethod
    def initialize(
        cls,
        db: Database,
        context: StaticTablesContext,
        *,
        opaque: OpaqueTableStorageManager,
        datasets: type[DatasetRecordStorageManager],
        universe: DimensionUniverse,
        registry_schema_version: VersionTuple | None = None,
    ) -> InMemoryBridgeManager:
        """Build a manager as a registry would; ``db``, ``context`` and ``datasets`` are unused.

        Parameters
        ----------
        db : `~lsst.daf.butler.registry.interfaces.Database`
            Ignored: nothing is stored in a database.
        context : `~lsst.daf.butler.registry.interfaces.StaticTablesContext`
            Ignored: there are no tables to declare.
        opaque : `~lsst.daf.butler.registry.interfaces.OpaqueTableStorageManager`
            The opaque tables.
        datasets : `type`
            Ignored: there are no foreign keys to declare.
        universe : `~lsst.daf.butler.DimensionUniverse`
            The dimensions.
        registry_schema_version : `~lsst.daf.butler.registry.interfaces.VersionTuple`, optional
            Recorded on the manager.

        Returns
        -------
        manager : `InMemoryBridgeManager`
            A new manager with no bridges.
        """
        return cls(opaque=opaque, universe=universe, registry_schema_version=registry_schema_version)

    @classmethod
    def currentVersions(cls) -> list[VersionTuple]:
        """Return no schema versions: there is no database schema to version.

        Returns
        -------
        versions : `list` [`~lsst.daf.butler.registry.interfaces.VersionTuple`]
            An empty list.
        """
        return []

    def clone(
        self, *, db: Database | None = None, opaque: OpaqueTableStorageManager | None = None
    ) -> InMemoryBridgeManager:
        """Return a manager on the same bridges.

        Parameters
        ----------
        db : `~lsst.daf.butler.registry.interfaces.Database`, optional
            Ignored.
        opaque : `~lsst.daf.butler.registry.interfaces.OpaqueTableStorageManager`, optional
            The clone's opaque tables; by default a clone of this manager's,
            which shares its tables.

        Returns
        -------
        manager : `InMemoryBridgeManager`
            Shares this manager's bridges, operation log and registry
            transactions.
        """
        if opaque is None:
            # A foreign manager may need a real database to clone; share it.
            current = self.opaque
            opaque = current.clone(db) if isinstance(current, InMemoryOpaqueTableManager) else current
        elif not isinstance(opaque, OpaqueTableStorageManager):
            raise TypeError(f"opaque must be an OpaqueTableStorageManager; got {type(opaque).__name__}")
        clone = copy.copy(self)
        clone.opaque = opaque
        return clone

    def refresh(self) -> None:
        """Do nothing: every clone already sees every bridge."""

    def register(self, name: str, *, ephemeral: bool | None = None) -> InMemoryBridge:
        """Return the bridge of datastore ``name``, creating it the first time.

        Parameters
        ----------
        name : `str`
            Datastore name.
        ephemeral : `bool`, optional
            `True` for the ephemeral flavour, `False` for the persistent one;
            by default the flavour the manager was built with (persistent
            unless told otherwise).

        Returns
        -------
        bridge : `InMemoryBridge`
            The same object for every call with this name, on this manager
            and its clones.

        Raises
        ------
        TypeError
            Raised if ``name`` is not a non-empty string or ``ephemeral`` is
            not a bool.
        ValueError
            Raised if ``name`` is registered with the other flavour.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"register() needs a datastore name (a non-empty str); got {name!r}")
        if ephemeral is None:
            ephemeral = self._ephemeral_default
        elif not isinstance(ephemeral, bool):
            raise TypeError(f"register() takes ephemeral=True or False; got {ephemeral!r}")
        shared = self._shared
        with shared.journal.lock:
            bridge = shared.bridges.get(name)
            if bridge is None:
                flavour = InMemoryEphemeralBridge if ephemeral else InMemoryPersistentBridge
                bridge = flavour(name, journal=shared.journal, log=shared.log, datasets=shared.datasets)
                shared.bridges[name] = bridge
            elif bridge.ephemeral != ephemeral:
                flavours = {True: "an ephemeral", False: "a persistent"}
                raise ValueError(
                    f"Datastore {name!r} is registered with {flavours[bridge.ephemeral]} bridge; it cannot "
                    f"also have {flavours[ephemeral]} one."
                )
            return bridge

    def findDatastores(self, ref: DatasetIdRef) -> list[str]:
        """Return the names of the datastores holding a dataset, trash excluded.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``
            The dataset.

        Returns
        -------
        names : `list` [`str`]
            In registration order.

        Raises
        ------
        TypeError
            Raised if ``ref`` is not a dataset reference.
        """
        dataset_id = getattr(ref, "id", None)
        if not isinstance(dataset_id, uuid.UUID):
            raise TypeError(
                f"findDatastores() needs a DatasetRef or FakeDatasetRef; got {type(ref).__name__}: {ref!r}"
            )
        with self._shared.journal.lock:
            return [name for name, bridge in self._shared.bridges.items() if bridge._is_present(dataset_id)]

    # Inspection and transactions

    @property
    def bridges(self) -> Mapping[str, InMemoryBridge]:
        """A read-only snapshot of the registered bridges, by datastore name."""
        with self._shared.journal.lock:
            return types.MappingProxyType(dict(self._shared.bridges))

    @property
    def datasets(self) -> Container[DatasetId] | None:
        """The registry's dataset table the persistent bridges check, or `None`."""
        return self._shared.datasets

    @property
    def operations(self) -> tuple[BridgeOperation, ...]:
        """Every bridge change so far, oldest first (shared by clones)."""
        with self._shared.journal.lock:
            return tuple(self._shared.log)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Open a registry transaction, as ``Registry.transaction()`` does.

        Yields
        ------
        None
            If the block raises, every change it made to persistent bridges
            and to the opaque tables (when they are an
            `InMemoryOpaqueTableManager`) is undone, newest first, and the
            exception propagates. Nested blocks roll back on their own.

        Examples
        --------
        What ``Butler.transaction()`` does, for a datastore on this manager::

            with bridge_manager.transaction(), datastore.transaction():
                datastore.put(obj, ref)
        """
        with self._shared.journal.transaction():
            yield
