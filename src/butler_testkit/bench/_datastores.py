"""Side-by-side datastore benchmarks: ``butler-testkit bench --suite datastores``.

Every target is measured in the same process, on the same pre-built
references, with its operations interleaved in chunks so that a slow moment
of the machine hits every target alike. Results are per-operation times and
ratios against the first target, never absolute pass/fail timings.
"""

from __future__ import annotations

__all__ = ("BenchReport", "run_bench")

import contextlib
import dataclasses
import gc
import importlib.metadata
import platform
import random
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType, DimensionUniverse
from lsst.daf.butler.datastore import Datastore

from ..datastore import InMemoryDatastore
from ..factories import MetricsRecord, installed_storage_classes
from ._operations import (
    DERIVED_ROWS,
    MEASUREMENTS,
    MEMORY,
    OPERATION_TABLE,
    OPERATIONS,
    SNAPSHOT,
    Operation,
    rows,
)
from ._targets import BenchTarget, blaming


@dataclasses.dataclass
class BenchReport:
    """What a benchmark run measured.

    Attributes
    ----------
    n : `int`
        Datasets per target.
    rounds : `int`
        Rounds run; each time is the best over them.
    labels : `list` [`str`]
        Target labels, the first being the reference for ratios.
    seconds : `dict` [`str`, `dict` [`str`, `float`]]
        Per target and operation, the best per-dataset time at ``n``.
    small_seconds : `dict` [`str`, `dict` [`str`, `float`]]
        The same at ``n // 10``, for the linearity check.
    memory : `dict` [`str`, `float`]
        Per target, bytes retained per stored dataset.
    environment : `str`
        Python, platform and package versions.
    measured : `tuple` [`str`, ...]
        The operations timed (in report order) and, if measured, ``memory``
        and ``snapshot``.
    snapshot : `dict` [`str`, `tuple` [`float`, `float`]]
        Per target that has ``snapshot()`` and ``restore()``, the best
        seconds of one snapshot and of one restore of ``n`` datasets.
    """

    n: int
    rounds: int
    labels: list[str]
    seconds: dict[str, dict[str, float]]
    small_seconds: dict[str, dict[str, float]]
    memory: dict[str, float]
    environment: str
    measured: tuple[str, ...] = MEASUREMENTS
    snapshot: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)

    @property
    def rows(self) -> list[str]:
        """Rows of the cost tables: the operations timed, and their sums."""
        return rows(self.measured)


def _make_refs(
    universe: DimensionUniverse,
    n: int,
    seed: int,
    name: str = "bench_metric",
    storage_class: str = "BtkMetrics",
) -> list[DatasetRef]:
    """Build ``n`` distinct references of one dataset type with reproducible ids."""
    rng = random.Random(seed)
    dataset_type = DatasetType(name, universe.conform(["instrument", "visit"]), storage_class)
    refs = []
    for visit in range(n):
        data_id = DataCoordinate.standardize({"instrument": "BenchCam", "visit": visit}, universe=universe)
        dataset_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        refs.append(DatasetRef(dataset_type, data_id, run="bench/run", id=dataset_id))
    return refs


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of timed sections, as timeit does."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _timed(function: Callable[..., object], *args: Any) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def _call_each(
    call: Callable[[Datastore, Any, Any], object], datastore: Datastore, items: Sequence[Any], obj: Any
) -> None:
    for item in items:
        call(datastore, item, obj)


