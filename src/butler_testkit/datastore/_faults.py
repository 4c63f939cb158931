"""Declarative fault injection: which calls fail, how, and when."""

from __future__ import annotations

__all__ = ("OPERATIONS", "Fault", "FaultPlan", "InjectedFaultError")

import dataclasses
import math
import random
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from lsst.daf.butler import DatasetRef

from ._exceptions import detached_copy

FaultPoint = Literal["before", "stored", "after"]
_POINTS = ("before", "stored", "after")

OPERATIONS = frozenset(
    {
        "put",
        "put_new",
        "get",
        "exists",
        "knows",
        "knows_these",
        "mexists",
        "getURIs",
        "getURI",
        "getManyURIs",
        "trash",
        "emptyTrash",
        "remove",
        "forget",
        "transfer",
        "ingest",
        "ingest_zip",
        "retrieveArtifacts",
        "transfer_from",
        "import_records",
        "export_records",
    }
)
"""The operations a `Fault` can name: those `InstrumentedDatastore` records."""

# Operations that can fail at point "stored": a put, midway.
_STORED_POINT_OPERATIONS = frozenset({"put"})


class InjectedFaultError(RuntimeError):
    """The default exception of a `Fault`: a failure injected on purpose."""


@dataclasses.dataclass(frozen=True)
class Fault:
    """One rule: which calls fail, how, and how often.

    Parameters
    ----------
    operations : `str` or `~collections.abc.Collection` [`str`]
        Datastore methods the rule applies to: one or more of ``put``,
        ``put_new``, ``get``, ``exists``, ``knows``, ``knows_these``,
        ``mexists``, ``getURIs``, ``getURI``, ``getManyURIs``, ``trash``,
        ``emptyTrash``, ``remove``, ``forget``, ``transfer``, ``ingest``,
        ``ingest_zip``, ``retrieveArtifacts``, ``transfer_from``,
        ``import_records`` and ``export_records``.
    dataset_types : `str` or `~collections.abc.Collection` [`str`], optional
        Only calls about these dataset types (a parent name matches its
        components); a single name may be given as a string.
    dataset_ids : `uuid.UUID`, `str` or `~collections.abc.Collection` thereof, optional
        Only calls about these datasets.
    data_id : `~collections.abc.Mapping` [`str`, `object`], optional
        Only calls about datasets whose data ID has these values.
    nth : `int`, optional
        Fire on the nth matching call (1-based) and, with ``times``, the
        following ones.
    probability : `float`, optional
        Fire on each matching call with this probability, drawn from the
        plan's seeded generator.
    times : `int`, optional
        Fire at most this many times (default: once with ``nth``,
        unlimited otherwise).
    error : `BaseException` or `type` [`BaseException`], optional
        What to raise; an `InjectedFaultError` if not given. `None` together
        with a ``latency`` only slows the call down.
    latency : `float`, optional
        Seconds to sleep before raising (or before the call, without an
        error).
    point : ``"before"``, ``"stored"`` or ``"after"``, optional
        When to fail. ``"before"`` (the default): before the call does
        anything, so it changes nothing. ``"stored"``, for ``put`` only:
        midway, after the object is stored and before the put completes;
        the put is undone, so it changes nothing either (inside the put
        for datastores with a `~butler_testkit.datastore.StoredPointHook`,
        such as `~butler_testkit.InMemoryDatastore`; others store, then
        fail and remove the dataset again). ``"after"``: after the call has
        succeeded, as when a reply is lost on its way back; the call's
        changes stay, and the caller is told it failed.

    Raises
    ------
    TypeError
        Raised, naming the field, if a field has the wrong type: an
        operation or dataset type that is not a string, a dataset ID that
        is neither a `uuid.UUID` nor a string, a data ID that is not a
        mapping, a count that is not an integer, a probability or latency
        that is not a number, or an ``error`` that is not an exception.
    ValueError
        Raised, naming the field, for a value that could never fire or
        makes no sense: no operations or an unknown one, an empty selection
        of dataset types or IDs, an unparseable dataset ID, an unknown
        point or ``"stored"`` for an operation other than ``put``, a
        probability outside [0, 1], both ``nth`` and ``probability``, a
        non-positive ``nth`` or ``times``, a negative or non-finite latency,
        or neither an error nor a latency.
    """

    operations: Collection[str]
    dataset_types: Collection[str] | None = None
    dataset_ids: Collection[uuid.UUID | str] | None = None
    data_id: Mapping[str, Any] | None = None
    nth: int | None = None
    probability: float | None = None
    times: int | None = None
    error: BaseException | type[BaseException] | None = InjectedFaultError
    latency: float = 0.0
    point: FaultPoint = "before"

    def __post_init__(self) -> None:
        operations = _names(self.operations, "operations")
        if not operations:
            raise ValueError("A Fault needs at least one operation.")
        unknown = sorted(operations - OPERATIONS)
        if unknown:
            raise ValueError(
                f"Fault operations: unknown operation(s) {', '.join(map(repr, unknown))}; valid operations "
                f"are {', '.join(sorted(OPERATIONS))}."
            )
        object.__setattr__(self, "operations", operations)
        if self.point not in _POINTS:
            raise ValueError(f"Unknown fault point {self.point!r}; valid points are {', '.join(_POINTS)}.")
        if self.point == "stored" and not operations <= _STORED_POINT_OPERATIONS:
            others = ", ".join(sorted(operations - _STORED_POINT_OPERATIONS))
            raise ValueError(
                f"Fault point 'stored' is a point midway through put; it cannot apply to {others}. "
                "Use 'before' or 'after' for other operations."
            )
        if self.dataset_types is not None:
            dataset_types = _names(self.dataset_types, "dataset_types")
            if not dataset_types:
                raise ValueError(
                    "Fault dataset_types is empty, so the rule could never fire; use None for all."
                )
            object.__setattr__(self, "dataset_types", dataset_types)
        if self.dataset_ids is not None:
            object.__setattr__(self, "dataset_ids", _dataset_ids(self.dataset_ids))
        if self.data_id is not None and not isinstance(self.data_id, Mapping):
            raise TypeError(f"Fault data_id must be a mapping of dimension values; got {self.data_id!r}.")
        for name in ("nth", "times"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Fault {name} must be an integer; got {value!r}.")
            if value < 1:
                raise ValueError(f"Fault {name} must be at least 1; got {value}.")
        if self.probability is not None:
            _number(self.probability, "probability")
            if not 0.0 <= self.probability <= 1.0:
                raise ValueError(f"Fault probability must be within [0, 1]; got {self.probability}.")
        if self.nth is not None and self.probability is not None:
            raise ValueError("A Fault fires on the nth call or with a probability, not both.")
        _number(self.latency, "latency")
        if not math.isfinite(self.latency):
            raise ValueError(f"Fault latency must be a finite number of seconds; got {self.latency}.")
        if self.latency < 0:
            raise ValueError(f"Fault latency must not be negative; got {self.latency}.")
        error = self.error
        if error is not None and not (
            isinstance(error, BaseException) or (isinstance(error, type) and issubclass(error, BaseException))
        ):
            raise TypeError(f"Fault error must be an exception or exception class; got {error!r}.")
        if error is None and not self.latency:
            raise ValueError("A Fault needs an error to raise, a latency, or both.")

    def matches(self, operation: str, refs: Sequence[DatasetRef]) -> bool:
        """Return whether a call is one this rule is about.

        Parameters
        ----------
        operation : `str`
            Datastore method name.
        refs : `~collections.abc.Sequence` [`~lsst.daf.butler.DatasetRef`]
            The datasets the call is about.

        Returns
        -------
        matches : `bool`
            Whether the operation matches and, for each dataset criterion
            given, at least one of ``refs`` meets all of them.
        """
        if operation not in self.operations:
            return False
        if self.dataset_types is None and self.dataset_ids is None and self.data_id is None:
            return True
        return any(self._matches_ref(ref) for ref in refs)

    def _matches_ref(self, ref: DatasetRef) -> bool:
        if self.dataset_types is not None:
            name = ref.datasetType.name
            if (
                name not in self.dataset_types
                and ref.datasetType.nameAndComponent()[0] not in self.dataset_types
            ):
                return False
        if self.dataset_ids is not None and ref.id not in self.dataset_ids:
            return False
        if self.data_id is not None:
            data_id = ref.dataId.mapping
            if any(data_id.get(key) != value for key, value in self.data_id.items()):
                return False
        return True

    def make_error(self, operation: str, refs: Sequence[DatasetRef]) -> BaseException:
        """Return a fresh exception to raise for one firing.

        Parameters
        ----------
        operation : `str`
            Datastore method name.
        refs : `~collections.abc.Sequence` [`~lsst.daf.butler.DatasetRef`]
            The datasets the call is about.

        Returns
        -------
        error : `BaseException`
            A new instance, so that tracebacks of repeated firings do not
            pile up on one object.
        """
        about = f" of {refs[0]}" if len(refs) == 1 else f" of {len(refs)} datasets" if refs else ""
        if isinstance(self.error, BaseException):
            # Never the rule's own instance: raising it would attach a
            # traceback to it, which the rule would keep, with every frame's
            # local variables, for as long as the rule lives.
            return detached_copy(self.error)
        assert self.error is not None
        return self.error(f"Injected fault in {operation}{about}")


def _names(value: object, field: str) -> frozenset[str]:
    """Return one name, or a collection of names, as a set; refuse anything else."""
    if isinstance(value, str):
        return frozenset((value,))
    if not isinstance(value, Iterable) or isinstance(value, bytes | Mapping):
        raise TypeError(f"Fault {field} must be a string or a collection of strings; got {value!r}.")
    names = list(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"Fault {field} must hold strings; got {name!r} ({type(name).__name__}).")
    return frozenset(names)


def _dataset_ids(value: object) -> frozenset[uuid.UUID]:
    """Return one dataset ID, or a collection of them, as a set of UUIDs."""
    if isinstance(value, uuid.UUID | str):
        value = (value,)
    elif not isinstance(value, Iterable) or isinstance(value, bytes | Mapping):
        raise TypeError(f"Fault dataset_ids must be a UUID, a string or a collection of them; got {value!r}.")
    ids = set()
    for item in value:
        if isinstance(item, uuid.UUID):
            ids.add(item)
        elif isinstance(item, str):
            try:
                ids.add(uuid.UUID(item))
            except ValueError:
                raise ValueError(f"Fault dataset_ids: {item!r} is not a dataset ID (a UUID).") from None
        else:
            raise TypeError(
                f"Fault dataset_ids must hold UUIDs or strings; got {item!r} ({type(item).__name__})."
            )
    if not ids:
        raise ValueError("Fault dataset_ids is empty, so the rule could never fire; use None for all.")
    return frozenset(ids)


def _number(value: object, field: str) -> None:
    """Refuse a value that is not a real number (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"Fault {field} must be a number; got {value!r}.")


@dataclasses.dataclass
class _RuleState:
    matches: int = 0
    fired: int = 0


class FaultPlan:
    """A set of `Fault` rules, with the counters and the random draws they need.

    Parameters
    ----------
    *faults : `Fault`
        The rules, checked in order; the first that fires wins.
    seed : `int`, optional
        Seed of the generator behind ``probability`` rules.

    Notes
    -----
    Thread-safe. `fired` records every firing, for tests to check that the
    fault they planned did happen.
    """

    def __init__(self, *faults: Fault, seed: int = 0) -> None:
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"FaultPlan takes Fault rules; got {type(fault).__name__}.")
        self.faults = faults
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._states = [_RuleState() for _ in faults]
        self._fired: list[tuple[Fault, str, tuple[DatasetRef, ...], str]] = []

    @classmethod
    def from_specs(cls, specs: Iterable[Mapping[str, Any]], seed: int = 0) -> FaultPlan:
        """Build a plan from keyword mappings, e.g. a pytest marker's arguments.

        Parameters
        ----------
        specs : `~collections.abc.Iterable` [`~collections.abc.Mapping`]
            Keyword arguments of each `Fault`.
        seed : `int`, optional
            Seed of the generator.

        Returns
        -------
        plan : `FaultPlan`
            The plan.
        """
        return cls(*(Fault(**spec) for spec in specs), seed=seed)

    @property
    def fired(self) -> list[tuple[Fault, str, tuple[DatasetRef, ...], str]]:
        """Every firing so far: (rule, operation, refs, point)."""
        with self._lock:
            return list(self._fired)

    def points(self, operation: str) -> frozenset[str]:
        """Return the points at which some rule could fire for ``operation``.

        Parameters
        ----------
        operation : `str`
            Datastore method name.

        Returns
        -------
        points : `frozenset` [`str`]
            A subset of ``{"before", "stored", "after"}``.
        """
        return frozenset(fault.point for fault in self.faults if operation in fault.operations)

    def check(self, operation: str, refs: Sequence[DatasetRef], point: FaultPoint) -> None:
        """Fire the first rule that applies to this call at this point.

        Parameters
        ----------
        operation : `str`
            Datastore method name.
        refs : `~collections.abc.Sequence` [`~lsst.daf.butler.DatasetRef`]
            The datasets the call is about.
        point : ``"before"``, ``"stored"`` or ``"after"``
            Where in the call this is.

        Raises
        ------
        BaseException
            The rule's error, after its latency.
        """
        firing = None
        with self._lock:
            for fault, state in zip(self.faults, self._states, strict=True):
                if fault.point != point or not fault.matches(operation, refs):
                    continue
                state.matches += 1
                if self._fires(fault, state):
                    state.fired += 1
                    self._fired.append((fault, operation, tuple(refs), point))
                    firing = fault
                    break
        if firing is None:
            return
        if firing.latency:
            time.sleep(firing.latency)
        if firing.error is not None:
            raise firing.make_error(operation, refs)

    def _fires(self, fault: Fault, state: _RuleState) -> bool:
        limit = fault.times if fault.times is not None else (1 if fault.nth is not None else None)
        if limit is not None and state.fired >= limit:
            return False
        if fault.nth is not None:
            return state.matches >= fault.nth
        if fault.probability is not None:
            return self._random.random() < fault.probability
        return True

    def __repr__(self) -> str:
        return f"FaultPlan({len(self.faults)} rule(s), seed={self.seed}, fired {len(self._fired)})"
