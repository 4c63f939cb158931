"""Every file the datastore writes lands inside the directory it was given, all or none."""

from __future__ import annotations

import json
import os

import pytest
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import ZipIndex
from lsst.resources import ResourcePath

from butler_testkit.datastore import _writing
from butler_testkit.datastore._writing import write_files
from tests._helpers import directory_uri, files_under, make_metrics

OUTSIDE_CONTENT = b"a file outside the destination"


@pytest.fixture
def stored(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    return ref


@pytest.fixture
def layout(datastore, stored, tmp_path):
    """Where retrieveArtifacts writes the stored dataset, relative to its destination."""
    (target,) = datastore.retrieveArtifacts([stored], directory_uri(tmp_path / "probe"), write_index=False)
    return os.path.relpath(target.ospath, tmp_path / "probe")


class TestThroughSymbolicLinks:
    """A link in the destination never takes a file outside it."""

    @pytest.mark.parametrize("dangling", [True, False], ids=["dangling", "to-a-file"])
    def test_a_link_at_a_target_is_an_existing_file(self, datastore, stored, layout, tmp_path, dangling):
        outside = tmp_path / "outside.json"
        if not dangling:
            outside.write_bytes(OUTSIDE_CONTENT)
        destination = tmp_path / "destination"
        (destination / layout).parent.mkdir(parents=True)
        os.symlink(outside, destination / layout)
        with pytest.raises(FileExistsError, match="nothing was written"):
            datastore.retrieveArtifacts([stored], directory_uri(destination))
        assert outside.exists() != dangling
        if not dangling:
            assert outside.read_bytes() == OUTSIDE_CONTENT
        assert files_under(destination) == [layout]  # the link, and nothing else (no index)

    def test_overwriting_replaces_a_link_not_its_target(self, datastore, stored, layout, tmp_path):
        outside = tmp_path / "outside.json"
        outside.write_bytes(OUTSIDE_CONTENT)
        destination = tmp_path / "destination"
        (destination / layout).parent.mkdir(parents=True)
        os.symlink(outside, destination / layout)
        (target,) = datastore.retrieveArtifacts([stored], directory_uri(destination), overwrite=True)
        assert outside.read_bytes() == OUTSIDE_CONTENT
        assert not os.path.islink(target.ospath)
        assert json.loads(target.read())["data"] == make_metrics().data

    def test_a_link_to_a_directory_elsewhere_is_refused(self, datastore, stored, layout, tmp_path):
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        destination = tmp_path / "destination"
        destination.mkdir()
        top = layout.split("/")[0]
        os.symlink(elsewhere, destination / top)
        for overwrite in (False, True):
            with pytest.raises(ValueError, match="outside the directory"):
                datastore.retrieveArtifacts([stored], directory_uri(destination), overwrite=overwrite)
        with pytest.raises(ValueError, match="outside the directory"):
            datastore.export([stored], directory=str(destination), transfer="copy")
        assert files_under(elsewhere) == []
        assert os.listdir(destination) == [top]

    def test_a_link_to_a_directory_inside_is_followed(self, datastore, stored, layout, tmp_path):
        destination = tmp_path / "destination"
        (destination / "real").mkdir(parents=True)
        top = layout.split("/")[0]
        os.symlink(destination / "real", destination / top)
        datastore.retrieveArtifacts([stored], directory_uri(destination), write_index=False)
        assert files_under(destination / "real") == [os.path.relpath(layout, top)]

    def test_export_refuses_a_dangling_link(self, datastore, stored, layout, tmp_path):
        outside = tmp_path / "outside.json"
        destination = tmp_path / "destination"
        (destination / layout).parent.mkdir(parents=True)
        os.symlink(outside, destination / layout)
        with pytest.raises(FileExistsError, match="nothing was written"):
            datastore.export([stored], directory=str(destination), transfer="copy")
        assert not outside.exists()

    def test_a_link_at_the_index_is_replaced_not_written_through(self, datastore, stored, tmp_path):
        outside = tmp_path / "outside.json"
        outside.write_bytes(OUTSIDE_CONTENT)
        destination = tmp_path / "destination"
        destination.mkdir()
        os.symlink(outside, destination / ZipIndex.index_name)
        datastore.retrieveArtifacts([stored], directory_uri(destination))
        assert outside.read_bytes() == OUTSIDE_CONTENT
        index = ZipIndex.model_validate_json((destination / ZipIndex.index_name).read_text())
        assert list(index.refs.to_refs(universe=stored.datasetType.dimensions.universe)) == [stored]


class TestAllOrNothing:
    def test_nothing_is_left_when_the_index_cannot_be_written(self, datastore, stored, tmp_path):
        destination = tmp_path / "destination"
        (destination / ZipIndex.index_name).mkdir(parents=True)
        with pytest.raises(IsADirectoryError, match=ZipIndex.index_name):
            datastore.retrieveArtifacts([stored], directory_uri(destination))
        assert files_under(destination) == []
        assert os.listdir(destination) == [ZipIndex.index_name]

    def test_a_failed_write_puts_every_file_back_as_it_was(self, tmp_path, monkeypatch):
        existing = ResourcePath(tmp_path / "existing.json")
        existing.write(b"the user's own file")
        outside = tmp_path / "outside.json"
        outside.write_bytes(OUTSIDE_CONTENT)
        link = tmp_path / "link.json"
        os.symlink(outside, link)
        created = ResourcePath(tmp_path / "new" / "deeper" / "created.json")
        failing = ResourcePath(tmp_path / "failing.json")
        real_write = _writing.write_atomically

        def write(path, data):
            if path == failing.ospath:
                raise OSError("the disk is full")
            real_write(path, data)

        monkeypatch.setattr(_writing, "write_atomically", write)
        planned = [(existing, b"new"), (ResourcePath(link), b"new"), (created, b"new"), (failing, b"new")]
        with pytest.raises(OSError, match="the disk is full"):
            write_files(directory_uri(tmp_path), planned, overwrite=True)
        assert existing.read() == b"the user's own file"
        assert os.readlink(link) == str(outside)
        assert outside.read_bytes() == OUTSIDE_CONTENT
        assert not (tmp_path / "new").exists()
        assert sorted(os.listdir(tmp_path)) == ["existing.json", "link.json", "outside.json"]

    def test_a_path_through_a_file_is_refused_before_anything_is_written(self, tmp_path):
        (tmp_path / "a-file").write_text("not a directory")
        planned = [
            (ResourcePath(tmp_path / "first.json"), b"new"),
            (ResourcePath(tmp_path / "a-file" / "below.json"), b"new"),
        ]
        with pytest.raises(NotADirectoryError, match="a-file"):
            write_files(directory_uri(tmp_path), planned, overwrite=True)
        assert sorted(os.listdir(tmp_path)) == ["a-file"]

    def test_a_path_outside_the_root_is_refused(self, tmp_path):
        planned = [(ResourcePath(tmp_path / "root" / ".." / "escaped.json"), b"new")]
        with pytest.raises(ValueError, match="outside the directory"):
            write_files(directory_uri(tmp_path / "root"), planned, overwrite=True)
        assert os.listdir(tmp_path) == []
