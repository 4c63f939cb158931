"""Test repositories: real, isolated, shared by every Butler on them, leak-free."""

from __future__ import annotations

import gc
import os
import pickle

import pytest
from lsst.daf.butler import Butler, CollectionType, Config, DatasetType

from butler_testkit import InMemoryDatastore
from butler_testkit.butler import (
    RepositorySpec,
    TestRepository,
    _repository,
    _template,
    cache_directory,
    create_test_repository,
    reset_setup_stats,
    setup_stats,
)
from butler_testkit.datastore import shared_state_roots


@pytest.fixture
def repo(tmp_path, registry):
    with create_test_repository(tmp_path / "repo", run="my/run", registry=registry) as repository:
        yield repository


def _plain_type(butler, name="plain", storage_class="BtkDict"):
    dataset_type = DatasetType(name, butler.dimensions.conform(["instrument"]), storage_class)
    butler.registry.registerDatasetType(dataset_type)
    return dataset_type


def test_a_writeable_butler_with_its_run(repo):
    assert isinstance(repo, TestRepository)
    assert repo.butler.isWriteable()
    assert repo.butler.run == "my/run"
    assert repo.butler.collections.get_info("my/run").type is CollectionType.RUN
    assert isinstance(repo.butler._datastore, InMemoryDatastore)
    assert (repo.root / "butler.yaml").exists()
    assert Config(str(repo.root / "butler.yaml"))["registry", "db"] in (
        "sqlite:///<butlerRoot>/gen3.sqlite3",
        repo.registry_url,
    )
    if repo.registry_dialect == "sqlite":
        assert repo.database.exists()
    else:
        with pytest.raises(AttributeError, match="use registry_url"):
            repo.database  # noqa: B018


def test_every_butler_opened_on_the_root_shares_registry_and_datasets(repo):
    butler = repo.butler
    butler.registry.insertDimensionData("instrument", {"name": "Cam"})
    dataset_type = _plain_type(butler)
    ref = butler.put({"a": 1}, dataset_type, instrument="Cam")
    with Butler.from_config(str(repo.root)) as other:
        assert other.get(ref) == {"a": 1}
        assert [record.name for record in other.registry.queryDimensionRecords("instrument")] == ["Cam"]
    clone = repo.open(run="another/run")
    assert clone.get(ref) == {"a": 1}
    assert clone.collections.get_info("another/run").type is CollectionType.RUN


def test_a_pickled_butler_reopens_this_repository(repo):
    repo.butler.registry.insertDimensionData("instrument", {"name": "Pickled"})
    with pickle.loads(pickle.dumps(repo.butler)) as restored:
        assert str(restored._config.configDir).rstrip("/").endswith(str(repo.root))
        names = [record.name for record in restored.registry.queryDimensionRecords("instrument")]
        assert names == ["Pickled"]


def test_repositories_are_isolated(tmp_path, registry):
    with (
        create_test_repository(tmp_path / "a", registry=registry) as first,
        create_test_repository(tmp_path / "b", registry=registry) as second,
    ):
        first.butler.registry.insertDimensionData("instrument", {"name": "OnlyInA"})
        first.butler.collections.register("tagged", CollectionType.TAGGED)
        dataset_type = _plain_type(first.butler)
        ref = first.butler.put({"a": 1}, dataset_type, instrument="OnlyInA")
        assert list(second.butler.registry.queryDimensionRecords("instrument")) == []
        assert "tagged" not in second.butler.collections.query("*")
        assert list(second.butler.registry.queryDatasetTypes()) == []
        assert not second.butler._datastore.knows(ref)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_left_as_it_was(tmp_path, enabled):
    # Setup pauses the cyclic collector; it must come back as the test had it.
    was_enabled = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        create_test_repository(tmp_path / "repo").close()
        assert gc.isenabled() is enabled
        failing = RepositorySpec(registry_data=(str(tmp_path / "missing.yaml"),))
        with pytest.raises(FileNotFoundError):  # raised while the collector is paused
            create_test_repository(tmp_path / "other", spec=failing)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was_enabled else gc.disable()


