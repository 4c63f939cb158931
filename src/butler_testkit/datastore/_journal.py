"""An ordered record of what was asked of a datastore, with assertions on it."""

from __future__ import annotations

__all__ = ("Journal", "JournalEntry")

import dataclasses
import threading
import uuid
from collections.abc import Iterator, Sequence

from lsst.daf.butler import DatasetRef, DatasetType

from ._exceptions import detached_copy

# Operations that read a dataset's content, and those that write or delete.
READS = frozenset({"get"})
WRITES = frozenset({"put", "put_new", "ingest", "ingest_zip", "transfer", "transfer_from", "import_records"})
DELETES = frozenset({"trash", "emptyTrash", "remove", "forget"})


@dataclasses.dataclass(frozen=True)
class JournalEntry:
    """One call to a datastore.

    Attributes
    ----------
    sequence : `int`
        Position in the journal, from 0.
    operation : `str`
        Datastore method name (``put``, ``get``, ``trash``, ...).
    refs : `tuple` [`~lsst.daf.butler.DatasetRef`, ...]
        The datasets the call was about (several for bulk calls, none for
        e.g. ``emptyTrash()``).
    outcome : `str`
        ``"ok"``, or the name of the exception class it raised.
    error : `BaseException` or `None`
        The exception, if any: a copy of what the call raised, with the same
        type, arguments and attributes but no traceback, so that the journal
        keeps no frame of the call alive, nor anything the call was given
        (such as a failed put's dataset).
    seconds : `float`
        How long the call took.
    """

    sequence: int
    operation: str
    refs: tuple[DatasetRef, ...]
    outcome: str
    error: BaseException | None
    seconds: float

    @property
    def dataset_ids(self) -> tuple[uuid.UUID, ...]:
        """The dataset IDs of `refs`."""
        return tuple(ref.id for ref in self.refs)

    @property
    def dataset_types(self) -> tuple[str, ...]:
        """The dataset type names of `refs` (components included)."""
        return tuple(ref.datasetType.name for ref in self.refs)

    @property
    def ok(self) -> bool:
        """Whether the call returned normally."""
        return self.error is None

    def concerns(self, target: DatasetRef | DatasetType | str) -> bool:
        """Return whether this call was about ``target``.

        Parameters
        ----------
        target : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`
            A dataset (matched by ID, so a component matches its parent), a
            dataset type or a dataset type name (a parent name matches its
            components).

        Returns
        -------
        concerns : `bool`
            `True` if any of `refs` matches.
        """
        if isinstance(target, DatasetRef):
            return target.id in self.dataset_ids
        name = target.name if isinstance(target, DatasetType) else target
        return any(
            ref.datasetType.name == name or ref.datasetType.nameAndComponent()[0] == name for ref in self.refs
        )

    def __str__(self) -> str:
        about = ", ".join(f"{ref.datasetType.name}@{ref.id}" for ref in self.refs[:3])
        if len(self.refs) > 3:
            about += f", ... ({len(self.refs)} datasets)"
        return f"#{self.sequence} {self.operation}({about}) -> {self.outcome} in {self.seconds * 1e3:.3f} ms"


