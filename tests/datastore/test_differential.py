"""Differential: our datastore and upstream's FileDatastore, driven by the same random operations.

Each step runs one operation on both: ours wrapped in an InstrumentedDatastore
that may inject a fault (before, midway for a put, or after the call), and
upstream's FileDatastore on our registry fakes, which is given the
documented equivalent of that fault (nothing for "before" and a failed put,
the whole call for "after"). Transactions open, commit and roll back on
both; for the FileDatastore a Butler's transaction is a registry
transaction around a datastore one, so it is opened the same way. After
every step both must show the same observable state: what exists, what is
known, what each dataset reads back as, what is in the trash; and ours must
hold no bookkeeping for what it no longer stores.

Where the two differ on purpose, the difference is documented in
docs/datastore.md and named in ``DOCUMENTED_DIFFERENCES``; the machine
checks our documented behaviour there instead of comparing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType, StorageClassDelegate
from lsst.daf.butler.datastore import DatastoreConfig
from lsst.daf.butler.datastores.fileDatastore import FileDatastore

from butler_testkit import Fault, FaultPlan, InjectedFaultError, InMemoryDatastore, InstrumentedDatastore
from butler_testkit.bridge import InMemoryBridgeManager
from butler_testkit.factories import MetricsRecord, file_datastore_config, installed_storage_classes
from butler_testkit.factories._data_ids import default_universe

DOCS = Path(__file__).parents[2] / "docs" / "datastore.md"

DOCUMENTED_DIFFERENCES: Mapping[str, str] = {
    "re-put of a stored dataset ID": (
        "ours raises FileExistsError and keeps the dataset; a FileDatastore fails on its records and "
        "its rollback deletes the stored file, so a Butler (which checks first) never asks it: the "
        "machine checks ours and leaves the FileDatastore alone"
    ),
    "`emptyTrash(refs=[])`": (
        "ours removes nothing; a FileDatastore empties the whole trash: the machine checks ours and "
        "leaves the FileDatastore alone"
    ),
    "what `emptyTrash` returns": "ours an empty set, a FileDatastore the URIs it removed: not compared",
    "a read parameter its component does not take": (
        "ours raises KeyError naming both, a FileDatastore ignores the parameter: both are checked"
    ),
    "URIs": "ours mem://, a FileDatastore file://: not compared",
    "`forget` of a trashed dataset": (
        "ours forgets it entirely; a FileDatastore keeps its ID in the trash, so the next emptyTrash "
        "would delete a dataset put again under that ID: the machine checks that ours forgot it and "
        "puts nothing under that ID again"
    ),
    "a rollback and what others did meanwhile": (
        "a FileDatastore cannot interleave another thread's changes with an open transaction (a "
        "database makes it wait); ours lets it, and the rollback undoes only its own change: the "
        "machine checks ours and gives the FileDatastore the documented outcome"
    ),
}
"""Rows of the differences table in docs/datastore.md, with what the machine does about each."""

# A storage class whose delegate applies ``slice`` by cutting the list it is
# given, in place, as some real delegates do to save a copy: a datastore must
# hand it the caller's copy, never what it stores.
IN_PLACE_LIST = "BtkInPlaceList"


class InPlaceSliceDelegate(StorageClassDelegate):
    """Applies ``slice`` to a list in place."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        used = self.storageClass.filterParameters(parameters, subset={"slice"})
        if used:
            kept = inMemoryDataset[used["slice"]]
            inMemoryDataset[:] = kept
        return inMemoryDataset


IN_PLACE_DEFINITION = {
    IN_PLACE_LIST: {
        "pytype": "list",
        "delegate": f"{__name__}.InPlaceSliceDelegate",
        "parameters": ["slice"],
    }
}
JSON_FORMATTER = "butler_testkit.factories.CatalogueJsonFormatter"


