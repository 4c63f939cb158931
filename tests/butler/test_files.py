"""Datasets between Butlers on our datastore and Butlers on FileDatastore, through files.

The acceptance round trips of artifacts, zips, ingest, export/import and
transfer_from, each through the public Butler API.
"""

from __future__ import annotations

import numpy as np
import pytest
from lsst.daf.butler import Butler, Config, DatasetRef, DatasetType, FileDataset
from lsst.daf.butler.datastores.fileDatastore import FileDatastore

from butler_testkit import InMemoryDatastore, UnsupportedTransferModeError
from butler_testkit.butler import create_test_repository
from butler_testkit.factories import FORMATTERS, ImageRecord
from tests._helpers import make_metrics

RUN = "test/run"
VISITS = (1, 2, 3)
_IMAGE = ImageRecord(
    image=np.arange(12, dtype=np.float32).reshape(3, 4),
    mask=np.zeros((3, 4), dtype=np.int32),
    variance=np.ones((3, 4), dtype=np.float32),
    metadata={"EXPTIME": 15.0},
)


def _populate(butler: Butler) -> None:
    """Dimension records and dataset types, the same in every repository."""
    butler.registry.insertDimensionData("instrument", {"name": "DummyCam", "visit_max": 1000})
    butler.registry.insertDimensionData("day_obs", {"instrument": "DummyCam", "id": 20261123})
    butler.registry.insertDimensionData(
        "physical_filter", {"instrument": "DummyCam", "name": "d-r", "band": "r"}
    )
    for visit in VISITS:
        butler.registry.insertDimensionData(
            "visit",
            {
                "instrument": "DummyCam",
                "id": visit,
                "name": f"v{visit}",
                "physical_filter": "d-r",
                "day_obs": 20261123,
            },
        )
    dimensions = butler.dimensions.conform(["instrument", "visit"])
    for name, storage_class in (("metric", "BtkMetrics"), ("plain", "BtkDict"), ("image", "BtkImage")):
        butler.registry.registerDatasetType(DatasetType(name, dimensions, storage_class))


def _put_datasets(butler: Butler) -> dict[DatasetRef, object]:
    values = {
        butler.put(make_metrics(4), "metric", instrument="DummyCam", visit=1): make_metrics(4),
        butler.put({"a": [1, 2]}, "plain", instrument="DummyCam", visit=2): {"a": [1, 2]},
        butler.put(_IMAGE, "image", instrument="DummyCam", visit=3): _IMAGE,
    }
    return values


def _assert_holds(butler: Butler, values: dict[DatasetRef, object]) -> None:
    for ref, expected in values.items():
        got = butler.get(ref)
        if isinstance(expected, ImageRecord):
            assert np.array_equal(got.image, expected.image)
            assert np.array_equal(got.mask, expected.mask)
            assert got.metadata == expected.metadata
        else:
            assert got == expected


@pytest.fixture
def ours(tmp_path, registry):
    """A test repository on our datastore, populated."""
    made = []

    def make(name: str = "ours") -> Butler:
        repository = create_test_repository(tmp_path / name, run=RUN, registry=registry)
        made.append(repository)
        _populate(repository.butler)
        assert isinstance(repository.butler._datastore, InMemoryDatastore)
        return repository.butler

    yield make
    for repository in made:
        repository.close()


@pytest.fixture
def file_butler(tmp_path):
    """A repository on upstream's FileDatastore, with the catalogue's formatters, populated."""
    opened = []

    def make(name: str = "files", *, disassemble: bool = False) -> Butler:
        root = tmp_path / name
        datastore = {
            "formatters": dict(FORMATTERS),
            "composites": {"disassembled": {"BtkMetrics": disassemble, "BtkImage": disassemble}},
            "cached": {"expiry": {"mode": "disabled"}},
        }
        Butler.makeRepo(str(root), config=Config({"datastore": datastore}))
        butler = Butler.from_config(str(root), writeable=True, run=RUN)
        opened.append(butler)
        _populate(butler)
        assert isinstance(butler._datastore, FileDatastore)
        return butler

    yield make
    for butler in opened:
        butler.close()


