"""Copies of plain data (builtin containers of immutable values) at the speed of ``dict.copy``.

Most datasets of tests and metrics are dictionaries and lists of numbers and
strings. Unpickling them creates every number and string anew; a deep copy
shares them (they are immutable) but walks every value in Python. A
`CopyPlan`, made once when the dataset is stored, records which containers
hold other containers; a copy then rebuilds only the containers, each with
one call to its own ``copy``, and shares every immutable value, as
`copy.deepcopy` does.
"""

from __future__ import annotations

__all__ = ("CopyPlan", "plan_copy")

import itertools
from collections.abc import Callable
from typing import Any

# Types whose values need no copy. Exact types: a subclass may carry state.
_IMMUTABLE = frozenset({type(None), bool, int, float, complex, str, bytes})

# Deeper structures are left to the pickle: a plan is for everyday data.
_MAX_DEPTH = 32

_Shallow = Callable[[Any], Any]


class CopyPlan:
    """How to copy one container of plain data: a shallow copy, and plans for its containers.

    Parameters
    ----------
    shallow : `~collections.abc.Callable`
        Copies the container itself (``dict.copy``, ``list.copy``, ...).
    children : `tuple` [`tuple` [`object`, `CopyPlan`], ...]
        The keys (or indices) of the items that are containers, with their
        plans; every other item is immutable and is shared.
    finish : `~collections.abc.Callable` or `None`
        Turns the filled shallow copy into the result (`tuple`, for a tuple
        holding containers, copied through a list).
    """

    __slots__ = ("children", "finish", "shallow")

    def __init__(
        self, shallow: _Shallow, children: tuple[tuple[Any, CopyPlan], ...], finish: _Shallow | None
    ) -> None:
        self.shallow = shallow
        self.children = children
        self.finish = finish

    def copy(self, obj: Any) -> Any:
        """Return a copy of ``obj``, which must have the structure this plan was made for.

        Parameters
        ----------
        obj : `object`
            The container (in practice, a datastore's private copy, which
            nothing changes).

        Returns
        -------
        copied : `object`
            New containers throughout, sharing only immutable values with
            ``obj``.
        """
        copied = self.shallow(obj)
        for key, child in self.children:
            copied[key] = child.copy(obj[key])
        return copied if self.finish is None else self.finish(copied)


def _same(obj: Any) -> Any:
    return obj


_FLAT_DICT = CopyPlan(dict.copy, (), None)
_FLAT_LIST = CopyPlan(list.copy, (), None)
_FLAT_SET = CopyPlan(set.copy, (), None)
# Nothing in them can change: shared, as a deep copy shares them.
_SHARED = CopyPlan(_same, (), None)


def plan_copy(obj: Any) -> CopyPlan | None:
    """Return the plan to copy ``obj``, if it is plain data worth a plan.

    Parameters
    ----------
    obj : `object`
        A dataset.

    Returns
    -------
    plan : `CopyPlan` or `None`
        `None` unless ``obj`` is a `dict`, `list`, `tuple`, `set` or
        `frozenset` (exactly: no subclass) whose items are, recursively, such
        containers or immutable values (`None`, `bool`, `int`, `float`,
        `complex`, `str`, `bytes`), whose dictionary keys and set members are
        immutable values, and in which no container appears twice (a copy
        must keep such sharing, as a deep copy does). Data made of many
        small containers (more than 16) is not worth a plan: pickling
        copies it faster.
    """
    try:
        return _Planner().plan(obj, 0)
    except _NotPlainError:
        return None


class _NotPlainError(Exception):
    """The object is not plain data, or not worth a plan."""


_CONTAINERS = frozenset({dict, list, tuple, set, frozenset})
_PLAIN = _IMMUTABLE | _CONTAINERS

# A plan's copy calls Python once per container, where unpickling works in
# C: past this many containers the pickle is faster.
_MAX_CONTAINERS = 16


class _Planner:
    """Walks a dataset once, making its plan; gives up as soon as it is not plain."""

    __slots__ = ("budget", "seen")

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.budget = _MAX_CONTAINERS

    def plan(self, obj: Any, depth: int) -> CopyPlan:
        cls = type(obj)
        if cls is dict:
            values: Any = obj.values()
            # One pass over keys and values; the keys alone only if it fails.
            types = set(map(type, itertools.chain(obj, values)))
            if not types <= _IMMUTABLE and not set(map(type, obj)) <= _IMMUTABLE:
                raise _NotPlainError
        else:
            values = obj
            types = set(map(type, values))
        if types <= _IMMUTABLE:
            if cls is tuple or cls is frozenset:
                return _SHARED
            self._count(obj)
            return _FLAT_DICT if cls is dict else _FLAT_LIST if cls is list else _FLAT_SET
        if not types <= _PLAIN or cls not in _NESTING or depth >= _MAX_DEPTH:
            raise _NotPlainError
        self._count(obj)
        # Give up before the walk if the containers inside are too many.
        if sum(map(_CONTAINERS.__contains__, map(type, values))) > self.budget:
            raise _NotPlainError
        children = []
        for key, value in obj.items() if cls is dict else enumerate(obj):
            if type(value) in _CONTAINERS:
                child = self.plan(value, depth + 1)
                if child is not _SHARED:
                    children.append((key, child))
        if cls is tuple:
            return CopyPlan(list, tuple(children), tuple)
        return CopyPlan(dict.copy if cls is dict else list.copy, tuple(children), None)

    def _count(self, obj: Any) -> None:
        """Count a container against the budget, refusing one seen before."""
        identity = id(obj)
        if identity in self.seen or self.budget == 0:
            raise _NotPlainError
        self.seen.add(identity)
        self.budget -= 1


# The containers whose items may be containers (a set's members are hashable,
# so only a frozenset or tuple could be one, and those are left to the pickle).
_NESTING = frozenset({dict, list, tuple})
