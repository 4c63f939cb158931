"""Repositories made once per test class, returned to that state after every test."""

from __future__ import annotations

__all__ = ("ClassRepositoryMixin", "RepositorySnapshot")

import contextlib
import os
import shutil
import sqlite3
import tempfile
import unittest
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from lsst.daf.butler import Butler
from lsst.daf.butler.datastores.chainedDatastore import ChainedDatastore
from lsst.daf.butler.datastores.fileDatastore import FileDatastore
from lsst.daf.butler.datastores.inMemoryDatastore import InMemoryDatastore as UpstreamInMemoryDatastore
from lsst.daf.butler.direct_butler import DirectButler
from lsst.daf.butler.registry.databases.sqlite import SqliteDatabase

from ..datastore import InMemoryDatastore

if TYPE_CHECKING:
    _Base = unittest.TestCase
else:
    _Base = object


class _RegistryState:
    """A registry's database content and the tables daf_butler knew of."""

    def __init__(self, butler: DirectButler) -> None:
        registry: Any = butler._registry
        if not isinstance(registry._db, SqliteDatabase):
            raise TypeError(
                f"Only SQLite registries can be snapshotted; {butler} has a {type(registry._db).__name__}."
            )
        self._db = cast("Any", registry._db)
        self.content = sqlite3.connect(":memory:", check_same_thread=False)
        with _raw_connection(self._db) as connection:
            connection.backup(self.content)
        with self._db._metadata._lock:
            self.table_names = frozenset(self._db._metadata._tables)

    def restore(self) -> None:
        with _raw_connection(self._db) as connection:
            self.content.backup(connection)
        metadata = self._db._metadata
        with metadata._lock:
            # Tables made since the snapshot are gone from the file; daf_butler
            # takes a table it has a definition of to exist.
            for name in set(metadata._tables) - self.table_names:
                metadata._metadata.remove(metadata._tables.pop(name))

    def close(self) -> None:
        self.content.close()


@contextlib.contextmanager
def _raw_connection(db: Any) -> Any:
    connection = db._engine.raw_connection()
    try:
        yield connection.driver_connection
    finally:
        connection.close()


def _forget_cached_state(butler: DirectButler, table_names: frozenset[str]) -> None:
    """Make a Butler re-read what its registry caches, and forget tables made since the snapshot."""
    registry: Any = butler._registry
    managers = registry._managers
    managers.refresh()
    dataset_type_cache = managers.datasets._cache
    dataset_type_cache.tables = type(dataset_type_cache.tables)()
    # Datastore record tables known before the snapshot still exist (and the
    # datastores hold them); clones share this cache, so it is pruned in place.
    opaque_tables = managers.opaque._tables
    for name, table in opaque_tables.clear().items():
        if name in table_names:
            opaque_tables.set_or_get(name, table)
    managers.dimensions._dimension_group_storage.refresh()
    registry.dimension_record_cache.reset()


class _DatastoreState:
    """What a datastore stores, for the datastores that can give it back."""

    def __init__(self, datastore: Any, repository_files: frozenset[str]) -> None:
        self._restore: Callable[[], None]
        self._close: Callable[[], None] = lambda: None
        if isinstance(datastore, InMemoryDatastore):
            snapshot = datastore.snapshot()
            self._restore = lambda: datastore.restore(snapshot)
        elif isinstance(datastore, UpstreamInMemoryDatastore):
            self._restore = _upstream_in_memory_state(datastore)
        elif isinstance(datastore, FileDatastore):
            self._restore, self._close = _file_state(datastore, repository_files)
        elif isinstance(datastore, ChainedDatastore):
            children = [_DatastoreState(child, repository_files) for child in datastore.datastores]

            def restore_children() -> None:
                for child in children:
                    child.restore()

            def close_children() -> None:
                for child in children:
                    child.close()

            self._restore, self._close = restore_children, close_children
        else:
            raise TypeError(
                f"Cannot snapshot a {type(datastore).__name__}: butler-testkit's InMemoryDatastore, "
                "daf_butler's InMemoryDatastore and FileDatastore, and chains of them are supported."
            )

    def restore(self) -> None:
        self._restore()

    def close(self) -> None:
        self._close()