def test_our_zip_is_ingested_by_a_file_datastore_butler(ours, file_butler, tmp_path):
    source = ours()
    values = _put_datasets(source)
    archive = source.retrieve_artifacts_zip(list(values), destination=tmp_path / "zips")
    target = file_butler()
    target.ingest_zip(archive)
    _assert_holds(target, values)
    assert target.get("metric.counter", instrument="DummyCam", visit=1) == 4


@pytest.mark.parametrize("disassemble", [False, True], ids=["whole", "disassembled"])
def test_a_file_datastore_zip_is_ingested_by_ours(ours, file_butler, tmp_path, disassemble):
    source = file_butler(disassemble=disassemble)
    values = _put_datasets(source)
    archive = source.retrieve_artifacts_zip(list(values), destination=tmp_path / "zips")
    target = ours()
    target.ingest_zip(archive)
    _assert_holds(target, values)
    assert target.get("image.shape", instrument="DummyCam", visit=3) == (3, 4)


@pytest.mark.parametrize("mode", ["copy", "move", "auto"])
def test_butler_ingest_with_each_supported_mode(ours, tmp_path, mode):
    butler = ours()
    path = tmp_path / "plain.json"
    path.write_text('{"ingested": true}')
    dataset_type = butler.get_dataset_type("plain")
    ref = DatasetRef(dataset_type, {"instrument": "DummyCam", "visit": 1}, run=RUN)
    butler.ingest(FileDataset(path=str(path), refs=[ref]), transfer=mode)
    assert butler.get("plain", instrument="DummyCam", visit=1) == {"ingested": True}
    assert path.exists() is (mode != "move")


def test_butler_ingest_in_place_is_refused_and_registers_nothing(ours, tmp_path):
    butler = ours()
    path = tmp_path / "plain.json"
    path.write_text("{}")
    ref = DatasetRef(butler.get_dataset_type("plain"), {"instrument": "DummyCam", "visit": 1}, run=RUN)
    with pytest.raises(UnsupportedTransferModeError, match="'symlink'"):
        butler.ingest(FileDataset(path=str(path), refs=[ref]), transfer="symlink")
    assert butler.query_datasets("plain", collections=RUN, explain=False) == []


@pytest.mark.parametrize("export_transfer", ["auto", None])
def test_export_and_import_between_two_of_our_butlers(ours, tmp_path, export_transfer):
    source, target = ours("source"), ours("target")
    values = _put_datasets(source)
    directory = tmp_path / "export"
    directory.mkdir()
    with source.export(directory=str(directory), filename="export.yaml", transfer=export_transfer) as export:
        export.saveDatasets(values)
    target.import_(directory=str(directory), filename="export.yaml", transfer="auto")
    _assert_holds(target, values)


def test_an_export_from_a_file_butler_imports_into_ours(ours, file_butler, tmp_path):
    source, target = file_butler(), ours()
    values = _put_datasets(source)
    directory = tmp_path / "export"
    directory.mkdir()
    with source.export(directory=str(directory), filename="export.yaml", transfer="copy") as export:
        export.saveDatasets(values)
    target.import_(directory=str(directory), filename="export.yaml", transfer="copy")
    _assert_holds(target, values)


def test_transfer_from_a_file_butler_into_ours(ours, file_butler):
    source, target = file_butler(disassemble=True), ours()
    values = _put_datasets(source)
    transferred = target.transfer_from(source, list(values), transfer="auto")
    assert {ref.id for ref in transferred} == {ref.id for ref in values}
    _assert_holds(target, values)


def test_transfer_from_ours_into_a_file_butler(ours, file_butler):
    source, target = ours(), file_butler()
    values = _put_datasets(source)
    transferred = target.transfer_from(source, list(values), transfer="auto")
    assert {ref.id for ref in transferred} == {ref.id for ref in values}
    _assert_holds(target, values)
    # The receiver holds copies: removing ours leaves them readable.
    source.pruneDatasets(list(values), purge=True, unstore=True, disassociate=True)
    _assert_holds(target, values)


def test_transfer_between_two_of_our_butlers_registers_what_it_needs(ours, tmp_path):
    source = ours("source")
    values = _put_datasets(source)
    with create_test_repository(tmp_path / "empty", run=RUN) as empty:
        empty.butler.transfer_from(
            source, list(values), transfer="auto", register_dataset_types=True, transfer_dimensions=True
        )
        _assert_holds(empty.butler, values)
