"""Constraints: which datasets a datastore accepts, and the precedence of its rules."""

from __future__ import annotations

__all__ = ("ConstraintTests",)

from collections.abc import Mapping
from typing import Any

import pytest
from lsst.daf.butler import DatasetRef, DatasetTypeNotSupportedError, FileDataset
from lsst.daf.butler.datastore import Datastore

from .._capabilities import Capabilities, requires
from .._factory import DatastoreFactory
from .._refs import ConformanceRefs
from .._samples import sample_metrics, sample_value

# Reject everything but a few names: a dataset type, a storage class, and a
# dataset type on one instrument only.
_ALLOW_LIST: Mapping[str, Any] = {
    "reject": ["all"],
    "accept": ["metric", {"instrument<HSC>": ["metric_hsc"]}, "BtkDict"],
}


def _accepts(datastore: Datastore, ref: DatasetRef, value: Any) -> bool:
    """Put a dataset; say whether it was accepted, checking a refusal stored nothing."""
    try:
        datastore.put(value, ref)
    except DatasetTypeNotSupportedError:
        assert not datastore.exists(ref), f"{ref} was refused but stored"
        return False
    assert datastore.exists(ref)
    return True


class ConstraintTests:
    """Accept and reject lists, and what they take precedence over."""

    conformance_area = "constraints"

    def test_without_constraints_everything_is_accepted(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        assert _accepts(datastore, refs.ref("anything"), sample_metrics())
        assert _accepts(datastore, refs.ref("anything_else", "BtkDict"), sample_value("BtkDict"))

    def test_a_rejected_dataset_type_raises_on_put_and_is_not_stored(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints={"reject": ["metric_refused"]})
        ref = refs.ref("metric_refused")
        with pytest.raises(DatasetTypeNotSupportedError):
            datastore.put(sample_metrics(), ref)
        assert not datastore.exists(ref)
        assert _accepts(datastore, refs.ref("metric"), sample_metrics())

    def test_an_allow_list_accepts_a_named_dataset_type(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints=_ALLOW_LIST)
        assert _accepts(datastore, refs.ref("metric"), sample_metrics())
        assert not _accepts(datastore, refs.ref("metric_other"), sample_metrics())

    def test_an_allow_list_accepts_a_named_storage_class(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints=_ALLOW_LIST)
        assert _accepts(datastore, refs.ref("any_dict", "BtkDict"), sample_value("BtkDict"))
        assert not _accepts(datastore, refs.ref("any_list", "BtkList"), sample_value("BtkList"))

    def test_an_instrument_scoped_entry_applies_to_that_instrument_only(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints=_ALLOW_LIST)
        assert _accepts(datastore, refs.ref("metric_hsc", instrument="HSC"), sample_metrics())
        assert not _accepts(datastore, refs.ref("metric_hsc", instrument="GenericCam"), sample_metrics())

    def test_an_explicit_accept_beats_a_rejected_storage_class(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints={"accept": ["metric"], "reject": ["BtkMetrics"]})
        assert _accepts(datastore, refs.ref("metric"), sample_metrics())
        assert not _accepts(datastore, refs.ref("metric_other"), sample_metrics())

    def test_a_wildcard_reject_beats_a_wildcard_accept(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        constraints = {"reject": ["all"], "accept": [{"instrument<HSC>": ["all"]}]}
        datastore = datastore_factory(constraints=constraints)
        assert not _accepts(datastore, refs.ref("metric", instrument="HSC"), sample_metrics())

    def test_a_non_empty_accept_list_rejects_everything_else(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints={"accept": ["BtkDict"]})
        assert _accepts(datastore, refs.ref("any_dict", "BtkDict"), sample_value("BtkDict"))
        assert not _accepts(datastore, refs.ref("metric"), sample_metrics())

    def test_rejecting_all_rejects_everything(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints={"reject": ["all"]})
        assert not _accepts(datastore, refs.ref("metric"), sample_metrics())
        assert not _accepts(datastore, refs.ref("any_dict", "BtkDict"), sample_value("BtkDict"))

    @requires("ingest_transfer_modes")
    def test_ingesting_a_rejected_dataset_raises(
        self,
        datastore_factory: DatastoreFactory,
        refs: ConformanceRefs,
        capabilities: Capabilities,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        datastore = datastore_factory(constraints={"reject": ["any_dict"]})
        transfer = sorted(capabilities.ingest_transfer_modes)[0]
        ref = refs.ref("any_dict", "BtkDict")
        path = tmp_path_factory.mktemp("ingest") / "refused.json"
        path.write_text('{"refused": true}')
        with pytest.raises(DatasetTypeNotSupportedError):
            datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer=transfer)
        assert not datastore.exists(ref)
