"""Test registries on PostgreSQL: a template database per kind, a copy per test."""

from __future__ import annotations

__all__ = ("PostgresCopy", "PostgresRegistries", "postgres_registries")

import atexit
import collections
import contextlib
import itertools
import logging
import queue
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy
from lsst.daf.butler import Butler, Config
from lsst.daf.butler.direct_butler import DirectButler
from lsst.daf.butler.registry.databases.postgresql import PostgresqlDatabase
from lsst.resources import ResourcePath

from ..datastore import release_shared_state
from ._database import RepositoryMetadata
from ._postgresql import PostgresServer, throwaway_postgres_server
from ._stats import STATS
from ._template import CONFIG_FILE, RepositorySpec, RepositoryTemplate, populate_repository, repository_config

_LOG = logging.getLogger(__name__)

# The longest a test waits for a copy under way before making its own.
_COPY_WAIT_SECONDS = 60.0
# What PostgreSQL reports when a template database still has a session.
_TEMPLATE_BUSY = "is being accessed by other users"


class _Connections:
    """The driver connections opened on each test database of this process.

    Every connection SQLAlchemy opens on a tracked database (by the test
    repository's Butler, or by one the code under test opens itself from
    the repository's ``butler.yaml``) is remembered, so that closing the
    repository closes those still open before the database is dropped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_database: dict[str, list[Any]] = {}
        self._installed = False

    def track(self, database: str) -> None:
        with self._lock:
            self._by_database.setdefault(database, [])
            if not self._installed:
                sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", self._on_connect)
                self._installed = True

    def close(self, database: str) -> int:
        with self._lock:
            connections = self._by_database.pop(database, [])
        closed = 0
        for connection in connections:
            if not connection.closed:
                with contextlib.suppress(Exception):
                    connection.close()
                closed += 1
        return closed

    def open_count(self, database: str) -> int:
        with self._lock:
            return sum(1 for connection in self._by_database.get(database, ()) if not connection.closed)

    def _on_connect(self, dbapi_connection: Any, connection_record: Any) -> None:
        if not self._by_database or not type(dbapi_connection).__module__.startswith("psycopg"):
            return
        database = dbapi_connection.info.dbname
        with self._lock:
            tracked = self._by_database.get(database)
            if tracked is not None:
                tracked.append(dbapi_connection)


CONNECTIONS = _Connections()


class PostgresCopy:
    """The registry database of one test repository: a copy of a template database.

    Parameters
    ----------
    registries : `PostgresRegistries`
        Where it was made.
    name : `str`
        Database name.
    url : `str`
        SQLAlchemy URL of the database.
    """

    def __init__(self, registries: PostgresRegistries, name: str, url: str) -> None:
        self._registries = registries
        self.name = name
        self.url = url

    def open_connection_count(self) -> int:
        """Return how many connections to the database are open in this process.

        Returns
        -------
        count : `int`
            Open connections, whichever Butler opened them.
        """
        return CONNECTIONS.open_count(self.name)

    def close(self) -> int:
        """Close every connection to the database and drop it.

        Returns
        -------
        leaked : `int`
            How many connections were still open (Butlers never closed).
        """
        leaked = CONNECTIONS.close(self.name)
        self._registries.drop(self.name)
        return leaked


class PostgresRegistries:
    """Template databases and per-test copies on one PostgreSQL server.

    Parameters
    ----------
    server : `PostgresServer`
        The server. Databases made here are named ``btk_<token>_...``, with a
        token of this object's own, so that several processes (pytest-xdist
        workers) can share an existing server.

    Notes
    -----
    The first repository of each kind (`RepositorySpec`) builds a template
    database with ``Butler.makeRepo`` and loads its registry data; every
    repository after that is ``CREATE DATABASE ... TEMPLATE`` of it (a file
    copy on the server) and a Butler whose registry clones the template's
    already-loaded registry managers onto the copy.
    """

    spares: ClassVar[int] = 3
    """The most copies of one template kept ready, made in the background.

    A template gets one more spare each time a copy of it is handed out, up
    to this: a kind of repository used once costs one spare copy, and a
    run of tests of one kind finds copies ready even when a test does
    little between repositories.
    """

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._prefix = f"btk_{secrets.token_hex(4)}"
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._admin = sqlalchemy.create_engine(
            server.url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=4
        )
        self._version = self._server_version()
        self._templates: dict[RepositorySpec, tuple[RepositoryTemplate, str]] = {}
        self._databases: set[str] = set()
        self._ready: dict[str, collections.deque[str]] = {}
        self._filling: set[str] = set()
        self._handed_out: collections.Counter[str] = collections.Counter()
        self._changed = threading.Condition(self._lock)
        self._directory = Path(tempfile.mkdtemp(prefix="btk-pg-templates-"))
        self._closed = False
        self._background = _Background(self)

    def _server_version(self) -> int:
        with self._admin.connect() as connection:
            number = connection.execute(sqlalchemy.text("SHOW server_version_num")).scalar()
        return int(str(number))

    def _execute(self, statement: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(sqlalchemy.text(statement))

    def _new_name(self, kind: str) -> str:
        return f"{self._prefix}_{kind}{next(self._counter)}"

    def template(self, spec: RepositorySpec) -> tuple[RepositoryTemplate, str]:
        """Return the template for ``spec`` and its database name, building it once.

        Parameters
        ----------
        spec : `RepositorySpec`
            What the template holds.

        Returns
        -------
        template : `RepositoryTemplate`
            Its files and a read-only Butler on it.
        database : `str`
            Name of its database.
        """
        with self._lock:
            found = self._templates.get(spec)
            if found is None:
                found = self._templates[spec] = self._build(spec)
            return found

    def _build(self, spec: RepositorySpec) -> tuple[RepositoryTemplate, str]:
        start = time.perf_counter()
        name = self._new_name("template")
        self._execute(f'CREATE DATABASE "{name}"')
        self._databases.add(name)
        url = self.server.database_url(name)
        engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool)
        with engine.connect() as connection:
            # daf_butler's timespans need it; copies inherit it.
            connection.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        engine.dispose()
        directory = self._directory / name
        directory.mkdir()
        populate_repository(spec, directory, repository_config(url))
        STATS.record_template_build(time.perf_counter() - start)
        start = time.perf_counter()
        butler = Butler.from_config(ResourcePath(directory, forceDirectory=True), writeable=False)
        assert isinstance(butler, DirectButler), "a PostgreSQL repository always gets a DirectButler"
        release_shared_state(str(directory))
        template = RepositoryTemplate(spec, directory, butler)
        self._release_template(template)
        STATS.record_template_load(time.perf_counter() - start)
        return template, name

    @staticmethod
    def _release_template(template: RepositoryTemplate) -> None:
        # A database with a session open on it cannot be copied.
        registry: Any = template.butler._registry
        registry._db.dispose()

    def new_copy(self, template: RepositoryTemplate, template_database: str) -> PostgresCopy:
        """Return a new database copied from a template's.

        Parameters
        ----------
        template : `RepositoryTemplate`
            The template.
        template_database : `str`
            Its database name.

        Returns
        -------
        copy : `PostgresCopy`
            The new database, never used before, its connections tracked.

        Notes
        -----
        A spare copy made in the background is handed out if there is one;
        then the spares are made up again (up to `spares`), so that the next
        test does not wait for the server to copy files.
        """
        with self._changed:
            ready = self._ready.setdefault(template_database, collections.deque())
            # A copy under way is ready sooner than a new one started now,
            # which would only slow both down.
            while not ready and template_database in self._filling:
                self._changed.wait(timeout=_COPY_WAIT_SECONDS)
            name = ready.popleft() if ready else None
            self._handed_out[template_database] += 1
        if name is None:
            name = self._copy(template, template_database)
        CONNECTIONS.track(name)
        self._background.submit(("fill", template, template_database))
        return PostgresCopy(self, name, self.server.database_url(name))

    def _copy(self, template: RepositoryTemplate, template_database: str) -> str:
        name = self._new_name("repo")
        # The default strategy (WAL_LOG since 15). FILE_COPY is faster for one
        # copy on an idle server, but waits for two checkpoints, which flush
        # every dirty page of every database: test after test, it took five
        # times as long.
        statement = f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'
        with self._lock:
            self._databases.add(name)
        try:
            try:
                self._execute(statement)
            except sqlalchemy.exc.OperationalError as err:
                if _TEMPLATE_BUSY not in str(err):
                    raise
                self._release_template(template)
                self._execute(statement)
        except BaseException:
            with self._lock:
                self._databases.discard(name)
            raise
        return name

    def _fill(self, template: RepositoryTemplate, template_database: str) -> None:
        """Make copies of a template until enough are ready (in the background)."""
        while True:
            with self._lock:
                wanted = min(self.spares, self._handed_out[template_database])
                if self._closed or len(self._ready.get(template_database, ())) >= wanted:
                    return
                self._filling.add(template_database)
            name: str | None = None
            try:
                name = self._copy(template, template_database)
            finally:
                kept = self._keep_ready(template_database, name)
            if not kept:
                if name is not None:
                    self._drop_now(name)
                return

    def _keep_ready(self, template_database: str, name: str | None) -> bool:
        with self._changed:
            self._filling.discard(template_database)
            self._changed.notify_all()
            if self._closed or name is None:
                return False
            self._ready.setdefault(template_database, collections.deque()).append(name)
            return True

    def drop(self, name: str) -> None:
        """Drop a database made here, closing any session still on it, in the background.

        Parameters
        ----------
        name : `str`
            Database name.
        """
        with self._lock:
            if name not in self._databases:
                return
        self._background.submit(("drop", name))

    def _drop_now(self, name: str) -> None:
        with self._lock:
            if name not in self._databases:
                return
            self._databases.discard(name)
        if self._version >= 130000:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:  # pragma: no cover - servers before 13 cannot force it
            self._execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            self._execute(f'DROP DATABASE IF EXISTS "{name}"')

    def databases(self) -> frozenset[str]:
        """Return the names of the databases made here and not dropped yet.

        Returns
        -------
        names : `frozenset` [`str`]
            Templates and live copies.
        """
        with self._lock:
            return frozenset(self._databases)

    def close(self) -> None:
        """Drop every database made here (templates included) and close the connections.

        A throwaway server is left to its own shutdown, which removes
        everything at once.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # Finish the drops under way; no more copies are made once closed.
        self._background.stop()
        with self._lock:
            templates = list(self._templates.values())
            self._templates.clear()
            self._ready.clear()
            remaining = list(self._databases)
        for template, _ in templates:
            template.butler.close()
        if self.server.running:
            for name in remaining if not self.server.owned else ():
                with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
                    CONNECTIONS.close(name)
                    self._drop_now(name)
        self._admin.dispose()
        shutil.rmtree(self._directory, ignore_errors=True)

    def wait_until_idle(self) -> None:
        """Wait until the background copies and drops asked for so far are done."""
        self._background.wait_until_idle()


