"""Fresh, isolated test repositories, made in milliseconds from a template."""

from __future__ import annotations

__all__ = ("RegistryDatabase", "TestRepository", "create_test_repository")

import contextlib
import gc
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from lsst.daf.butler import Butler, ButlerConfig
from lsst.daf.butler.direct_butler import DirectButler
from lsst.daf.butler.registry import RegistryDefaults
from lsst.daf.butler.registry.sql_registry import SqlRegistry
from lsst.resources import ResourcePath

from ..datastore import InMemoryDatastore, release_shared_state
from ._database import clone_managers, open_repository_database
from ._registries import resolve_registry
from ._seeding import SeededData
from ._sqlite import TestDatabases
from ._stats import STATS
from ._template import CONFIG_FILE, DATABASE_FILE, RepositorySpec, RepositoryTemplate

if TYPE_CHECKING:
    from lsst.daf.butler.registry.interfaces import Database

_LOG = logging.getLogger(__name__)

#: SQLite files of live test repositories (process-wide).
DATABASES = TestDatabases()


class RegistryDatabase(Protocol):
    """The registry database of one test repository, as its repository sees it."""

    url: str
    """SQLAlchemy URL of the database."""

    def open_connection_count(self) -> int:
        """Return how many connections to the database are open in this process."""
        ...

    def close(self) -> int:
        """Close every connection to the database and release it; return how many were open."""
        ...


