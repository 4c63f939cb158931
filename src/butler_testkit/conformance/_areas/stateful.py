"""A stateful differential test: random operation sequences against a model of what is stored."""

from __future__ import annotations

__all__ = ("DatastoreMachine", "StatefulTests")

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any, cast

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from lsst.daf.butler import DatasetRef
from lsst.daf.butler.datastore import DatastoreTransaction

from .._capabilities import Capabilities
from .._factory import DatastoreFactory
from .._refs import ConformanceRefs
from .._samples import DeliberateError, sample_metrics
from .._views import StoredStateView

POOL_SIZE = 5
"""References the machine plays with: few, so that operations collide often."""

MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    # One failure, shrunk, is what a report needs; shrinking several, or
    # explaining them, costs minutes.
    report_multiple_bugs=False,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Fixed and derandomized: the same sequences on every run and every worker."""

_indices = st.integers(0, POOL_SIZE - 1)
_index_sets = st.sets(_indices, min_size=1, max_size=POOL_SIZE)


@dataclasses.dataclass
class _Stored:
    token: str
    trashed: bool = False


class _Model:
    """What must be stored: the whole specification the machine checks against."""

    def __init__(self) -> None:
        self.stored: dict[int, _Stored] = {}
        # One undo list per open transaction, innermost last.
        self.undo: list[list[Callable[[], object]]] = []

    def put(self, index: int, token: str) -> None:
        self.stored[index] = _Stored(token)
        self._on_undo(lambda: self.stored.pop(index, None))

    def trash(self, indices: set[int]) -> None:
        for index in sorted(indices):
            entry = self.stored.get(index)
            if entry is not None and not entry.trashed:
                entry.trashed = True
                self._on_undo(lambda entry=entry: setattr(entry, "trashed", False))  # type: ignore[misc]

    def empty_trash(self, selected: set[int] | None = None) -> None:
        for index in [index for index, entry in self.stored.items() if entry.trashed]:
            if selected is None or index in selected:
                del self.stored[index]

    def commit(self) -> None:
        done = self.undo.pop()
        if self.undo:
            self.undo[-1].extend(done)

    def rollback(self) -> None:
        for undo in reversed(self.undo.pop()):
            undo()

    def _on_undo(self, undo: Callable[[], object]) -> None:
        if self.undo:
            self.undo[-1].append(undo)


def _outcome(operation: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return operation(), None
    except Exception as err:
        return None, err


def _check_raised(error: BaseException | None, expected: type[BaseException] | None, what: str) -> None:
    if expected is None:
        if error is not None:
            message = f"{what} raised {type(error).__name__}; the model expects success"
            raise AssertionError(message) from error
    elif not isinstance(error, expected):
        got = "nothing" if error is None else type(error).__name__
        raise AssertionError(f"{what} raised {got}; the model expects {expected.__name__}") from error


class DatastoreMachine(RuleBasedStateMachine):
    """Random put / get / exists / trash / emptyTrash / forget / remove / transactions.

    Every operation's result, or the class of the exception it raises, is
    compared with `_Model`; after every step each reference must exist
    exactly when the model says so (and, given a stored-state view, the
    datastore must hold exactly the model's datasets and trash). Rules whose
    behaviour depends on a capability run only with it.

    Parameters
    ----------
    factory : `DatastoreFactory`
        Makes the fresh datastore of each example.
    capabilities : `Capabilities`
        What the datastore declares.
    pool : `list` [`~lsst.daf.butler.DatasetRef`]
        The references operations draw from.
    view : `StoredStateView` or `None`
        The back-door view, if the implementer provides one.
    """

    def __init__(
        self,
        factory: DatastoreFactory,
        capabilities: Capabilities,
        pool: list[DatasetRef],
        view: StoredStateView | None,
    ) -> None:
        super().__init__()
        self.datastore = factory()
        self.capabilities = capabilities
        self.pool = pool
        self.view = view
        self.model = _Model()
        self.transactions: list[contextlib.AbstractContextManager[DatastoreTransaction]] = []
        self._tokens = 0

    # Writing

    def _new_token(self) -> str:
        self._tokens += 1
        return f"value {self._tokens}"

    @precondition(lambda self: len(self.model.stored) < POOL_SIZE)
    @rule(data=st.data())
    def put(self, data: st.DataObject) -> None:
        index = data.draw(st.sampled_from(sorted(set(range(POOL_SIZE)) - set(self.model.stored))), "index")
        token = self._new_token()
        _, error = _outcome(lambda: self.datastore.put(sample_metrics(3, token=token), self.pool[index]))
        _check_raised(error, None, f"put of ref {index}")
        self.model.put(index, token)

    @precondition(lambda self: self.capabilities.refuses_reput and bool(self.model.stored))
    @rule(data=st.data())
    def put_again(self, data: st.DataObject) -> None:
        index = data.draw(st.sampled_from(sorted(self.model.stored)), "index")
        token = self._new_token()
        _, error = _outcome(lambda: self.datastore.put(sample_metrics(3, token=token), self.pool[index]))
        _check_raised(error, FileExistsError, f"second put of ref {index}")

    # Reading

    @rule(index=_indices)
    def get(self, index: int) -> None:
        entry = self.model.stored.get(index)
        value, error = _outcome(lambda: self.datastore.get(self.pool[index]))
        _check_raised(error, None if entry is not None else FileNotFoundError, f"get of ref {index}")
        if entry is not None:
            assert value == sample_metrics(3, token=entry.token), f"get of ref {index} returned {value!r}"

    @rule(index=_indices)
    def exists(self, index: int) -> None:
        expected = index in self.model.stored
        assert self.datastore.exists(self.pool[index]) is expected, f"exists of ref {index}"
        assert self.datastore.knows(self.pool[index]) is expected, f"knows of ref {index}"

    # Deleting

    @rule(index=_indices)
    def trash_one(self, index: int) -> None:
        _, error = _outcome(lambda: self.datastore.trash(self.pool[index], ignore_errors=False))
        stored = index in self.model.stored
        _check_raised(error, None if stored else FileNotFoundError, f"trash of ref {index}")
        self.model.trash({index})

    @rule(indices=_index_sets)
    def trash_many(self, indices: set[int]) -> None:
        _, error = _outcome(lambda: self.datastore.trash([self.pool[index] for index in sorted(indices)]))
        _check_raised(error, None, f"bulk trash of refs {sorted(indices)}")
        self.model.trash(indices)

    @precondition(lambda self: not self.transactions)
    @rule()
    def empty_trash(self) -> None:
        _, error = _outcome(lambda: self.datastore.emptyTrash())
        _check_raised(error, None, "emptyTrash")
        self.model.empty_trash()

    @precondition(lambda self: not self.transactions)
    @rule(indices=_index_sets)
    def empty_trash_of(self, indices: set[int]) -> None:
        selection = [self.pool[index] for index in sorted(indices)]
        _, error = _outcome(lambda: self.datastore.emptyTrash(refs=selection))
        _check_raised(error, None, f"emptyTrash of refs {sorted(indices)}")
        self.model.empty_trash(indices)

    @precondition(lambda self: not self.transactions)
    @rule(indices=_index_sets)
    def forget(self, indices: set[int]) -> None:
        _, error = _outcome(lambda: self.datastore.forget([self.pool[index] for index in sorted(indices)]))
        _check_raised(error, None, f"forget of refs {sorted(indices)}")
        for index in indices:
            self.model.stored.pop(index, None)

    @precondition(lambda self: not self.transactions)
    @rule(index=_indices)
    def remove(self, index: int) -> None:
        _, error = _outcome(lambda: self.datastore.remove(self.pool[index]))
        stored = self.model.stored.pop(index, None) is not None
        _check_raised(error, None if stored else FileNotFoundError, f"remove of ref {index}")

    # Transactions; nesting only where nested rollbacks are declared correct.

    @precondition(
        lambda self: len(self.transactions) < (3 if self.capabilities.correct_nested_rollback else 1)
    )
    @rule()
    def begin(self) -> None:
        transaction = self.datastore.transaction()
        transaction.__enter__()
        self.transactions.append(transaction)
        self.model.undo.append([])

    @precondition(lambda self: bool(self.transactions))
    @rule()
    def commit(self) -> None:
        self.transactions.pop().__exit__(None, None, None)
        self.model.commit()

    @precondition(lambda self: bool(self.transactions))
    @rule()
    def roll_back(self) -> None:
        self._fail_innermost(DeliberateError("roll back"))
        self.model.rollback()

    @precondition(lambda self: self.capabilities.correct_nested_rollback and len(self.transactions) >= 2)
    @rule()
    def roll_back_everything(self) -> None:
        error = DeliberateError("propagate")
        while self.transactions:
            self._fail_innermost(error)
            self.model.rollback()

    def _fail_innermost(self, error: DeliberateError) -> None:
        transaction = self.transactions.pop()
        suppressed = transaction.__exit__(type(error), error, error.__traceback__)
        assert not suppressed, "a failed transaction swallowed its exception"

    # Checks after every step

    @invariant()
    def existence_matches_the_model(self) -> None:
        existence = self.datastore.mexists(self.pool)
        expected = {ref: index in self.model.stored for index, ref in enumerate(self.pool)}
        assert existence == expected, f"mexists {existence} but the model holds {sorted(self.model.stored)}"

    @precondition(lambda self: self.view is not None)
    @invariant()
    def stored_state_matches_the_model(self) -> None:
        assert self.view is not None
        stored = {self.pool[index].id for index in self.model.stored}
        trashed = {self.pool[index].id for index, entry in self.model.stored.items() if entry.trashed}
        assert self.view.stored_ids(self.datastore) == stored
        assert self.view.trashed_ids(self.datastore) == trashed

    def teardown(self) -> None:
        while self.transactions:
            self.transactions.pop().__exit__(None, None, None)


class StatefulTests:
    """The stateful differential test."""

    conformance_area = "stateful"

    def test_random_operation_sequences_agree_with_a_model(
        self,
        datastore_factory: DatastoreFactory,
        capabilities: Capabilities,
        refs: ConformanceRefs,
        stored_state_view: StoredStateView | None,
    ) -> None:
        pool = refs.refs(POOL_SIZE)
        # Hypothesis takes any callable returning a machine, though it is typed as the class.
        factory = cast(
            "type[RuleBasedStateMachine]",
            lambda: DatastoreMachine(datastore_factory, capabilities, pool, stored_state_view),
        )
        run_state_machine_as_test(factory, settings=MACHINE_SETTINGS)
