"""Copies of datasets that share nothing mutable with the original, at memory speed.

The rule, for a dataset put (or read) under ``copy`` isolation:

1. An immutable value (`None`, `bool`, `int`, `float`, `complex`, `str`,
   `bytes`, or a small `tuple` or `frozenset` of those) is kept as it is:
   nothing can change it.
2. If the storage class's delegate overrides ``copy``, that ``copy`` is used,
   at ``put`` and at every ``get``: the delegate knows its type best.
3. Plain data (builtin containers of immutable values, with few containers:
   `plan_copy`) is copied container by container with each container's own
   ``copy``, sharing the immutable values, as `copy.deepcopy` does.
4. Otherwise the dataset is pickled (protocol 5) at ``put`` and unpickled at
   every ``get``. Its `numpy.ndarray` objects are kept out of band: copied
   once at ``put`` and once at each ``get``, by ``ndarray.copy``.
5. If the dataset cannot be pickled, or pickling could differ from
   `copy.deepcopy` (the default delegate ``copy``), it is deep-copied
   instead, at ``put`` and at every ``get``.

Pickling and `copy.deepcopy` rebuild an object the same way, from its
``__reduce_ex__`` (so a class whose ``__getstate__`` leaves state out loses
it under either, as it would in a file), except where a class defines its
own ``__deepcopy__``. So the pickler refuses, and rule 5 applies to, any
dataset holding an object whose class defines ``__deepcopy__``, unless the
class is one whose ``__deepcopy__`` is known to agree with its pickle
(numpy scalars, `enum.Enum`, `decimal.Decimal`, `fractions.Fraction`,
pydantic models). This check is made per class, once, as the pickler meets
each object; it needs no second copy and no equality test (which would
wrongly reject every dataset holding a NaN).
"""

from __future__ import annotations

__all__ = ("CopiedDataset", "PickledDataset", "fresh_copy", "is_immutable", "stored_copy")

import copy
import decimal
import enum
import fractions
import functools
import pickle
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic
from lsst.daf.butler import StorageClass, StorageClassDelegate

from ._isolation import UncopyableDatasetError
from ._plain_copies import plan_copy
from ._stored_form import FormatterReader, StoredForm

if TYPE_CHECKING:
    from lsst.daf.butler import DatasetRef


Copier = Callable[[Any], Any]

_IMMUTABLE_SCALARS = frozenset({type(None), bool, int, float, complex, str, bytes})

# Longer tuples are pickled rather than checked element by element, so that
# the check never costs more than the copy it saves.
_IMMUTABLE_CHECK_LIMIT = 64

# Containers pickle knows natively: a failure to pickle one says nothing about
# the next instance, so it is not remembered.
_BUILTIN_CONTAINERS = frozenset({dict, list, tuple, set, frozenset})


def is_immutable(obj: Any) -> bool:
    """Return whether nothing can change ``obj``, so it needs no copy.

    Parameters
    ----------
    obj : `object`
        A dataset.

    Returns
    -------
    immutable : `bool`
        `True` for `None`, `bool`, `int`, `float`, `complex`, `str` and
        `bytes`, and for a `tuple` or `frozenset` of at most 64 of them.
    """
    cls = type(obj)
    if cls in _IMMUTABLE_SCALARS:
        return True
    if (cls is tuple or cls is frozenset) and len(obj) <= _IMMUTABLE_CHECK_LIMIT:
        return all(type(item) in _IMMUTABLE_SCALARS for item in obj)
    return False


class PickledDataset(StoredForm):
    """A dataset kept as its pickle, and its arrays' memory kept out of band.

    Parameters
    ----------
    data : `bytes`
        The pickle.
    buffers : `tuple` [`numpy.ndarray`, ...]
        The `numpy.ndarray` objects in it, private to this form; each
        unpickling copies them into new arrays.
    """

    __slots__ = ("buffers", "data")

    def __init__(self, data: bytes, buffers: tuple[np.ndarray, ...]) -> None:
        self.data = data
        self.buffers = buffers

    def fresh(self, ref: DatasetRef, formatters: FormatterReader) -> Any:
        # Docstring inherited.
        return pickle.loads(self.data, buffers=self.buffers)

    def __repr__(self) -> str:
        return f"PickledDataset({len(self.data)} bytes, {len(self.buffers)} buffers)"


class CopiedDataset(StoredForm):
    """A private copy of a dataset, copied again for every read.

    Parameters
    ----------
    obj : `object`
        The copy; nothing else holds it and nothing changes it.
    copier : `~collections.abc.Callable`
        Makes a new copy of it (the delegate's ``copy``, or
        `copy.deepcopy`).
    """

    __slots__ = ("copier", "obj")

    def __init__(self, obj: Any, copier: Copier) -> None:
        self.obj = obj
        self.copier = copier

    def fresh(self, ref: DatasetRef, formatters: FormatterReader) -> Any:
        # Docstring inherited.
        return self.copier(self.obj)

    def __repr__(self) -> str:
        return f"CopiedDataset({type(self.obj).__qualname__})"


