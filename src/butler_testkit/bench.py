"""Side-by-side datastore benchmarks: ``butler-testkit bench``.

Every target is measured in the same process, on the same pre-built
references, with its operations interleaved in chunks so that a slow moment
of the machine hits every target alike. Results are per-operation times and
ratios against the first target, never absolute pass/fail timings.
"""

from __future__ import annotations

__all__ = (
    "BUILTIN_TARGETS",
    "REGISTRIES",
    "BenchReport",
    "BenchTarget",
    "BenchTargetError",
    "format_report",
    "resolve_target",
    "run_bench",
)

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType, DimensionUniverse
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager
from lsst.daf.butler.tests import DummyRegistry

from .bridge import InMemoryRegistry
from .datastore import InMemoryDatastore
from .factories import MetricsRecord, installed_storage_classes

_JSON_FORMATTER = "lsst.daf.butler.formatters.json.JsonFormatter"

BUILTIN_TARGETS: Mapping[str, Mapping[str, Any]] = {
    "ours-reference": {"cls": "butler_testkit.InMemoryDatastore", "isolation": "reference"},
    "ours-copy": {"cls": "butler_testkit.InMemoryDatastore", "isolation": "copy"},
    "upstream": {"cls": "lsst.daf.butler.datastores.inMemoryDatastore.InMemoryDatastore"},
    # Upstream's FileDatastore under the run's temporary directory, able to
    # write the benchmark's datasets (BtkMetrics and its components, as JSON)
    # and to name one file per dataset from its data ID.
    "file": {
        "cls": "lsst.daf.butler.datastores.fileDatastore.FileDatastore",
        "root": "<butlerRoot>",
        "formatters": dict.fromkeys(("BtkMetrics", "BtkDict", "BtkList", "BtkInt"), _JSON_FORMATTER),
        "templates": {"default": "{run:/}/{datasetType}.{component:?}/{datasetType}_{instrument}_{visit}"},
    },
}
"""Targets known by name; the first three are the defaults, in this order."""

REGISTRIES: Mapping[str, Callable[[], DatastoreRegistryBridgeManager]] = {
    "dummy": lambda: DummyRegistry().getDatastoreBridgeManager(),
    "fakes": lambda: InMemoryRegistry().getDatastoreBridgeManager(),
}
"""Bridge managers a target can run on: ``TARGET@dummy`` (the default,
daf_butler's ``DummyRegistry``) or ``TARGET@fakes`` (our `InMemoryRegistry`)."""

DEFAULT_TARGETS = ("ours-reference", "ours-copy", "upstream")

# Operation names, in report order. Each is timed per dataset.
OPERATIONS = ("put", "get", "component get", "exists", "mexists", "getURI", "trash", "emptyTrash")
# Rows derived from the others, for the design targets that name them.
TRASH_AND_EMPTY = "trash + emptyTrash"
# Not timed: bytes retained per stored dataset.
MEMORY = "memory"
SNAPSHOT = "snapshot"
"""Snapshot and restore of a full datastore, for targets that have them (ours)."""
MEASUREMENTS = (*OPERATIONS, MEMORY, SNAPSHOT)
"""What ``--operations`` can select; ``put`` is always measured, as it fills
the datastores."""

# DESIGN.md's targets for our reference isolation against upstream:
# operation -> the least acceptable ratio (upstream cost / our cost).
DESIGN_TARGETS: Mapping[str, float] = {
    "put": 5.0,
    "get": 1.0,
    "exists": 1.0,
    "getURI": 1.0,
    TRASH_AND_EMPTY: 1.0,
    "memory": 2.0,
}
LINEARITY_LIMIT = 1.5
# The issue that added the registry fakes: trash + emptyTrash through them at
# least this many times cheaper than through DummyRegistry.
REGISTRY_TARGET = 3.0


class BenchTargetError(RuntimeError):
    """A benchmark target could not be built or failed an operation."""


