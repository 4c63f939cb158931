"""Stored state shared by every datastore opened on one repository.

A file datastore keeps its artifacts under the repository root and its
records in the registry database. In one process, this module gives the
in-memory datastore the same two lifetimes: the stored objects belong to the
repository (the real directory, whatever path or symbolic link reaches it,
and only while that directory is the one it was), and the records belong to
a registry database (see `registry_scope_id`), kept by the repository per
database.
"""

from __future__ import annotations

__all__ = (
    "RecordScope",
    "SharedRepository",
    "release_shared_state",
    "shared_repository_for",
    "shared_state_for",
    "shared_state_roots",
)

import os
import threading
import uuid

from lsst.resources import ResourcePath, ResourcePathExpression

from ._state import DatastoreState

# Written in the root of each local repository a shared datastore opens: a
# directory deleted and made again at the same path (even with the same
# inode) gets a new identity, and a copy of the directory has another inode.
MARKER_NAME = ".butler_testkit_datastore"

_lock = threading.Lock()
_repositories: dict[tuple[object, ...], SharedRepository] = {}


class RecordScope:
    """The records of one registry database in one repository.

    Parameters
    ----------
    scope_id : `str`
        Identity of the registry database.

    Notes
    -----
    A stored dataset's entry names the scopes that know it (its
    ``known_by``), so a record costs no memory of its own and goes with the
    dataset when the dataset is removed, forgotten or expires.
    """

    __slots__ = ("scope_id",)

    def __init__(self, scope_id: str) -> None:
        self.scope_id = scope_id

    def __repr__(self) -> str:
        return f"RecordScope({self.scope_id!r})"


class SharedRepository:
    """What the datastores of one repository share: its artifacts and its records.

    Parameters
    ----------
    root : `str`
        The repository's root as a directory URI, symbolic links resolved.
    marker : `str` or `None`
        Path of the marker file that identifies the directory, or `None`
        for a root that is not a local directory (identified by its URI)
        or one where no marker could be written.
    identity : `str`, optional
        The identity written in the marker file.

    Notes
    -----
    ``state`` holds the stored objects, which every datastore on the
    repository reads; ``scope`` gives the `RecordScope` of each registry
    database, which marks the stored datasets that registry knows.
    """

    def __init__(self, root: str, marker: str | None, identity: str = "") -> None:
        self.root = root
        self.marker = marker
        self.identity = identity
        self.state = DatastoreState()
        self._scopes: dict[str, RecordScope] = {}
        self._scopes_lock = threading.Lock()
        self._private_scopes = 0

    def scope(self, scope_id: str) -> RecordScope:
        """Return the records of one registry database here.

        Parameters
        ----------
        scope_id : `str`
            Identity of the registry database, from `registry_scope_id`.

        Returns
        -------
        scope : `RecordScope`
            The same object for every call with the same identity.
        """
        with self._scopes_lock:
            scope = self._scopes.get(scope_id)
            if scope is None:
                scope = self._scopes[scope_id] = RecordScope(scope_id)
            return scope

    def private_scope(self) -> RecordScope:
        """Return new records that no other datastore shares (its clones apart).

        Returns
        -------
        scope : `RecordScope`
            Counted in `has_one_scope`, not otherwise kept.
        """
        with self._scopes_lock:
            self._private_scopes += 1
        return RecordScope(f"private-{uuid.uuid4().hex}")

    def has_one_scope(self) -> bool:
        """Return whether at most one registry database has ever had records here.

        Returns
        -------
        one : `bool`
            `True` if every stored dataset can only be known by one scope,
            so that filtering by records can be skipped.
        """
        return len(self._scopes) + self._private_scopes <= 1

    def is_gone(self) -> bool:
        """Return whether the repository's directory was deleted or replaced.

        Returns
        -------
        gone : `bool`
            `True` once the marker file this state was keyed by no longer
            holds its identity (deleted, or the directory made again);
            always `False` for a root without a marker.
        """
        if self.marker is None:
            return False
        try:
            with open(self.marker) as stream:
                return stream.read().strip() != self.identity
        except OSError:
            return True