def stored_copy(obj: Any, storage_class: StorageClass, *, owned: bool = False) -> Any:
    """Return what ``copy`` isolation stores for ``obj``.

    Parameters
    ----------
    obj : `object`
        The dataset, of the storage class's Python type.
    storage_class : `~lsst.daf.butler.StorageClass`
        Its storage class, whose delegate may know how to copy it.
    owned : `bool`, optional
        Whether nothing else holds ``obj`` (it was just read from a file or
        copied), so it may be kept without a copy.

    Returns
    -------
    stored : `object`
        ``obj`` itself if it is immutable, else a `PickledDataset` or a
        `CopiedDataset` sharing nothing with anything outside it.

    Raises
    ------
    UncopyableDatasetError
        Raised if ``obj`` can be neither copied nor pickled, naming the
        storage class and the ``reference`` isolation mode.
    """
    if is_immutable(obj):
        return obj
    copier = delegate_copier(storage_class)
    if copier is not None:
        return CopiedDataset(obj if owned else _copied(copier, obj, storage_class), copier)
    if type(obj) in _BUILTIN_CONTAINERS:
        plan = plan_copy(obj)
        if plan is not None:
            return CopiedDataset(obj if owned else plan.copy(obj), plan.copy)
    pickled = _pickled(obj, copy_arrays=not owned)
    if pickled is not None:
        return pickled
    return CopiedDataset(obj if owned else _copied(copy.deepcopy, obj, storage_class), copy.deepcopy)


def fresh_copy(obj: Any, storage_class: StorageClass) -> Any:
    """Return a copy of ``obj`` made by the rule of `stored_copy`, once.

    Parameters
    ----------
    obj : `object`
        The dataset.
    storage_class : `~lsst.daf.butler.StorageClass`
        Its storage class.

    Returns
    -------
    copied : `object`
        ``obj`` itself if it is immutable, else a new object sharing nothing
        mutable with it.

    Raises
    ------
    UncopyableDatasetError
        Raised if ``obj`` can be neither copied nor pickled.
    """
    if is_immutable(obj):
        return obj
    copier = delegate_copier(storage_class)
    if copier is not None:
        return _copied(copier, obj, storage_class)
    if type(obj) in _BUILTIN_CONTAINERS:
        plan = plan_copy(obj)
        if plan is not None:
            return plan.copy(obj)
    # The arrays need not be copied for the pickle: unpickling copies them.
    pickled = _pickled(obj, copy_arrays=False)
    if pickled is not None:
        return pickle.loads(pickled.data, buffers=pickled.buffers)
    return _copied(copy.deepcopy, obj, storage_class)


# Copiers of the storage classes whose delegate overrides ``copy``, shared by
# every dataset stored with one. Keyed by name; the storage class is kept to
# notice a redefinition under the same name.
_delegate_copiers: dict[str, tuple[StorageClass, Copier | None]] = {}


def delegate_copier(storage_class: StorageClass) -> Copier | None:
    """Return the delegate's ``copy`` if the delegate overrides it.

    Parameters
    ----------
    storage_class : `~lsst.daf.butler.StorageClass`
        A storage class.

    Returns
    -------
    copier : `~collections.abc.Callable` or `None`
        The delegate's bound ``copy``, or `None` for a storage class without
        a delegate or whose delegate copies as the base class does (a deep
        copy, which `stored_copy` does faster).
    """
    cached = _delegate_copiers.get(storage_class.name)
    if cached is not None and cached[0] is storage_class:
        return cached[1]
    delegate_class: type[StorageClassDelegate] | None = storage_class.delegateClass
    copier = None
    if delegate_class is not None and delegate_class.copy is not StorageClassDelegate.copy:
        copier = storage_class.delegate().copy
    _delegate_copiers[storage_class.name] = (storage_class, copier)
    return copier


def _copied(copier: Copier, obj: Any, storage_class: StorageClass) -> Any:
    try:
        return copier(obj)
    except Exception as err:
        raise UncopyableDatasetError(
            f"Cannot copy a {type(obj).__module__}.{type(obj).__qualname__} of storage class "
            f"{storage_class.name!r} ({type(err).__name__}: {err}). Give its storage class a delegate whose "
            "copy() works, or configure the datastore with 'isolation: reference' to store objects "
            "without copying."
        ) from err


# Classes whose instances could not be pickled before: they go straight to a
# deep copy. Weak, so that a test's local classes are not kept alive.
_unpicklable: weakref.WeakSet[type] = weakref.WeakSet()


