"""Datasets written out as files: retrieveArtifacts, and the datastore's own files for transfers."""

from __future__ import annotations

import gc
import json
import os
import weakref

import pytest
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import ZipIndex
from lsst.resources import ResourcePath

from butler_testkit import InMemoryDatastore
from butler_testkit.datastore import DatastoreState, release_shared_state
from butler_testkit.factories import FORMATTERS
from tests._helpers import directory_uri, files_under, make_metrics

ISOLATIONS = ["copy", "reference", "serialize"]


@pytest.fixture(params=ISOLATIONS)
def any_isolation(request, make_datastore) -> InMemoryDatastore:
    return make_datastore(isolation=request.param)


def test_each_dataset_is_written_through_its_formatter_at_its_path(any_isolation, make_ref, tmp_path):
    ref = make_ref(run="some/run")
    any_isolation.put(make_metrics(), ref)
    artifacts = any_isolation.retrieveArtifacts([ref], directory_uri(tmp_path))
    (target,) = artifacts
    expected = f"some/run/metric/metric_DummyCam_{ref.dataId['visit']}_{ref.id.hex}.json"
    assert target == directory_uri(tmp_path).join(expected)
    assert json.loads(target.read()) == {
        "summary": make_metrics().summary,
        "output": {"written": True},
        "data": list(range(5)),
    }
    info = artifacts[target]
    assert info.ids == {ref.id}
    assert info.info.formatter == FORMATTERS["BtkMetrics"]
    assert info.info.path == expected
    assert info.info.storage_class == "BtkMetrics"
    assert info.info.file_size == len(target.read())
    assert files_under(tmp_path) == sorted([expected, ZipIndex.index_name])


def test_without_preserve_path_files_land_in_the_destination_optionally_prefixed(
    datastore, make_ref, tmp_path
):
    refs = [make_ref(), make_ref()]
    for ref in refs:
        datastore.put(make_metrics(), ref)
    plain = datastore.retrieveArtifacts(
        refs, directory_uri(tmp_path / "plain"), preserve_path=False, write_index=False
    )
    assert sorted(uri.basename() for uri in plain) == sorted(
        f"metric_DummyCam_{ref.dataId['visit']}_{ref.id.hex}.json" for ref in refs
    )
    prefixed = datastore.retrieveArtifacts(
        refs, directory_uri(tmp_path / "prefixed"), preserve_path=False, add_prefix=True, write_index=False
    )
    assert sorted(uri.basename()[:9] for uri in prefixed) == sorted(f"{str(ref.id)[:8]}-" for ref in refs)
    assert files_under(tmp_path / "plain") == sorted(uri.basename() for uri in plain)


def test_the_index_describes_what_was_written(datastore, make_ref, tmp_path):
    refs = [make_ref(), make_ref(storage_class="BtkDict", name="plain")]
    datastore.put(make_metrics(), refs[0])
    datastore.put({"a": 1}, refs[1])
    artifacts = datastore.retrieveArtifacts(refs, directory_uri(tmp_path))
    index = ZipIndex.model_validate_json((tmp_path / ZipIndex.index_name).read_text())
    assert {ref.id for ref in index.refs.to_refs(universe=refs[0].dimensions.universe)} == {
        r.id for r in refs
    }
    assert set(index.artifact_map) == {uri.relative_to(directory_uri(tmp_path)) for uri in artifacts}


def test_a_component_ref_or_a_repeated_ref_writes_the_dataset_once(datastore, make_ref, tmp_path):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    artifacts = datastore.retrieveArtifacts([ref, ref.makeComponentRef("data"), ref], directory_uri(tmp_path))
    assert len(artifacts) == 1
    index = ZipIndex.model_validate_json((tmp_path / ZipIndex.index_name).read_text())
    (indexed,) = index.refs.to_refs(universe=ref.dimensions.universe)
    assert indexed.id == ref.id and not indexed.isComponent()


def test_serialize_mode_writes_its_stored_bytes(make_datastore, make_ref, tmp_path):
    datastore = make_datastore(isolation="serialize")
    ref = make_ref(storage_class="BtkDict")
    datastore.put({"z": 1, "a": 2}, ref)
    (target,) = datastore.retrieveArtifacts([ref], directory_uri(tmp_path))
    assert target.read() == datastore._state.datasets[ref.id.int].obj.data == b'{"z": 1, "a": 2}'