def test_threads_setting_up_at_once_leave_the_collector_enabled(tmp_path, registry):
    from concurrent.futures import ThreadPoolExecutor

    create_test_repository(tmp_path / "warm", registry=registry).close()  # the template, once
    assert gc.isenabled()
    with ThreadPoolExecutor(4) as pool:
        repositories = list(
            pool.map(lambda i: create_test_repository(tmp_path / f"repo-{i}", registry=registry), range(8))
        )
    for repository in repositories:
        repository.close()
    assert gc.isenabled()


def test_an_existing_repository_is_refused(repo):
    with pytest.raises(FileExistsError, match="already holds a repository"):
        create_test_repository(repo.root)


def test_close_leaves_no_connection_or_file_descriptor_open(tmp_path, registry):
    repository = create_test_repository(tmp_path / "repo", registry=registry)
    repository.butler.registry.insertDimensionData("instrument", {"name": "Cam"})
    leaked = Butler.from_config(str(repository.root))  # never closed by "the code under test"
    list(leaked.registry.queryDimensionRecords("instrument"))
    assert repository.open_connection_count() >= 2
    repository.close()
    assert repository.open_connection_count() == 0
    if repository.registry_dialect == "sqlite":
        assert not _open_descriptors_to(repository.database)
    assert not any(str(repository.root) in root for root in shared_state_roots())
    repository.close()  # idempotent
    assert repository.closed
    with pytest.raises(RuntimeError, match="closed"):
        repository.open()


def _open_descriptors_to(path):
    directory = "/proc/self/fd"
    if not os.path.isdir(directory):
        pytest.skip("no /proc on this platform")
    targets = []
    for name in os.listdir(directory):
        try:
            targets.append(os.readlink(os.path.join(directory, name)))
        except OSError:
            continue
    return [target for target in targets if target.startswith(str(path))]


def test_registry_data_can_be_preloaded(tmp_path, registry):
    spec = RepositorySpec(registry_data=("resource://lsst.daf.butler/tests/registry_data/base.yaml",))
    with create_test_repository(tmp_path / "repo", spec=spec, registry=registry) as repository:
        instruments = [
            record.name for record in repository.butler.registry.queryDimensionRecords("instrument")
        ]
        assert instruments == ["Cam1"]


def test_missing_registry_data_is_a_clear_error(tmp_path, registry):
    spec = RepositorySpec(registry_data=(str(tmp_path / "missing.yaml"),))
    with pytest.raises(FileNotFoundError, match=r"missing\.yaml"):
        create_test_repository(tmp_path / "repo", spec=spec, registry=registry)


def test_a_second_repository_reuses_the_template(tmp_path, registry):
    create_test_repository(tmp_path / "warm", registry=registry).close()
    reset_setup_stats()
    create_test_repository(tmp_path / "again", registry=registry).close()
    stats = setup_stats()
    assert (stats.templates_built, stats.templates_loaded, stats.repositories) == (0, 0, 1)
    assert stats.slow_path_repositories == 0
    assert stats.seconds_per_repository > 0


def test_templates_live_in_the_configured_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BUTLER_TESTKIT_CACHE_DIR", str(tmp_path / "cache"))
    assert cache_directory() == tmp_path / "cache"
    spec = RepositorySpec(dimension_config="resource://lsst.daf.butler/configs/dimensions.yaml")
    reset_setup_stats()
    with create_test_repository(tmp_path / "repo", spec=spec, registry="sqlite"):
        pass
    assert setup_stats().templates_built == 1
    (template,) = (tmp_path / "cache").iterdir()
    assert template.name == spec.key()
    assert not os.access(template / "gen3.sqlite3", os.W_OK) or os.geteuid() == 0


def test_the_slow_path_still_gives_a_working_repository(tmp_path, monkeypatch, registry):
    monkeypatch.setattr(_repository, "_clone_template", lambda *args, **kwargs: None)
    reset_setup_stats()
    with create_test_repository(tmp_path / "repo", run="slow", registry=registry) as repository:
        assert repository.butler.run == "slow"
        _plain_type(repository.butler)
    assert setup_stats().slow_path_repositories == 1


