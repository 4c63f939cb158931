"""The example of docs/bridge.md, which includes this file: a FileDatastore tested without SQL."""

from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType, DimensionUniverse
from lsst.daf.butler.datastore import Datastore, DatastoreConfig

from butler_testkit import InMemoryRegistry
from butler_testkit.factories import MetricsRecord

CONFIG = {
    "cls": "lsst.daf.butler.datastores.fileDatastore.FileDatastore",
    "formatters": {"BtkMetrics": "lsst.daf.butler.formatters.json.JsonFormatter"},
    "templates": {"default": "{run}/{datasetType}/{instrument}_{visit}"},
}


def make_ref(universe: DimensionUniverse) -> DatasetRef:
    dataset_type = DatasetType("metric", universe.conform(["instrument", "visit"]), "BtkMetrics")
    return DatasetRef(
        dataset_type, DataCoordinate.standardize(instrument="Cam", visit=1, universe=universe), "run"
    )


def test_empty_trash_removes_the_file_its_records_and_its_trash(tmp_path):
    registry = InMemoryRegistry()
    manager = registry.getDatastoreBridgeManager()
    datastore = Datastore.fromConfig(DatastoreConfig(dict(CONFIG, root=str(tmp_path))), manager)
    ref = make_ref(registry.dimensions)
    datastore.put(MetricsRecord(data=[1, 2, 3]), ref)
    bridge, records = manager.bridges[datastore.name], manager.opaque["file_datastore_records"]
    assert bridge.inserted_ids == {ref.id} and len(records) == 1
    datastore.trash(ref)
    assert bridge.trashed_ids == {ref.id} and datastore.exists(ref)
    (uri,) = datastore.emptyTrash()
    assert not uri.exists() and len(records) == 0 and not bridge.trashed_ids
