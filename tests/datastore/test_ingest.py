"""Ingesting files: read into memory through their formatters, in copy, move and auto modes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from lsst.daf.butler import DatasetTypeNotSupportedError, FileDataset
from lsst.daf.butler.datastore import Datastore

from butler_testkit.datastore import SerializedDataset
from butler_testkit.factories import CATALOGUE, FORMATTERS, DataIdFactory, RefFactory, file_datastore_config
from tests._helpers import make_metrics
from tests.factories.test_round_trips import SAMPLES, _same

MODES = ["copy", "move", "auto"]
ISOLATIONS = ["copy", "reference", "serialize"]


def _json_file(path, value) -> str:
    path.write_text(json.dumps(value))
    return str(path)


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("mode", MODES)
def test_each_supported_mode_reads_the_file_through_its_formatter(
    make_datastore, make_ref, tmp_path, mode, isolation
):
    datastore = make_datastore(isolation=isolation)
    ref = make_ref()
    path = tmp_path / "metrics.json"
    _json_file(path, {"summary": {"answer": 42, "sigma": 0.5}, "output": {"written": True}, "data": [0, 1]})
    datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer=mode)
    assert datastore.get(ref) == make_metrics(2)
    assert datastore.get(ref.makeComponentRef("counter")) == 2
    assert path.exists() is (mode != "move")


def test_every_catalogue_storage_class_ingests_from_a_file_datastore_export(
    make_datastore, registry, tmp_path
):
    refs = RefFactory(DataIdFactory(instrument="HSC", seed=3), seed=3)
    files = Datastore.fromConfig(
        file_datastore_config(tmp_path / "repo", disassemble=False), registry.getDatastoreBridgeManager()
    )
    stored = {}
    for storage_class in sorted(CATALOGUE):
        ref = refs.ref(f"ds_{storage_class}", storage_class=storage_class)
        files.put(SAMPLES[storage_class], ref)
        stored[storage_class] = ref
    export = tmp_path / "export"
    export.mkdir()
    datasets = list(files.export(stored.values(), directory=str(export), transfer="copy"))
    for dataset in datasets:
        dataset.path = str(export / dataset.path)
    datastore = make_datastore(isolation="serialize")
    datastore.ingest(*datasets, transfer="copy")
    for storage_class, ref in stored.items():
        assert _same(datastore.get(ref), SAMPLES[storage_class]), storage_class
        # Serialize isolation keeps the file as it was, with its formatter.
        kept = datastore._state.datasets[ref.id.int].obj
        assert isinstance(kept, SerializedDataset)
        assert kept.formatter == FORMATTERS[storage_class]


def test_without_a_formatter_the_configured_one_reads_the_file(make_datastore, make_ref, tmp_path):
    pickling = make_datastore(formatters={"BtkDict": "lsst.daf.butler.formatters.pickle.PickleFormatter"})
    ref = make_ref(storage_class="BtkDict")
    path = tmp_path / "value.pickle"
    import pickle

    path.write_bytes(pickle.dumps({1: (2, 3)}))
    pickling.ingest(FileDataset(path=str(path), refs=[ref]), transfer="copy")
    assert pickling.get(ref) == {1: (2, 3)}


def test_a_formatter_given_by_class_or_name_reads_the_file(datastore, make_ref, tmp_path):
    from butler_testkit.factories import ArrayFormatter

    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    path = tmp_path / "array.npy"
    np.save(path, array)
    by_class, by_name = make_ref(storage_class="BtkArray"), make_ref(storage_class="BtkArray")
    datastore.ingest(
        FileDataset(path=str(path), refs=[by_class], formatter=ArrayFormatter),
        FileDataset(path=str(path), refs=[by_name], formatter=FORMATTERS["BtkArray"]),
        transfer="copy",
    )
    assert np.array_equal(datastore.get(by_class), array)
    assert np.array_equal(datastore.get(by_name)[1:, 1:], array[1:, 1:])


def test_one_file_can_hold_several_datasets(datastore, make_ref, tmp_path):
    refs = [make_ref(storage_class="BtkDict") for _ in range(3)]
    path = _json_file(tmp_path / "shared.json", {"shared": True})
    datastore.ingest(FileDataset(path=path, refs=refs), transfer="move")
    assert [datastore.get(ref) for ref in refs] == [{"shared": True}] * 3
    assert datastore.get(refs[0]) is not datastore.get(refs[1])


def test_a_relative_path_is_relative_to_the_current_directory(datastore, make_ref, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _json_file(tmp_path / "here.json", {"here": 1})
    ref = make_ref(storage_class="BtkDict")
    datastore.ingest(FileDataset(path="here.json", refs=[ref]), transfer="auto")
    assert datastore.get(ref) == {"here": 1}


def test_a_rolled_back_move_puts_the_files_back(datastore, make_ref, tmp_path):
    ref = make_ref(storage_class="BtkDict")
    path = tmp_path / "moved.json"
    _json_file(path, {"m": 1})
    with pytest.raises(RuntimeError), datastore.transaction():
        datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer="move")
        assert not path.exists()
        raise RuntimeError("roll back")
    assert json.loads(path.read_text()) == {"m": 1}
    assert not datastore.exists(ref)


def test_a_move_that_cannot_delete_a_source_changes_nothing(datastore, make_ref, tmp_path, monkeypatch):
    from lsst.resources import ResourcePath

    first, second = make_ref(storage_class="BtkDict"), make_ref(storage_class="BtkDict")
    first_path = _json_file(tmp_path / "first.json", {"f": 1})
    second_path = _json_file(tmp_path / "second.json", {"s": 2})
    file_class = type(ResourcePath(second_path))
    remove = file_class.remove

    def refuse_the_second(uri):
        if uri.ospath == second_path:
            raise PermissionError(f"cannot delete {uri}")
        remove(uri)

    monkeypatch.setattr(file_class, "remove", refuse_the_second)
    with pytest.raises(PermissionError, match=r"second\.json"):
        datastore.ingest(
            FileDataset(path=first_path, refs=[first]),
            FileDataset(path=second_path, refs=[second]),
            transfer="move",
        )
    assert datastore.stored_refs() == []
    assert json.loads((tmp_path / "first.json").read_text()) == {"f": 1}  # written back
    assert (tmp_path / "second.json").exists()


def test_one_bad_file_stores_nothing(datastore, make_ref, tmp_path):
    good, bad = make_ref(storage_class="BtkDict"), make_ref(storage_class="BtkDict")
    good_path = _json_file(tmp_path / "good.json", {"g": 1})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match=str(bad.id)):
        datastore.ingest(
            FileDataset(path=good_path, refs=[good]),
            FileDataset(path=str(tmp_path / "bad.json"), refs=[bad]),
            transfer="move",
        )
    assert datastore.stored_refs() == []
    assert (tmp_path / "good.json").exists()


def test_constraints_reject_datasets_as_for_every_datastore(make_datastore, make_ref, tmp_path):
    picky = make_datastore(constraints={"reject": ["rejected"]})
    path = _json_file(tmp_path / "a.json", {"a": 1})
    with pytest.raises(DatasetTypeNotSupportedError, match="rejected"):
        picky.ingest(
            FileDataset(path=path, refs=[make_ref("rejected", storage_class="BtkDict")]), transfer="copy"
        )
    assert picky.stored_refs() == []


def test_capacity_counts_the_files_bytes(make_datastore, make_ref, tmp_path):
    datastore = make_datastore(isolation="reference", capacity_bytes=1000)
    path = tmp_path / "a.json"
    path.write_text('{"a":   1}')  # not how our formatter would write it
    ref = make_ref(storage_class="BtkDict")
    datastore.ingest(FileDataset(path=str(path), refs=[ref]), transfer="copy")
    assert datastore._state.used_bytes == len(path.read_bytes())