class _SqliteFile:
    """The registry of a SQLite test repository: a file inside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def open_connection_count(self) -> int:
        return DATABASES.open_connection_count(str(self.path))

    def close(self) -> int:
        return DATABASES.close_connections(str(self.path))


class TestRepository:
    """A fresh repository for one test, with a Butler open on it.

    Made by `create_test_repository`. The repository is a real one: a
    registry database of its own (a SQLite file under `root`, or a database
    on a PostgreSQL server) and an in-memory datastore, with its
    ``butler.yaml`` under `root`, so that ``Butler.from_config(repo.root)``
    anywhere in the process opens it, sees the same registry and reads the
    same datasets.

    Parameters
    ----------
    root : `pathlib.Path`
        Root directory.
    butler : `~lsst.daf.butler.direct_butler.DirectButler`
        A writeable Butler on the repository.
    run : `str`
        Its default run collection.
    seeded : `SeededData`, optional
        What the repository was seeded with.
    registry_database : `RegistryDatabase`, optional
        Its registry database; the SQLite file under ``root`` if `None`.

    Notes
    -----
    `close` (or leaving a ``with`` block) closes the Butler, closes every
    connection still open on the registry (including those of Butlers the
    code under test opened and never closed), drops a PostgreSQL database
    and forgets the stored datasets.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        root: Path,
        butler: DirectButler,
        run: str,
        seeded: SeededData | None = None,
        registry_database: RegistryDatabase | None = None,
    ) -> None:
        self.root = root
        self.butler = butler
        self.run = run
        self.seeded = seeded if seeded is not None else SeededData()
        """What the repository was seeded with (`SeededData`)."""
        self._registry_database: RegistryDatabase = (
            registry_database if registry_database is not None else _SqliteFile(root / DATABASE_FILE)
        )
        self._closed = False

    @property
    def database(self) -> Path:
        """The registry's SQLite file.

        Raises
        ------
        AttributeError
            Raised if the registry is not on SQLite; see `registry_url`.
        """
        registry_database = self._registry_database
        if not isinstance(registry_database, _SqliteFile):
            raise AttributeError(
                f"Test repository {self.root} has its registry at {self.registry_url}, not in a SQLite "
                "file; use registry_url."
            )
        return registry_database.path

    @property
    def registry_url(self) -> str:
        """SQLAlchemy URL of the registry database."""
        return self._registry_database.url

    @property
    def registry_dialect(self) -> str:
        """The registry's database engine: ``"sqlite"`` or ``"postgresql"``."""
        return "sqlite" if isinstance(self._registry_database, _SqliteFile) else "postgresql"

    def open_connection_count(self) -> int:
        """Return how many connections to the registry database are open in this process.

        Returns
        -------
        count : `int`
            Open connections, from every Butler on the repository (the code
            under test's included).
        """
        return self._registry_database.open_connection_count()

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
        leaked = self._registry_database.close()
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
    registry: str | None = None,
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
    registry : `str`, optional
        Where the registry lives: ``"sqlite"`` (a file under ``root``),
        ``"postgresql"`` (a new database on this process's throwaway
        PostgreSQL server, started on first use) or the URL of a PostgreSQL
        server you run (a new database on it). `None` means ``"sqlite"``.

    Returns
    -------
    repository : `TestRepository`
        The repository, with a writeable Butler on it. Close it when done.

    Raises
    ------
    FileExistsError
        Raised if ``root`` already holds a repository.
    ValueError
        Raised if ``registry`` is none of the above.
    PostgresUnavailableError
        Raised if PostgreSQL is asked for and cannot be had: no server
        programs, no driver (the message says how to get them).

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

    On PostgreSQL the template is a database, built once per process (and
    server), and each repository is ``CREATE DATABASE ... TEMPLATE`` of it,
    dropped again by `TestRepository.close`.
    """
    start = time.perf_counter()
    choice = resolve_registry(registry)
    root = Path(root)
    if (root / CONFIG_FILE).exists():
        raise FileExistsError(f"{root} already holds a repository ({CONFIG_FILE} exists).")
    with _cyclic_gc_paused():
        if choice == "sqlite":
            repository, slow_path = _create(root, run, spec or RepositorySpec())
        else:
            repository, slow_path = _create_on_postgresql(root, run, spec or RepositorySpec(), choice)
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

    def open_copy() -> Database:
        template_db: Any = template.butler._registry._db
        return open_repository_database(template_db, str(database), template.table_names)

    butler = _clone_template(template, root, run, open_copy)
    slow_path = butler is None
    if butler is None:
        butler = _open_slowly(root, run)
    return TestRepository(root, butler, run, template.seeded), slow_path


def _create_on_postgresql(
    root: Path, run: str, spec: RepositorySpec, choice: str
) -> tuple[TestRepository, bool]:
    """Make the repository on a copy of the PostgreSQL template database."""
    from ._pg_repository import open_copy_database, postgres_registries, write_copy_config

    registries = postgres_registries(choice)
    template, template_database = registries.template(spec)
    copy = registries.new_copy(template, template_database)
    try:
        root.mkdir(parents=True, exist_ok=True)
        write_copy_config(template, root, copy.url)
        butler = _clone_template(
            template, root, run, lambda: open_copy_database(template, copy.url), registry_url=copy.url
        )
        slow_path = butler is None
        if butler is None:
            butler = _open_slowly(root, run)
    except BaseException:
        copy.close()
        raise
    return TestRepository(root, butler, run, template.seeded, copy), slow_path


def _open_slowly(root: Path, run: str) -> DirectButler:
    opened = Butler.from_config(ResourcePath(root, forceDirectory=True), writeable=True, run=run)
    assert isinstance(opened, DirectButler), "a SQL repository always gets a DirectButler"
    return opened


def _clone_template(
    template: RepositoryTemplate,
    root: Path,
    run: str,
    open_database: Callable[[], Database],
    *,
    registry_url: str | None = None,
) -> DirectButler | None:
    """Build a Butler on ``root`` from the template's loaded registry managers.

    This does what ``SqlRegistry.copy`` does, except that the copy talks to
    another database (the repository's copy of the template's, opened by
    ``open_database``; at ``registry_url`` if that is not relative to the
    root). It relies on daf_butler internals that are the same from 30.0 to
    today; returns `None`, for the caller to take the slow path, if they
    change.
    """
    try:
        template_registry: Any = template.butler._registry
        db = open_database()
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
    if registry_url is not None:
        # What a pickled Butler, or a clone in another process, reconnects to.
        config["registry", "db"] = registry_url
    template_datastore = template.butler._datastore
    datastore = InMemoryDatastore.for_repository(
        template_datastore.config, registry.getDatastoreBridgeManager(), str(root)
    )
    return DirectButler(
        config=config, registry=registry, datastore=datastore, storageClasses=template.butler.storageClasses
    )
