"""Several Butlers on one repository whose datastore is ours, as on a file repository."""

from __future__ import annotations

import gc
import os
import shutil
import weakref

import pytest
from lsst.daf.butler import (
    Butler,
    Config,
    DataCoordinate,
    DatasetRef,
    DatasetType,
    QuantumBackedButler,
    QuantumProvenanceData,
)
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.direct_butler import DirectButler

from butler_testkit import InMemoryDatastore
from butler_testkit.bridge import InMemoryBridgeManager
from butler_testkit.butler import create_test_repository
from butler_testkit.datastore import release_shared_state, shared_state_roots

try:
    from lsst.daf.butler import Quantum
except ImportError:  # pragma: no cover - older daf_butler
    from lsst.daf.butler.core import Quantum  # type: ignore[no-redef]

# The drop-in configuration: only the datastore class changes.
DROP_IN = {"datastore": {"cls": "butler_testkit.InMemoryDatastore"}}


def _make_repository(root: str, datastore: dict[str, object] | None = None) -> DirectButler:
    config = Config({"datastore": {**DROP_IN["datastore"], **(datastore or {})}})
    Butler.makeRepo(root, config=config)
    butler = Butler.from_config(root, writeable=True, run="in")
    assert isinstance(butler, DirectButler)
    return butler


def _dataset_type(butler: Butler, name: str) -> DatasetType:
    dataset_type = DatasetType(name, butler.dimensions.empty, "StructuredDataDict")
    butler.registry.registerDatasetType(dataset_type)
    return dataset_type


# Sharing by repository is the default for a datastore with a root; saying
# so explicitly must change nothing.
SHARING = pytest.mark.parametrize("sharing", [{}, {"shared": True}], ids=["default", "shared"])


@pytest.fixture(params=[{}, {"shared": True}], ids=["default", "shared"])
def repo(request, tmp_path):
    root = str(tmp_path / "repo")
    butler = _make_repository(root, request.param)
    yield root, butler
    butler.close()
    release_shared_state(root)


def test_a_second_butler_reads_what_the_first_stored(repo):
    root, butler = repo
    ref = butler.put({"a": 1}, _dataset_type(butler, "plain"))
    with Butler.from_config(root) as second:
        assert second.get(ref) == {"a": 1}
        assert second._datastore.name == butler._datastore.name
        assert second._datastore.knows(ref)
    with Butler.from_config(root, writeable=False) as read_only:
        assert read_only.get(ref) == {"a": 1}


def test_a_rolled_back_put_is_known_to_no_butler(repo):
    root, butler = repo
    dataset_type = _dataset_type(butler, "plain")
    with pytest.raises(RuntimeError, match="abandon"), butler.transaction():
        ref = butler.put({"a": 1}, dataset_type)
        raise RuntimeError("abandon")
    with Butler.from_config(root) as second:
        assert not second._datastore.knows(ref)
        assert not second._datastore.exists(ref)


def test_records_exported_by_one_instance_are_imported_by_another(repo):
    root, butler = repo
    ref = butler.put({"a": 1}, _dataset_type(butler, "plain"))
    records = butler._datastore.export_records([ref])
    # Another registry (its own bridge manager): it knows nothing until the
    # records come in, then reads the dataset under the same datastore name.
    config = DatastoreConfig(DROP_IN)
    other = Datastore.fromConfig(config, InMemoryBridgeManager(universe=butler.dimensions), root)
    assert isinstance(other, InMemoryDatastore)
    assert other.name == butler._datastore.name
    assert other.knows_these([ref]) == {ref: False}
    with pytest.raises(FileNotFoundError):
        other.get(ref)
    other.import_records(records)
    assert other.knows(ref)
    assert other.get(ref) == {"a": 1}


def test_a_quantum_backed_butler_reads_inputs_and_its_outputs_are_known_only_once_transferred(repo):
    root, butler = repo
    input_type = _dataset_type(butler, "input")
    output_type = _dataset_type(butler, "output")
    input_ref = butler.put({"in": 1}, input_type)
    output_ref = DatasetRef(output_type, DataCoordinate.make_empty(butler.dimensions), run="out")
    quantum = Quantum(
        taskName="some.Task",
        dataId=DataCoordinate.make_empty(butler.dimensions),
        inputs={input_type: [input_ref]},
        outputs={output_type: [output_ref]},
        datastore_records=butler._datastore.export_records([input_ref]),
    )
    qbb = QuantumBackedButler.initialize(
        config=root,
        quantum=quantum,
        dimensions=butler.dimensions,
        dataset_types={t.name: t for t in (input_type, output_type)},
    )
    assert qbb._datastore.knows(input_ref)
    assert qbb.get(input_ref) == {"in": 1}
    qbb.put({"out": 2}, output_ref)

    # Written by the quantum, recorded only in the quantum's own database.
    assert butler._datastore.knows_these([output_ref]) == {output_ref: False}
    assert not butler._datastore.exists(output_ref)

    butler.registry.registerRun("out")
    QuantumProvenanceData.collect_and_transfer(butler, [quantum], [qbb.extract_provenance_data()])
    assert butler._datastore.knows_these([output_ref]) == {output_ref: True}
    assert butler.get(output_ref) == {"out": 2}
    with Butler.from_config(root) as second:
        assert second.get(output_ref) == {"out": 2}


