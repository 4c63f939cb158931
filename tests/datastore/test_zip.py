"""Zip files of datasets, as Butler.retrieve_artifacts_zip makes them, both ways with FileDatastore."""

from __future__ import annotations

import os

import pytest
from lsst.daf.butler import DatasetTypeNotSupportedError
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import retrieve_and_zip
from lsst.resources import ResourcePath

from butler_testkit.factories import DataIdFactory, RefFactory
from tests._helpers import make_metrics, put_samples
from tests.factories.test_round_trips import SAMPLES, _same

ISOLATIONS = ["copy", "reference", "serialize"]


@pytest.fixture
def refs() -> RefFactory:
    """Expanded refs, which a FileDatastore's file templates need."""
    return RefFactory(DataIdFactory(instrument="LSSTCam", seed=6), seed=6)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_our_zip_is_ingested_by_file_datastore(make_datastore, file_datastore, refs, tmp_path, isolation):
    ours = make_datastore(isolation=isolation)
    stored = put_samples(ours, refs)
    archive = retrieve_and_zip(list(stored.values()), tmp_path / "zips", ours.retrieveArtifacts)
    files = file_datastore()
    files.ingest_zip(archive, transfer="copy")
    for storage_class, ref in stored.items():
        assert _same(files.get(ref), SAMPLES[storage_class]), storage_class
        assert _same(files.get(ref), ours.get(ref)), storage_class


@pytest.mark.parametrize("disassemble", [False, True], ids=["whole", "disassembled"])
@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_file_datastore_zip_is_ingested_into_memory(
    make_datastore, file_datastore, refs, tmp_path, isolation, disassemble
):
    files = file_datastore(disassemble)
    stored = put_samples(files, refs)
    archive = retrieve_and_zip(list(stored.values()), tmp_path / "zips", files.retrieveArtifacts)
    ours = make_datastore(isolation=isolation)
    ours.ingest_zip(archive, transfer="copy")
    for storage_class, ref in stored.items():
        assert _same(ours.get(ref), SAMPLES[storage_class]), storage_class
    assert ours.get(stored["BtkMetrics"].makeComponentRef("counter")) == len(SAMPLES["BtkMetrics"].data)
    assert archive.exists()  # copied, not moved


def test_a_zip_round_trips_through_both_datastores_back_into_memory(
    datastore, make_datastore, file_datastore, refs, tmp_path
):
    ref = refs.ref("metric", storage_class="BtkMetrics")
    datastore.put(make_metrics(), ref)
    first = retrieve_and_zip([ref], tmp_path / "first", datastore.retrieveArtifacts)
    files = file_datastore()
    files.ingest_zip(first, transfer="copy")
    second = retrieve_and_zip([ref], tmp_path / "second", files.retrieveArtifacts)
    back = make_datastore()
    back.ingest_zip(second, transfer="auto")
    assert back.get(ref) == make_metrics()


def test_move_deletes_the_zip_and_a_rollback_puts_it_back(datastore, make_datastore, make_ref, tmp_path):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    archive = retrieve_and_zip([ref], tmp_path, datastore.retrieveArtifacts)
    contents = archive.read()
    target = make_datastore()
    with pytest.raises(RuntimeError), target.transaction():
        target.ingest_zip(archive, transfer="move")
        assert not archive.exists()
        assert target.get(ref) == make_metrics()
        raise RuntimeError("roll back")
    assert archive.read() == contents
    assert not target.exists(ref)
    target.ingest_zip(archive, transfer="move")
    assert not archive.exists()
    assert target.get(ref) == make_metrics()


@pytest.mark.parametrize("replacement", ["file", "link"])
def test_a_rollback_never_puts_a_moved_zip_over_what_took_its_place(
    datastore, make_datastore, make_ref, tmp_path, caplog, replacement
):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    archive = retrieve_and_zip([ref], tmp_path / "zips", datastore.retrieveArtifacts)
    outside = tmp_path / "outside"
    outside.write_bytes(b"someone else's file")
    target = make_datastore()
    with pytest.raises(RuntimeError), target.transaction():
        target.ingest_zip(archive, transfer="move")
        if replacement == "file":
            archive.write(b"a newer file")
        else:
            os.symlink(outside, archive.ospath)
        raise RuntimeError("roll back")
    assert "something else is there now" in caplog.text
    assert outside.read_bytes() == b"someone else's file"
    if replacement == "file":
        assert archive.read() == b"a newer file"
    else:
        assert os.readlink(archive.ospath) == str(outside)
    assert not target.exists(ref)


