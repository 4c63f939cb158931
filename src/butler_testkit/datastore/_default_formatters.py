"""The formatters every in-memory datastore knows without being configured."""

from __future__ import annotations

__all__ = ("add_default_formatters", "default_formatters")

import copy
import functools
import threading
from collections.abc import Mapping
from typing import Any

from lsst.daf.butler import Config
from lsst.resources import ResourcePath

# daf_butler's own formatter configuration: what a FileDatastore made with
# the default configuration uses.
_UPSTREAM_FORMATTERS = "resource://lsst.daf.butler/configs/datastores/formatters.yaml"

_lock = threading.Lock()
_added: dict[str, Any] = {}
# daf_butler's defaults with _added laid over them; None once _added changes.
_merged: Config | None = None


def add_default_formatters(entries: Mapping[str, Any]) -> None:
    """Give every `~butler_testkit.InMemoryDatastore` formatters it uses unless configured otherwise.

    A package that defines storage classes adds their formatters once, so
    that ``serialize`` isolation, ``capacity_bytes`` and the file operations
    work for its datasets without a ``formatters`` section in each
    datastore's configuration. The test catalogue of
    `butler_testkit.factories` adds `~butler_testkit.factories.FORMATTERS`
    when it is imported.

    Parameters
    ----------
    entries : `~collections.abc.Mapping` [`str`, `str` or `~collections.abc.Mapping`]
        Formatters by storage class or dataset type name, in the form of a
        ``FileDatastore``'s ``formatters`` section: a formatter's
        fully-qualified name, or a mapping with ``formatter`` and
        ``parameters``.

    Raises
    ------
    TypeError
        Raised if ``entries`` is not such a mapping.
    ValueError
        Raised if a name already has a different default formatter, naming
        both; nothing is added. Adding the same entries again changes
        nothing.

    Notes
    -----
    The defaults are laid over daf_butler's own, and a datastore's
    ``formatters`` configuration over both. A datastore reads them when it
    first needs a formatter, so entries added later reach only datastores
    that have not needed one yet.
    """
    global _merged
    if not isinstance(entries, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str | Mapping) for name, value in entries.items()
    ):
        raise TypeError(
            "Default formatters must map storage class or dataset type names to a formatter's name or a "
            f"mapping with 'formatter' and 'parameters'; got {entries!r}."
        )
    given = copy.deepcopy(dict(entries))
    with _lock:
        clashes = [name for name, value in given.items() if name in _added and _added[name] != value]
        if clashes:
            raise ValueError(
                "Cannot change default formatters: "
                + "; ".join(f"{name!r} is {_added[name]!r}, not {given[name]!r}" for name in clashes)
                + "."
            )
        if given.items() <= _added.items():
            return
        _added.update(given)
        _merged = None


def default_formatters() -> Config:
    """Return the formatters a datastore uses when its configuration names none.

    Returns
    -------
    formatters : `~lsst.daf.butler.Config`
        daf_butler's default formatters with those given to
        `add_default_formatters` laid over them; a copy, free to change.
    """
    global _merged
    with _lock:
        if _merged is None:
            merged = Config(_upstream_formatters())
            merged.update(copy.deepcopy(_added))
            _merged = merged
        return Config(_merged)


@functools.cache
def _upstream_formatters() -> Config:
    """Read daf_butler's formatter configuration once."""
    return Config(ResourcePath(_UPSTREAM_FORMATTERS))
