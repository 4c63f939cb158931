"""Transactions: commit, rollback, nesting, and what a rollback must not touch."""

from __future__ import annotations

__all__ = ("TransactionTests",)

import logging

import pytest
from lsst.daf.butler.datastore import Datastore, DatastoreTransaction

from .._capabilities import requires
from .._refs import ConformanceRefs
from .._samples import DeliberateError, sample_metrics


class TransactionTests:
    """A failed block undoes exactly its own work."""

    conformance_area = "transactions"

    def test_a_transaction_is_a_datastore_transaction(self, datastore: Datastore) -> None:
        with datastore.transaction() as transaction:
            assert isinstance(transaction, DatastoreTransaction)

    def test_puts_in_a_committed_transaction_persist(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored = refs.refs(2)
        with datastore.transaction():
            for ref in stored:
                datastore.put(sample_metrics(), ref)
        assert all(datastore.mexists(stored).values())

    def test_a_failed_transaction_undoes_its_puts_and_propagates(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        earlier, undone = refs.refs(2)
        datastore.put(sample_metrics(), earlier)
        with pytest.raises(DeliberateError), datastore.transaction():
            datastore.put(sample_metrics(), undone)
            raise DeliberateError
        assert datastore.exists(earlier)
        assert not datastore.exists(undone)

    def test_an_outer_failure_undoes_outer_and_inner_puts_but_not_earlier_data(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        earlier, outer, inner = refs.refs(3)
        datastore.put(sample_metrics(), earlier)
        with pytest.raises(DeliberateError), datastore.transaction():
            datastore.put(sample_metrics(), outer)
            with datastore.transaction():
                datastore.put(sample_metrics(), inner)
            raise DeliberateError
        assert datastore.mexists([earlier, outer, inner]) == {earlier: True, outer: False, inner: False}

    def test_an_inner_failure_caught_inside_keeps_the_outer_puts(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        outer, inner = refs.refs(2)
        with datastore.transaction():
            datastore.put(sample_metrics(), outer)
            with pytest.raises(DeliberateError), datastore.transaction():
                datastore.put(sample_metrics(), inner)
                raise DeliberateError
        assert datastore.mexists([outer, inner]) == {outer: True, inner: False}

    @requires("correct_nested_rollback")
    def test_an_inner_failure_propagating_undoes_the_outer_puts_too(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        outer, inner = refs.refs(2)
        with pytest.raises(DeliberateError), datastore.transaction():
            datastore.put(sample_metrics(), outer)
            with datastore.transaction():
                datastore.put(sample_metrics(), inner)
                raise DeliberateError
        assert datastore.mexists([outer, inner]) == {outer: False, inner: False}

    @requires("correct_nested_rollback")
    def test_after_a_caught_inner_failure_an_outer_failure_undoes_all_outer_puts(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        before, inner, after = refs.refs(3)
        with pytest.raises(DeliberateError), datastore.transaction():
            datastore.put(sample_metrics(), before)
            with pytest.raises(DeliberateError), datastore.transaction():
                datastore.put(sample_metrics(), inner)
                raise DeliberateError
            datastore.put(sample_metrics(), after)
            raise DeliberateError
        assert datastore.mexists([before, inner, after]) == {before: False, inner: False, after: False}

    @requires("correct_nested_rollback")
    def test_after_a_failure_a_new_transaction_is_top_level(self, datastore: Datastore) -> None:
        with pytest.raises(DeliberateError), datastore.transaction():
            raise DeliberateError
        with datastore.transaction() as transaction:
            assert transaction.parent is None

    def test_a_trash_in_a_failed_transaction_is_undone(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(DeliberateError), datastore.transaction():
            datastore.trash(ref)
            raise DeliberateError
        datastore.emptyTrash()
        assert datastore.get(ref) == sample_metrics()

    def test_a_forget_in_a_failed_transaction_is_undone(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(DeliberateError), datastore.transaction():
            datastore.forget([ref])
            raise DeliberateError
        assert datastore.get(ref) == sample_metrics()

    def test_rolling_back_a_put_logs_no_warning(
        self, datastore: Datastore, refs: ConformanceRefs, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING), pytest.raises(DeliberateError), datastore.transaction():
            datastore.put(sample_metrics(), refs.ref())
            raise DeliberateError
        assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []

    @requires("refuses_reput")
    def test_a_rollback_never_deletes_an_earlier_dataset(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(token="earlier"), ref)
        with pytest.raises(DeliberateError), datastore.transaction():
            with pytest.raises(FileExistsError):
                datastore.put(sample_metrics(token="again"), ref)
            raise DeliberateError
        assert datastore.get(ref) == sample_metrics(token="earlier")
