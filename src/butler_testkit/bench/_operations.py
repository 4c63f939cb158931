"""The datastore operations the benchmark times, each declared once.

An `Operation` says how it is called, whether once per dataset or once per
datastore, and the least ratio against upstream our reference isolation is
held to, if any. The measurement loop, the report's rows, the design
targets and the command's ``--operations`` all read `OPERATIONS`: adding an
operation is adding an entry.

Standard library only at import, so that ``butler-testkit --help`` can list
the operations.
"""

from __future__ import annotations

__all__ = (
    "DERIVED_ROWS",
    "MEASUREMENTS",
    "MEMORY",
    "MEMORY_LEAST_RATIO",
    "OPERATIONS",
    "OPERATION_TABLE",
    "SNAPSHOT",
    "TRASH_AND_EMPTY",
    "DerivedRow",
    "Operation",
    "rows",
)

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from lsst.daf.butler.datastore import Datastore


@dataclasses.dataclass(frozen=True)
class Operation:
    """One timed datastore operation.

    Parameters
    ----------
    name : `str`
        Its row in the report and its name for ``--operations`` (with a
        hyphen for a space on the command line).
    call : `~collections.abc.Callable`
        ``call(datastore, ref, sample)`` for a per-dataset operation,
        ``call(datastore, refs, sample)`` for a bulk one, where ``sample`` is
        the object every dataset stores.
    per : ``"dataset"`` or ``"datastore"``
        Whether it is called for each dataset, in interleaved chunks, or
        once per datastore with all of its datasets.
    component : `bool`, optional
        Whether it is called with a component reference of each dataset.
    least_ratio : `float`, optional
        The least upstream cost / our reference isolation's cost it is held
        to, if any.
    """

    name: str
    call: Callable[[Datastore, Any, Any], object]
    per: Literal["dataset", "datastore"]
    component: bool = False
    least_ratio: float | None = None


@dataclasses.dataclass(frozen=True)
class DerivedRow:
    """A report row that adds up the costs of operations.

    Parameters
    ----------
    name : `str`
        The row.
    parts : `tuple` [`str`, ...]
        The operations it adds up; it is reported when all are measured.
    least_ratio : `float`, optional
        As for `Operation`.
    """

    name: str
    parts: tuple[str, ...]
    least_ratio: float | None = None


OPERATION_TABLE: tuple[Operation, ...] = (
    # put first: it fills the datastores the other operations read.
    Operation("put", lambda datastore, ref, sample: datastore.put(sample, ref), "dataset", least_ratio=5.0),
    Operation("get", lambda datastore, ref, _: datastore.get(ref), "dataset", least_ratio=1.0),
    Operation("component get", lambda datastore, ref, _: datastore.get(ref), "dataset", component=True),
    Operation("exists", lambda datastore, ref, _: datastore.exists(ref), "dataset", least_ratio=1.0),
    Operation("mexists", lambda datastore, refs, _: datastore.mexists(refs), "datastore"),
    Operation("getURI", lambda datastore, ref, _: datastore.getURI(ref), "dataset", least_ratio=1.0),
    Operation("trash", lambda datastore, refs, _: datastore.trash(refs), "datastore"),
    # emptyTrash last: it empties the datastores.
    Operation("emptyTrash", lambda datastore, refs, _: datastore.emptyTrash(), "datastore"),
)
"""Every timed operation, in the order they run and are reported."""

TRASH_AND_EMPTY = "trash + emptyTrash"

DERIVED_ROWS: tuple[DerivedRow, ...] = (
    DerivedRow(TRASH_AND_EMPTY, ("trash", "emptyTrash"), least_ratio=1.0),
)
"""Rows added up from measured operations."""

OPERATIONS: tuple[str, ...] = tuple(operation.name for operation in OPERATION_TABLE)
"""The names of the timed operations, in order."""

MEMORY = "memory"
"""Not timed: the bytes a datastore retains per stored dataset."""

MEMORY_LEAST_RATIO = 2.0
"""Upstream's retained bytes per dataset / our reference isolation's, at least."""

SNAPSHOT = "snapshot"
"""Snapshot and restore of a full datastore, for targets that have them (ours)."""

MEASUREMENTS: tuple[str, ...] = (*OPERATIONS, MEMORY, SNAPSHOT)
"""What ``--operations`` can select; ``put`` is always measured, as it fills
the datastores."""


def rows(measured: Sequence[str]) -> list[str]:
    """Return the cost rows of a report: the operations measured, and the sums of them.

    Parameters
    ----------
    measured : `~collections.abc.Sequence` [`str`]
        What was measured.

    Returns
    -------
    rows : `list` [`str`]
        In table order.
    """
    names = [name for name in OPERATIONS if name in measured]
    names += [row.name for row in DERIVED_ROWS if all(part in names for part in row.parts)]
    return names
