"""Edges of the file operations the conformance suite cannot require of every datastore."""

from __future__ import annotations

import zipfile

import pytest
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import ZipIndex, retrieve_and_zip
from lsst.resources import ResourcePath

from tests._helpers import make_metrics


def test_ingest_zip_takes_a_path_string_too(make_datastore, make_ref, tmp_path):
    source, datastore = make_datastore(), make_datastore()
    ref = make_ref()
    source.put(make_metrics(), ref)
    archive = retrieve_and_zip([ref], tmp_path / "zip", source.retrieveArtifacts)
    datastore.ingest_zip(archive.ospath, transfer="copy")
    assert datastore.get(ref) == make_metrics()


def test_a_zip_indexing_a_dataset_without_its_file_is_refused(make_datastore, make_ref, tmp_path):
    source, datastore = make_datastore(), make_datastore()
    kept, without_file = make_ref(), make_ref()
    for ref in (kept, without_file):
        source.put(make_metrics(), ref)
    archive = retrieve_and_zip([kept, without_file], tmp_path / "zip", source.retrieveArtifacts)
    # The same zip, with one dataset's file gone from the zip and the index.
    with zipfile.ZipFile(archive.ospath) as original:
        index = ZipIndex.from_open_zip(original)
        dropped = next(m for m, artifact in index.artifact_map.items() if without_file.id in artifact.ids)
        del index.artifact_map[dropped]
        members = {name: original.read(name) for name in original.namelist() if name != dropped}
    members[ZipIndex.index_name] = index.model_dump_json().encode()
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(edited, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    with pytest.raises(ValueError, match="without files"):
        datastore.ingest_zip(ResourcePath(edited), transfer="copy")
    assert datastore.knows_these([kept, without_file]) == {kept: False, without_file: False}


def test_transfer_from_refuses_what_is_not_a_reference(make_datastore, make_ref):
    source, datastore = make_datastore(), make_datastore()
    ref = make_ref()
    source.put(make_metrics(), ref)
    with pytest.raises(TypeError):
        datastore.transfer_from(source.get_file_info_for_transfer([ref.id]), [ref, "not a reference"])
    assert not datastore.knows(ref)


def test_export_refuses_an_unknown_transfer_mode(make_datastore, make_ref, tmp_path):
    datastore = make_datastore()
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(ValueError, match="teleport"):
        datastore.export([ref], directory=tmp_path, transfer="teleport")
    assert list(tmp_path.iterdir()) == []


def test_retrieving_into_something_that_is_not_a_directory_is_refused(make_datastore, make_ref, tmp_path):
    datastore = make_datastore()
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(ValueError, match="directory"):
        datastore.retrieveArtifacts([ref], ResourcePath(tmp_path / "file.txt", forceDirectory=False))
