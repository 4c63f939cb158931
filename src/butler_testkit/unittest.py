"""Mixins giving a `unittest.TestCase` the pytest plugin's factories.

Most LSST test suites are ``unittest`` classes. Mix these in before
`unittest.TestCase`; each sets attributes named like the pytest fixtures
in ``setUp``, with the same isolation (the catalogue is installed for one
test and taken back exactly, every datastore is new) and the same seeding
(a session seed and the test's id)::

    class MyTaskTestCase(ButlerTestCaseMixin, unittest.TestCase):
        butler_instrument = "HSC"

        def test_round_trip(self):
            ref = self.butler_refs.ref("calexp", storage_class="BtkImage")
            ...

The session seed is ``--butler-seed`` when pytest runs the tests, else
``$BUTLER_TESTKIT_SEED``, else a fixed default; a class may set
``butler_seed`` to pin its own. The per-test seed comes from the session seed
and `unittest.TestCase.id`, so a test gets the same values on every run, in
any order, in any process.
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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from . import _seeds

if TYPE_CHECKING:
    from lsst.daf.butler import Butler, DimensionUniverse
    from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager

    from .butler import TestRepository
    from .datastore import InMemoryDatastore
    from .factories import DataIdFactory, RefFactory, StorageClassScope

    _Base = unittest.TestCase
else:
    _Base = object

_DATASTORE_KEYS = ("name", "isolation", "constraints", "expire_after")


class ButlerSeedMixin(_Base):
    """Give each test its seeds, from the session seed and the test's id."""

    butler_seed: ClassVar[int | None] = None
    """Session seed for this class; the runner's or the default if `None`."""

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
        return _seeds.derive_seed(_seeds.session_seed(self.butler_seed), self.id(), stream)


class ButlerStorageClassesMixin(_Base):
    """Install the storage-class catalogue for each test.

    Sets ``self.butler_storage_classes`` (a
    `~butler_testkit.factories.StorageClassScope`); the process-wide factory
    is restored exactly after the test, whatever it defined or redefined.
    """

    butler_storage_classes: StorageClassScope

    def setUp(self) -> None:
        """Install the catalogue for this test, until its cleanups run."""
        super().setUp()
        from .factories import installed_storage_classes

        self.butler_storage_classes = self.enterContext(installed_storage_classes())


class ButlerDataIdsMixin(ButlerSeedMixin):
    """Give each test seeded, realistic data IDs.

    Sets ``self.butler_universe`` and ``self.butler_data_ids`` (a
    `~butler_testkit.factories.DataIdFactory` for ``butler_instrument``).
    """

    butler_instrument: ClassVar[str] = "GenericCam"
    """Instrument preset: ``GenericCam``, ``HSC`` or ``LSSTCam``."""

    butler_universe: DimensionUniverse
    butler_data_ids: DataIdFactory

    def setUp(self) -> None:
        """Make this test's data ID factory, seeded from its id."""
        super().setUp()
        from .factories import DataIdFactory, default_universe

        self.butler_universe = default_universe()
        self.butler_data_ids = DataIdFactory(
            self.butler_universe, instrument=self.butler_instrument, seed=self.butler_test_seed("data_ids")
        )


class ButlerRefsMixin(ButlerDataIdsMixin, ButlerStorageClassesMixin):
    """Give each test resolved refs from a name, with the catalogue installed.

    Sets ``self.butler_refs`` (a `~butler_testkit.factories.RefFactory`) as
    well as the attributes of the data ID and storage-class mixins.
    """

    butler_refs: RefFactory

    def setUp(self) -> None:
        """Make this test's ref factory, seeded from its id."""
        super().setUp()
        from .factories import RefFactory

        self.butler_refs = RefFactory(self.butler_data_ids, seed=self.butler_test_seed("refs"))


class ButlerDatastoreMixin(ButlerStorageClassesMixin):
    """Give each test a fresh `~butler_testkit.InMemoryDatastore`.

    Sets ``self.butler_bridge_manager`` and ``self.butler_datastore``,
    configured by the class's ``butler_datastore_config`` (keys ``name``,
    ``isolation``, ``constraints``, ``expire_after``), as the pytest marker
    does.
    """

    butler_datastore_config: ClassVar[Mapping[str, Any]] = {}
    """Datastore configuration, e.g. ``{"isolation": "reference"}``."""

    butler_bridge_manager: DatastoreRegistryBridgeManager
    butler_datastore: InMemoryDatastore

    def setUp(self) -> None:
        """Make this test's datastore and bridge manager.

        Raises
        ------
        TypeError
            Raised if ``butler_datastore_config`` has an unknown key.
        """
        super().setUp()
        from lsst.daf.butler.datastore import Datastore, DatastoreConfig

        from .datastore import InMemoryDatastore
        from .factories import make_bridge_manager

        unknown = sorted(set(self.butler_datastore_config) - set(_DATASTORE_KEYS))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.butler_datastore_config has unknown keys {unknown}; "
                f"it takes {', '.join(_DATASTORE_KEYS)}."
            )
        self.butler_bridge_manager = make_bridge_manager()
        config = DatastoreConfig({**self.butler_datastore_config, "cls": "butler_testkit.InMemoryDatastore"})
        datastore = Datastore.fromConfig(config, self.butler_bridge_manager)
        assert isinstance(datastore, InMemoryDatastore)
        self.butler_datastore = datastore


class ButlerTestCaseMixin(ButlerRefsMixin, ButlerDatastoreMixin):
    """Everything: storage classes, data IDs, refs and a datastore for each test."""


class ButlerRepoMixin(ButlerStorageClassesMixin, ButlerSeedMixin):
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
    """

    butler_repo_spec: ClassVar[Mapping[str, Any]] = {}
    """Keywords declaring the repository (see ``REPOSITORY_KEYWORDS``)."""

    butler_repo: TestRepository
    butler: Butler

    def setUp(self) -> None:
        """Make this test's repository.

        Raises
        ------
        TypeError
            Raised if ``butler_repo_spec`` has an unknown key.
        """
        super().setUp()
        import tempfile
        from pathlib import Path

        from .butler import create_test_repository, repository_request

        spec, run = repository_request(
            self.butler_repo_spec,
            default_run=f"test/{self._testMethodName}",
            seed=_seeds.session_seed(self.butler_seed),
        )
        directory = self.enterContext(tempfile.TemporaryDirectory(prefix="butler-testkit-repo-"))
        self.butler_repo = create_test_repository(Path(directory) / "repo", run=run, spec=spec)
        # Cleanups run last-in first-out: the repository closes before its
        # directory goes.
        self.addCleanup(self.butler_repo.close)
        self.butler = self.butler_repo.butler