@dataclasses.dataclass(frozen=True)
class Read:
    """One way of reading a dataset back."""

    label: str
    component: str | None = None
    parameters: Mapping[str, Any] | None = None
    storage_class: str | None = None
    difference: str | None = None
    """The documented difference this read meets, if any."""
    needs_the_dataset: bool = False
    """Read only a stored dataset: of a missing one with an incompatible storage class, ours says
    FileNotFoundError, a FileDatastore ValueError (a bad override is refused before the look-up);
    left to the rewrite of ``get``."""


WHOLE = Read("whole")
READS: Mapping[str, tuple[Read, ...]] = {
    "BtkMetrics": (
        WHOLE,
        Read("sliced", parameters={"slice": slice(2)}),
        Read("component data", component="data"),
        Read("component data sliced", component="data", parameters={"slice": slice(1)}),
        Read("component summary", component="summary"),
        Read("derived counter", component="counter"),
        Read("derived counter sliced", component="counter", parameters={"slice": slice(1)}),
        Read("as a dict", storage_class="BtkMetricsDict"),
        Read("as a model", storage_class="BtkMetricsModel"),
        Read("with an unknown parameter", parameters={"nope": 1}),
        Read("as an incompatible storage class", storage_class="BtkArray", needs_the_dataset=True),
        Read(
            "component summary sliced",
            component="summary",
            parameters={"slice": slice(1)},
            difference="a read parameter its component does not take",
        ),
    ),
    "BtkList": (WHOLE, Read("sliced", parameters={"slice": slice(1, 3)})),
    "BtkDict": (WHOLE,),
    IN_PLACE_LIST: (WHOLE, Read("sliced", parameters={"slice": slice(1, 3)})),
}


