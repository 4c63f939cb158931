"""`ButlerTestEngine`: what one test gets from butler-testkit, without pytest."""

from __future__ import annotations

__all__ = ("ButlerTestEngine",)

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lsst.daf.butler import DimensionUniverse
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager

from .. import _seeds
from .._constants import REGISTRY_ENVIRONMENT_VARIABLE
from ..butler import TestRepository, create_test_repository, repository_request, resolve_registry
from ..datastore import FaultPlan, InMemoryDatastore, InstrumentedDatastore
from ..factories import (
    DataIdFactory,
    RefFactory,
    StorageClassScope,
    default_universe,
    installed_storage_classes,
    make_bridge_manager,
)
from ._options import Given, resolve_options

_DATASTORE_CLASS = "butler_testkit.InMemoryDatastore"


class ButlerTestEngine:
    """Build everything one test gets: seeds, factories, datastores, repositories.

    The pytest fixtures and the unittest mixins are thin adapters over this
    class: each finds the test's options (markers, or class attributes),
    and asks the engine for what the test uses, so both front ends take the
    same options and give the same objects. Nothing here needs pytest.

    Parameters
    ----------
    test_id : `str`
        The test's identity, the same on every run, in any order, in any
        process (a pytest node id, `unittest.TestCase.id`): the seeds are
        derived from it.
    test_name : `str`
        The test's short name, for its default run collection
        (``test/<test name>``).
    options : `~collections.abc.Mapping` [`str`, `object`], optional
        The value of every option (`resolve_options`); the session's values
        and the defaults if not given.
    """

    def __init__(self, test_id: str, test_name: str, options: Mapping[str, Any] | None = None) -> None:
        self.test_id = test_id
        self.test_name = test_name
        self.options: Mapping[str, Any] = resolve_options({}) if options is None else dict(options)

    @classmethod
    def for_test(cls, test_id: str, test_name: str, given: Mapping[str, Given]) -> ButlerTestEngine:
        """Make the engine of a test from what its front end found.

        Parameters
        ----------
        test_id : `str`
            The test's identity.
        test_name : `str`
            The test's short name.
        given : `~collections.abc.Mapping` [`str`, `Given`]
            Options given for this test (by markers or class attributes),
            each with where it came from.

        Returns
        -------
        engine : `ButlerTestEngine`
            The engine, with every option resolved.

        Raises
        ------
        TypeError, ValueError
            Raised for an invalid option, naming where it came from.
        """
        return cls(test_id, test_name, resolve_options(given))

    @property
    def session_seed(self) -> int:
        """The session seed: the option ``seed``, else ``$BUTLER_TESTKIT_SEED``, else the default."""
        return _seeds.session_seed(self.options["seed"])

    def seed(self, stream: str = "test") -> int:
        """Return the seed of one stream of values of this test.

        Parameters
        ----------
        stream : `str`, optional
            Which values (``data_ids``, ``refs``, ``faults``, ...): each has
            its own, so drawing more of one never shifts another.

        Returns
        -------
        seed : `int`
            The same for the same test, session seed and stream on every run.
        """
        return _seeds.derive_seed(self.session_seed, self.test_id, stream)

    @property
    def run_name(self) -> str:
        """The default run collection of the test's repositories: ``test/<test name>``."""
        name = "".join(char if char.isalnum() or char in "_-." else "_" for char in self.test_name)
        return f"test/{name}"

    @staticmethod
    def universe() -> DimensionUniverse:
        """Return daf_butler's default dimension universe (immutable, shared).

        Returns
        -------
        universe : `~lsst.daf.butler.DimensionUniverse`
            The universe.
        """
        return default_universe()

    @staticmethod
    @contextlib.contextmanager
    def storage_classes() -> Iterator[StorageClassScope]:
        """Install the storage-class catalogue until the block ends.

        Yields
        ------
        scope : `~butler_testkit.factories.StorageClassScope`
            The installed catalogue; daf_butler's factory holds exactly what
            it held before once the block ends.
        """
        with installed_storage_classes() as scope:
            yield scope

    @staticmethod
    def bridge_manager() -> DatastoreRegistryBridgeManager:
        """Return a new, empty registry bridge manager, shared with nothing.

        Returns
        -------
        manager : `~butler_testkit.InMemoryBridgeManager`
            butler-testkit's in-memory bridges, in the default universe.
        """
        return make_bridge_manager()

    def fault_plan(self) -> FaultPlan | None:
        """Return the plan of the option ``faults``, or `None` without rules.

        Returns
        -------
        plan : `~butler_testkit.FaultPlan` or `None`
            The rules, seeded by ``faults_seed`` or else by the test's own
            ``faults`` stream. A new plan on every call.
        """
        rules = self.options["faults"]
        if rules is None:
            return None
        seed = self.options["faults_seed"]
        return FaultPlan(*rules, seed=self.seed("faults") if seed is None else seed)

    def datastore(
        self, bridge_manager: DatastoreRegistryBridgeManager | None = None
    ) -> InMemoryDatastore | InstrumentedDatastore:
        """Return a fresh `~butler_testkit.InMemoryDatastore` configured by the options.

        Parameters
        ----------
        bridge_manager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`, optional
            What it is built on; a new one if not given.

        Returns
        -------
        datastore : `~butler_testkit.InMemoryDatastore` or `~butler_testkit.InstrumentedDatastore`
            Configured by the option ``datastore``; with ``faults``, wrapped
            in an ``InstrumentedDatastore`` holding `fault_plan` (and a
            journal of every call).

        Raises
        ------
        lsst.daf.butler.datastore.DatastoreValidationError
            Raised by the datastore for an invalid configuration value.
        """
        manager = self.bridge_manager() if bridge_manager is None else bridge_manager
        config = DatastoreConfig({**self.options["datastore"], "cls": _DATASTORE_CLASS})
        datastore = Datastore.fromConfig(config, manager)
        assert isinstance(datastore, InMemoryDatastore)
        plan = self.fault_plan()
        if plan is not None:
            return InstrumentedDatastore.wrap(datastore, faults=plan)
        return datastore

    def data_ids(self, universe: DimensionUniverse | None = None) -> DataIdFactory:
        """Return this test's seeded data ID factory.

        Parameters
        ----------
        universe : `~lsst.daf.butler.DimensionUniverse`, optional
            The dimension universe; the default one if not given.

        Returns
        -------
        factory : `~butler_testkit.factories.DataIdFactory`
            For the option ``instrument``, seeded by the ``data_ids`` stream.
        """
        return DataIdFactory(
            self.universe() if universe is None else universe,
            instrument=self.options["instrument"],
            seed=self.seed("data_ids"),
        )

    def refs(self, data_ids: DataIdFactory | None = None) -> RefFactory:
        """Return this test's seeded ref factory.

        Parameters
        ----------
        data_ids : `~butler_testkit.factories.DataIdFactory`, optional
            Where its data IDs come from; `data_ids` if not given.

        Returns
        -------
        factory : `~butler_testkit.factories.RefFactory`
            Seeded by the ``refs`` stream. Its storage classes must be
            installed (`storage_classes`) while it is used.
        """
        return RefFactory(self.data_ids() if data_ids is None else data_ids, seed=self.seed("refs"))

    @property
    def registry(self) -> str:
        """Where the test's repositories keep their registry.

        The option ``registry``, else ``$BUTLER_TESTKIT_REGISTRY``, else
        ``"sqlite"``: ``"sqlite"``, ``"postgresql"`` or a PostgreSQL URL
        (see `~butler_testkit.butler.resolve_registry`).

        Raises
        ------
        ValueError
            Raised if the environment variable holds no such choice.
        """
        chosen = self.options["registry"]
        if chosen is not None:
            return str(chosen)
        given = os.environ.get(REGISTRY_ENVIRONMENT_VARIABLE, "").strip()
        return resolve_registry(given, source=f"${REGISTRY_ENVIRONMENT_VARIABLE}") if given else "sqlite"

    def repository(
        self, root: str | Path, keywords: Mapping[str, Any] | None = None, *, registry: str | None = None
    ) -> TestRepository:
        """Create a fresh, isolated test repository.

        Parameters
        ----------
        root : `str` or `pathlib.Path`
            An empty directory for it.
        keywords : `~collections.abc.Mapping` [`str`, `object`], optional
            What it holds (``butler_testkit.butler.REPOSITORY_KEYWORDS``);
            the option ``repository`` if not given. Seeded values are drawn
            from the session seed, so repositories declared alike hold the
            same records and share one template.
        registry : `str`, optional
            Where its registry lives; `registry` if not given.

        Returns
        -------
        repository : `~butler_testkit.butler.TestRepository`
            The repository, default run `run_name` unless ``run`` is given;
            the caller closes it.

        Raises
        ------
        TypeError
            Raised for an unknown keyword.
        ValueError
            Raised for an invalid seeding or registry.
        butler_testkit.butler.PostgresUnavailableError
            Raised if the registry is on PostgreSQL and PostgreSQL cannot be
            had (the front ends turn it into a skip with its message).
        """
        wanted = self.options["repository"] if keywords is None else keywords
        spec, run = repository_request(wanted, default_run=self.run_name, seed=self.session_seed)
        chosen = self.registry if registry is None else registry
        return create_test_repository(root, run=run, spec=spec, registry=chosen)