class Journal:
    """The calls made to a datastore, in order.

    Thread-safe. Fill it by wrapping a datastore in
    `~butler_testkit.InstrumentedDatastore`; read it with the query and
    assertion helpers.

    Examples
    --------
    >>> journal.assert_read(input_ref, times=1)  # doctest: +SKIP
    >>> journal.assert_not_written("scratch")  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    def record(
        self,
        operation: str,
        refs: Sequence[DatasetRef],
        error: BaseException | None,
        seconds: float,
    ) -> JournalEntry:
        """Append one call.

        Parameters
        ----------
        operation : `str`
            Datastore method name.
        refs : `~collections.abc.Sequence` [`~lsst.daf.butler.DatasetRef`]
            The datasets it was about.
        error : `BaseException` or `None`
            What it raised, if anything; the entry keeps a copy without the
            traceback.
        seconds : `float`
            How long it took.

        Returns
        -------
        entry : `JournalEntry`
            The new entry.
        """
        outcome = "ok"
        if error is not None:
            outcome = type(error).__name__
            error = detached_copy(error)
        with self._lock:
            entry = JournalEntry(len(self._entries), operation, tuple(refs), outcome, error, seconds)
            self._entries.append(entry)
        return entry

    @property
    def entries(self) -> tuple[JournalEntry, ...]:
        """Every call so far, in order."""
        with self._lock:
            return tuple(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def calls(
        self,
        operation: str | Sequence[str] | None = None,
        about: DatasetRef | DatasetType | str | None = None,
        *,
        ok: bool | None = None,
    ) -> list[JournalEntry]:
        """Return the entries matching every criterion given.

        Parameters
        ----------
        operation : `str` or `~collections.abc.Sequence` [`str`], optional
            Method name(s).
        about : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`, optional
            What the call concerned; see `JournalEntry.concerns`.
        ok : `bool`, optional
            Only successful (`True`) or failed (`False`) calls.

        Returns
        -------
        entries : `list` [`JournalEntry`]
            In call order.
        """
        operations = {operation} if isinstance(operation, str) else set(operation or ())
        return [
            entry
            for entry in self.entries
            if (not operations or entry.operation in operations)
            and (about is None or entry.concerns(about))
            and (ok is None or entry.ok is ok)
        ]

    def reads(self, about: DatasetRef | DatasetType | str) -> list[JournalEntry]:
        """Return the successful reads (``get``) of ``about``.

        Parameters
        ----------
        about : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`
            What was read.

        Returns
        -------
        entries : `list` [`JournalEntry`]
            In call order.
        """
        return self.calls(sorted(READS), about, ok=True)

    def writes(self, about: DatasetRef | DatasetType | str) -> list[JournalEntry]:
        """Return the successful writes (put, ingest, transfer...) of ``about``.

        Parameters
        ----------
        about : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`
            What was written.

        Returns
        -------
        entries : `list` [`JournalEntry`]
            In call order.
        """
        return self.calls(sorted(WRITES), about, ok=True)

    def assert_read(self, about: DatasetRef | DatasetType | str, *, times: int | None = None) -> None:
        """Check that ``about`` was read, ``times`` times if given.

        Parameters
        ----------
        about : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`
            What must have been read.
        times : `int`, optional
            The exact number of successful reads; at least one if `None`.

        Raises
        ------
        AssertionError
            Raised with the journal's relevant entries if not.
        """
        self._assert_count(self.reads(about), about, "read", times)

    def assert_written(self, about: DatasetRef | DatasetType | str, *, times: int | None = None) -> None:
        """Check that ``about`` was written, ``times`` times if given.

        Parameters
        ----------
        about : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`
            What must have been written.
        times : `int`, optional
            The exact number of successful writes; at least one if `None`.

        Raises
        ------
        AssertionError
            Raised with the journal's relevant entries if not.
        """
        self._assert_count(self.writes(about), about, "written", times)

    def assert_not_read(self, about: DatasetRef | DatasetType | str) -> None:
        """Check that ``about`` was never read.

        Parameters
        ----------
        about : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`
            What must not have been read.

        Raises
        ------
        AssertionError
            Raised with the offending entries if it was.
        """
        self._assert_count(self.reads(about), about, "read", 0)

    def assert_not_written(self, about: DatasetRef | DatasetType | str) -> None:
        """Check that ``about`` was never written.

        Parameters
        ----------
        about : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or `str`
            What must not have been written.

        Raises
        ------
        AssertionError
            Raised with the offending entries if it was.
        """
        self._assert_count(self.writes(about), about, "written", 0)

    @staticmethod
    def _assert_count(
        found: list[JournalEntry], about: DatasetRef | DatasetType | str, verb: str, times: int | None
    ) -> None:
        if (times is None and found) or len(found) == times:
            return
        expected = "at least once" if times is None else f"{times} time(s)"
        what = about.name if isinstance(about, DatasetType) else str(about)
        detail = "\n".join(f"  {entry}" for entry in found) or "  (no such call)"
        raise AssertionError(
            f"Expected {what} to be {verb} {expected}; it was {verb} {len(found)}:\n{detail}"
        )

    def __str__(self) -> str:
        return "\n".join(str(entry) for entry in self.entries) or "(empty journal)"
