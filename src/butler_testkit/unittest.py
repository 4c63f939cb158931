"""Mixins giving a `unittest.TestCase` what the pytest fixtures give.

Most LSST test suites are ``unittest`` classes. Mix these in before
`unittest.TestCase`; each sets attributes named like the pytest fixtures
in ``setUp``, from the same engine
(`~butler_testkit.engine.ButlerTestEngine`) with the same options, so the
isolation (the catalogue is installed for one test and taken back exactly,
every datastore and repository is new), the seeding (a session seed and the
test's id) and the fault injection are the same::

    class MyTaskTestCase(ButlerTestCaseMixin, unittest.TestCase):
        butler_instrument = "HSC"

        def test_round_trip(self):
            ref = self.butler_refs.ref("calexp", storage_class="BtkImage")
            ...

Where a pytest test uses a marker, a class sets an attribute (the options
table, ``butler_testkit.engine.OPTIONS``, says which):

=========================== ==========================================
class attribute              pytest equivalent
=========================== ==========================================
``butler_seed``              ``--butler-seed`` (for this class)
``butler_instrument``        ``butler_data_ids(instrument=...)``
``butler_datastore_config``  ``butler_datastore(**config)``
``butler_faults``            ``butler_faults(*rules)``
``butler_faults_seed``       ``butler_faults(seed=...)``
``butler_repo_spec``         ``butler_repo(**spec)``
``butler_registry``          ``butler_repo(registry=...)``, ``--butler-registry``
=========================== ==========================================

An attribute left `None` (the default) takes the session's value: what
pytest was given on its command line when pytest runs the tests, else
``$BUTLER_TESTKIT_SEED`` for the seed (``$BUTLER_TESTKIT_REGISTRY`` for the
registry), else the default. The per-test seed
comes from the session seed and `unittest.TestCase.id`, so a test gets the
same values on every run, in any order, in any process.
"""

from __future__ import annotations

__all__ = (
    "ButlerDataIdsMixin",
    "ButlerDatastoreMixin",
    "ButlerRefsMixin",
    "ButlerRepoMixin",
    "ButlerSeedMixin",
    "ButlerStorageClassesMixin",
    "ButlerTestCaseMixin",
)

import unittest
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from lsst.daf.butler import Butler, DimensionUniverse
    from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager

    from .butler import TestRepository
    from .datastore import InMemoryDatastore, InstrumentedDatastore
    from .engine import ButlerTestEngine
    from .factories import DataIdFactory, RefFactory, StorageClassScope

    _Base = unittest.TestCase
else:
    _Base = object


class ButlerSeedMixin(_Base):
    """Give each test its engine and its seeds, from the session seed and the test's id.

    Sets ``self.butler_engine``, the `~butler_testkit.engine.ButlerTestEngine`
    of the test, with the options the class's attributes give.
    """

    butler_seed: ClassVar[int | None] = None
    """Session seed for this class; the runner's or the default if `None`."""

    butler_engine: ButlerTestEngine

    def setUp(self) -> None:
        """Read the class's options and make this test's engine.

        Raises
        ------
        TypeError, ValueError
            Raised for an invalid class attribute, naming it.
        """
        super().setUp()
        from .engine import ButlerTestEngine, options_from_attributes

        self.butler_engine = ButlerTestEngine.for_test(
            self.id(), self._testMethodName, options_from_attributes(type(self))
        )

    def butler_test_seed(self, stream: str = "test") -> int:
        """Return the seed of one stream of values of the running test.

        Parameters
        ----------
        stream : `str`, optional
            Which values (``data_ids``, ``refs``, ...).

        Returns
        -------
        seed : `int`
            The same for the same test on every run.
        """
        return self.butler_engine.seed(stream)


class ButlerStorageClassesMixin(ButlerSeedMixin):
    """Install the storage-class catalogue for each test.

    Sets ``self.butler_storage_classes`` (a
    `~butler_testkit.factories.StorageClassScope`); the process-wide factory
    is restored exactly after the test, whatever it defined or redefined.
    """

    butler_storage_classes: StorageClassScope

    def setUp(self) -> None:
        """Install the catalogue for this test, until its cleanups run."""
        super().setUp()
        self.butler_storage_classes = self.enterContext(self.butler_engine.storage_classes())


class ButlerDataIdsMixin(ButlerSeedMixin):
    """Give each test seeded, realistic data IDs.

    Sets ``self.butler_universe`` and ``self.butler_data_ids`` (a
    `~butler_testkit.factories.DataIdFactory` for ``butler_instrument``).
    """

    butler_instrument: ClassVar[str | None] = None
    """Instrument preset: ``GenericCam``, ``HSC`` or ``LSSTCam``; the session's
    (``--butler-instrument``) or ``GenericCam`` if `None`."""

    butler_universe: DimensionUniverse
    butler_data_ids: DataIdFactory

    def setUp(self) -> None:
        """Make this test's data ID factory, seeded from its id."""
        super().setUp()
        self.butler_universe = self.butler_engine.universe()
        self.butler_data_ids = self.butler_engine.data_ids(self.butler_universe)