def _local_directory(root: ResourcePathExpression) -> tuple[ResourcePath, str | None]:
    uri = ResourcePath(root, forceDirectory=True)
    if uri.scheme != "file":
        return uri, None
    path = os.path.realpath(uri.ospath)
    if not os.path.isdir(path):
        return uri, None
    return ResourcePath(path, forceDirectory=True), path


def _marker_id(directory: str) -> str:
    """Read the identity written in ``directory``, writing one if there is none.

    Returns ``""`` if there is none and it cannot be written (a read-only
    directory): the directory is then known by its inode alone.
    """
    marker = os.path.join(directory, MARKER_NAME)
    try:
        with open(marker) as stream:
            return stream.read().strip()
    except FileNotFoundError:
        pass
    except OSError:
        return ""
    identity = uuid.uuid4().hex
    try:
        descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        # Another datastore wrote it first: its identity wins.
        with open(marker) as stream:
            return stream.read().strip()
    except OSError:
        return ""
    with os.fdopen(descriptor, "w") as stream:
        stream.write(identity)
    return identity


def _drop_gone() -> list[SharedRepository]:
    """Forget the repositories whose directories are gone; call with the lock held."""
    gone = [key for key, repository in _repositories.items() if repository.is_gone()]
    return [_repositories.pop(key) for key in gone]


def shared_repository_for(root: ResourcePathExpression) -> SharedRepository:
    """Return what the datastores of the repository at ``root`` share.

    Parameters
    ----------
    root : `lsst.resources.ResourcePathExpression`
        Root of the repository (the ``butlerRoot`` a datastore is built with).

    Returns
    -------
    repository : `SharedRepository`
        The same object for every root that reaches the same directory
        (symbolic links resolved), until the directory is deleted or
        replaced or `release_shared_state` releases it; a new, empty one
        otherwise.

    Notes
    -----
    A local directory is identified by its device, inode and a random
    identity written in it (a small marker file, ``.butler_testkit_datastore``);
    a root that is not a local directory, by its URI. Each call also
    forgets (and so releases the memory of) every repository whose directory
    has been deleted since.
    """
    uri, directory = _local_directory(root)
    if directory is None:
        key: tuple[object, ...] = ("uri", str(uri))
        marker = None
        identity = ""
    else:
        identity = _marker_id(directory)
        stat = os.stat(directory)
        key = ("dir", stat.st_dev, stat.st_ino, identity)
        marker = os.path.join(directory, MARKER_NAME) if identity else None
    with _lock:
        released = _drop_gone()
        repository = _repositories.get(key)
        if repository is None:
            repository = _repositories[key] = SharedRepository(str(uri), marker, identity)
    for old in released:
        old.state.release_artifacts()
    return repository


def shared_state_for(root: ResourcePathExpression) -> DatastoreState:
    """Return the stored objects shared by the datastores of the repository at ``root``.

    Parameters
    ----------
    root : `lsst.resources.ResourcePathExpression`
        Root of the repository.

    Returns
    -------
    state : `DatastoreState`
        The ``state`` of `shared_repository_for`.
    """
    return shared_repository_for(root).state


def release_shared_state(root: ResourcePathExpression) -> bool:
    """Forget the shared state of the repository at ``root``.

    Parameters
    ----------
    root : `lsst.resources.ResourcePathExpression`
        Root of the repository; any path to its directory.

    Returns
    -------
    released : `bool`
        Whether there was any state to forget. Datastores still holding it
        keep working; datastores opened on the root afterwards start empty.

    Notes
    -----
    Files the state wrote for its datasets (for exported records and
    transfers) are deleted at once rather than when the state is
    garbage-collected; datastores still holding it write them again if
    they need them. The state of repositories whose directories are gone
    is released too.
    """
    uri, _ = _local_directory(root)
    with _lock:
        released = _drop_gone()
        found = False
        for key, repository in list(_repositories.items()):
            if repository.root == str(uri):
                released.append(_repositories.pop(key))
                found = True
    for repository in released:
        repository.state.release_artifacts()
    return found


def shared_state_roots() -> list[str]:
    """Return the roots that currently have shared state.

    Returns
    -------
    roots : `list` [`str`]
        Repository roots, as directory URIs (symbolic links resolved).
    """
    with _lock:
        for repository in _drop_gone():
            repository.state.release_artifacts()
        return [repository.root for repository in _repositories.values()]
