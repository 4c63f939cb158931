"""Chains: the datastore as a ChainedDatastore's child next to a FileDatastore, for every file operation."""

from __future__ import annotations

__all__ = ("ChainTests",)

import json
from pathlib import Path

import pytest
from lsst.daf.butler import DatasetRef, FileDataset
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.datastores.chainedDatastore import ChainedDatastore
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import retrieve_and_zip

from ...factories import file_datastore_config, make_bridge_manager
from .._capabilities import requires
from .._refs import ConformanceRefs
from .._samples import sample_value

_PLAIN = "BtkDict"

# "auto" must resolve to one mode both children agree on; "move" is copied
# to each child that takes it, then the file moved; "direct" only a file
# datastore takes.
_CHAINED_TRANSFER_MODES = ("auto", "move", "direct")


def _with_files(datastore: Datastore, directory: Path) -> tuple[Datastore, Datastore]:
    """Chain the datastore, first, with a FileDatastore; return the chain and the file child."""
    files = Datastore.fromConfig(file_datastore_config(directory / "chained_files"), make_bridge_manager())
    config = DatastoreConfig(
        {
            "cls": f"{ChainedDatastore.__module__}.{ChainedDatastore.__qualname__}",
            "datastores": [datastore.config.toDict(), files.config.toDict()],
        }
    )
    return ChainedDatastore(config, make_bridge_manager(), [datastore, files]), files


def _put(chain: Datastore, refs: ConformanceRefs, count: int = 1) -> list[DatasetRef]:
    stored = refs.refs(count, "chained", _PLAIN)
    for ref in stored:
        chain.put(sample_value(_PLAIN), ref)
    return stored


def _file_to_ingest(directory: Path) -> Path:
    """Write the ``BtkDict`` sample as the catalogue's JSON formatter would, outside any datastore."""
    path = directory / "outside" / "ingested.json"
    path.parent.mkdir()
    path.write_text(json.dumps(sample_value(_PLAIN)))
    return path


class ChainTests:
    """A ChainedDatastore whose children are the datastore under test and a FileDatastore.

    Configurations chain an in-memory datastore with file ones: each
    operation the chain forwards must work whatever the other child does
    (an unsupported operation must raise `NotImplementedError`, which the
    chain skips, and ``auto`` ingest must agree with the file child's).
    """

    conformance_area = "chains"

    def test_a_chain_puts_to_both_children_and_reads_back(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path: Path
    ) -> None:
        chain, files = _with_files(datastore, tmp_path)
        (ref,) = _put(chain, refs)
        assert chain.get(ref) == sample_value(_PLAIN)
        assert datastore.get(ref) == sample_value(_PLAIN)
        assert files.exists(ref)
        assert chain.getURI(ref) in {datastore.getURI(ref), files.getURI(ref)}

    @pytest.mark.parametrize("transfer", _CHAINED_TRANSFER_MODES)
    def test_a_chain_ingests_a_file(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path: Path, transfer: str
    ) -> None:
        chain, files = _with_files(datastore, tmp_path)
        ref = refs.ref("ingested", _PLAIN)
        chain.ingest(FileDataset(path=str(_file_to_ingest(tmp_path)), refs=[ref]), transfer=transfer)
        assert chain.get(ref) == sample_value(_PLAIN)
        assert files.get(ref) == sample_value(_PLAIN)

    @requires("ingest_transfer_modes", param="transfer")
    @pytest.mark.parametrize("transfer", _CHAINED_TRANSFER_MODES)
    def test_a_chain_ingest_reaches_the_datastore_in_its_modes(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path: Path, transfer: str
    ) -> None:
        chain, _ = _with_files(datastore, tmp_path)
        ref = refs.ref("ingested", _PLAIN)
        chain.ingest(FileDataset(path=str(_file_to_ingest(tmp_path)), refs=[ref]), transfer=transfer)
        assert datastore.get(ref) == sample_value(_PLAIN)

    def test_deleting_through_a_chain_reaches_both_children(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path: Path
    ) -> None:
        chain, files = _with_files(datastore, tmp_path)
        trashed, removed, forgotten, kept = _put(chain, refs, 4)
        chain.trash(trashed)
        chain.emptyTrash()
        chain.remove(removed)
        chain.forget([forgotten])
        expected = {trashed: False, removed: False, forgotten: False, kept: True}
        for child in (datastore, files):
            assert child.knows_these([trashed, removed, forgotten, kept]) == expected, child.name

    def test_a_chain_retrieves_artifacts_and_ingests_them_zipped(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path: Path
    ) -> None:
        chain, _ = _with_files(datastore, tmp_path)
        stored = _put(chain, refs, 2)
        (tmp_path / "zip").mkdir()
        zip_path = retrieve_and_zip(stored, tmp_path / "zip", chain.retrieveArtifacts)
        for ref in stored:
            chain.remove(ref)
        chain.ingest_zip(zip_path, transfer="copy")
        assert all(chain.get(ref) == sample_value(_PLAIN) for ref in stored)

    def test_a_chain_transfers_datasets_from_the_files_of_another_datastore(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path: Path
    ) -> None:
        source = Datastore.fromConfig(file_datastore_config(tmp_path / "source"), make_bridge_manager())
        stored = _put(source, refs, 2)
        chain, _ = _with_files(datastore, tmp_path)
        files_to_transfer = source.get_file_info_for_transfer([ref.id for ref in stored])
        accepted, _ = chain.transfer_from(files_to_transfer, stored, transfer="copy")
        assert {ref.id for ref in accepted} == {ref.id for ref in stored}
        assert all(chain.get(ref) == sample_value(_PLAIN) for ref in stored)

    def test_a_chain_exports_the_files_and_records_of_its_datasets(
        self, datastore: Datastore, refs: ConformanceRefs, tmp_path: Path
    ) -> None:
        chain, files = _with_files(datastore, tmp_path)
        stored = _put(chain, refs, 2)
        (tmp_path / "export").mkdir()
        exported = list(chain.export(stored, directory=tmp_path / "export", transfer="copy"))
        assert [dataset.refs[0].id for dataset in exported] == [ref.id for ref in stored]
        records = chain.export_records(stored)
        assert records[files.name].records
        assert set(datastore.export_records(stored)) <= set(records)