class ButlerRefsMixin(ButlerDataIdsMixin, ButlerStorageClassesMixin):
    """Give each test resolved refs from a name, with the catalogue installed.

    Sets ``self.butler_refs`` (a `~butler_testkit.factories.RefFactory`) as
    well as the attributes of the data ID and storage-class mixins.
    """

    butler_refs: RefFactory

    def setUp(self) -> None:
        """Make this test's ref factory, seeded from its id."""
        super().setUp()
        self.butler_refs = self.butler_engine.refs(self.butler_data_ids)


class ButlerDatastoreMixin(ButlerStorageClassesMixin):
    """Give each test a fresh `~butler_testkit.InMemoryDatastore`.

    Sets ``self.butler_bridge_manager`` and ``self.butler_datastore``,
    configured by the class's ``butler_datastore_config`` (keys ``name``,
    ``isolation``, ``constraints``, ``expire_after``, ``capacity_bytes``,
    ``formatters``), as the ``butler_datastore`` marker does. With
    ``butler_faults`` the datastore comes wrapped in an
    `~butler_testkit.InstrumentedDatastore` whose fault plan has those
    rules, as the ``butler_faults`` marker does::

        class RetryTestCase(ButlerDatastoreMixin, unittest.TestCase):
            butler_faults = ({"operations": "get", "nth": 2},)
    """

    butler_datastore_config: ClassVar[Mapping[str, Any] | None] = None
    """Datastore configuration, e.g. ``{"isolation": "reference"}``."""

    butler_faults: ClassVar[Sequence[Any] | None] = None
    """Fault rules, each a mapping of `~butler_testkit.Fault` keywords or a ``Fault``."""

    butler_faults_seed: ClassVar[int | None] = None
    """Seed of the rules' probabilities; the test's own if `None`."""

    butler_bridge_manager: DatastoreRegistryBridgeManager
    butler_datastore: InMemoryDatastore | InstrumentedDatastore

    def setUp(self) -> None:
        """Make this test's datastore and bridge manager.

        Raises
        ------
        TypeError
            Raised if ``butler_datastore_config`` has an unknown key or
            ``butler_faults`` a bad rule.
        """
        super().setUp()
        self.butler_bridge_manager = self.butler_engine.bridge_manager()
        self.butler_datastore = self.butler_engine.datastore(self.butler_bridge_manager)


class ButlerTestCaseMixin(ButlerRefsMixin, ButlerDatastoreMixin):
    """Everything: storage classes, data IDs, refs and a datastore for each test."""


class ButlerRepoMixin(ButlerStorageClassesMixin):
    """Give each test a fresh, fully isolated, real Butler repository.

    Sets ``self.butler_repo`` (a `~butler_testkit.butler.TestRepository`) and
    ``self.butler`` (its writeable Butler, default run
    ``test/<test method>``), made in milliseconds from a template, as the
    pytest ``butler_repo`` fixture does, and closed after the test. The
    class's ``butler_repo_spec`` declares what the repository holds, with the
    ``butler_repo`` marker's keywords::

        class IngestTestCase(ButlerRepoMixin, unittest.TestCase):
            butler_repo_spec = {"instrument": "HSC", "detectors": 3, "visits": 2}

            def test_something(self):
                self.butler.registry.queryDimensionRecords("visit")

    ``butler_registry = "postgresql"`` puts the registry in a database of
    its own on a throwaway PostgreSQL server (or give a server's URL); where
    PostgreSQL cannot be had, each test is skipped with the reason.
    """

    butler_repo_spec: ClassVar[Mapping[str, Any] | None] = None
    """Keywords declaring the repository (see ``REPOSITORY_KEYWORDS``)."""

    butler_registry: ClassVar[str | None] = None
    """Where the registry lives: ``sqlite``, ``postgresql`` or a PostgreSQL
    server's URL; the session's (``--butler-registry``, else
    ``$BUTLER_TESTKIT_REGISTRY``) or ``sqlite`` if `None`."""

    butler_repo: TestRepository
    butler: Butler

    def setUp(self) -> None:
        """Make this test's repository.

        Raises
        ------
        TypeError
            Raised if ``butler_repo_spec`` has an unknown key.
        unittest.SkipTest
            Raised if the registry is to be on PostgreSQL and PostgreSQL
            cannot be had, with the reason and how to install it.
        """
        super().setUp()
        import tempfile
        from pathlib import Path

        from .butler import PostgresUnavailableError

        directory = self.enterContext(tempfile.TemporaryDirectory(prefix="butler-testkit-repo-"))
        try:
            self.butler_repo = self.butler_engine.repository(Path(directory) / "repo")
        except PostgresUnavailableError as err:
            self.skipTest(str(err))
        # Cleanups run last-in first-out: the repository closes before its
        # directory goes.
        self.addCleanup(self.butler_repo.close)
        self.butler = self.butler_repo.butler
