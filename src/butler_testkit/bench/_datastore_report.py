"""The datastore benchmark's report: costs, ratios, linearity and the targets they are held to."""

from __future__ import annotations

__all__ = ("LINEARITY_LIMIT", "REGISTRY_LEAST_RATIO", "format_report")

from ._datastores import BenchReport
from ._operations import DERIVED_ROWS, MEMORY_LEAST_RATIO, OPERATION_TABLE, TRASH_AND_EMPTY

LINEARITY_LIMIT = 1.5
"""Per-dataset cost at N / cost at N/10, at most, for our reference isolation."""

REGISTRY_LEAST_RATIO = 3.0
"""``trash`` + ``emptyTrash`` through the registry fakes at least this many
times cheaper than through ``DummyRegistry``."""


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
        row, the linearity table and, when both are present, the
        performance targets of ``ours-reference`` against ``upstream`` and,
        for every ``X@fakes`` measured with ``X@dummy``, the registry fakes'
        target.
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
    lines = ["Performance targets, ours-reference against upstream (upstream cost / our cost):"]
    targets = [(entry.name, entry.least_ratio) for entry in OPERATION_TABLE]
    targets += [(entry.name, entry.least_ratio) for entry in DERIVED_ROWS]
    held = [
        (name, upstream[name] / ours[name], least)
        for name, least in targets
        if least is not None and name in ours
    ]
    if report.memory:
        memory_ratio = report.memory["upstream"] / report.memory["ours-reference"]
        held.append(("bookkeeping memory", memory_ratio, MEMORY_LEAST_RATIO))
    for label, ratio, least in held:
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
        f"  {TRASH_AND_EMPTY:<22} {ratio:6.2f}x  (at least {REGISTRY_LEAST_RATIO:.1f}x)  "
        + ("met" if ratio >= REGISTRY_LEAST_RATIO else "MISSED"),
        f"  {'linearity':<22} {linearity:6.2f}   (at most {LINEARITY_LIMIT}, {TRASH_AND_EMPTY} on {fakes})  "
        + ("met" if linearity <= LINEARITY_LIMIT else "MISSED"),
    ]
