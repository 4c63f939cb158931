"""A catalogue type with a derived component that only its formatter can produce."""

from __future__ import annotations

__all__ = ("Ledger", "LedgerDelegate", "ledger_header")

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from lsst.daf.butler import StorageClassDelegate


@dataclasses.dataclass
class Ledger:
    """An ordered list of entries, written to its file under a header.

    The header (derived component ``header``: the number of entries and
    their digest) exists only in the file: like the ``packages`` of a
    provenance quantum graph, it is read by the formatter, and the Python
    object has no attribute the delegate could take it from.

    Parameters
    ----------
    entries : `list` [`str`], optional
        The entries.
    """

    entries: list[str] = dataclasses.field(default_factory=list)


def ledger_header(entries: list[str]) -> dict[str, Any]:
    """Return the header a ledger's file holds for ``entries``.

    Parameters
    ----------
    entries : `list` [`str`]
        The entries.

    Returns
    -------
    header : `dict` [`str`, `object`]
        ``count``, the number of entries, and ``sha256``, the hex digest of
        their JSON.
    """
    digest = hashlib.sha256(json.dumps(entries).encode()).hexdigest()
    return {"count": len(entries), "sha256": digest}


class LedgerDelegate(StorageClassDelegate):
    """Delegate for `Ledger`: applies ``first``, and knows nothing of ``header``."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """Return a ledger of the first ``first`` entries.

        Parameters
        ----------
        inMemoryDataset : `Ledger`
            The ledger; never modified.
        parameters : `~collections.abc.Mapping`, optional
            May hold ``first``, an `int`.

        Returns
        -------
        ledger : `Ledger`
            A new ledger, or the input itself if there is nothing to apply.
        """
        used = self.storageClass.filterParameters(parameters, subset={"first"})
        if not used:
            return inMemoryDataset
        return Ledger(entries=inMemoryDataset.entries[: used["first"]])
