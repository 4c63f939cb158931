"""Transfer: between datastores, ingest, zips, artifact retrieval and export."""

from __future__ import annotations

__all__ = ("TransferTests",)

import json
from pathlib import Path

import pytest
from lsst.daf.butler import DatasetRef, DatasetTypeNotSupportedError, FileDataset
from lsst.daf.butler.datastore import Datastore
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import retrieve_and_zip
from lsst.resources import ResourcePath

from ...factories import FORMATTERS
from .._capabilities import INGEST_TRANSFER_MODES, lacks, requires
from .._factory import DatastoreFactory
from .._refs import ConformanceRefs
from .._samples import sample_metrics, sample_value


def _dataset_file(directory: Path, name: str) -> Path:
    """Write the catalogue's ``BtkDict`` sample as its JSON formatter writes it."""
    path = directory / f"{name}.json"
    path.write_text(json.dumps(sample_value("BtkDict")))
    return path


def _outside_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside_the_datastore")


def _stored(datastore: Datastore, refs: ConformanceRefs, count: int = 1) -> list[DatasetRef]:
    stored = refs.refs(count, "transferred", "BtkDict")
    for ref in stored:
        datastore.put(sample_value("BtkDict"), ref)
    return stored


class TransferTests:
    """Moving datasets between datastores and files."""

    conformance_area = "transfer"

    def test_transfer_copies_a_dataset_from_another_datastore(
        self, datastore: Datastore, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        source = datastore_factory()
        ref = refs.ref()
        source.put(sample_metrics(), ref)
        datastore.transfer(source, ref)
        assert datastore.get(ref) == sample_metrics()
        assert source.get(ref) == sample_metrics()

    def test_transferring_to_itself_raises_assertion_error(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(AssertionError):
            datastore.transfer(datastore, ref)

    def test_transferring_an_unknown_dataset_raises_file_not_found(
        self, datastore: Datastore, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        with pytest.raises(FileNotFoundError):
            datastore.transfer(datastore_factory(), ref)
        assert not datastore.exists(ref)

    @requires("copies_on_get")
    def test_a_transferred_dataset_shares_nothing_with_its_source(
        self, datastore: Datastore, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        source = datastore_factory()
        ref = refs.ref()
        source.put(sample_metrics(), ref)
        datastore.transfer(source, ref)
        datastore.get(ref).data.clear()
        source.get(ref).data.clear()
        assert datastore.get(ref) == sample_metrics()
        assert source.get(ref) == sample_metrics()

    @requires("ingest_transfer_modes", param="transfer")
    @pytest.mark.parametrize("transfer", INGEST_TRANSFER_MODES)
    def test_an_ingested_file_is_readable(
        self,
        datastore: Datastore,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
        transfer: str,
    ) -> None:
        ref = refs.ref("ingested", "BtkDict")
        path = _dataset_file(_outside_directory(tmp_path_factory), "ingested")
        datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer=transfer)
        assert datastore.exists(ref)
        assert datastore.get(ref) == sample_value("BtkDict")

    @lacks("ingest_transfer_modes", param="transfer")
    @pytest.mark.parametrize("transfer", INGEST_TRANSFER_MODES)
    def test_an_unsupported_transfer_mode_is_refused_and_stores_nothing(
        self,
        datastore: Datastore,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
        transfer: str,
    ) -> None:
        ref = refs.ref("ingested", "BtkDict")
        path = _dataset_file(_outside_directory(tmp_path_factory), "ingested")
        with pytest.raises(NotImplementedError):
            datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer=transfer)
        assert not datastore.knows(ref)
        assert path.exists()

    @lacks("ingest_transfer_modes")
    def test_ingest_raises_not_implemented(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        ref = refs.ref("ingested", "BtkDict")
        path = _dataset_file(_outside_directory(tmp_path_factory), "ingested")
        with pytest.raises(NotImplementedError):
            datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer="copy")
        assert not datastore.exists(ref)

    @lacks("zip_ingest")
    def test_zip_ingest_raises_not_implemented(
        self, datastore: Datastore, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        zip_path = ResourcePath(_outside_directory(tmp_path_factory) / "datasets.zip")
        with pytest.raises(NotImplementedError):
            datastore.ingest_zip(zip_path, transfer="copy")

    @requires("zip_ingest")
    def test_a_zip_of_retrieved_artifacts_ingests_into_another_datastore(
        self,
        datastore: Datastore,
        datastore_factory: DatastoreFactory,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        source = datastore_factory()
        stored = _stored(source, refs, 2)
        zip_path = retrieve_and_zip(stored, _outside_directory(tmp_path_factory), source.retrieveArtifacts)
        datastore.ingest_zip(zip_path, transfer="copy")
        assert all(datastore.get(ref) == sample_value("BtkDict") for ref in stored)

    @requires("artifact_retrieval")
    def test_retrieving_artifacts_copies_every_one(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stored = _stored(datastore, refs, 2)
        destination = ResourcePath(_outside_directory(tmp_path_factory), forceDirectory=True)
        retrieved = datastore.retrieveArtifacts(stored, destination, transfer="copy")
        assert len(retrieved) == len(stored)
        assert all(path.exists() for path in retrieved)

    @lacks("artifact_retrieval")
    def test_retrieving_artifacts_raises_not_implemented(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stored = _stored(datastore, refs)
        destination = ResourcePath(_outside_directory(tmp_path_factory), forceDirectory=True)
        with pytest.raises(NotImplementedError):
            datastore.retrieveArtifacts(stored, destination, transfer="copy")

    @requires("file_transfers")
    def test_export_describes_every_dataset(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stored = _stored(datastore, refs, 2)
        exported = list(datastore.export(stored, directory=_outside_directory(tmp_path_factory)))
        assert {ref.id for dataset in exported for ref in dataset.refs} == {ref.id for ref in stored}

    @requires("file_transfers")
    def test_transfer_from_the_files_of_another_datastore_copies_its_datasets(
        self, datastore: Datastore, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        source = datastore_factory()
        stored = _stored(source, refs, 2)
        files = source.get_file_info_for_transfer([ref.id for ref in stored])
        accepted, _ = datastore.transfer_from(files, stored, transfer="copy")
        assert {ref.id for ref in accepted} == {ref.id for ref in stored}
        assert all(datastore.get(ref) == sample_value("BtkDict") for ref in stored)
        source.remove(stored[0])
        assert datastore.get(stored[0]) == sample_value("BtkDict")

    @requires("file_transfers")
    def test_file_information_for_transfer_names_a_file_per_dataset(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored = _stored(datastore, refs, 2)
        info = datastore.get_file_info_for_transfer([ref.id for ref in stored])
        assert set(info) == {ref.id for ref in stored}
        assert all(file.location.uri.exists() for files in info.values() for file in files)

    @lacks("file_transfers")
    def test_export_raises_not_implemented(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stored = _stored(datastore, refs)
        with pytest.raises(NotImplementedError):
            list(datastore.export(stored, directory=_outside_directory(tmp_path_factory)))

    @lacks("file_transfers")
    def test_transfer_from_raises_not_implemented(self, datastore: Datastore) -> None:
        with pytest.raises(NotImplementedError):
            datastore.transfer_from({}, [])

    @lacks("file_transfers")
    def test_file_information_for_transfer_raises_not_implemented(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored = _stored(datastore, refs)
        with pytest.raises(NotImplementedError):
            datastore.get_file_info_for_transfer([ref.id for ref in stored])

    @lacks("persistent_artifacts")
    def test_preparing_a_get_for_another_process_raises_not_implemented(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        (ref,) = _stored(datastore, refs)
        with pytest.raises(NotImplementedError):
            datastore.prepare_get_for_external_client(ref)

    @requires("persistent_artifacts")
    def test_preparing_a_get_of_an_unknown_dataset_for_another_process_returns_none(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        assert datastore.prepare_get_for_external_client(refs.ref()) is None

    @requires("file_transfers")
    @pytest.mark.parametrize("transfer", ["copy", "auto"])
    def test_export_writes_every_file_to_the_directory(
        self,
        datastore: Datastore,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
        transfer: str,
    ) -> None:
        stored = _stored(datastore, refs, 2)
        directory = _outside_directory(tmp_path_factory)
        exported = list(datastore.export(stored, directory=directory, transfer=transfer))
        assert len(exported) == len(stored)
        # Relative to the directory, where the files were written.
        assert all((directory / str(dataset.path)).is_file() for dataset in exported)

    @requires("file_transfers")
    def test_exporting_an_unknown_dataset_raises_file_not_found(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        with pytest.raises(FileNotFoundError):
            list(
                datastore.export(
                    [refs.ref()], directory=_outside_directory(tmp_path_factory), transfer="copy"
                )
            )

    @requires("file_transfers")
    def test_export_refuses_to_move_files_out(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stored = _stored(datastore, refs)
        with pytest.raises(TypeError):
            list(datastore.export(stored, directory=_outside_directory(tmp_path_factory), transfer="move"))
        assert datastore.get(stored[0]) == sample_value("BtkDict")

    @requires("file_transfers")
    def test_file_information_leaves_out_unknown_datasets(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        (stored,) = _stored(datastore, refs)
        info = datastore.get_file_info_for_transfer([stored.id, refs.ref().id])
        assert set(info) == {stored.id}

    @requires("file_transfers")
    def test_transfer_from_refuses_what_the_constraints_reject(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        source = datastore_factory()
        stored = _stored(source, refs, 2)
        datastore = datastore_factory(constraints={"reject": ["transferred"]})
        files = source.get_file_info_for_transfer([ref.id for ref in stored])
        accepted, rejected = datastore.transfer_from(files, stored, transfer="copy")
        assert accepted == set()
        assert {ref.id for ref in rejected} == {ref.id for ref in stored}
        assert not any(datastore.knows_these(stored).values())

    @requires("artifact_retrieval")
    def test_retrieving_artifacts_refuses_to_move_them(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stored = _stored(datastore, refs)
        destination = ResourcePath(_outside_directory(tmp_path_factory), forceDirectory=True)
        with pytest.raises(ValueError):
            datastore.retrieveArtifacts(stored, destination, transfer="move")
        assert datastore.get(stored[0]) == sample_value("BtkDict")

    @requires("artifact_retrieval")
    def test_retrieving_artifacts_into_a_file_raises_value_error(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stored = _stored(datastore, refs)
        not_a_directory = ResourcePath(
            _outside_directory(tmp_path_factory) / "file.txt", forceDirectory=False
        )
        with pytest.raises(ValueError):
            datastore.retrieveArtifacts(stored, not_a_directory, transfer="copy")

    @requires("ingest_transfer_modes", param="transfer")
    @pytest.mark.parametrize("transfer", ["move"])
    def test_a_move_ingest_removes_the_file(
        self,
        datastore: Datastore,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
        transfer: str,
    ) -> None:
        ref = refs.ref("ingested", "BtkDict")
        path = _dataset_file(_outside_directory(tmp_path_factory), "ingested")
        datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer=transfer)
        assert not path.exists()
        assert datastore.get(ref) == sample_value("BtkDict")

    @requires("ingest_transfer_modes", param="transfer")
    @pytest.mark.parametrize("transfer", ["copy"])
    def test_an_ingested_file_is_read_with_the_formatter_given(
        self,
        datastore: Datastore,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
        transfer: str,
    ) -> None:
        ref = refs.ref("ingested", "BtkDict")
        path = _dataset_file(_outside_directory(tmp_path_factory), "ingested")
        dataset = FileDataset(path=str(path), refs=[ref], formatter=FORMATTERS["BtkDict"])
        datastore.ingest(dataset, transfer=transfer)
        assert datastore.get(ref) == sample_value("BtkDict")

    @requires("zip_ingest")
    def test_a_zip_ingested_by_moving_is_removed(
        self,
        datastore: Datastore,
        datastore_factory: DatastoreFactory,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        source = datastore_factory()
        stored = _stored(source, refs, 2)
        zip_path = retrieve_and_zip(stored, _outside_directory(tmp_path_factory), source.retrieveArtifacts)
        datastore.ingest_zip(zip_path, transfer="move")
        assert not zip_path.exists()
        assert all(datastore.get(ref) == sample_value("BtkDict") for ref in stored)

    @requires("zip_ingest")
    def test_a_zip_of_rejected_datasets_raises_and_stores_nothing(
        self,
        datastore_factory: DatastoreFactory,
        refs: ConformanceRefs,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> None:
        source = datastore_factory()
        stored = _stored(source, refs, 2)
        zip_path = retrieve_and_zip(stored, _outside_directory(tmp_path_factory), source.retrieveArtifacts)
        datastore = datastore_factory(constraints={"reject": ["transferred"]})
        with pytest.raises(DatasetTypeNotSupportedError):
            datastore.ingest_zip(zip_path, transfer="copy")
        assert not any(datastore.knows_these(stored).values())