@contextlib.contextmanager
def _blaming(label: str, operation: str) -> Iterator[None]:
    """Turn any failure into a `BenchTargetError` naming target and operation."""
    try:
        yield
    except Exception as err:
        raise BenchTargetError(
            f"benchmark target {label!r} failed in {operation}: {type(err).__name__}: {err}"
        ) from err


@dataclasses.dataclass(frozen=True)
class BenchTarget:
    """A datastore to benchmark.

    Parameters
    ----------
    label : `str`
        Column heading in the report.
    config : `~collections.abc.Mapping`
        Datastore configuration (at least ``cls``).
    registry : `str`, optional
        Key of `REGISTRIES`: the bridge manager the datastore is built on.
    """

    label: str
    config: Mapping[str, Any]
    registry: str = "dummy"

    def create(self, root: str) -> Datastore:
        """Build a fresh, empty datastore.

        Parameters
        ----------
        root : `str`
            Directory a file-backed datastore may write under.

        Returns
        -------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            The datastore, on a bridge manager of its own.
        """
        with _blaming(self.label, "construction"):
            bridge_manager = REGISTRIES[self.registry]()
            return Datastore.fromConfig(DatastoreConfig(dict(self.config)), bridge_manager, butlerRoot=root)


def resolve_target(spec: str) -> BenchTarget:
    """Turn a command-line target into a `BenchTarget`.

    Parameters
    ----------
    spec : `str`
        A built-in name (see `BUILTIN_TARGETS`), a datastore configuration
        file (YAML or JSON, with ``cls``), or the import path of a datastore
        class; optionally followed by ``@`` and a key of `REGISTRIES`
        (``file@fakes``) to choose the bridge manager, ``dummy`` by default.

    Returns
    -------
    target : `BenchTarget`
        The target.

    Raises
    ------
    ValueError
        Raised if ``spec`` is none of these.
    """
    base, at, registry = spec.rpartition("@")
    if at and registry.isidentifier():
        if registry not in REGISTRIES:
            raise ValueError(
                f"Unknown registry {registry!r} in benchmark target {spec!r}: "
                f"give one of {', '.join(REGISTRIES)} after the '@'."
            )
        target = resolve_target(base)
        return dataclasses.replace(target, label=f"{target.label}@{registry}", registry=registry)
    if spec in BUILTIN_TARGETS:
        return BenchTarget(spec, BUILTIN_TARGETS[spec])
    path = Path(spec)
    if path.suffix in {".yaml", ".yml", ".json"} or path.is_file():
        if not path.is_file():
            raise ValueError(f"Datastore configuration file {spec!r} does not exist.")
        config = DatastoreConfig(str(path))
        return BenchTarget(path.stem, config.toDict())
    if "." in spec and all(part.isidentifier() for part in spec.split(".")):
        return BenchTarget(spec.rsplit(".", 1)[1], {"cls": spec})
    known = ", ".join(BUILTIN_TARGETS)
    raise ValueError(
        f"Unknown benchmark target {spec!r}: give one of {known}, a datastore config file "
        "(.yaml, .yml or .json) or a datastore class path such as package.module.MyDatastore."
    )


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
        rows = [operation for operation in OPERATIONS if operation in self.measured]
        if "trash" in rows and "emptyTrash" in rows:
            rows.append(TRASH_AND_EMPTY)
        return rows


def _make_refs(universe: DimensionUniverse, n: int, seed: int) -> list[DatasetRef]:
    """Build ``n`` distinct references with reproducible ids."""
    rng = random.Random(seed)
    dataset_type = DatasetType("bench_metric", universe.conform(["instrument", "visit"]), "BtkMetrics")
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


