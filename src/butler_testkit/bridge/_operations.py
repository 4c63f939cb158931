"""The ordered log of what datastores asked of their bridges."""

from __future__ import annotations

__all__ = ("BridgeOperation", "OperationName")

import dataclasses
from typing import Literal

from lsst.daf.butler import DatasetId

OperationName = Literal["insert", "ensure", "forget", "moveToTrash", "emptyTrash"]
"""The bridge operations that change state, and so are logged."""

# Show this many dataset IDs in a repr before summarising the rest.
_SHOWN_IDS = 3


@dataclasses.dataclass(frozen=True, repr=False)
class BridgeOperation:
    """One change made through a bridge, as recorded in the manager's log.

    Attributes
    ----------
    datastore : `str`
        Name of the datastore whose bridge was called.
    operation : `str`
        ``insert``, ``ensure``, ``forget``, ``moveToTrash`` or ``emptyTrash``.
    dataset_ids : `tuple` [`~lsst.daf.butler.DatasetId`, ...]
        The IDs the call was given, in order and without repeats; for
        ``emptyTrash``, the IDs it removed from the trash.
    ephemeral : `bool`
        Whether the bridge is the ephemeral flavour.
    rollback : `bool`
        `True` for an entry recording that a rollback undid an earlier
        operation of that name on these IDs.
    """

    datastore: str
    operation: OperationName
    dataset_ids: tuple[DatasetId, ...]
    ephemeral: bool
    rollback: bool = False

    def __repr__(self) -> str:
        shown = ", ".join(str(dataset_id) for dataset_id in self.dataset_ids[:_SHOWN_IDS])
        hidden = len(self.dataset_ids) - _SHOWN_IDS
        if hidden > 0:
            shown += f", ... {hidden} more"
        flavour = "ephemeral" if self.ephemeral else "persistent"
        what = f"rollback of {self.operation}" if self.rollback else self.operation
        return f"BridgeOperation({what} on {self.datastore!r} ({flavour}): [{shown}])"