def test_transfer_from_a_quantum_backed_butler_makes_its_outputs_known(repo):
    root, butler = repo
    output_type = _dataset_type(butler, "output")
    output_ref = DatasetRef(output_type, DataCoordinate.make_empty(butler.dimensions), run="out")
    quantum = Quantum(
        taskName="some.Task",
        dataId=DataCoordinate.make_empty(butler.dimensions),
        inputs={},
        outputs={output_type: [output_ref]},
    )
    qbb = QuantumBackedButler.initialize(
        config=root, quantum=quantum, dimensions=butler.dimensions, dataset_types={"output": output_type}
    )
    qbb.put({"out": 2}, output_ref)
    assert butler._datastore.knows_these([output_ref]) == {output_ref: False}

    source = qbb._datastore.get_file_info_for_transfer([output_ref.id])
    accepted, rejected = butler._datastore.transfer_from(source, [output_ref])
    assert (accepted, rejected) == ({output_ref}, set())
    assert butler._datastore.knows_these([output_ref]) == {output_ref: True}
    assert butler._datastore.get(output_ref) == {"out": 2}


def test_a_repository_through_a_symbolic_link_is_the_same_repository(repo, tmp_path):
    root, butler = repo
    ref = butler.put({"a": 1}, _dataset_type(butler, "plain"))
    link = tmp_path / "link"
    os.symlink(root, link)
    with Butler.from_config(str(link)) as through_link:
        assert through_link.get(ref) == {"a": 1}
        assert through_link._datastore.name == butler._datastore.name


@SHARING
def test_a_repository_deleted_and_made_again_starts_empty(tmp_path, sharing):
    root = str(tmp_path / "repo")
    butler = _make_repository(root, sharing)
    ref = butler.put({"a": 1}, _dataset_type(butler, "plain"))
    state = weakref.ref(butler._datastore._stored_state)
    butler.close()
    del butler
    shutil.rmtree(root)

    again = _make_repository(root, sharing)
    try:
        assert again._datastore.stored_refs() == []
        again._datastore._set_trust_mode(True)
        assert not again._datastore.exists(ref)
        gc.collect()
        # Opening a repository forgets those whose directory is gone.
        assert state() is None
    finally:
        again.close()
        release_shared_state(root)


def test_a_copy_of_a_repository_directory_is_another_repository(repo, tmp_path):
    root, butler = repo
    ref = butler.put({"a": 1}, _dataset_type(butler, "plain"))
    copy = str(tmp_path / "copy")
    shutil.copytree(root, copy)
    try:
        with Butler.from_config(copy) as other:
            assert not other._datastore.exists(ref)
    finally:
        release_shared_state(copy)


def test_closing_a_test_repository_releases_its_datasets(tmp_path):
    repo = create_test_repository(tmp_path / "repo", run="in")
    dataset_type = _dataset_type(repo.butler, "plain")
    repo.butler.put({"a": 1}, dataset_type)
    state = weakref.ref(repo.butler._datastore._stored_state)
    root = str(repo.root)
    repo.close()
    del repo
    gc.collect()
    assert state() is None
    assert not any(os.path.realpath(root) in shared for shared in shared_state_roots())


def test_a_released_repository_is_forgotten(repo):
    root, butler = repo
    butler.put({"a": 1}, _dataset_type(butler, "plain"))
    state = weakref.ref(butler._datastore._stored_state)
    butler.close()
    del butler, repo
    assert release_shared_state(root)
    gc.collect()
    assert state() is None


def test_shared_false_keeps_each_datastore_private(tmp_path):
    root = str(tmp_path / "repo")
    butler = _make_repository(root, {"shared": False})
    try:
        ref = butler.put({"a": 1}, _dataset_type(butler, "plain"))
        with Butler.from_config(root) as second:
            assert not second._datastore.knows(ref)
            assert second._datastore.name != butler._datastore.name
    finally:
        butler.close()
