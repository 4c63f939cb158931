"""Fresh, isolated test repositories, made in milliseconds from a template."""

from __future__ import annotations

__all__ = ("TestRepository", "create_test_repository")

import contextlib
import gc
import logging
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from lsst.daf.butler import Butler, ButlerConfig
from lsst.daf.butler.direct_butler import DirectButler
from lsst.daf.butler.registry import RegistryDefaults
from lsst.daf.butler.registry.sql_registry import SqlRegistry
from lsst.resources import ResourcePath

from ..datastore import InMemoryDatastore, release_shared_state, shared_state_for
from ._database import clone_managers, open_repository_database
from ._seeding import SeededData
from ._sqlite import TestDatabases
from ._stats import STATS
from ._template import CONFIG_FILE, DATABASE_FILE, RepositorySpec, RepositoryTemplate

_LOG = logging.getLogger(__name__)

#: SQLite files of live test repositories (process-wide).
DATABASES = TestDatabases()


class TestRepository:
    """A fresh repository for one test, with a Butler open on it.

    Made by `create_test_repository`. The repository is a real one: a SQLite
    registry and an in-memory datastore under `root`, so that
    ``Butler.from_config(repo.root)`` anywhere in the process opens it, sees
    the same registry and reads the same datasets.

    Parameters
    ----------
    root : `pathlib.Path`
        Root directory.
    butler : `~lsst.daf.butler.direct_butler.DirectButler`
        A writeable Butler on the repository.
    run : `str`
        Its default run collection.

    Notes
    -----
    `close` (or leaving a ``with`` block) closes the Butler, closes every
    SQLite connection still open on the registry (including those of Butlers
    the code under test opened and never closed) and forgets the stored
    datasets.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, root: Path, butler: DirectButler, run: str, seeded: SeededData | None = None) -> None:
        self.root = root
        self.butler = butler
        self.run = run
        self.seeded = seeded if seeded is not None else SeededData()
        """What the repository was seeded with (`SeededData`)."""
        self._closed = False

    @property
    def database(self) -> Path:
        """The registry's SQLite file."""
        return self.root / DATABASE_FILE

    def open(self, *, run: str | None = None, collections: Sequence[str] | str | None = None) -> Butler:
        """Open another Butler on this repository, cheaply.

        Parameters
        ----------
        run : `str`, optional
            Default run of the new Butler (registered if new); this
            repository's run if `None`.
        collections : `str` or `~collections.abc.Sequence` [`str`], optional
            Default collections to search.

        Returns
        -------
        butler : `~lsst.daf.butler.Butler`
            A clone of `butler` with other defaults: the same registry and
            the same datasets.
        """
        self._check_open()
        return self.butler.clone(run=run if run is not None else self.run, collections=collections)

    def close(self) -> None:
        """Close the Butler and every connection to the registry; forget the datasets."""
        if self._closed:
            return
        self._closed = True
        self.butler.close()
        leaked = DATABASES.close_connections(str(self.database))
        if leaked:
            _LOG.debug("Closed %d SQLite connection(s) left open on %s.", leaked, self.root)
        release_shared_state(str(self.root))

    @property
    def closed(self) -> bool:
        """Whether `close` has been called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"Test repository {self.root} is closed.")

    def __enter__(self) -> TestRepository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TestRepository({str(self.root)!r}, run={self.run!r}{', closed' if self._closed else ''})"


def create_test_repository(
    root: str | Path,
    *,
    run: str = "test_run",
    spec: RepositorySpec | None = None,
) -> TestRepository:
    """Create a fresh repository for one test, in milliseconds.

    Parameters
    ----------
    root : `str` or `pathlib.Path`
        Directory for the repository; created if needed, and must not hold a
        repository already.
    run : `str`, optional
        Default run collection of the returned Butler (registered).
    spec : `RepositorySpec`, optional
        What the repository starts with (dimension universe, registry data);
        an empty repository with the default universe if `None`.

    Returns
    -------
    repository : `TestRepository`
        The repository, with a writeable Butler on it. Close it when done.

    Raises
    ------
    FileExistsError
        Raised if ``root`` already holds a repository.

    Notes
    -----
    The first repository of each kind on a machine builds a template (a
    repository made with ``Butler.makeRepo``, plus any registry data) in a
    cache directory; see `cache_directory`. Each process then opens the
    template once, and every repository after that is a copy of the
    template's database file and a Butler whose registry clones the
    template's already-loaded registry managers onto the copy, which avoids
    re-reading the configuration and re-describing every table. If this
    daf_butler does not allow that, a plain ``Butler.from_config`` on the
    copy is used instead (slower, and counted by `setup_stats`).
    """
    start = time.perf_counter()
    root = Path(root)
    if (root / CONFIG_FILE).exists():
        raise FileExistsError(f"{root} already holds a repository ({CONFIG_FILE} exists).")
    with _cyclic_gc_paused():
        repository, slow_path = _create(root, run, spec or RepositorySpec())
    STATS.record_repository(time.perf_counter() - start, slow_path=slow_path)
    return repository


class _CyclicGcPause:
    """Pauses the cyclic garbage collector while any thread sets up a repository.

    Setting up a registry allocates tens of thousands of objects, which
    triggers full collections that walk everything daf_butler, SQLAlchemy
    and pydantic have loaded: about half the cost of the first repository
    in a process. Nothing made during setup needs collecting before it
    returns. The collector is process-wide, so threads setting up at once
    share one pause, and the state the first found is restored by the last.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._was_enabled:
                    gc.enable()


