"""Declarative fault injection: which calls fail, how, and when."""

from __future__ import annotations

__all__ = ("Fault", "FaultPlan", "InjectedFaultError")

import dataclasses
import random
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from lsst.daf.butler import DatasetRef

FaultPoint = Literal["before", "stored", "after"]
_POINTS = ("before", "stored", "after")


class InjectedFaultError(RuntimeError):
    """The default exception of a `Fault`: a failure injected on purpose."""


@dataclasses.dataclass(frozen=True)
class Fault:
    """One rule: which calls fail, how, and how often.

    Parameters
    ----------
    operations : `str` or `~collections.abc.Collection` [`str`]
        Datastore methods the rule applies to (``put``, ``get``, ...).
    dataset_types : `~collections.abc.Collection` [`str`], optional
        Only calls about these dataset types (a parent name matches its
        components).
    dataset_ids : `~collections.abc.Collection` [`uuid.UUID` or `str`], optional
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
        When to fail: before the call does anything (default); midway
        through a ``put``, after the object is stored and before the put
        completes (datastores with a
        `~butler_testkit.datastore.StoredPointHook`, such as
        `~butler_testkit.InMemoryDatastore`; others treat it as
        ``"after"``); or after the call has succeeded. A ``put`` that fails
        at ``"stored"`` or ``"after"`` is undone, so nothing is left half
        stored.

    Raises
    ------
    ValueError
        Raised for an inconsistent rule: no operations, an unknown point, a
        probability outside [0, 1], both ``nth`` and ``probability``, a
        non-positive ``nth`` or ``times``, or neither an error nor a latency.
    TypeError
        Raised if ``error`` is not an exception.
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
        operations = (self.operations,) if isinstance(self.operations, str) else tuple(self.operations)
        object.__setattr__(self, "operations", frozenset(operations))
        if not operations:
            raise ValueError("A Fault needs at least one operation.")
        if self.point not in _POINTS:
            raise ValueError(f"Unknown fault point {self.point!r}; valid points are {', '.join(_POINTS)}.")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"Fault probability must be within [0, 1]; got {self.probability}.")
        if self.nth is not None and self.probability is not None:
            raise ValueError("A Fault fires on the nth call or with a probability, not both.")
        for name in ("nth", "times"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"Fault {name} must be at least 1; got {value}.")
        if self.latency < 0:
            raise ValueError(f"Fault latency must not be negative; got {self.latency}.")
        error = self.error
        if error is not None and not (
            isinstance(error, BaseException) or (isinstance(error, type) and issubclass(error, BaseException))
        ):
            raise TypeError(f"Fault error must be an exception or exception class; got {error!r}.")
        if error is None and not self.latency:
            raise ValueError("A Fault needs an error to raise, a latency, or both.")
        if self.dataset_ids is not None:
            ids = frozenset(uuid.UUID(str(value)) for value in self.dataset_ids)
            object.__setattr__(self, "dataset_ids", ids)
        if self.dataset_types is not None:
            object.__setattr__(self, "dataset_types", frozenset(self.dataset_types))

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
            return _copy_exception(self.error)
        assert self.error is not None
        return self.error(f"Injected fault in {operation}{about}")


def _copy_exception(error: BaseException) -> BaseException:
    try:
        fresh = type(error)(*error.args)
    except Exception:  # an exception class with an unusual constructor
        return error
    for name, value in vars(error).items():
        setattr(fresh, name, value)
    return fresh


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