def _upstream_in_memory_state(datastore: Any) -> Callable[[], None]:
    # Clones share these very dictionaries, so they are restored in place.
    datasets = dict(datastore.datasets)
    records = dict(datastore.records)
    related = {key: set(value) for key, value in datastore.related.items()}
    trashed = set(datastore._trashedIds)

    def restore() -> None:
        for live, saved in (
            (datastore.datasets, datasets),
            (datastore.records, records),
            (datastore._trashedIds, trashed),
        ):
            live.clear()
            live.update(saved)
        datastore.related.clear()
        datastore.related.update({key: set(value) for key, value in related.items()})

    return restore


def _file_state(
    datastore: Any, repository_files: frozenset[str]
) -> tuple[Callable[[], None], Callable[[], None]]:
    root = datastore.root
    if not root.isLocal:
        raise TypeError(f"Cannot snapshot FileDatastore files at {root}: not a local directory.")
    directory = root.ospath
    keep = Path(tempfile.mkdtemp(prefix="butler-testkit-files-"))

    def artifacts() -> set[str]:
        return set(_artifacts(directory, repository_files))

    saved = artifacts()
    for relative in saved:
        target = keep / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(directory, relative), target)

    def restore() -> None:
        for relative in artifacts() - saved:
            os.remove(os.path.join(directory, relative))
        for relative in saved:
            target = os.path.join(directory, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(keep / relative, target)
        _remove_empty_directories(directory)

    return restore, lambda: shutil.rmtree(keep, ignore_errors=True)


def _artifacts(directory: str, repository_files: frozenset[str]) -> Iterable[str]:
    """Files under a datastore's root, except the repository's own (configuration, registry)."""
    if not os.path.isdir(directory):
        return
    for parent, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.realpath(os.path.join(parent, name))
            if path in repository_files or path.removesuffix("-journal") in repository_files:
                continue
            yield os.path.relpath(os.path.join(parent, name), directory)


def _remove_empty_directories(directory: str) -> None:
    for parent, dirs, files in os.walk(directory, topdown=False):
        if parent != directory and not dirs and not files:
            with contextlib.suppress(OSError):
                os.rmdir(parent)


def _repository_files(butler: DirectButler) -> frozenset[str]:
    files = set()
    filename = getattr(butler._registry._db, "filename", None)
    if filename:
        files.add(os.path.realpath(filename))
    config_file = butler._config.configFile
    if config_file is not None:
        with contextlib.suppress(Exception):
            files.add(os.path.realpath(config_file.ospath))
    return frozenset(files)


class RepositorySnapshot:
    """A repository's registry and datastore content, to go back to.

    Take one after a test class has filled its repository (dimension
    records, dataset types, runs, datasets); `restore` after each test puts
    it back in milliseconds, so every test starts from what the class made,
    without the class making it again.

    Parameters
    ----------
    butler : `~lsst.daf.butler.Butler`
        A Butler on the repository (from ``makeTestRepo``,
        ``Butler.from_config``, ...). Its default collections and run are
        part of the snapshot.

    Raises
    ------
    TypeError
        Raised if the registry is not SQLite, or the datastore is not one of
        butler-testkit's ``InMemoryDatastore``, daf_butler's
        ``InMemoryDatastore`` or ``FileDatastore`` (local), or a chain of
        them.

    Notes
    -----
    Restoring copies the snapshot into the registry's database (SQLite's
    backup, so every connection sees it), forgets what daf_butler cached
    about it, and puts the datastore's content back: datasets written since
    are gone, datasets removed since are back.
    """

    def __init__(self, butler: Butler) -> None:
        if not isinstance(butler, DirectButler):
            raise TypeError(
                f"Only a DirectButler's repository can be snapshotted; got {type(butler).__name__}."
            )
        self._butler = butler
        self._defaults = butler.registry.defaults
        self._registry = _RegistryState(butler)
        try:
            self._datastore = _DatastoreState(butler._datastore, _repository_files(butler))
        except Exception:
            self._registry.close()
            raise

    def restore(self, *others: Butler) -> None:
        """Put the repository back as it was when the snapshot was taken.

        Parameters
        ----------
        *others : `~lsst.daf.butler.Butler`
            Other Butlers on the same repository still in use (their caches
            are refreshed too); the snapshotted Butler always is.
        """
        self._datastore.restore()
        self._registry.restore()
        for butler in (self._butler, *others):
            if isinstance(butler, DirectButler):
                _forget_cached_state(butler, self._registry.table_names)
        self._butler.registry.defaults = self._defaults

    def close(self) -> None:
        """Release the snapshot's copies."""
        self._registry.close()
        self._datastore.close()


class ClassRepositoryMixin(_Base):
    """Keep ``setUpClass``; give every test the repositories as ``setUpClass`` left them.

    Mix in before `unittest.TestCase`. After the class's own
    ``setUpClass`` (unchanged: ``makeTestRepo``, ``addDataIdValue``, ...),
    every Butler it left in a class attribute is snapshotted; after each
    test, each is restored (registry and datastore), so no test sees what
    another wrote, in any order, while the class pays for its set-up once.

    Examples
    --------
    ::

        class CalibrateTestCase(ClassRepositoryMixin, unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                cls.root = tempfile.mkdtemp()
                cls.repo = makeTestRepo(cls.root, {"instrument": ["notACam"], "detector": [1]})
                addDatasetType(cls.repo, "calexp", {"instrument", "detector"}, "StructuredDataDict")

            def test_one(self):
                butler = makeTestCollection(self.repo)
                ...
    """

    butler_snapshots: ClassVar[dict[str, RepositorySnapshot]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("setUpClass")
        if isinstance(declared, classmethod):
            cls.setUpClass = classmethod(_snapshotting(declared.__func__))  # type: ignore[assignment]

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        """Run the test, then restore the class's repositories.

        Parameters
        ----------
        result : `unittest.TestResult`, optional
            Where the outcome goes.

        Returns
        -------
        result : `unittest.TestResult` or `None`
            As `unittest.TestCase.run`.
        """
        try:
            return super().run(result)
        finally:
            cls = type(self)
            snapshots = cls.__dict__.get("butler_snapshots", {})
            butlers = {name: value for name, value in vars(cls).items() if isinstance(value, DirectButler)}
            for snapshot in snapshots.values():
                snapshot.restore(*butlers.values())
            for name, defaults in cls.__dict__.get("_butler_defaults", {}).items():
                if butlers.get(name) is not None:
                    butlers[name].registry.defaults = defaults


def _snapshotting(setup: Callable[..., None]) -> Callable[..., None]:
    def setup_and_snapshot(cls: type) -> None:
        setup(cls)
        snapshots: dict[str, RepositorySnapshot] = {}
        seen: set[int] = set()
        for name, value in list(vars(cls).items()):
            if isinstance(value, DirectButler):
                engine = id(value._registry._db._engine)
                if engine not in seen:
                    seen.add(engine)
                    snapshots[name] = RepositorySnapshot(value)
        cls.butler_snapshots = snapshots  # type: ignore[attr-defined]
        cls._butler_defaults = {  # type: ignore[attr-defined]
            name: value.registry.defaults
            for name, value in vars(cls).items()
            if isinstance(value, DirectButler)
        }

        def release() -> None:
            for snapshot in snapshots.values():
                snapshot.close()

        cls.addClassCleanup(release)  # type: ignore[attr-defined]

    setup_and_snapshot.__doc__ = setup.__doc__
    return setup_and_snapshot