def test_existing_files_are_kept_unless_overwriting(datastore, make_ref, tmp_path):
    first, second = make_ref(), make_ref()
    datastore.put(make_metrics(1), first)
    datastore.put(make_metrics(2), second)
    (existing,) = datastore.retrieveArtifacts([first], directory_uri(tmp_path), write_index=False)
    existing.write(b"old", overwrite=True)
    with pytest.raises(FileExistsError):
        datastore.retrieveArtifacts([second, first], directory_uri(tmp_path))
    assert existing.read() == b"old"
    assert len(files_under(tmp_path)) == 1  # second was not written either
    datastore.retrieveArtifacts([second, first], directory_uri(tmp_path), overwrite=True)
    assert json.loads(existing.read())["data"] == [0]
    assert len(files_under(tmp_path)) == 3


def test_every_writing_mode_writes_independentfiles_under(datastore, make_ref, tmp_path):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    for mode in ("auto", "copy", "link", "symlink", "hardlink", "relsymlink"):
        (target,) = datastore.retrieveArtifacts([ref], directory_uri(tmp_path / mode), transfer=mode)
        assert not os.path.islink(target.ospath)
        assert os.stat(target.ospath).st_nlink == 1


def test_nothing_to_retrieve_writes_an_empty_index(datastore, tmp_path):
    assert datastore.retrieveArtifacts([], directory_uri(tmp_path)) == {}
    assert ZipIndex.model_validate_json((tmp_path / ZipIndex.index_name).read_text()).artifact_map == {}


# The datastore's own files, written on demand.


def test_files_for_transfer_are_written_once_relative_to_a_temporary_root(any_isolation, make_ref):
    ref = make_ref()
    any_isolation.put(make_metrics(), ref)
    (record,) = any_isolation.get_file_info_for_transfer([ref.id])[ref.id]
    uri = record.location.uri
    assert uri.isTemporary  # so that "auto" transfers copy it
    assert uri.exists()
    assert record.file_info.path == f"test/run/metric/metric_DummyCam_{ref.dataId['visit']}_{ref.id.hex}.json"
    assert not ResourcePath(record.file_info.path, forceAbsolute=False).isabs()
    assert record.file_info.formatter == FORMATTERS["BtkMetrics"]
    modified = os.stat(uri.ospath).st_mtime_ns
    (again,) = any_isolation.get_file_info_for_transfer([ref.id])[ref.id]
    assert again.location.uri == uri
    assert os.stat(uri.ospath).st_mtime_ns == modified