class _Background:
    """One thread that makes spare copies and drops databases, in order.

    Both are work for the server, not for this process: the thread waits on
    its socket (without the GIL) while the test goes on. A failure is logged
    and leaves things as if the work had not been asked for: a copy that was
    not made is made when needed; a database that was not dropped goes when
    the throwaway server stops (or at `PostgresRegistries.close`).
    """

    # Copies first: a test may be waiting for one; a drop can wait.
    _PRIORITY: ClassVar[dict[str, int]] = {"fill": 0, "drop": 1, "stop": 2}

    def __init__(self, registries: PostgresRegistries) -> None:
        self._registries = registries
        self._tasks: queue.PriorityQueue[tuple[int, int, tuple[Any, ...]]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task: tuple[Any, ...]) -> None:
        with self._lock:
            if self._thread is None:
                # A daemon: it must not keep an interpreter that is exiting
                # from reaching the exit handler that stops it.
                self._thread = threading.Thread(target=self._run, name="butler-testkit-postgres", daemon=True)
                self._thread.start()
        self._tasks.put((self._PRIORITY[task[0]], next(self._order), task))

    def wait_until_idle(self) -> None:
        self._tasks.join()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            # After every drop asked for so far.
            self._tasks.put((self._PRIORITY["stop"], next(self._order), ("stop",)))
            thread.join()

    def _run(self) -> None:
        while True:
            _, _, task = self._tasks.get()
            if task[0] == "stop":
                self._tasks.task_done()
                return
            try:
                if task[0] == "drop":
                    self._registries._drop_now(task[1])
                else:
                    self._registries._fill(task[1], task[2])
            except Exception as err:
                _LOG.warning("Background work on the test PostgreSQL server failed (%s): %s", task[0], err)
            finally:
                self._tasks.task_done()


