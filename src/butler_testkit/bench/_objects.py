"""Put and get of kinds of objects, in every isolation mode, against upstream and the array floors.

``butler-testkit bench --suite objects``. The datastore suite stores one
small composite; what isolation costs depends on what is copied, so this
suite times ``put`` and ``get`` of each `ObjectKind` in every isolation mode
of our datastore and in upstream's (which copies nothing), and times the
`Floor` of each array operation: what copying the array costs at least. The
kinds, the floors and the targets they are held to (`OBJECT_TARGETS`) are
declared once, in the tables below; the measurement and the report read them.
"""

from __future__ import annotations

__all__ = (
    "FLOORS",
    "KINDS",
    "OBJECT_DATASTORES",
    "OBJECT_TARGETS",
    "Floor",
    "ObjectKind",
    "ObjectReport",
    "ObjectTarget",
    "format_object_report",
    "run_object_bench",
)

import dataclasses
import random
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from lsst.daf.butler import DatasetRef, DimensionUniverse
from lsst.daf.butler.datastore import Datastore

from ..factories import CATALOGUE, installed_storage_classes
from ._datastores import _call_each, _chunks, _environment, _gc_paused, _make_refs, _timed
from ._operations import OPERATION_TABLE, Operation
from ._targets import BenchTarget, blaming, resolve_target


def _metrics_dict() -> dict[str, Any]:
    """Return a metrics summary as pipelines write them: 200 values, three levels deep."""
    rng = random.Random(20261123)
    return {
        "summary": {f"stat_{index}": rng.random() for index in range(10)},
        "output": {f"output_{index}": {"value": rng.random(), "n": index} for index in range(5)},
        "data": [rng.random() for _ in range(180)],
    }