def test_a_dry_run_reads_everything_and_stores_nothing(datastore, make_datastore, make_ref, tmp_path):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    archive = retrieve_and_zip([ref], tmp_path, datastore.retrieveArtifacts)
    target = make_datastore()
    target.ingest_zip(archive, transfer="move", dry_run=True)
    assert not target.exists(ref)
    assert archive.exists()


def test_a_dry_run_reports_what_the_real_ingest_would_refuse(datastore, make_datastore, make_ref, tmp_path):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    archive = retrieve_and_zip([ref], tmp_path, datastore.retrieveArtifacts)
    with pytest.raises(FileExistsError, match=str(ref.id)):
        datastore.ingest_zip(archive, transfer="copy", dry_run=True)  # already stored here
    tiny = make_datastore(capacity_bytes=10)
    with pytest.raises(OSError, match="capacity_bytes"):
        tiny.ingest_zip(archive, transfer="copy", dry_run=True)
    assert tiny.stored_refs() == []
    assert archive.exists()


def test_constraints_reject_the_whole_zip(datastore, make_datastore, make_ref, tmp_path):
    kept, rejected = make_ref("kept", storage_class="BtkDict"), make_ref("rejected", storage_class="BtkDict")
    datastore.put({"a": 1}, kept)
    datastore.put({"b": 2}, rejected)
    archive = retrieve_and_zip([kept, rejected], tmp_path, datastore.retrieveArtifacts)
    picky = make_datastore(constraints={"reject": ["rejected"]})
    with pytest.raises(DatasetTypeNotSupportedError, match="rejected"):
        picky.ingest_zip(archive, transfer="copy")
    assert picky.stored_refs() == []


def test_a_dataset_already_stored_stops_the_whole_zip(datastore, make_datastore, make_ref, tmp_path):
    first, second = make_ref(), make_ref()
    datastore.put(make_metrics(1), first)
    datastore.put(make_metrics(2), second)
    archive = retrieve_and_zip([first, second], tmp_path, datastore.retrieveArtifacts)
    target = make_datastore()
    target.put(make_metrics(7), second)
    with pytest.raises(FileExistsError, match=str(second.id)):
        target.ingest_zip(archive, transfer="copy")
    assert target.stored_refs() == [second]
    assert target.get(second) == make_metrics(7)


def test_the_zip_is_named_by_its_content(datastore, make_ref, tmp_path):
    refs = [make_ref(), make_ref()]
    for ref in refs:
        datastore.put(make_metrics(), ref)
    first = retrieve_and_zip(refs, tmp_path / "a", datastore.retrieveArtifacts)
    second = retrieve_and_zip(list(reversed(refs)), tmp_path / "b", datastore.retrieveArtifacts)
    assert first.basename() == second.basename()
    assert sorted(os.listdir(tmp_path / "a")) == [first.basename()]  # staging removed
    assert isinstance(first, ResourcePath)


def test_a_corrupt_member_named_by_a_record_is_reported_with_its_zip(datastore, make_ref, tmp_path):
    import zipfile

    from butler_testkit.datastore._incoming import read_file

    archive = tmp_path / "records.zip"
    with zipfile.ZipFile(archive, "w") as writing:
        writing.writestr("member.json", b'{"a": 1}')
    raw = bytearray(archive.read_bytes())
    raw[raw.index(b'{"a": 1}')] ^= 0xFF  # stored uncompressed: flip the first byte of its data
    archive.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"records\.zip.*'member\.json'"):
        read_file(ResourcePath(f"{archive}#zip-path=member.json"))
    (tmp_path / "not.zip").write_bytes(b"no")
    with pytest.raises(ValueError, match=r"not\.zip is not a zip file"):
        read_file(ResourcePath(f"{tmp_path / 'not.zip'}#zip-path=member.json"))