def _call_each(call: Callable[[Datastore, Any], object], datastore: Datastore, items: Sequence[Any]) -> None:
    for item in items:
        call(datastore, item)


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

    def interleaved(
        operation: str, call: Callable[[Datastore, Any], object], component: bool = False
    ) -> None:
        for part, part_refs in enumerate(slices):
            items = [ref.makeComponentRef("data") for ref in part_refs] if component else part_refs
            for chunk_number, chunk in enumerate(_chunks(items, chunk_size)):
                for label in rotated(round_number + chunk_number):
                    datastore = datastores[label][part]
                    with _blaming(label, operation):
                        totals[label][operation] += _timed(_call_each, call, datastore, chunk)

    def one_call_each(operation: str, call: Callable[[Datastore, Sequence[DatasetRef]], object]) -> None:
        for part, part_refs in enumerate(slices):
            for label in rotated(round_number + part):
                datastore = datastores[label][part]
                with _blaming(label, operation):
                    totals[label][operation] += _timed(call, datastore, part_refs)

    with _gc_paused():
        interleaved("put", lambda datastore, ref: datastore.put(obj, ref))
        if "get" in operations:
            interleaved("get", lambda datastore, ref: datastore.get(ref))
        if "component get" in operations:
            interleaved("component get", lambda datastore, ref: datastore.get(ref), component=True)
        if "exists" in operations:
            interleaved("exists", lambda datastore, ref: datastore.exists(ref))
        if "getURI" in operations:
            interleaved("getURI", lambda datastore, ref: datastore.getURI(ref))
        if "mexists" in operations:
            one_call_each("mexists", lambda datastore, part_refs: datastore.mexists(part_refs))
        if "trash" in operations:
            one_call_each("trash", lambda datastore, part_refs: datastore.trash(part_refs))
        if "emptyTrash" in operations:
            one_call_each("emptyTrash", lambda datastore, part_refs: datastore.emptyTrash())
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
    if "trash" in operations and "emptyTrash" in operations:
        for ops in [*large.values(), *small.values()]:
            ops[TRASH_AND_EMPTY] = ops["trash"] + ops["emptyTrash"]
    return large, small


def _retained_bytes_per_dataset(
    target: BenchTarget, refs: Sequence[DatasetRef], obj: Any, root: str
) -> float:
    """Bytes a datastore keeps per dataset, the stored object excluded.

    The same object is put every time, so with no copying it is never
    counted; under copy isolation each stored copy is.
    """
    datastore = target.create(root)
    with _blaming(target.label, "put"):
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
    with _blaming(target.label, "put"):
        for ref in refs:
            datastore.put(obj, ref)
    removed = refs[::10]
    best_snapshot = best_restore = float("inf")
    with _blaming(target.label, SNAPSHOT), _gc_paused():
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


def _ratio_cell(value: float, reference: float, unit: str) -> str:
    ratio = value / reference if reference else float("inf")
    return f"{value:,.2f} {unit} ({ratio:.2f}x)"