def open_copy_database(template: RepositoryTemplate, url: str) -> PostgresqlDatabase:
    """Open a copy of a template's database, sharing the template's table definitions.

    Parameters
    ----------
    template : `RepositoryTemplate`
        The template.
    url : `str`
        URL of the copy.

    Returns
    -------
    database : `~lsst.daf.butler.registry.databases.postgresql.PostgresqlDatabase`
        The database, writeable.

    Notes
    -----
    This is what ``PostgresqlDatabase.clone`` does, on another database and
    with metadata of its own; it relies on daf_butler internals unchanged
    from 30.0 to today. The checks its constructor makes (``btree_gist``,
    server version) were made on the template.
    """
    registry: Any = template.butler._registry
    template_db: Any = registry._db
    engine = PostgresqlDatabase.makeEngine(url, writeable=True)
    # The same dialect and table definitions: compiled SQL is the same too.
    engine_internals: Any = engine
    engine_internals._compiled_cache = template_db._engine._compiled_cache
    database = PostgresqlDatabase.__new__(PostgresqlDatabase)
    database_internals: Any = database
    database_internals._init(
        engine=engine,
        origin=template_db.origin,
        namespace=template_db.namespace,
        writeable=True,
        dbname=sqlalchemy.engine.make_url(url).database,
        metadata=RepositoryMetadata(template_db._metadata, template.table_names),
        pg_version=template_db._pg_version,
        allow_temporary_tables=template_db._allow_temporary_tables,
    )
    return database


