"""Constraints: accepted and rejected datasets, precedence, caching."""

from __future__ import annotations

import pytest
from lsst.daf.butler import DatasetTypeNotSupportedError

from tests._helpers import UPSTREAM_IN_MEMORY, make_metrics

# The accept/reject table daf_butler's own in-memory and POSIX test configs use,
# with our storage class names.
TEST_CONSTRAINTS = {
    "accept": ["all", "metric", "BtkDict", {"instrument<DummyCamComp>": ["metric33"]}],
    "reject": ["BtkMetrics", {"instrument<DummyHSC>": ["all"]}],
}


@pytest.fixture(params=["butler_testkit.InMemoryDatastore", UPSTREAM_IN_MEMORY], ids=["ours", "upstream"])
def constrained(request, make_datastore):
    """Both datastores with the same constraints: the answers must agree."""
    return make_datastore(cls=request.param, constraints=TEST_CONSTRAINTS)


@pytest.mark.parametrize(
    ("name", "storage_class", "instrument", "accepted"),
    [
        ("metric", "BtkMetrics", "DummyCam", True),  # explicit accept beats explicit reject
        ("metric5", "BtkMetrics", "DummyCam", False),  # storage class rejected
        ("metric5", "BtkDict", "DummyCam", True),  # storage class accepted
        ("metric5", "BtkList", "DummyCam", True),  # wildcard accept
        ("metric33", "BtkMetrics", "DummyCamComp", True),  # instrument-scoped accept
        ("metric33", "BtkMetrics", "DummyCam", False),
        ("metric5", "BtkList", "DummyHSC", False),  # instrument-scoped wildcard reject
        ("metric", "BtkMetrics", "DummyHSC", True),  # explicit accept still wins
    ],
)
def test_constraint_table(constrained, make_ref, name, storage_class, instrument, accepted):
    ref = make_ref(name=name, storage_class=storage_class, data_id={"instrument": instrument, "visit": 1})
    value = make_metrics() if storage_class == "BtkMetrics" else ({} if storage_class == "BtkDict" else [])
    if accepted:
        constrained.put(value, ref)
        assert constrained.exists(ref)
    else:
        with pytest.raises(DatasetTypeNotSupportedError, match=name):
            constrained.put(value, ref)
        assert not constrained.exists(ref)


def test_non_empty_accept_list_rejects_everything_else(make_datastore, make_ref):
    datastore = make_datastore(constraints={"accept": ["metric"]})
    datastore.put(make_metrics(), make_ref(name="metric"))
    with pytest.raises(DatasetTypeNotSupportedError):
        datastore.put(make_metrics(), make_ref(name="other"))


def test_wildcard_reject_beats_wildcard_accept_for_an_instrument(make_datastore, make_ref):
    datastore = make_datastore(constraints={"accept": ["all"], "reject": [{"instrument<HSC>": ["all"]}]})
    datastore.put(make_metrics(), make_ref(data_id={"instrument": "LSSTCam", "visit": 1}))
    with pytest.raises(DatasetTypeNotSupportedError):
        datastore.put(make_metrics(), make_ref(data_id={"instrument": "HSC", "visit": 1}))


def test_dataset_types_without_instrument(make_datastore, make_ref):
    datastore = make_datastore(constraints={"reject": [{"instrument<HSC>": ["all"]}, "skymap_thing"]})
    datastore.put(
        {},
        make_ref(
            name="skymap_other", storage_class="BtkDict", data_id={"skymap": "sky"}, dimensions=("skymap",)
        ),
    )
    with pytest.raises(DatasetTypeNotSupportedError):
        datastore.put(
            {},
            make_ref(
                name="skymap_thing",
                storage_class="BtkDict",
                data_id={"skymap": "sky"},
                dimensions=("skymap",),
            ),
        )


def test_answers_are_cached_per_dataset_type_and_instrument(make_datastore, make_ref, monkeypatch):
    datastore = make_datastore(constraints={"reject": [{"instrument<HSC>": ["metric"]}]})
    calls = []
    original = datastore.constraints.isAcceptable
    monkeypatch.setattr(
        datastore.constraints, "isAcceptable", lambda entity: calls.append(entity) or original(entity)
    )
    for visit in range(5):
        datastore.put(make_metrics(), make_ref(data_id={"instrument": "LSSTCam", "visit": visit}))
    assert len(calls) == 1
    with pytest.raises(DatasetTypeNotSupportedError):
        datastore.put(make_metrics(), make_ref(data_id={"instrument": "HSC", "visit": 1}))
    assert len(calls) == 2
    datastore.put(make_metrics(), make_ref(storage_class="BtkMetricsNoComponents"))
    assert len(calls) == 3


def test_no_constraints_means_nothing_is_checked(datastore, make_ref, monkeypatch):
    def fail(entity):
        raise AssertionError("constraints consulted although none are configured")

    monkeypatch.setattr(datastore.constraints, "isAcceptable", fail)
    datastore.put(make_metrics(), make_ref())


def test_empty_constraint_lists_mean_nothing_is_checked(make_datastore, make_ref, monkeypatch):
    datastore = make_datastore(constraints={"accept": [], "reject": []})
    monkeypatch.setattr(datastore.constraints, "isAcceptable", lambda entity: False)
    datastore.put(make_metrics(), make_ref())