def _measure_round(
    targets: Sequence[BenchTarget],
    refs: Sequence[DatasetRef],
    obj: Any,
    root: str,
    round_number: int,
    partitions: int,
    operations: Sequence[str] = OPERATIONS,
) -> dict[str, dict[str, float]]:
    """Time each of ``operations`` once per target; return per-dataset seconds.

    The references are split into ``partitions`` disjoint slices, each in a
    datastore of its own, so that every round does the same total work
    whatever the datastore size: a bulk operation on 1/10 of the datasets is
    timed ten times over, not once, and so is no more exposed to a quiet or
    busy moment of the machine than the full-size run.
    """
    size = len(refs) // partitions
    slices = [refs[index * size : (index + 1) * size] for index in range(partitions)]
    datastores = {
        target.label: [target.create(f"{root}/{round_number}/{index}/{part}") for part in range(partitions)]
        for index, target in enumerate(targets)
    }
    totals = {target.label: dict.fromkeys(operations, 0.0) for target in targets}
    chunk_size = max(1, size // 20)
    # Rotate which target goes first in every round and chunk.
    order = [target.label for target in targets]

    def rotated(shift: int) -> list[str]:
        shift %= len(order)
        return order[shift:] + order[:shift]

    def interleaved(operation: Operation) -> None:
        for part, part_refs in enumerate(slices):
            items = [ref.makeComponentRef("data") for ref in part_refs] if operation.component else part_refs
            for chunk_number, chunk in enumerate(_chunks(items, chunk_size)):
                for label in rotated(round_number + chunk_number):
                    datastore = datastores[label][part]
                    with blaming(label, operation.name):
                        totals[label][operation.name] += _timed(
                            _call_each, operation.call, datastore, chunk, obj
                        )

    def one_call_each(operation: Operation) -> None:
        for part, part_refs in enumerate(slices):
            for label in rotated(round_number + part):
                datastore = datastores[label][part]
                with blaming(label, operation.name):
                    totals[label][operation.name] += _timed(operation.call, datastore, part_refs, obj)

    with _gc_paused():
        for operation in OPERATION_TABLE:
            if operation.name in operations:
                (interleaved if operation.per == "dataset" else one_call_each)(operation)
    if "emptyTrash" in operations:
        for label, stores in datastores.items():
            if any(store.exists(part_refs[0]) for store, part_refs in zip(stores, slices, strict=True)):
                raise RuntimeError(f"Benchmark target {label}: emptyTrash() left trashed datasets behind.")
    measured = size * partitions
    return {label: {op: total / measured for op, total in ops.items()} for label, ops in totals.items()}


def _keep_best(best: dict[str, dict[str, float]], result: dict[str, dict[str, float]]) -> None:
    for label, ops in result.items():
        target_best = best.setdefault(label, dict(ops))
        for op, seconds in ops.items():
            target_best[op] = min(target_best[op], seconds)


def _measure(
    targets: Sequence[BenchTarget],
    refs: Sequence[DatasetRef],
    obj: Any,
    root: str,
    rounds: int,
    operations: Sequence[str] = OPERATIONS,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Best per-dataset times at the full size and at a tenth of it.

    Rounds at both sizes alternate, so that both see the same machine.
    """
    large: dict[str, dict[str, float]] = {}
    small: dict[str, dict[str, float]] = {}
    for round_number in range(rounds):
        sizes = [(large, 1), (small, 10)]
        for best, partitions in sizes if round_number % 2 == 0 else reversed(sizes):
            where = f"{root}/{partitions}"
            _keep_best(best, _measure_round(targets, refs, obj, where, round_number, partitions, operations))
    for row in DERIVED_ROWS:
        if all(part in operations for part in row.parts):
            for ops in [*large.values(), *small.values()]:
                ops[row.name] = sum(ops[part] for part in row.parts)
    return large, small


def _retained_bytes_per_dataset(
    target: BenchTarget, refs: Sequence[DatasetRef], obj: Any, root: str
) -> float:
    """Bytes a datastore keeps per dataset, the stored object excluded.

    The same object is put every time, so with no copying it is never
    counted; under copy isolation each stored copy is.
    """
    datastore = target.create(root)
    with blaming(target.label, "put"):
        datastore.put(obj, refs[0])  # let one-off caches fill before counting
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for ref in refs[1:]:
            datastore.put(obj, ref)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / (len(refs) - 1)


def _snapshot_seconds(
    target: BenchTarget, refs: Sequence[DatasetRef], obj: Any, root: str, rounds: int
) -> tuple[float, float] | None:
    """Best seconds of one ``snapshot()`` and one ``restore()`` of a full datastore.

    Each round restores a snapshot taken before a tenth of the datasets was
    forgotten, so that every restore has real work to do. `None` for a
    datastore that is not ours (no other has snapshots).
    """
    datastore = target.create(root)
    if not isinstance(datastore, InMemoryDatastore):
        return None
    with blaming(target.label, "put"):
        for ref in refs:
            datastore.put(obj, ref)
    removed = refs[::10]
    best_snapshot = best_restore = float("inf")
    with blaming(target.label, SNAPSHOT), _gc_paused():
        for _ in range(rounds):
            start = time.perf_counter()
            baseline = datastore.snapshot()
            best_snapshot = min(best_snapshot, time.perf_counter() - start)
            datastore.forget(removed)
            start = time.perf_counter()
            datastore.restore(baseline)
            best_restore = min(best_restore, time.perf_counter() - start)
    if not all(datastore.knows(ref) for ref in removed):
        raise RuntimeError(
            f"{target.label}: restore() did not bring back the datasets forgotten after snapshot()."
        )
    return best_snapshot, best_restore


def _environment() -> str:
    versions = []
    for package in ("lsst-daf-butler", "butler-testkit"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return f"Python {platform.python_version()} on {platform.machine()}, " + ", ".join(versions)


def run_bench(
    targets: Sequence[BenchTarget],
    n: int = 20_000,
    rounds: int = 3,
    seed: int = 20261123,
    progress: Callable[[str], None] | None = None,
    measure: Sequence[str] = MEASUREMENTS,
) -> BenchReport:
    """Benchmark ``targets`` side by side.

    Parameters
    ----------
    targets : `~collections.abc.Sequence` [`BenchTarget`]
        Datastores to compare; ratios are against the first.
    n : `int`, optional
        Datasets per target (at least 100).
    rounds : `int`, optional
        Rounds; each reported time is the best over them.
    seed : `int`, optional
        Seed of the dataset ids.
    progress : `~collections.abc.Callable` [[`str`], `None`], optional
        Called with a line of text as each stage starts.
    measure : `~collections.abc.Sequence` [`str`], optional
        What to measure, from `MEASUREMENTS` (everything by default). ``put``
        is always timed, since it fills the datastores, and ``emptyTrash``
        brings ``trash``, which fills the trash. Leaving out slow operations
        makes a target that is quadratic in some of them measurable at all.

    Returns
    -------
    report : `BenchReport`
        What was measured.

    Raises
    ------
    ValueError
        Raised for fewer than 100 datasets, no rounds, no targets, two
        targets with the same label, or an unknown measurement.
    """
    if n < 100:
        raise ValueError(f"--n must be at least 100 (so that n/10 is meaningful); got {n}.")
    if rounds < 1:
        raise ValueError(f"--rounds must be at least 1; got {rounds}.")
    labels = [target.label for target in targets]
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"Benchmark targets must be given and distinct; got {labels}.")
    unknown = [name for name in measure if name not in MEASUREMENTS]
    if unknown:
        raise ValueError(f"Unknown measurement {unknown[0]!r}: choose from {', '.join(MEASUREMENTS)}.")
    wanted = {"put", *measure}
    if "emptyTrash" in wanted:
        wanted.add("trash")
    measured = tuple(name for name in MEASUREMENTS if name in wanted)
    operations = tuple(name for name in measured if name in OPERATIONS)
    say = progress or (lambda line: None)
    obj = MetricsRecord(summary={"mean": 1.5, "sigma": 0.25}, output={"n": 3}, data=[1, 2, 3])
    with installed_storage_classes(), tempfile.TemporaryDirectory(prefix="butler-testkit-bench-") as root:
        refs = _make_refs(DimensionUniverse(), n, seed)
        say(
            f"timing {len(targets)} targets, {rounds} rounds, each with {n} datasets in one datastore "
            f"and in ten datastores of {n // 10}"
        )
        seconds, small_seconds = _measure(targets, refs, obj, f"{root}/timing", rounds, operations)
        memory = {}
        if MEMORY in measured:
            say("measuring retained memory")
            memory = {
                target.label: _retained_bytes_per_dataset(target, refs, obj, f"{root}/memory/{index}")
                for index, target in enumerate(targets)
            }
        snapshot: dict[str, tuple[float, float]] = {}
        if SNAPSHOT in measured:
            say("timing snapshot and restore")
            for index, target in enumerate(targets):
                costs = _snapshot_seconds(target, refs, obj, f"{root}/snapshot/{index}", rounds)
                if costs is not None:
                    snapshot[target.label] = costs
    return BenchReport(n, rounds, labels, seconds, small_seconds, memory, _environment(), measured, snapshot)
