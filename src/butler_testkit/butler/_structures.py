"""Copies of parsed configuration data that keep its shape, shared parts included."""

from __future__ import annotations

__all__ = ("map_structure", "plain_copy")

import copy
from collections.abc import Callable, Mapping
from typing import Any


def plain_copy(value: Any) -> Any:
    """Copy nested dicts and lists, sharing immutable leaves (much faster than `copy.deepcopy`).

    Parameters
    ----------
    value : `object`
        Parsed configuration data.

    Returns
    -------
    copy : `object`
        An independent copy: no dict or list is shared with ``value``, but
        one shared inside ``value`` (a YAML alias, or a list daf_butler's
        merges left in two places) is shared the same way inside the copy,
        so that the copy behaves and dumps exactly as the original; leaves
        that are not ``str``, ``int``, ``float``, ``bool``, ``bytes`` or
        `None` are deep-copied.
    """
    return map_structure(value, None)


def map_structure(
    value: Any, function: Callable[[str], str] | None, memo: dict[int, Any] | None = None
) -> Any:
    """Copy nested dicts and lists as `plain_copy` does, applying ``function`` to every string.

    Parameters
    ----------
    value : `object`
        Nested dicts, lists, tuples and scalars.
    function : `~collections.abc.Callable` [[`str`], `str`] or `None`
        Applied to every string; `None` leaves them.
    memo : `dict`, optional
        Copies made so far, by the id of their original.

    Returns
    -------
    copy : `object`
        The copy.
    """
    if memo is None:
        memo = {}
    kind = type(value)
    if kind is str:
        return value if function is None else function(value)
    if value is None or kind in _IMMUTABLE:
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        mapping: dict[Any, Any] = {}
        memo[id(value)] = mapping
        for key, item in value.items():
            mapping[key] = map_structure(item, function, memo)
        return mapping
    if kind is list:
        items: list[Any] = []
        memo[id(value)] = items
        items.extend(map_structure(item, function, memo) for item in value)
        return items
    if kind is tuple:
        return tuple(map_structure(item, function, memo) for item in value)
    return copy.deepcopy(value, {})


_IMMUTABLE = frozenset((str, int, float, bool, bytes))