_cyclic_gc_paused = _CyclicGcPause()


def _create(root: Path, run: str, spec: RepositorySpec) -> tuple[TestRepository, bool]:
    """Make the repository; also return whether it took the slow path."""
    template = RepositoryTemplate.for_spec(spec, DATABASES)
    root.mkdir(parents=True, exist_ok=True)
    database = root / DATABASE_FILE
    shutil.copyfile(template.database, database)
    shutil.copyfile(template.config_file, root / CONFIG_FILE)
    DATABASES.register(str(database))
    butler = _clone_template(template, root, run)
    slow_path = butler is None
    if butler is None:
        opened = Butler.from_config(ResourcePath(root, forceDirectory=True), writeable=True, run=run)
        assert isinstance(opened, DirectButler), "a SQLite repository always gets a DirectButler"
        butler = opened
    return TestRepository(root, butler, run, template.seeded), slow_path


def _clone_template(template: RepositoryTemplate, root: Path, run: str) -> DirectButler | None:
    """Build a Butler on ``root`` from the template's loaded registry managers.

    This does what ``SqlRegistry.copy`` does, except that the copy talks to
    another database file (the repository's copy of the template's). It
    relies on daf_butler internals that are the same from 30.0 to today;
    returns `None`, for the caller to take the slow path, if they change.
    """
    try:
        template_registry: Any = template.butler._registry
        db = open_repository_database(template_registry._db, str(root / DATABASE_FILE), template.table_names)
        managers = clone_managers(template_registry._managers, db)
        # Nothing to infer default data ID values from in a new repository.
        registry = SqlRegistry(db, RegistryDefaults(run=run, infer=False), managers)
        registry._datastore_record_classes = dict(template_registry._datastore_record_classes)
    except (AttributeError, TypeError) as err:
        _LOG.warning("Fast test-repository path unavailable (%s); using Butler.from_config.", err)
        return None
    config = ButlerConfig(template.butler._config)
    config.configDir = ResourcePath(root, forceDirectory=True)
    config.configFile = config.configDir.join(CONFIG_FILE)
    template_datastore = template.butler._datastore
    datastore = InMemoryDatastore(
        template_datastore.config, registry.getDatastoreBridgeManager(), state=shared_state_for(str(root))
    )
    return DirectButler(
        config=config, registry=registry, datastore=datastore, storageClasses=template.butler.storageClasses
    )