def write_copy_config(template: RepositoryTemplate, root: Path, url: str) -> None:
    """Write the test repository's ``butler.yaml``: the template's, on the copy.

    Parameters
    ----------
    template : `RepositoryTemplate`
        The template.
    root : `pathlib.Path`
        The test repository's root.
    url : `str`
        URL of its registry database.
    """
    config = Config(str(template.config_file))
    config["registry", "db"] = url
    config.dumpToUri(ResourcePath(root / CONFIG_FILE))


class _ProcessRegistries:
    """The process's `PostgresRegistries`, one per server, closed at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_choice: dict[str, PostgresRegistries] = {}
        self._registered = False

    def get(self, choice: str) -> PostgresRegistries:
        with self._lock:
            registries = self._by_choice.get(choice)
            if registries is not None and registries.server.running and not registries._closed:
                return registries
            server = (
                throwaway_postgres_server() if choice == "postgresql" else PostgresServer.existing(choice)
            )
            registries = self._by_choice[choice] = PostgresRegistries(server)
            if not self._registered:
                # Registered after the throwaway server's own handler, so it
                # runs first (atexit runs newest first).
                atexit.register(self.close_all)
                self._registered = True
            return registries

    def close_all(self) -> None:
        with self._lock:
            everything = list(self._by_choice.values())
            self._by_choice.clear()
        for registries in everything:
            with contextlib.suppress(Exception):
                registries.close()


_PROCESS_REGISTRIES = _ProcessRegistries()


def postgres_registries(choice: str) -> PostgresRegistries:
    """Return this process's test registries for a PostgreSQL choice.

    Parameters
    ----------
    choice : `str`
        ``"postgresql"`` (the process's throwaway server) or a server URL,
        as `resolve_registry` returns them.

    Returns
    -------
    registries : `PostgresRegistries`
        The same object for the same choice while its server runs.

    Raises
    ------
    PostgresUnavailableError
        Raised if the throwaway server cannot be started.
    """
    return _PROCESS_REGISTRIES.get(choice)


def close_postgres_registries() -> None:
    """Drop every database this process made on PostgreSQL servers (also done at exit)."""
    _PROCESS_REGISTRIES.close_all()
