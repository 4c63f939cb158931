"""Records: exporting and importing what a datastore knows about its datasets."""

from __future__ import annotations

__all__ = ("RecordTests",)

from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.datastore.record_data import DatastoreRecordData

from ...factories import make_bridge_manager
from .._capabilities import lacks, requires
from .._factory import DatastoreFactory
from .._refs import ConformanceRefs
from .._samples import sample_metrics


class RecordTests:
    """Datastore records, which a registry keeps for persistent datastores."""

    conformance_area = "records"

    @requires("records_export")
    def test_exported_records_make_a_dataset_readable_in_a_fresh_datastore(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        exported = datastore.export_records([ref])
        # The same configuration and name (records are read by datastore
        # name), and so the same artifacts, with no records.
        config = datastore.config.toDict()
        config.setdefault("name", datastore.name)
        fresh = Datastore.fromConfig(DatastoreConfig(config), make_bridge_manager())
        assert not fresh.knows(ref)
        fresh.import_records(exported)
        assert fresh.get(ref) == sample_metrics()

    @requires("records_export")
    def test_predicted_records_name_the_datastore(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        predicted = datastore.export_predicted_records([ref])
        assert set(predicted) <= set(datastore.names)
        assert any(data.records for data in predicted.values())

    @requires("records_export")
    def test_the_predicted_records_of_a_component_are_its_composites(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        of_component = datastore.export_predicted_records([ref.makeComponentRef("data")])
        of_composite = datastore.export_predicted_records([ref])
        assert {name: data.records for name, data in of_component.items()} == {
            name: data.records for name, data in of_composite.items()
        }
        assert {dataset_id for data in of_component.values() for dataset_id in data.records} == {ref.id}

    @requires("records_export")
    def test_predicted_records_leave_out_what_the_constraints_reject(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        datastore = datastore_factory(constraints={"reject": ["metric"]})
        kept = refs.ref("metric_kept", "BtkMetrics")
        predicted = datastore.export_predicted_records([refs.ref(), kept])
        assert {dataset_id for data in predicted.values() for dataset_id in data.records} == {kept.id}

    @lacks("records_export")
    def test_no_records_are_exported(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert not any(data.records for data in datastore.export_records([ref]).values())
        assert not any(data.records for data in datastore.export_predicted_records([ref]).values())

    def test_records_for_another_datastore_are_ignored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.import_records({"conformance-some-other-datastore": DatastoreRecordData()})
        assert not datastore.knows(ref)

    @requires("ephemeral")
    def test_an_ephemeral_datastore_needs_no_expanded_data_ids(self, datastore: Datastore) -> None:
        assert datastore.needs_expanded_data_ids("auto") is False
