"""The journal and fault injection, around our datastore and upstream's."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import weakref

import pytest
from lsst.daf.butler import Butler, Config, DatasetType
from lsst.daf.butler.datastore import Datastore, DatastoreConfig, DatastoreValidationError
from lsst.resources import ResourcePath

from butler_testkit import (
    Fault,
    FaultPlan,
    InjectedFaultError,
    InMemoryDatastore,
    InstrumentedDatastore,
    Journal,
)
from butler_testkit.datastore._exceptions import detached_copy
from butler_testkit.datastore._faults import OPERATIONS
from tests._helpers import UPSTREAM_IN_MEMORY, make_metrics


@pytest.fixture(params=["butler_testkit.InMemoryDatastore", UPSTREAM_IN_MEMORY], ids=["ours", "upstream"])
def wrapped(request, make_datastore):
    return InstrumentedDatastore.wrap(make_datastore(cls=request.param))


class TestJournal:
    def test_every_call_is_recorded_in_order(self, wrapped, make_ref):
        ref = make_ref()
        wrapped.put(make_metrics(), ref)
        wrapped.get(ref)
        wrapped.exists(ref)
        with pytest.raises(FileNotFoundError):
            wrapped.get(missing := make_ref())
        wrapped.trash([ref, missing])
        wrapped.emptyTrash()
        entries = wrapped.journal.entries
        assert [entry.operation for entry in entries] == [
            "put",
            "get",
            "exists",
            "get",
            "trash",
            "emptyTrash",
        ]
        assert [entry.sequence for entry in entries] == list(range(6))
        assert entries[3].outcome == "FileNotFoundError" and not entries[3].ok
        assert isinstance(entries[3].error, FileNotFoundError)
        assert entries[4].dataset_ids == (ref.id, missing.id)
        assert entries[0].dataset_types == ("metric",)
        assert all(entry.seconds >= 0 for entry in entries)
        assert "get(metric@" in str(entries[1])

    def test_read_and_write_assertions(self, wrapped, make_ref):
        ref, other = make_ref(), make_ref(name="other")
        wrapped.put(make_metrics(), ref)
        wrapped.get(ref)
        wrapped.get(ref.makeComponentRef("data"))
        journal = wrapped.journal
        journal.assert_written(ref, times=1)
        journal.assert_read(ref, times=2)  # the component is read from the same dataset
        journal.assert_read("metric")
        journal.assert_not_written(other)
        journal.assert_not_read("other")
        with pytest.raises(AssertionError, match=r"read 1 time\(s\); it was read 2"):
            journal.assert_read(ref, times=1)
        with pytest.raises(AssertionError, match="to be written 0 time"):
            journal.assert_not_written("metric")
        with pytest.raises(AssertionError, match="no such call"):
            journal.assert_read(other)

    def test_failed_calls_do_not_count_as_reads_or_writes(self, wrapped, make_ref):
        ref = make_ref()
        with pytest.raises(FileNotFoundError):
            wrapped.get(ref)
        wrapped.journal.assert_not_read(ref)
        assert len(wrapped.journal.calls("get", ref, ok=False)) == 1

    def test_clear_and_sharing_with_clones(self, wrapped, registry, make_ref):
        clone = wrapped.clone(registry.getDatastoreBridgeManager())
        clone.put(make_metrics(), ref := make_ref())
        assert len(wrapped.journal) == 1
        assert wrapped.get(ref) == make_metrics()
        wrapped.journal.clear()
        assert len(clone.journal) == 0
        assert str(wrapped.journal) == "(empty journal)"


class TestFaultPlans:
    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"operations": ()}, ValueError, "at least one operation"),
            ({"operations": "put", "point": "middle"}, ValueError, "Unknown fault point 'middle'"),
            ({"operations": "put", "probability": 1.5}, ValueError, r"within \[0, 1\]"),
            ({"operations": "put", "nth": 2, "probability": 0.5}, ValueError, "not both"),
            ({"operations": "put", "nth": 0}, ValueError, "nth must be at least 1"),
            ({"operations": "put", "times": 0}, ValueError, "times must be at least 1"),
            ({"operations": "put", "latency": -1}, ValueError, "latency must not be negative"),
            ({"operations": "put", "error": None}, ValueError, "an error to raise, a latency"),
            ({"operations": "put", "error": "boom"}, TypeError, "exception or exception class"),
            ({"operations": "pt"}, ValueError, "Fault operations: unknown operation.s. 'pt'"),
            ({"operations": ["put", 3]}, TypeError, "Fault operations must hold strings"),
            ({"operations": 3}, TypeError, "Fault operations must be a string or a collection"),
            (
                {"operations": "get", "point": "stored"},
                ValueError,
                "midway through put; it cannot apply to get",
            ),
            ({"operations": ["put", "forget"], "point": "stored"}, ValueError, "cannot apply to forget"),
            ({"operations": "put", "dataset_types": []}, ValueError, "dataset_types is empty"),
            (
                {"operations": "put", "dataset_types": [b"calexp"]},
                TypeError,
                "dataset_types must hold strings",
            ),
            ({"operations": "put", "dataset_ids": "visit 3"}, ValueError, "dataset_ids: 'visit 3' is not"),
            ({"operations": "put", "dataset_ids": [3]}, TypeError, "dataset_ids must hold UUIDs"),
            ({"operations": "put", "dataset_ids": 3}, TypeError, "dataset_ids must be a UUID"),
            ({"operations": "put", "dataset_ids": []}, ValueError, "dataset_ids is empty"),
            ({"operations": "put", "data_id": ["visit"]}, TypeError, "data_id must be a mapping"),
            ({"operations": "put", "nth": 1.5}, TypeError, "nth must be an integer"),
            ({"operations": "put", "times": True}, TypeError, "times must be an integer"),
            ({"operations": "put", "probability": "0.5"}, TypeError, "probability must be a number"),
            ({"operations": "put", "probability": float("nan")}, ValueError, r"within \[0, 1\]"),
            ({"operations": "put", "latency": float("nan")}, ValueError, "latency must be a finite number"),
            ({"operations": "put", "latency": float("inf")}, ValueError, "latency must be a finite number"),
            ({"operations": "put", "latency": "1"}, TypeError, "latency must be a number"),
        ],
    )
    def test_inconsistent_rules_are_refused(self, kwargs, error, message):
        with pytest.raises(error, match=message):
            Fault(**kwargs)

    def test_a_single_dataset_type_or_id_may_be_given_as_a_string(self, wrapped, make_ref):
        calexp = make_ref(name="calexp")
        wrapped.faults = FaultPlan(
            Fault("put", dataset_types="calexp"), Fault("get", dataset_ids=str(calexp.id))
        )
        with pytest.raises(InjectedFaultError):
            wrapped.put(make_metrics(), calexp)
        wrapped.put(make_metrics(), make_ref(name="metric"))
        wrapped.faults = FaultPlan(Fault("get", dataset_ids=str(make_ref().id)))
        assert wrapped.faults.faults[0].dataset_ids == frozenset(wrapped.faults.faults[0].dataset_ids)

    def test_every_operation_a_rule_can_name_is_one_the_wrapper_records(
        self, make_datastore, make_ref, tmp_path
    ):
        store = InstrumentedDatastore.wrap(make_datastore())
        ref = make_ref()
        calls = [
            lambda: store.put(make_metrics(), ref),
            lambda: store.put_new(make_metrics(), make_ref()),
            lambda: store.get(ref),
            lambda: store.exists(ref),
            lambda: store.knows(ref),
            lambda: store.knows_these([ref]),
            lambda: store.mexists([ref]),
            lambda: store.getURIs(ref),
            lambda: store.getURI(ref),
            lambda: store.getManyURIs([ref]),
            lambda: store.trash(ref),
            lambda: store.emptyTrash(refs=[]),
            lambda: store.remove(ref),
            lambda: store.forget([ref]),
            lambda: store.transfer(make_datastore(), ref),
            lambda: store.ingest(),
            lambda: store.ingest_zip(ResourcePath(tmp_path / "none.zip"), "copy"),
            lambda: store.retrieveArtifacts([], ResourcePath(tmp_path, forceDirectory=True)),
            lambda: store.transfer_from({}, []),
            lambda: store.import_records({}),
            lambda: store.export_records([]),
        ]
        for call in calls:
            with contextlib.suppress(Exception):
                call()
        assert {entry.operation for entry in store.journal} == OPERATIONS

    def test_a_plan_takes_only_faults(self):
        with pytest.raises(TypeError, match="Fault rules"):
            FaultPlan({"operations": "put"})

    def test_nth_and_times(self, wrapped, make_ref):
        wrapped.faults = FaultPlan(Fault("get", nth=2, times=2, error=OSError("disk on fire")))
        ref = make_ref()
        wrapped.put(make_metrics(), ref)
        outcomes = []
        for _ in range(5):
            try:
                wrapped.get(ref)
                outcomes.append("ok")
            except OSError as err:
                outcomes.append(str(err))
        assert outcomes == ["ok", "disk on fire", "disk on fire", "ok", "ok"]
        assert len(wrapped.faults.fired) == 2

    def test_probability_is_seeded(self, make_datastore, make_ref):
        refs = [make_ref() for _ in range(40)]

        def failures(seed):
            store = InstrumentedDatastore.wrap(
                make_datastore(), faults=FaultPlan(Fault("put", probability=0.3), seed=seed)
            )
            failed = []
            for ref in refs:
                try:
                    store.put(make_metrics(), ref)
                except InjectedFaultError:
                    failed.append(ref.id)
            return failed

        first = failures(7)
        assert 0 < len(first) < 40
        assert failures(7) == first
        assert failures(8) != first

    def test_rules_filter_by_dataset_type_id_and_data_id(self, wrapped, make_ref):
        target = make_ref(name="calexp", data_id={"instrument": "Cam", "visit": 3})
        same_type_other_visit = make_ref(name="calexp", data_id={"instrument": "Cam", "visit": 4})
        other_type = make_ref(name="metric", data_id={"instrument": "Cam", "visit": 3})
        wrapped.faults = FaultPlan(Fault("put", dataset_types=["calexp"], data_id={"visit": 3}, times=5))
        with pytest.raises(InjectedFaultError, match="put of calexp"):
            wrapped.put(make_metrics(), target)
        wrapped.put(make_metrics(), same_type_other_visit)
        wrapped.put(make_metrics(), other_type)
        wrapped.faults = FaultPlan(Fault("get", dataset_ids=[str(other_type.id)]))
        wrapped.get(same_type_other_visit)
        with pytest.raises(InjectedFaultError):
            wrapped.get(other_type.makeComponentRef("data"))

    def test_latency_without_error_only_slows_down(self, wrapped, make_ref):
        wrapped.faults = FaultPlan(Fault("exists", error=None, latency=0.05))
        start = time.perf_counter()
        assert wrapped.exists(make_ref()) is False
        assert time.perf_counter() - start >= 0.05

    def test_an_exception_instance_is_raised_afresh_each_time(self, wrapped, make_ref):
        wrapped.faults = FaultPlan(Fault("exists", error=PermissionError(13, "no way"), times=2))
        errors = []
        for _ in range(2):
            with pytest.raises(PermissionError) as excinfo:
                wrapped.exists(make_ref())
            errors.append(excinfo.value)
        assert errors[0] is not errors[1]
        assert errors[1].errno == 13

    def test_specs_build_a_plan(self):
        plan = FaultPlan.from_specs([{"operations": ["put", "get"], "nth": 3}], seed=4)
        assert plan.faults[0].operations == frozenset({"put", "get"})
        assert plan.points("get") == {"before"} and plan.points("trash") == set()


class TestConsistencyAfterFaults:
    @pytest.mark.parametrize("point", ["before", "stored"])
    def test_a_put_failed_before_or_midway_leaves_nothing_stored(self, wrapped, make_ref, point):
        wrapped.faults = FaultPlan(Fault("put", point=point))
        ref = make_ref()
        with pytest.raises(InjectedFaultError):
            wrapped.put(make_metrics(), ref)
        assert not wrapped.wrapped.exists(ref)
        wrapped.faults = None
        wrapped.put(make_metrics(), ref)  # and it can be put afterwards
        assert wrapped.get(ref) == make_metrics()

    def test_a_put_failed_after_it_completed_stays_stored(self, wrapped, make_ref):
        # A lost reply: the caller is told the put failed, and it did not.
        wrapped.faults = FaultPlan(Fault("put", point="after"))
        ref = make_ref()
        with pytest.raises(InjectedFaultError):
            wrapped.put(make_metrics(), ref)
        assert wrapped.wrapped.get(ref) == make_metrics()

    @pytest.mark.parametrize(
        ("operation", "point", "exists", "exists_once_emptied"),
        [
            ("trash", "before", True, True),
            ("emptyTrash", "before", True, False),
            ("remove", "before", True, True),
            ("forget", "before", True, True),
            ("trash", "after", True, False),
            ("emptyTrash", "after", False, False),
            ("remove", "after", False, False),
            ("forget", "after", False, False),
        ],
    )
    def test_a_deletion_failed_before_changes_nothing_and_after_is_done(
        self, wrapped, make_ref, operation, point, exists, exists_once_emptied
    ):
        ref = make_ref()
        wrapped.put(make_metrics(), ref)
        if operation == "emptyTrash":
            wrapped.trash(ref)
        calls = {
            "trash": lambda: wrapped.trash(ref),
            "emptyTrash": lambda: wrapped.emptyTrash(),
            "remove": lambda: wrapped.remove(ref),
            "forget": lambda: wrapped.forget([ref]),
        }
        wrapped.faults = FaultPlan(Fault(operation, point=point))
        with pytest.raises(InjectedFaultError):
            calls[operation]()
        inner = wrapped.wrapped
        assert inner.exists(ref) is exists
        inner.emptyTrash()
        assert inner.exists(ref) is exists_once_emptied

    def test_an_nth_rule_counts_each_put_once(self, wrapped, make_ref):
        wrapped.faults = FaultPlan(Fault("put", nth=2, point="after"))
        wrapped.put(make_metrics(), make_ref())
        with pytest.raises(InjectedFaultError):
            wrapped.put(make_metrics(), make_ref())

    def test_a_failed_put_inside_a_transaction_rolls_back_cleanly(self, wrapped, make_ref):
        earlier, failing = make_ref(), make_ref()
        wrapped.faults = FaultPlan(Fault("put", dataset_ids=[failing.id], point="after"))
        with pytest.raises(InjectedFaultError), wrapped.transaction():
            wrapped.put(make_metrics(), earlier)
            wrapped.put(make_metrics(), failing)
        assert not wrapped.wrapped.exists(earlier)
        assert not wrapped.wrapped.exists(failing)

    def test_a_read_fault_after_the_call_changes_nothing(self, wrapped, make_ref):
        ref = make_ref()
        wrapped.put(make_metrics(), ref)
        wrapped.faults = FaultPlan(Fault(["get", "exists"], point="after", times=2))
        with pytest.raises(InjectedFaultError):
            wrapped.get(ref)
        with pytest.raises(InjectedFaultError):
            wrapped.exists(ref)
        wrapped.faults = None
        assert wrapped.get(ref) == make_metrics()

    def test_the_stored_point_is_inside_our_put(self, make_datastore, make_ref, monkeypatch):
        ours = make_datastore()
        instrumented = InstrumentedDatastore.wrap(ours, faults=FaultPlan(Fault("put", point="stored")))
        # Our put drops the dataset itself: the wrapper has nothing to undo.
        for undo in ("remove", "forget"):
            monkeypatch.setattr(
                ours, undo, lambda *args, name=undo: pytest.fail(f"the wrapper called {name}")
            )
        ref = make_ref()
        with pytest.raises(InjectedFaultError):
            instrumented.put(make_metrics(), ref)
        assert ours.stored_refs() == []


class TestFaultsBelongToTheirWrapper:
    """A wrapper's faults never reach the wrapped datastore's own callers, nor another wrapper."""

    @pytest.mark.parametrize("point", ["before", "stored", "after"])
    def test_the_wrapped_datastore_stays_usable_directly(self, make_datastore, make_ref, point):
        ours = make_datastore()
        InstrumentedDatastore.wrap(ours, faults=FaultPlan(Fault("put", point=point)))
        ref = make_ref()
        ours.put(make_metrics(), ref)
        assert ours.get(ref) == make_metrics()

    def test_wrapping_again_keeps_the_first_wrappers_faults(self, make_datastore, make_ref):
        ours = make_datastore()
        first = InstrumentedDatastore.wrap(ours, faults=FaultPlan(Fault("put", point="stored")))
        second = InstrumentedDatastore.wrap(ours)
        with pytest.raises(InjectedFaultError):
            first.put(make_metrics(), failed := make_ref())
        assert not ours.exists(failed)
        second.put(make_metrics(), stored := make_ref())
        assert ours.stored_refs() == [stored]

    @pytest.mark.parametrize("failing", ["inner", "outer"])
    def test_nested_wrappers_each_keep_their_stored_faults(self, make_datastore, make_ref, failing):
        ours = make_datastore()
        inner = InstrumentedDatastore.wrap(ours)
        outer = InstrumentedDatastore.wrap(inner)
        victim = make_ref()
        plan = FaultPlan(Fault("put", dataset_ids=[victim.id], point="stored"))
        (inner if failing == "inner" else outer).faults = plan
        outer.put(make_metrics(), kept := make_ref())
        with pytest.raises(InjectedFaultError):
            outer.put(make_metrics(), victim)
        assert ours.stored_refs() == [kept]
        assert [(point, refs) for _, _, refs, point in plan.fired] == [("stored", (victim,))]
        assert [entry.outcome for entry in outer.journal] == ["ok", "InjectedFaultError"]
        assert [entry.outcome for entry in inner.journal] == ["ok", "InjectedFaultError"]

    def test_a_stored_fault_does_not_reach_another_thread(self, make_datastore, make_ref):
        ours = make_datastore()
        direct_ref = make_ref()
        outcome = []

        def put_directly(ref):
            # Runs while the wrapper's put is between storing and returning.
            worker = threading.Thread(target=lambda: outcome.append(_try_put(ours, direct_ref)))
            worker.start()
            worker.join()

        # Would fire on the other thread's put if the fault reached it.
        plan = FaultPlan(Fault("put", dataset_ids=[direct_ref.id], point="stored"))
        instrumented = InstrumentedDatastore.wrap(ours, faults=plan)
        with instrumented.at_stored_point(put_directly):
            instrumented.put(make_metrics(), wrapped_ref := make_ref())
        assert outcome == ["ok"]
        assert set(ours.stored_refs()) == {wrapped_ref, direct_ref}
        assert plan.fired == []


def _try_put(datastore, ref):
    try:
        datastore.put(make_metrics(), ref)
    except Exception as err:
        return type(err).__name__
    return "ok"


class TestConfiguration:
    def test_built_from_configuration(self, registry, make_ref):
        config = DatastoreConfig(
            {
                "cls": "butler_testkit.InstrumentedDatastore",
                "datastores": [{"cls": "butler_testkit.InMemoryDatastore", "name": "inner"}],
            }
        )
        datastore = Datastore.fromConfig(config, registry.getDatastoreBridgeManager())
        assert isinstance(datastore, InstrumentedDatastore)
        assert isinstance(datastore.wrapped, InMemoryDatastore)
        assert (datastore.name, datastore.names, datastore.isEphemeral) == ("inner", ("inner",), True)
        assert datastore.roots == {"inner": None}
        datastore.put(make_metrics(), ref := make_ref())
        assert datastore.wrapped.exists(ref)

    @pytest.mark.parametrize("children", [[], [{"cls": "butler_testkit.InMemoryDatastore"}] * 2])
    def test_exactly_one_wrapped_datastore(self, registry, children):
        config = DatastoreConfig({"cls": "butler_testkit.InstrumentedDatastore", "datastores": children})
        with pytest.raises(DatastoreValidationError, match="exactly one datastore"):
            Datastore.fromConfig(config, registry.getDatastoreBridgeManager())

    def test_faults_must_be_a_plan(self, wrapped):
        with pytest.raises(TypeError, match="FaultPlan"):
            wrapped.faults = [Fault("put")]

    def test_in_a_butler(self, tmp_path):
        config = Config(
            {
                "datastore": {
                    "cls": "butler_testkit.InstrumentedDatastore",
                    "datastores": [{"cls": "butler_testkit.InMemoryDatastore"}],
                }
            }
        )
        Butler.makeRepo(str(tmp_path), config=config)
        with Butler.from_config(str(tmp_path), writeable=True, run="run") as butler:
            dataset_type = DatasetType("plain", butler.dimensions.empty, "BtkDict")
            butler.registry.registerDatasetType(dataset_type)
            ref = butler.put({"a": 1}, dataset_type)
            assert butler.get(ref) == {"a": 1}
            datastore = butler._datastore
            assert isinstance(datastore, InstrumentedDatastore)
            datastore.journal.assert_written(ref, times=1)
            datastore.journal.assert_read(ref, times=1)
            datastore.faults = FaultPlan(Fault("put", point="after"))
            butler.registry.registerRun("other")
            with pytest.raises(InjectedFaultError):
                butler.put({"b": 2}, "plain", run="other")
            assert datastore.wrapped.stored_refs() == [ref]
            clone = butler.clone()
            assert isinstance(clone._datastore, InstrumentedDatastore)
            assert clone._datastore.journal is datastore.journal


class OddError(Exception):
    """An exception whose constructor does not take back its own arguments."""

    def __init__(self, *, code):
        super().__init__(f"odd {code}")
        self.code = code


class TestNothingKeepsAFailedPutsDataset:
    def _fail_a_put(self, store, ref):
        stored = make_metrics()
        alive = weakref.ref(stored)
        try:
            store.put(stored, ref)
        except Exception as err:
            raised = err
        else:
            pytest.fail("the put did not fail")
        # The caller's exception keeps its traceback, for debugging.
        assert raised.__traceback__ is not None
        del stored, raised
        gc.collect()
        return alive

    def test_the_journal_keeps_the_error_but_not_the_dataset(self, make_datastore, make_ref):
        store = InstrumentedDatastore.wrap(make_datastore(isolation="reference"))
        store.put(make_metrics(), ref := make_ref())
        alive = self._fail_a_put(store, ref)
        assert alive() is None
        (_, failed) = store.journal.entries
        assert isinstance(failed.error, FileExistsError) and str(ref.id) in str(failed.error)
        assert failed.error.__traceback__ is None and failed.outcome == "FileExistsError"

    def test_a_rule_keeps_its_exception_free_of_tracebacks(self, make_datastore, make_ref):
        rule = Fault("put", error=OddError(code=7), point="stored")
        store = InstrumentedDatastore.wrap(make_datastore(isolation="reference"), faults=FaultPlan(rule))
        alive = self._fail_a_put(store, make_ref())
        assert alive() is None
        assert rule.error.__traceback__ is None
        (failed,) = store.journal.entries
        assert isinstance(failed.error, OddError) and failed.error.code == 7

    def test_a_detached_error_keeps_its_chain_without_tracebacks(self):
        try:
            try:
                raise KeyError("inner")
            except KeyError as inner:
                raise FileNotFoundError(2, "missing", "x.json") from inner
        except FileNotFoundError as err:
            raised = err
        copied = detached_copy(raised)
        assert (type(copied), copied.errno, copied.filename) == (FileNotFoundError, 2, "x.json")
        assert copied.__traceback__ is None and copied.__cause__.__traceback__ is None
        assert copied.__cause__.args == ("inner",) and copied.__suppress_context__
        assert raised.__traceback__ is not None


def test_journal_standalone():
    journal = Journal()
    assert list(journal) == []
    assert journal.calls() == []
