"""Stored state shared by every datastore opened on one repository root."""

from __future__ import annotations

__all__ = ("release_shared_state", "shared_state_for", "shared_state_roots")

import threading

from lsst.resources import ResourcePath, ResourcePathExpression

from ._state import DatastoreState

_lock = threading.Lock()
_states: dict[str, DatastoreState] = {}


def _key(root: ResourcePathExpression) -> str:
    return str(ResourcePath(root, forceDirectory=True))


def shared_state_for(root: ResourcePathExpression) -> DatastoreState:
    """Return the state shared by the datastores of the repository at ``root``.

    Parameters
    ----------
    root : `lsst.resources.ResourcePathExpression`
        Root of the repository (the ``butlerRoot`` a datastore is built with).

    Returns
    -------
    state : `DatastoreState`
        The same object for every call with the same root, until it is
        released; a new, empty one the first time.

    Notes
    -----
    A file datastore's files outlive the Butler that wrote them, so that a
    second Butler opened on the repository reads what the first wrote. A
    ``shared`` in-memory datastore gets the same behaviour within one process
    from this table. Its entries live until `release_shared_state`, as files
    live until they are deleted.
    """
    key = _key(root)
    with _lock:
        state = _states.get(key)
        if state is None:
            state = _states[key] = DatastoreState()
        return state


def release_shared_state(root: ResourcePathExpression) -> bool:
    """Forget the shared state of the repository at ``root``.

    Parameters
    ----------
    root : `lsst.resources.ResourcePathExpression`
        Root of the repository.

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
    they need them.
    """
    with _lock:
        state = _states.pop(_key(root), None)
    if state is None:
        return False
    state.release_artifacts()
    return True


def shared_state_roots() -> list[str]:
    """Return the roots that currently have shared state.

    Returns
    -------
    roots : `list` [`str`]
        Repository roots, as directory URIs.
    """
    with _lock:
        return list(_states)
