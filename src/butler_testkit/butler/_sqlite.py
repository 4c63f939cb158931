"""SQLite connections to test repositories: fast, and closed at teardown."""

from __future__ import annotations

__all__ = ("TestDatabases",)

import os
import sqlite3
import threading
from typing import Any

import sqlalchemy


class TestDatabases:
    """Track the SQLite databases of test repositories.

    Every SQLite connection that SQLAlchemy opens in this process on a
    registered database file (by a Butler made by a fixture, or by one the
    code under test opens itself with ``Butler.from_config``) is switched to
    ``PRAGMA synchronous=OFF``. A test repository is thrown away after the
    test, so durability buys nothing, and waiting for the disk on every
    commit is most of what a small registry operation costs.

    The connections are remembered so that `close_connections` can close
    any that are still open when the test ends, including those of Butlers
    the code under test never closed. (``sqlite3.Connection`` cannot be
    weakly referenced; the references are dropped when the database is.)

    Notes
    -----
    The listener is installed once per process on the SQLAlchemy ``Engine``
    class and does nothing for other databases.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, list[sqlite3.Connection]] = {}
        self._directories: set[str] = set()
        self._installed = False

    def register(self, path: str) -> None:
        """Start tuning and tracking connections to the database at ``path``.

        Parameters
        ----------
        path : `str`
            Filesystem path of the SQLite database file.
        """
        with self._lock:
            self._connections.setdefault(os.path.realpath(path), [])
            self._install()

    def register_directory(self, directory: str) -> None:
        """Skip durability on every database file created inside ``directory``.

        Unlike `register`, connections are tuned but not tracked: the
        databases belong to repositories the code under test made itself
        (and closes, or not, as it would without butler-testkit).

        Parameters
        ----------
        directory : `str`
            Filesystem path of a throwaway repository's root.
        """
        with self._lock:
            self._directories.add(os.path.join(os.path.realpath(directory), ""))
            self._install()

    def unregister_directories(self) -> None:
        """Stop tuning the databases of every directory given to `register_directory`."""
        with self._lock:
            self._directories.clear()

    def _install(self) -> None:
        if not self._installed:
            sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", self._on_connect)
            self._installed = True

    def close_connections(self, path: str) -> int:
        """Close every tracked connection to ``path`` and stop tracking it.

        Parameters
        ----------
        path : `str`
            Filesystem path of the SQLite database file.

        Returns
        -------
        closed : `int`
            How many connections were still open.
        """
        with self._lock:
            connections = self._connections.pop(os.path.realpath(path), None)
        closed = 0
        for connection in connections or ():
            if _is_open(connection):
                connection.close()
                closed += 1
        return closed

    def open_connection_count(self, path: str) -> int:
        """Return how many tracked connections to ``path`` are still alive.

        Parameters
        ----------
        path : `str`
            Filesystem path of the SQLite database file.

        Returns
        -------
        count : `int`
            Live connections (closed ones are not counted).
        """
        with self._lock:
            connections = list(self._connections.get(os.path.realpath(path), ()))
        return sum(1 for connection in connections if _is_open(connection))

    def _on_connect(self, dbapi_connection: Any, connection_record: Any) -> None:
        if not (self._connections or self._directories) or not isinstance(
            dbapi_connection, sqlite3.Connection
        ):
            return
        rows = dbapi_connection.execute("PRAGMA database_list").fetchall()
        path = next((row[2] for row in rows if row[1] == "main"), "")
        if not path:
            return
        real = os.path.realpath(path)
        with self._lock:
            tracked = self._connections.get(real)
            if tracked is not None:
                tracked.append(dbapi_connection)
            elif not any(real.startswith(directory) for directory in self._directories):
                return
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def _is_open(connection: sqlite3.Connection) -> bool:
    try:
        connection.total_changes  # noqa: B018 - raises once the connection is closed
    except sqlite3.ProgrammingError:
        return False
    return True