def format_report(report: BenchReport) -> str:
    """Render a report as plain-text tables.

    Parameters
    ----------
    report : `BenchReport`
        What was measured.

    Returns
    -------
    text : `str`
        The cost table (with ratios against the first target), the memory
        row, the linearity table and, when both are present, DESIGN.md's
        targets for ``ours-reference`` against ``upstream`` and, for every
        ``X@fakes`` measured with ``X@dummy``, the registry fakes' target.
    """
    first = report.labels[0]
    rows = report.rows
    width = max(len(row) for row in [*rows, "retained bytes/dataset"]) + 2
    column = max(22, *(len(label) + 2 for label in report.labels))
    lines = [
        f"butler-testkit bench: n={report.n}, best of {report.rounds} rounds, GC paused while timing",
        report.environment,
        "",
        f"Per-dataset cost; (Nx) = cost / cost of {first}, so above 1 means {first} is cheaper.",
        "operation".ljust(width) + "".join(label.ljust(column) for label in report.labels),
    ]
    for row in rows:
        reference = report.seconds[first][row] * 1e6
        cells = [_ratio_cell(report.seconds[label][row] * 1e6, reference, "us") for label in report.labels]
        lines.append(row.ljust(width) + "".join(cell.ljust(column) for cell in cells))
    if report.memory:
        reference_memory = report.memory[first]
        memory_cells = [_ratio_cell(report.memory[label], reference_memory, "B") for label in report.labels]
        lines += [
            "retained bytes/dataset".ljust(width) + "".join(cell.ljust(column) for cell in memory_cells),
            "(retained bytes exclude the stored object itself, except where a datastore stores a copy of it)",
        ]
    lines += [
        "",
        f"Linearity: per-dataset cost at n={report.n} / cost at n={report.n // 10} (1.00 = linear).",
        "operation".ljust(width) + "".join(label.ljust(column) for label in report.labels),
    ]
    for row in rows:
        cells = [
            f"{report.seconds[label][row] / report.small_seconds[label][row]:.2f}" for label in report.labels
        ]
        lines.append(row.ljust(width) + "".join(cell.ljust(column) for cell in cells))
    if report.snapshot:
        lines += ["", f"Snapshot and restore of the whole state holding n={report.n} datasets (per call):"]
        lines += [
            f"  {label}: snapshot {taken * 1e3:,.1f} ms, restore {restored * 1e3:,.1f} ms"
            for label, (taken, restored) in report.snapshot.items()
        ]
    if {"ours-reference", "upstream"} <= set(report.labels):
        lines += ["", *_design_target_lines(report)]
    if TRASH_AND_EMPTY in rows:
        for fakes in report.labels:
            base, _, registry = fakes.rpartition("@")
            if registry == "fakes" and f"{base}@dummy" in report.labels:
                lines += ["", *_registry_target_lines(report, fakes, f"{base}@dummy")]
    return "\n".join(lines)


def _linearity(report: BenchReport, label: str, row: str) -> float:
    return report.seconds[label][row] / report.small_seconds[label][row]


def _design_target_lines(report: BenchReport) -> list[str]:
    ours, upstream = report.seconds["ours-reference"], report.seconds["upstream"]
    lines = ["DESIGN.md targets, ours-reference against upstream (upstream cost / our cost):"]
    for row, least in DESIGN_TARGETS.items():
        if row == MEMORY:
            if not report.memory:
                continue
            ratio = report.memory["upstream"] / report.memory["ours-reference"]
            label = "bookkeeping memory"
        elif row in ours:
            ratio = upstream[row] / ours[row]
            label = row
        else:
            continue
        verdict = "met" if ratio >= least else "MISSED"
        lines.append(f"  {label:<22} {ratio:6.2f}x  (at least {least:.1f}x)  {verdict}")
    worst_row, worst = max(
        ((row, _linearity(report, "ours-reference", row)) for row in report.rows), key=lambda item: item[1]
    )
    verdict = "met" if worst <= LINEARITY_LIMIT else "MISSED"
    lines.append(
        f"  {'linearity':<22} {worst:6.2f}   (at most {LINEARITY_LIMIT}, worst: {worst_row})  {verdict}"
    )
    return lines


def _registry_target_lines(report: BenchReport, fakes: str, dummy: str) -> list[str]:
    ratio = report.seconds[dummy][TRASH_AND_EMPTY] / report.seconds[fakes][TRASH_AND_EMPTY]
    linearity = _linearity(report, fakes, TRASH_AND_EMPTY)
    return [
        f"Registry fakes target, {fakes} against {dummy} ({dummy} cost / {fakes} cost):",
        f"  {TRASH_AND_EMPTY:<22} {ratio:6.2f}x  (at least {REGISTRY_TARGET:.1f}x)  "
        + ("met" if ratio >= REGISTRY_TARGET else "MISSED"),
        f"  {'linearity':<22} {linearity:6.2f}   (at most {LINEARITY_LIMIT}, {TRASH_AND_EMPTY} on {fakes})  "
        + ("met" if linearity <= LINEARITY_LIMIT else "MISSED"),
    ]