def _array() -> np.ndarray:
    return np.random.default_rng(20261123).random((512, 512), dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class ObjectKind:
    """A kind of object the suite stores.

    Parameters
    ----------
    name : `str`
        Its row in the report.
    storage_class : `str`
        Storage class of its datasets.
    make : `~collections.abc.Callable` [[], `object`]
        Makes the object every dataset of the kind stores.
    large : `bool`, optional
        Whether it is large: it is stored ``--array-n`` times, not
        ``--objects-n`` times.
    """

    name: str
    storage_class: str
    make: Callable[[], Any]
    large: bool = False


KINDS: tuple[ObjectKind, ...] = (
    ObjectKind("tiny dict", "BtkDict", lambda: {"a": 1}),
    ObjectKind("metrics dict", "BtkDict", _metrics_dict),
    ObjectKind("1 MiB array", "NumpyArray", _array, large=True),
)
"""The kinds, in report order: ``{"a": 1}``; a metrics-like nested dict of
200 values (10 summary statistics, 5 outputs of two values, 180 data
points); a 512x512 ``float32`` array under daf_butler's ``NumpyArray``
storage class, which has no delegate of its own."""

# The array's storage class as daf_butler defines it, installed with the
# catalogue for the run.
_STORAGE_CLASSES = {**CATALOGUE, "NumpyArray": {"pytype": "numpy.ndarray"}}


@dataclasses.dataclass(frozen=True)
class Floor:
    """What one operation on a kind of object costs at least, timed beside the datastores.

    Parameters
    ----------
    name : `str`
        Its column in the report.
    kind : `str`
        The `ObjectKind` it bounds.
    operation : `str`
        The operation it bounds (``put`` or ``get``).
    call : `~collections.abc.Callable` [[`object`, `list`], `None`]
        ``call(obj, kept)``, once per dataset; ``kept`` lives until the
        round ends, as a datastore's stored copies do.
    """

    name: str
    kind: str
    operation: str
    call: Callable[[Any, list[Any]], None]


def _kept_copy(obj: np.ndarray, kept: list[Any]) -> None:
    kept.append(obj.copy())


def _dropped_copy(obj: np.ndarray, kept: list[Any]) -> None:
    copied = obj.copy()
    del copied


FLOORS: tuple[Floor, ...] = (
    # A put that stores a copy must at least make one in fresh memory.
    Floor("kept copy", "1 MiB array", "put", _kept_copy),
    # A get that hands out a copy must at least make one the caller drops.
    Floor("dropped copy", "1 MiB array", "get", _dropped_copy),
)
"""The floors: ``ndarray.copy()`` kept, and ``ndarray.copy()`` dropped."""


@dataclasses.dataclass(frozen=True)
class ObjectTarget:
    """A cost a datastore is held to, against upstream or a floor.

    Parameters
    ----------
    datastore : `str`
        The target label (e.g. ``ours-copy``).
    kind : `str`
        The `ObjectKind`.
    operation : `str`
        ``put`` or ``get``.
    least_upstream_ratio : `float`, optional
        Upstream's cost / this cost, at least.
    most_floor_ratio : `float`, optional
        This cost / the `Floor` of the kind and operation, at most.
    """

    datastore: str
    kind: str
    operation: str
    least_upstream_ratio: float | None = None
    most_floor_ratio: float | None = None


OBJECT_TARGETS: tuple[ObjectTarget, ...] = (
    ObjectTarget("ours-copy", "tiny dict", "put", least_upstream_ratio=3.0),
    ObjectTarget("ours-copy", "tiny dict", "get", least_upstream_ratio=1.0),
    ObjectTarget("ours-copy", "metrics dict", "put", least_upstream_ratio=1.5),
    ObjectTarget("ours-copy", "metrics dict", "get", least_upstream_ratio=0.5),
    ObjectTarget("ours-copy", "1 MiB array", "put", most_floor_ratio=2.0),
    ObjectTarget("ours-copy", "1 MiB array", "get", most_floor_ratio=2.0),
)
"""What the default isolation is held to."""

OBJECT_DATASTORES = ("upstream", "ours-reference", "ours-copy", "ours-serialize")
"""The datastores timed, in report order; ratios are against ``upstream``."""

_OPERATIONS: tuple[Operation, ...] = tuple(entry for entry in OPERATION_TABLE if entry.name in ("put", "get"))


@dataclasses.dataclass
class ObjectReport:
    """What the object suite measured.

    Attributes
    ----------
    n : `int`
        Datasets per small kind and round.
    array_n : `int`
        Datasets per large kind and round.
    rounds : `int`
        Rounds run; each time is the best over them.
    labels : `list` [`str`]
        The datastores, ``upstream`` first.
    seconds : `dict` [`str`, `dict` [`str`, `dict` [`str`, `float`]]]
        Per kind, column (datastore or floor) and operation, the best
        per-dataset time.
    environment : `str`
        Python, platform and package versions.
    """

    n: int
    array_n: int
    rounds: int
    labels: list[str]
    seconds: dict[str, dict[str, dict[str, float]]]
    environment: str


def _floor(kind: str, operation: str) -> Floor | None:
    for floor in FLOORS:
        if floor.kind == kind and floor.operation == operation:
            return floor
    return None


def _measure_round(
    kind: ObjectKind,
    targets: Sequence[BenchTarget],
    refs: Sequence[DatasetRef],
    root: str,
    round_number: int,
) -> dict[str, dict[str, float]]:
    """Time each operation on one kind once per datastore and floor; return per-dataset seconds."""
    obj = kind.make()
    datastores: dict[str, Datastore] = {
        target.label: target.create(f"{root}/{round_number}/{index}") for index, target in enumerate(targets)
    }
    totals: dict[str, dict[str, float]] = {}
    kept: list[Any] = []
    chunk_size = max(1, len(refs) // 20)
    with _gc_paused():
        for operation in _OPERATIONS:
            floor = _floor(kind.name, operation.name)
            columns = [*datastores, *([floor.name] if floor is not None else [])]
            for chunk_number, chunk in enumerate(_chunks(refs, chunk_size)):
                shift = (round_number + chunk_number) % len(columns)
                for column in columns[shift:] + columns[:shift]:
                    if floor is not None and column == floor.name:
                        seconds = _timed(_floor_each, floor.call, chunk, obj, kept)
                    else:
                        with blaming(column, f"{operation.name} of a {kind.name}"):
                            seconds = _timed(_call_each, operation.call, datastores[column], chunk, obj)
                    by_operation = totals.setdefault(column, {})
                    by_operation[operation.name] = by_operation.get(operation.name, 0.0) + seconds
    return {column: {op: total / len(refs) for op, total in ops.items()} for column, ops in totals.items()}


def _floor_each(
    call: Callable[[Any, list[Any]], None], items: Sequence[Any], obj: Any, kept: list[Any]
) -> None:
    for _ in items:
        call(obj, kept)


def run_object_bench(
    n: int = 2000,
    array_n: int = 64,
    rounds: int = 5,
    seed: int = 20261123,
    progress: Callable[[str], None] | None = None,
) -> ObjectReport:
    """Time put and get of every `ObjectKind` in every datastore of `OBJECT_DATASTORES`.

    Parameters
    ----------
    n : `int`, optional
        Datasets per small kind and round (at least 20).
    array_n : `int`, optional
        Datasets per large kind and round (at least 2); each holds a copy of
        the array in the isolating datastores.
    rounds : `int`, optional
        Rounds; each reported time is the best over them.
    seed : `int`, optional
        Seed of the dataset ids.
    progress : `~collections.abc.Callable` [[`str`], `None`], optional
        Called with a line of text as each kind starts.

    Returns
    -------
    report : `ObjectReport`
        What was measured.

    Raises
    ------
    ValueError
        Raised for too few datasets or rounds.
    """
    if n < 20 or array_n < 2:
        raise ValueError(f"--objects-n must be at least 20 and --array-n at least 2; got {n} and {array_n}.")
    if rounds < 1:
        raise ValueError(f"--rounds must be at least 1; got {rounds}.")
    targets = [resolve_target(label) for label in OBJECT_DATASTORES]
    say = progress or (lambda line: None)
    seconds: dict[str, dict[str, dict[str, float]]] = {}
    with (
        installed_storage_classes(_STORAGE_CLASSES),
        tempfile.TemporaryDirectory(prefix="butler-testkit-bench-") as root,
    ):
        universe = DimensionUniverse()
        for index, kind in enumerate(KINDS):
            count = array_n if kind.large else n
            say(f"timing put and get of a {kind.name}: {count} datasets, {rounds} rounds")
            refs = _make_refs(universe, count, seed + index, f"bench_{index}", kind.storage_class)
            best: dict[str, dict[str, float]] = {}
            for round_number in range(rounds):
                measured = _measure_round(kind, targets, refs, f"{root}/{index}", round_number)
                for column, ops in measured.items():
                    kept = best.setdefault(column, dict(ops))
                    for op, value in ops.items():
                        kept[op] = min(kept[op], value)
            seconds[kind.name] = best
    return ObjectReport(n, array_n, rounds, list(OBJECT_DATASTORES), seconds, _environment())


def format_object_report(report: ObjectReport) -> str:
    """Render an object report: costs, ratios against upstream, floors, and the targets.

    Parameters
    ----------
    report : `ObjectReport`
        What was measured.

    Returns
    -------
    text : `str`
        The cost table and the verdict on every `ObjectTarget`.
    """
    reference = report.labels[0]
    column = 24
    lines = [
        f"butler-testkit bench objects: n={report.n} (arrays: {report.array_n}), best of {report.rounds} "
        "rounds, GC paused while timing",
        report.environment,
        "",
        f"Per-dataset cost; (Nx) = {reference} cost / this cost, so above 1 means cheaper than {reference}.",
        "kind".ljust(14) + "op".ljust(5) + "".join(label.ljust(column) for label in report.labels) + "floor",
    ]
    for kind in KINDS:
        costs = report.seconds[kind.name]
        for number, operation in enumerate(_OPERATIONS):
            upstream = costs[reference][operation.name]
            cells = [
                f"{costs[label][operation.name] * 1e6:,.2f} us"
                + ("" if label == reference else f" ({upstream / costs[label][operation.name]:.2f}x)")
                for label in report.labels
            ]
            floor = _floor(kind.name, operation.name)
            floor_cell = ""
            if floor is not None:
                floor_cell = f"{floor.name} {costs[floor.name][operation.name] * 1e6:,.2f} us"
            lines.append(
                (kind.name if number == 0 else "").ljust(14)
                + operation.name.ljust(5)
                + "".join(cell.ljust(column) for cell in cells)
                + floor_cell
            )
    lines += ["", "Targets (upstream cost / our cost, or our cost / the floor's):"]
    for target in OBJECT_TARGETS:
        costs = report.seconds[target.kind]
        ours = costs[target.datastore][target.operation]
        what = f"{target.datastore} {target.kind} {target.operation}"
        if target.least_upstream_ratio is not None:
            ratio = costs[reference][target.operation] / ours
            verdict = "met" if ratio >= target.least_upstream_ratio else "MISSED"
            limit = f"(at least {target.least_upstream_ratio:.1f}x)"
            lines.append(f"  {what:<34} {ratio:6.2f}x upstream           {limit}  {verdict}")
        if target.most_floor_ratio is not None:
            floor = _floor(target.kind, target.operation)
            assert floor is not None, f"no floor is declared for {what}"
            ratio = ours / costs[floor.name][target.operation]
            verdict = "met" if ratio <= target.most_floor_ratio else "MISSED"
            limit = f"(at most {target.most_floor_ratio:.1f}x)"
            lines.append(f"  {what:<34} {ratio:6.2f}x the {floor.name:<13} {limit}  {verdict}")
    return "\n".join(lines)