def test_a_file_moved_away_by_a_receiver_is_written_again(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    (record,) = datastore.get_file_info_for_transfer([ref.id])[ref.id]
    os.remove(record.location.uri.ospath)
    (again,) = datastore.get_file_info_for_transfer([ref.id])[ref.id]
    assert again.location.uri.exists()


def test_unknown_ids_are_left_out(datastore, make_ref):
    assert datastore.get_file_info_for_transfer([make_ref().id]) == {}
    assert not datastore._state.artifacts.exists  # nothing was needed, nothing was made


@pytest.mark.parametrize("removal", ["remove", "forget", "emptyTrash", "expire", "restore"])
def test_a_file_goes_when_its_dataset_goes(make_datastore, make_ref, removal):
    datastore = make_datastore(expire_after=10)
    now = [0.0]
    datastore.clock = lambda: now[0]
    baseline = datastore.snapshot()
    ref, kept = make_ref(), make_ref()
    datastore.put(make_metrics(), ref)
    datastore.put(make_metrics(), kept)
    files = datastore.get_file_info_for_transfer([ref.id, kept.id])
    gone, stays = files[ref.id][0].location.uri, files[kept.id][0].location.uri
    if removal == "remove":
        datastore.remove(ref)
    elif removal == "forget":
        datastore.forget([ref])
    elif removal == "emptyTrash":
        datastore.trash(ref)
        assert gone.exists()  # a trashed dataset still exists
        datastore.emptyTrash()
    elif removal == "expire":
        now[0] = 20.0
        datastore.expire()
    else:
        datastore.restore(baseline)
    assert not gone.exists()
    assert stays.exists() is (removal not in ("expire", "restore"))
    assert len(datastore._state.artifacts) == (0 if removal in ("expire", "restore") else 1)


def test_a_rolled_back_forget_gets_its_file_again_on_demand(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    (record,) = datastore.get_file_info_for_transfer([ref.id])[ref.id]
    with pytest.raises(RuntimeError), datastore.transaction():
        datastore.forget([ref])
        raise RuntimeError("roll back")
    assert not record.location.uri.exists()
    (again,) = datastore.get_file_info_for_transfer([ref.id])[ref.id]
    assert again.location.uri.exists()


def test_the_directory_goes_with_the_state(registry, make_ref):
    from lsst.daf.butler.datastore import DatastoreConfig

    datastore = InMemoryDatastore(
        DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore"}), registry.getDatastoreBridgeManager()
    )
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    datastore.get_file_info_for_transfer([ref.id])
    root = datastore._state.artifacts.root.ospath
    assert os.path.isdir(root)
    state = weakref.ref(datastore._state)
    del datastore
    gc.collect()
    assert state() is None
    assert not os.path.exists(root)


def test_releasing_a_shared_state_deletes_its_files_at_once(make_datastore, registry, make_ref, tmp_path):
    from lsst.daf.butler.datastore import Datastore, DatastoreConfig

    datastore = Datastore.fromConfig(
        DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore", "shared": True}),
        registry.getDatastoreBridgeManager(),
        butlerRoot=str(tmp_path),
    )
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    datastore.get_file_info_for_transfer([ref.id])
    root = datastore._state.artifacts.root.ospath
    assert release_shared_state(str(tmp_path))
    assert not os.path.exists(root)
    # The datastore still works, and writes the file again if asked.
    (again,) = datastore.get_file_info_for_transfer([ref.id])[ref.id]
    assert again.location.uri.exists()
    datastore._state.release_artifacts()


def test_clones_share_thefiles_under(datastore, make_ref, registry):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    clone = datastore.clone(registry.getDatastoreBridgeManager())
    first = datastore.get_file_info_for_transfer([ref.id])[ref.id][0].location.uri
    assert clone.get_file_info_for_transfer([ref.id])[ref.id][0].location.uri == first
    assert isinstance(clone._state, DatastoreState) and clone._state is datastore._state


@pytest.mark.parametrize("run", ["../../escaped", "a/./../b", "..", "a//b/"])
def test_no_run_name_writes_outside_the_destination(datastore, make_ref, tmp_path, run):
    ref = make_ref(run=run, data_id={"instrument": "..", "visit": 1})
    datastore.put(make_metrics(), ref)
    destination = tmp_path / "inside"
    (target,) = datastore.retrieveArtifacts([ref], directory_uri(destination))
    assert os.path.commonpath([target.ospath, str(destination)]) == str(destination)
    (tmp_path / "export").mkdir()
    (exported,) = datastore.export([ref], directory=str(tmp_path / "export"), transfer="copy")
    assert ".." not in exported.path.split("/")
    (info,) = datastore.get_file_info_for_transfer([ref.id])[ref.id]
    root = datastore._state.artifact_root().ospath.rstrip("/")
    assert os.path.commonpath([info.location.uri.ospath, root]) == root
    assert sorted(os.listdir(tmp_path)) == ["export", "inside"]


def test_threads_using_the_files_first_share_onedirectory_uri(make_datastore, make_ref):
    from concurrent.futures import ThreadPoolExecutor

    datastore = make_datastore()
    refs = [make_ref() for _ in range(16)]
    for ref in refs:
        datastore.put(make_metrics(), ref)
    with ThreadPoolExecutor(8) as pool:
        infos = list(pool.map(lambda ref: datastore.get_file_info_for_transfer([ref.id])[ref.id][0], refs))
    # One directory was made, and every file is in it.
    root = datastore._state.artifact_root().ospath.rstrip("/")
    assert all(os.path.commonpath([info.location.uri.ospath, root]) == root for info in infos)
    assert all(info.location.uri.exists() for info in infos)