def test_spec_keys_change_with_their_inputs(tmp_path):
    data = tmp_path / "data.yaml"
    data.write_text("description: one\nversion: 0\ndata: []\n")
    first = RepositorySpec(registry_data=(str(data),)).key()
    data.write_text("description: two\nversion: 0\ndata: []\n")
    assert RepositorySpec(registry_data=(str(data),)).key() != first
    assert RepositorySpec().key() == RepositorySpec().key()
    assert _template.RepositorySpec().key() != first


def _register_and_put(repository, calibration=False):
    butler = repository.butler
    butler.registry.insertDimensionData("instrument", {"name": "Cam", "detector_max": 4})
    butler.registry.insertDimensionData("detector", {"instrument": "Cam", "id": 1, "full_name": "d1"})
    dimensions = butler.dimensions.conform(["instrument", "detector"])
    dataset_type = DatasetType("per_detector", dimensions, "BtkDict", isCalibration=calibration)
    butler.registry.registerDatasetType(dataset_type)
    if calibration:
        butler.collections.register("calib", CollectionType.CALIBRATION)
        return None
    return butler.put({"detector": 1}, dataset_type, instrument="Cam", detector=1)


@pytest.mark.parametrize("calibration", [False, True], ids=["tags", "calibs"])
def test_tables_created_by_one_repository_are_created_again_by_the_next(tmp_path, calibration, registry):
    # daf_butler creates a table per dimension group of dataset types; a table
    # made in one repository must not be taken to exist in another.
    for name in ("first", "second", "third"):
        with create_test_repository(tmp_path / name, registry=registry) as repository:
            ref = _register_and_put(repository, calibration=calibration)
            butler = repository.butler
            if ref is not None:
                assert butler.get(ref) == {"detector": 1}
                assert len(list(butler.registry.queryDatasets("per_detector", collections=...))) == 1
            with Butler.from_config(str(repository.root)) as other:
                assert other.registry.getDatasetType("per_detector").isCalibration() is calibration


def test_repositories_alive_together_keep_their_own_tables(tmp_path, registry):
    with (
        create_test_repository(tmp_path / "a", registry=registry) as first,
        create_test_repository(tmp_path / "b", registry=registry) as second,
    ):
        ref = _register_and_put(first)
        assert list(second.butler.registry.queryDatasetTypes()) == []
        other_ref = _register_and_put(second)
        assert first.butler.get(ref) == second.butler.get(other_ref)
        assert ref.id != other_ref.id
        assert not first.butler.stored(other_ref)


def test_a_cache_others_can_write_to_is_refused(tmp_path, monkeypatch):
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("BUTLER_TESTKIT_CACHE_DIR", str(shared))
    with pytest.raises(PermissionError, match="writable by others"):
        cache_directory()


def test_the_template_keeps_its_expanded_configuration(tmp_path):
    with create_test_repository(tmp_path / "repo", registry="sqlite") as repository:
        template = _template.RepositoryTemplate.for_spec(_template.RepositorySpec(), _repository.DATABASES)
        assert (template.directory / _template.EXPANDED_CONFIG_FILE).exists()
        assert template.butler._config.configDir.ospath.rstrip("/") == str(template.directory)
        assert repository.butler._config.configDir.ospath.rstrip("/") == str(repository.root)


def test_a_dimension_universe_can_be_given_as_a_configuration(tmp_path, registry):
    from lsst.daf.butler import DimensionConfig

    config = DimensionConfig()
    config["namespace"] = "testkit_universe"
    spec = RepositorySpec(dimension_config=config)
    assert spec == RepositorySpec(dimension_config=config)
    with create_test_repository(tmp_path / "repo", spec=spec, registry=registry) as repository:
        assert repository.butler.dimensions.namespace == "testkit_universe"
    with pytest.raises(TypeError, match="DimensionConfig or the location"):
        RepositorySpec(dimension_config=42)