def _pickled(obj: Any, *, copy_arrays: bool) -> PickledDataset | None:
    """Pickle ``obj`` if a pickle copies it as `copy.deepcopy` would; else `None`."""
    cls = type(obj)
    builtin = cls in _BUILTIN_CONTAINERS
    if not builtin and cls in _unpicklable:
        return None
    pickler = _CopyingPickler.for_this_thread()
    try:
        return pickler.pickled(obj, copy_arrays)
    except Exception:
        # Unpicklable (a lock, a local class, a lambda, ...) or pickled
        # differently from a deep copy: the caller deep-copies, which also
        # says what is wrong if that fails too.
        if not builtin:
            _unpicklable.add(cls)
        return None


class _UnlikeDeepCopyError(Exception):
    """An object whose pickle could differ from its deep copy."""


class _Output(list[bytes]):
    """Where a pickler writes: the chunks, joined only if there are several."""

    write = list.append


class _BufferSink:
    """Receives the pickler's buffers: only its own arrays go out of band.

    A separate object, so that the pickler and its callback form no
    reference cycle that would keep them (and the arrays) alive until the
    next garbage collection.
    """

    __slots__ = ("array", "array_buffer", "out_of_band")

    def __init__(self) -> None:
        self.array: np.ndarray | None = None
        self.array_buffer: pickle.PickleBuffer | None = None
        self.out_of_band: list[np.ndarray] = []

    def __call__(self, buffer: pickle.PickleBuffer) -> bool:
        if buffer is not self.array_buffer:
            return True  # in band: the unpickler builds a new object from the pickle's bytes
        assert self.array is not None
        self.out_of_band.append(self.array)
        return False

    def clear(self) -> None:
        self.array = self.array_buffer = None
        self.out_of_band = []


class _CopyingPickler(pickle.Pickler):
    """Pickles a dataset into a private copy.

    Arrays without Python objects in them are kept out of band as arrays
    (copied first if ``copy_arrays``), and every unpickling copies each into
    a new array, as fast as ``ndarray.copy``. Every other buffer stays in
    band, so that no unpickled object can share memory with the stored form.

    Making a pickler costs more than pickling a small dataset, so each
    thread keeps one (`for_this_thread`).
    """

    _per_thread = threading.local()

    def __init__(self) -> None:
        self._output = _Output()
        self._sink = _BufferSink()
        self._copy_arrays = True
        self._busy = False
        super().__init__(self._output, protocol=5, buffer_callback=self._sink)

    @classmethod
    def for_this_thread(cls) -> _CopyingPickler:
        """Return this thread's pickler, or a new one if it is in use (a nested pickle)."""
        pickler: _CopyingPickler | None = getattr(cls._per_thread, "pickler", None)
        if pickler is None or pickler._busy:
            pickler = cls()
            if getattr(cls._per_thread, "pickler", None) is None:
                cls._per_thread.pickler = pickler
        return pickler

    def pickled(self, obj: Any, copy_arrays: bool) -> PickledDataset:
        """Pickle ``obj``.

        Parameters
        ----------
        obj : `object`
            The dataset.
        copy_arrays : `bool`
            Whether its arrays must be copied to be kept (they are the
            caller's) or may be kept as they are (nobody else holds them, or
            the pickle is unpickled at once).

        Returns
        -------
        pickled : `PickledDataset`
            The pickle and its arrays.
        """
        self._busy = True
        self._copy_arrays = copy_arrays
        try:
            self.dump(obj)
            output = self._output
            data = output[0] if len(output) == 1 else b"".join(output)
            return PickledDataset(data, tuple(self._sink.out_of_band))
        finally:
            # Keep nothing of the dataset between calls.
            self.clear_memo()
            self._output.clear()
            self._sink.clear()
            self._busy = False

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is np.ndarray and not obj.dtype.hasobject:
            kept = obj.copy(order="K") if self._copy_arrays else obj
            self._sink.array = kept
            self._sink.array_buffer = buffer = pickle.PickleBuffer(kept)
            return (_copy_array, (buffer,))
        if not _pickles_like_deep_copy(cls):
            raise _UnlikeDeepCopyError(cls)
        return NotImplemented


def _copy_array(array: np.ndarray) -> np.ndarray:
    """Unpickle an array kept out of band: a copy in new memory, in the same memory order."""
    return array.copy(order="K")


@functools.cache
def _deep_copy_hooks_like_pickle() -> tuple[object, ...]:
    """Return the ``__deepcopy__`` of classes whose deep copy is what their pickle gives."""
    owners = (np.generic, enum.Enum, decimal.Decimal, fractions.Fraction, pydantic.BaseModel)
    return tuple(getattr(owner, "__deepcopy__") for owner in owners)  # noqa: B009 - not every owner declares it


# Per class, whether its pickle copies as its deep copy does. Weak, so that a
# test's local classes are not kept alive.
_like_deep_copy: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()


def _pickles_like_deep_copy(cls: type) -> bool:
    verdict = _like_deep_copy.get(cls)
    if verdict is None:
        hook = getattr(cls, "__deepcopy__", None)
        verdict = _like_deep_copy[cls] = hook is None or any(
            hook is known for known in _deep_copy_hooks_like_pickle()
        )
    return verdict