def _value(storage_class: str, token: int) -> Any:
    """A fresh object of the storage class, different for each token."""
    if storage_class == "BtkMetrics":
        return MetricsRecord(
            summary={"token": token}, output={"half": token // 2}, data=list(range(token % 4 + 2))
        )
    if storage_class in ("BtkList", IN_PLACE_LIST):
        return list(range(token, token + token % 5 + 2))
    return {"token": token}


@functools.cache
def _configs() -> tuple[DatastoreConfig, dict[str, Any]]:
    """The FileDatastore's configuration with its defaults merged in, and ours."""
    file_config = DatastoreConfig(file_datastore_config("/unused", disassemble=False))
    file_config["formatters", IN_PLACE_LIST] = JSON_FORMATTER
    ours = {
        "cls": "butler_testkit.InMemoryDatastore",
        # Exercised, never reached: our bookkeeping must follow every
        # removal.
        "expire_after": 1e9,
        "capacity_bytes": 10**9,
    }
    return file_config, ours


class DeliberateError(Exception):
    """Raised to roll a transaction back."""


@dataclasses.dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def kind(self) -> str:
        return "ok" if self.error is None else type(self.error).__name__


@dataclasses.dataclass(frozen=True)
class _View:
    """What a datastore shows of the pool."""

    known: tuple[bool, ...]
    exists: tuple[bool, ...]
    values: tuple[Any, ...]
    trashed: frozenset[uuid.UUID]

    @classmethod
    def of(cls, datastore: Any, refs: list[DatasetRef], trashed_ids: Any) -> _View:
        known = tuple(datastore.knows(ref) for ref in refs)
        return cls(
            known=known,
            exists=tuple(datastore.exists(ref) for ref in refs),
            values=tuple(
                datastore.get(ref) if stored else None for ref, stored in zip(refs, known, strict=True)
            ),
            trashed=frozenset(
                ref.id for ref, stored in zip(refs, known, strict=True) if stored and ref.id in trashed_ids
            ),
        )


def _run(call: Callable[[], Any]) -> _Outcome:
    try:
        return _Outcome(value=call())
    except Exception as err:
        return _Outcome(error=err)


# Indices into the pool, taken modulo its size (machines differ in size).
INDEX = st.integers(0, 4)
INDICES = st.lists(INDEX, max_size=4)
POINTS = st.sampled_from([None, None, "before", "after"])
PUT_POINTS = st.sampled_from([None, None, "before", "stored", "after"])


class DifferentialMachine(RuleBasedStateMachine):
    """Our InMemoryDatastore against upstream's FileDatastore, step by step."""

    kinds: tuple[str, ...] = ("BtkMetrics", "BtkMetrics", "BtkList", "BtkDict")
    """Storage class of each dataset of the pool; the pool's size."""

    needs_formatters: bool = False
    """Whether ours must be told the formatter of a storage class outside the catalogue."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        # Left for the test's temporary directory to go: deleting a tree
        # per example costs more than the example.
        self.root = Path(tempfile.mkdtemp(dir=directory))
        universe = default_universe()
        self.manager = InMemoryBridgeManager(universe=universe)
        data_id = DataCoordinate.standardize({"instrument": "Cam"}, universe=universe)
        self.refs = [
            DatasetRef(
                DatasetType(f"kind{index}", universe.conform(["instrument"]), storage_class),
                data_id,
                run="run",
                id=uuid.UUID(int=index + 1),
            )
            for index, storage_class in enumerate(self.kinds)
        ]
        self.transactions: list[tuple[contextlib.AbstractContextManager[Any], contextlib.ExitStack]] = []
        self.tokens = 0
        self._fd_seen: _View | None = None
        # Pool indices forgotten from the FileDatastore's trash, which keeps
        # their IDs there.
        self.kept_in_fd_trash: set[int] = set()

    @initialize(isolation=st.sampled_from(["copy", "reference", "serialize"]))
    def build(self, isolation: str) -> None:
        file_config, ours_config = _configs()
        file_config = DatastoreConfig(file_config, mergeDefaults=False)
        file_config["root"] = str(self.root / "files")
        # As Datastore.fromConfig does, without merging in the defaults again
        # for every example.
        self.fd = FileDatastore._create_from_config(file_config, self.manager, None)
        if self.needs_formatters:
            # Parsing a formatters section costs more than the rest of the
            # datastore, so only the machine that needs one has it.
            ours_config = {**ours_config, "formatters": {IN_PLACE_LIST: JSON_FORMATTER}}
        inner = InMemoryDatastore(DatastoreConfig({**ours_config, "isolation": isolation}), self.manager)
        inner.clock = lambda: 0.0
        self.ours = InstrumentedDatastore.wrap(inner)

    def teardown(self) -> None:
        for ours_block, fd_block in reversed(self.transactions):
            ours_block.__exit__(None, None, None)
            fd_block.close()

    # Helpers

    def _token(self) -> int:
        self.tokens += 1
        return self.tokens

    def _both(
        self, operation: str, point: str | None, ours: Callable[[], Any], fd: Callable[[], Any]
    ) -> tuple[_Outcome, _Outcome]:
        """Run ``operation`` on both, with a fault on ours at ``point`` and its equivalent on the other."""
        self.ours.faults = None if point is None else FaultPlan(Fault(operation, point=point))
        try:
            ours_outcome = _run(ours)
        finally:
            self.ours.faults = None
        reaches_fd = point is None or point == "after"
        if reaches_fd and operation != "get":
            self._fd_seen = None
        fd_outcome = _run(fd) if reaches_fd else _Outcome(error=InjectedFaultError())
        if point is not None and fd_outcome.error is None:
            # The call itself succeeds, so ours must fail where the fault was.
            fd_outcome = _Outcome(error=InjectedFaultError())
        assert ours_outcome.kind == fd_outcome.kind, (
            f"{operation} (fault {point}): ours {ours_outcome.kind} ({ours_outcome.error}), "
            f"FileDatastore {fd_outcome.kind} ({fd_outcome.error})"
        )
        return ours_outcome, fd_outcome

    def _refs(self, indices: list[int]) -> list[DatasetRef]:
        return [self.refs[index % len(self.refs)] for index in indices]

    # Writing

    @rule(index=INDEX, point=PUT_POINTS)
    def put(self, index: int, point: str | None) -> None:
        index %= len(self.refs)
        ref = self.refs[index]
        storage_class = self.kinds[index]
        token = self._token()
        if index in self.kept_in_fd_trash:
            return  # Documented: "`forget` of a trashed dataset".
        if self.fd.knows(ref):
            # Documented: "re-put of a stored dataset ID".
            before = self.ours.wrapped.get(ref)
            with pytest.raises(FileExistsError):
                self.ours.put(_value(storage_class, token), ref)
            assert self.ours.wrapped.get(ref) == before
            return
        self._both(
            "put",
            point,
            lambda: self.ours.put(_value(storage_class, token), ref),
            lambda: self.fd.put(_value(storage_class, token), ref),
        )

    # Reading

    @rule(index=INDEX, read_number=st.integers(0, 11), point=POINTS)
    def get(self, index: int, read_number: int, point: str | None) -> None:
        index %= len(self.refs)
        reads = READS[self.kinds[index]]
        self._read(index, reads[read_number % len(reads)], point)

    @rule(index=INDEX)
    def read_every_way(self, index: int) -> None:
        # Every read of one dataset in a row, without faults: a read that
        # changed what is stored shows at the next read or invariant.
        index %= len(self.refs)
        for read in READS[self.kinds[index]]:
            self._read(index, read, None)

    def _read(self, index: int, read: Read, point: str | None) -> None:
        """Read dataset ``index`` of the pool one way from both and compare."""
        ref = self.refs[index]
        if read.needs_the_dataset and not self.fd.knows(ref):
            return
        if read.component is not None:
            ref = ref.makeComponentRef(read.component)
        args = (ref, read.parameters, read.storage_class)
        if read.difference is not None:
            # Documented: "a read parameter its component does not take".
            ours = _run(lambda: self.ours.wrapped.get(*args))
            fd = _run(lambda: self.fd.get(*args))
            if fd.error is None:
                assert isinstance(ours.error, KeyError), f"{read.label}: ours gave {ours.kind}"
                assert fd.value == self.fd.get(ref)
            else:
                assert ours.kind == fd.kind, f"{read.label}: ours {ours.kind}, FileDatastore {fd.kind}"
            return
        ours, fd = self._both("get", point, lambda: self.ours.get(*args), lambda: self.fd.get(*args))
        if point is None and fd.error is None:
            assert ours.value == fd.value, (
                f"get {read.label} of {index}: ours {ours.value!r}, FileDatastore {fd.value!r}"
            )

    @rule(indices=INDICES)
    def existence(self, indices: list[int]) -> None:
        refs = self._refs(indices)
        assert self.ours.knows_these(refs) == self.fd.knows_these(refs)
        assert self.ours.mexists(refs) == self.fd.mexists(refs)

    @rule(index=INDEX, predict=st.booleans())
    def uri(self, index: int, predict: bool) -> None:
        # Documented: "URIs" differ (and a FileDatastore names a disassembled
        # composite's files); whether there are any, and predicted, does not.
        ref = self.refs[index % len(self.refs)]
        ours = _run(lambda: self.ours.getURIs(ref, predict))
        fd = _run(lambda: self.fd.getURIs(ref, predict))
        assert ours.kind == fd.kind, f"getURIs: ours {ours.kind}, FileDatastore {fd.kind}"
        if fd.error is None:
            predicted = {uri.fragment == "predicted" for uri in fd.value.iter_all()}
            assert {uri.fragment == "predicted" for uri in ours.value.iter_all()} == predicted

    # Deleting

    @rule(index=INDEX, ignore_errors=st.booleans(), point=POINTS)
    def trash_one(self, index: int, ignore_errors: bool, point: str | None) -> None:
        ref = self.refs[index % len(self.refs)]
        self._both(
            "trash",
            point,
            lambda: self.ours.trash(ref, ignore_errors=ignore_errors),
            lambda: self.fd.trash(ref, ignore_errors=ignore_errors),
        )

    @rule(indices=INDICES.filter(bool), point=POINTS)
    def trash_many(self, indices: list[int], point: str | None) -> None:
        refs = self._refs(indices)
        self._both("trash", point, lambda: self.ours.trash(refs), lambda: self.fd.trash(refs))

    @precondition(lambda self: not self.transactions)
    @rule(how=st.sampled_from(["all", "some", "none", "dry run"]), indices=INDICES.filter(bool), point=POINTS)
    def empty_trash(self, how: str, indices: list[int], point: str | None) -> None:
        if how == "none":
            # Documented: "`emptyTrash(refs=[])`".
            trashed = self.ours.wrapped.trashed_refs()
            self.ours.emptyTrash(refs=[])
            assert self.ours.wrapped.trashed_refs() == trashed
            return
        refs = self._refs(indices) if how == "some" else None
        dry_run = how == "dry run"
        # Documented: "what `emptyTrash` returns" is not compared.
        self._both(
            "emptyTrash",
            point,
            lambda: self.ours.emptyTrash(refs=refs, dry_run=dry_run),
            lambda: self.fd.emptyTrash(refs=refs, dry_run=dry_run),
        )

    @rule(indices=INDICES, point=POINTS)
    def forget(self, indices: list[int], point: str | None) -> None:
        refs = self._refs(indices)
        trashed = set(self.ours.wrapped.trashed_refs())
        if point != "before":
            self.kept_in_fd_trash.update(
                index % len(self.refs) for index in indices if self.refs[index % len(self.refs)] in trashed
            )
        self._both("forget", point, lambda: self.ours.forget(refs), lambda: self.fd.forget(refs))

    @precondition(lambda self: not self.transactions)
    @rule(index=INDEX, point=POINTS)
    def remove(self, index: int, point: str | None) -> None:
        ref = self.refs[index % len(self.refs)]
        self._both("remove", point, lambda: self.ours.remove(ref), lambda: self.fd.remove(ref))

    # Transactions, as a Butler opens them: for the FileDatastore a
    # registry transaction around the datastore's.

    @precondition(lambda self: len(self.transactions) < 3)
    @rule()
    def begin(self) -> None:
        ours_block = self.ours.transaction()
        ours_block.__enter__()
        fd_block = contextlib.ExitStack()
        fd_block.enter_context(self.manager.transaction())
        fd_block.enter_context(self.fd.transaction())
        self.transactions.append((ours_block, fd_block))

    @precondition(lambda self: bool(self.transactions))
    @rule()
    def commit(self) -> None:
        self._fd_seen = None
        ours_block, fd_block = self.transactions.pop()
        ours_block.__exit__(None, None, None)
        fd_block.close()

    @precondition(lambda self: bool(self.transactions))
    @rule(everything=st.booleans())
    def roll_back(self, everything: bool) -> None:
        # One level, the error caught around it; or every level, the error
        # propagating through them all.
        self._fd_seen = None
        error = DeliberateError()
        for _ in range(len(self.transactions) if everything else 1):
            ours_block, fd_block = self.transactions.pop()
            assert not ours_block.__exit__(DeliberateError, error, None)
            assert not fd_block.__exit__(DeliberateError, error, None)

    # Another thread, or a clone, acting while a transaction is open.

    @precondition(lambda self: not self.transactions)
    @rule(index=INDEX, via=st.sampled_from(["another thread", "a clone"]))
    def someone_else_during_a_rolled_back_trash(self, index: int, via: str) -> None:
        inner = self.ours.wrapped
        index %= len(self.refs)
        ref = self.refs[index]
        if not self.fd.knows(ref) or ref in inner.trashed_refs() or index in self.kept_in_fd_trash:
            return
        token = self._token()
        other = inner
        if via == "a clone":
            other = inner.clone(self.manager)
            other.clock = inner.clock

        def empty_put_again_and_trash() -> None:
            other.emptyTrash(refs=[ref])
            other.put(_value(self.kinds[index], token), ref)
            other.trash(ref)

        with pytest.raises(DeliberateError), inner.transaction():
            inner.trash(ref)
            if via == "another thread":
                worker = threading.Thread(target=empty_put_again_and_trash, daemon=True)
                worker.start()
                worker.join(30)
                assert not worker.is_alive(), "the other thread hung"
            else:
                empty_put_again_and_trash()
            raise DeliberateError
        # Documented: "a rollback and what others did meanwhile". The
        # FileDatastore is given that outcome: the dataset put again, in the
        # trash.
        self._fd_seen = None
        self.fd.remove(ref)
        self.fd.put(_value(self.kinds[index], token), ref)
        self.fd.trash(ref)

    # After every step

    @invariant()
    def same_observable_state(self) -> None:
        if not hasattr(self, "fd"):
            return
        # The FileDatastore is read again only after a step that may have
        # changed it; ours after every step, reads included.
        if self._fd_seen is None:
            self._fd_seen = _View.of(self.fd, self.refs, self.fd.bridge.trashed_ids)
        inner = self.ours.wrapped
        ours = _View.of(inner, self.refs, {ref.id for ref in inner.trashed_refs()})
        fd = self._fd_seen
        for index in range(len(self.refs)):
            assert ours.known[index] is fd.known[index], (
                f"knows({index}): FileDatastore says {fd.known[index]}"
            )
            assert ours.exists[index] is fd.exists[index], f"exists({index})"
            assert ours.values[index] == fd.values[index], (
                f"dataset {index}: ours {ours.values[index]!r}, FileDatastore {fd.values[index]!r}"
            )
        assert ours.trashed == fd.trashed, (
            f"the trash differs: ours {ours.trashed}, FileDatastore {fd.trashed}"
        )

    @invariant()
    def our_bookkeeping_follows_what_we_store(self) -> None:
        if hasattr(self, "ours"):
            problems = self.ours.wrapped._stored_state.index_problems()
            assert not problems, "; ".join(problems)


class InPlaceDelegateMachine(DifferentialMachine):
    """The same, with datasets whose delegate applies parameters in place, in one isolation mode.

    The mode is given, not drawn: derandomized draws may leave one mode with
    hardly any reads of these datasets. Under ``reference`` isolation what
    ``get`` returns is what is stored, so an in-place delegate changes it, as
    documented for that mode; it is not run.
    """

    # Mostly such datasets, so that most steps put and read them.
    kinds = (IN_PLACE_LIST, IN_PLACE_LIST, "BtkMetrics")
    needs_formatters = True

    def __init__(self, directory: Path, isolation: str) -> None:
        super().__init__(directory)
        self.isolation = isolation

    @initialize()
    def build(self) -> None:  # type: ignore[override]
        super().build(self.isolation)


MACHINE_SETTINGS = settings(stateful_step_count=30, report_multiple_bugs=False)
"""The profile's examples (100, derandomized, in CI) of up to 30 steps."""


@pytest.fixture
def in_place_storage_class():
    with installed_storage_classes() as scope:
        scope.define(IN_PLACE_DEFINITION)
        yield


def test_every_named_difference_is_documented():
    text = DOCS.read_text()
    for row in DOCUMENTED_DIFFERENCES:
        assert f"| {row} |" in text, f"docs/datastore.md has no row {row!r}"


def test_our_datastore_and_a_file_datastore_agree(tmp_path):
    run_state_machine_as_test(lambda: DifferentialMachine(tmp_path), settings=MACHINE_SETTINGS)


@pytest.mark.parametrize("isolation", ["copy", "serialize"])
def test_they_agree_when_a_delegate_applies_parameters_in_place(in_place_storage_class, tmp_path, isolation):
    run_state_machine_as_test(lambda: InPlaceDelegateMachine(tmp_path, isolation), settings=MACHINE_SETTINGS)
