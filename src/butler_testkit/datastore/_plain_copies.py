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
import pickle
import threading
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

# A plan's copy calls Python once per container, where unpickling works in
# C: past this many containers the pickle is faster.
_MAX_CONTAINERS = 16

# A container with more items than this is checked by pickling it, in C,
# three times faster than by looking at the type of each item.
_LARGE = 32


class _Planner:
    """Walks a dataset once, making its plan; gives up as soon as it is not plain."""

    __slots__ = ("budget", "seen")

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.budget = _MAX_CONTAINERS

    def plan(self, obj: Any, depth: int) -> CopyPlan:
        cls = type(obj)
        if cls is tuple or cls is frozenset:
            if _flat(obj):
                # Nothing in it can change: shared, as a deep copy shares it.
                return _SHARED
            if cls is frozenset:
                raise _NotPlainError
        elif cls is not dict and cls is not list and cls is not set:
            raise _NotPlainError
        identity = id(obj)
        if identity in self.seen or self.budget == 0 or depth > _MAX_DEPTH:
            raise _NotPlainError
        self.seen.add(identity)
        self.budget -= 1
        if cls is dict:
            if _flat_dict(obj):
                return _FLAT_DICT
            if not _flat(obj.keys()):
                raise _NotPlainError
            items: Any = obj.items()
        elif _flat(obj):
            return _FLAT_LIST if cls is list else _FLAT_SET if cls is set else _SHARED
        elif cls is set:
            raise _NotPlainError
        else:
            items = enumerate(obj)
        children = []
        for key, value in items:
            value_class = type(value)
            if value_class in _IMMUTABLE:
                continue
            if value_class not in _CONTAINERS:
                raise _NotPlainError
            child = self.plan(value, depth + 1)
            if child is not _SHARED:
                children.append((key, child))
        if cls is tuple:
            return CopyPlan(list, tuple(children), tuple)
        return CopyPlan(dict.copy if cls is dict else list.copy, tuple(children), None)


def _flat(items: Any) -> bool:
    """Whether every one of ``items`` (a container or a dictionary's view) is immutable."""
    if len(items) > _LARGE:
        return _pickles_flat(items)
    return _IMMUTABLE.issuperset(map(type, items))


def _flat_dict(mapping: dict[Any, Any]) -> bool:
    """Whether every key and value of ``mapping`` is immutable."""
    if len(mapping) > _LARGE:
        return _pickles_flat(mapping)
    return _IMMUTABLE.issuperset(map(type, itertools.chain(mapping, mapping.values())))


# What a flat container's pickle may memoize besides the container itself:
# the immutable values pickle memoizes, and tuples and frozensets of them
# (one holding anything mutable would have memoized that too).
_MEMOIZED_IMMUTABLE = frozenset({str, bytes, tuple, frozenset})


def _pickles_flat(items: Any) -> bool:
    """Whether ``items`` holds only immutable values, found by pickling it in C.

    Pickle writes the builtin types itself and asks ``reducer_override``
    about every other object, so a pickler that refuses every such object
    proves that only builtin types are inside; of those, the mutable ones
    (containers, bytearrays) are memoized, so the memo shows whether any is.
    """
    if isinstance(items, dict):
        container: Any = items
    elif isinstance(items, list | set | tuple | frozenset):
        container = items
    else:
        container = list(items)  # a dictionary's view
    pickler = _NativePickler.for_this_thread()
    try:
        data, memoized = pickler.memoized(container)
    except Exception:
        return False
    if _GET_FIRST in data:
        # Perhaps the container holds itself (a reference back to the first
        # object memoized), which the memo cannot show: look item by item.
        items = itertools.chain(container, container.values()) if isinstance(container, dict) else container
        return _IMMUTABLE.issuperset(map(type, items))
    others = [obj for obj in memoized if obj is not container]
    return _MEMOIZED_IMMUTABLE.issuperset(map(type, others))


# The opcode that refers back to the first object memoized (BINGET 0); these
# two bytes may also occur inside a value, which only costs the slower check.
_GET_FIRST = pickle.BINGET + b"\x00"


class _ForeignObjectError(Exception):
    """An object pickle does not write by itself."""


class _Output(list[bytes]):
    """Where a pickler writes: chunks, thrown away."""

    write = list.append


class _NativePickler(pickle.Pickler):
    """Pickles only what pickle writes by itself: builtin values and containers."""

    _per_thread = threading.local()

    def __init__(self) -> None:
        self._output = _Output()
        self._busy = False
        super().__init__(self._output, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def for_this_thread(cls) -> _NativePickler:
        """Return this thread's pickler, or a new one if it is in use."""
        pickler: _NativePickler | None = getattr(cls._per_thread, "pickler", None)
        if pickler is None or pickler._busy:
            pickler = cls()
            if getattr(cls._per_thread, "pickler", None) is None:
                cls._per_thread.pickler = pickler
        return pickler

    def memoized(self, container: Any) -> tuple[bytes, list[Any]]:
        """Pickle ``container``; return the pickle and every object memoized on the way.

        Parameters
        ----------
        container : `object`
            A builtin container.

        Returns
        -------
        data : `bytes`
            The pickle.
        memoized : `list`
            The objects, the container among them.

        Raises
        ------
        _ForeignObjectError
            Raised if the container holds an object pickle does not write by
            itself.
        """
        self._busy = True
        try:
            self.dump(container)
            return b"".join(self._output), [obj for _, obj in self.memo.copy().values()]
        finally:
            self.clear_memo()
            self._output.clear()
            self._busy = False

    def reducer_override(self, obj: Any) -> Any:
        raise _ForeignObjectError(type(obj))
