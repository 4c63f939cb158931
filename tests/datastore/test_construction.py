"""Construction, configuration, naming, cloning and validation."""

from __future__ import annotations

import types

import pytest
from lsst.daf.butler import Config, DatasetType, DatasetTypeNotSupportedError, StorageClass
from lsst.daf.butler.datastore import Datastore, DatastoreConfig, DatastoreValidationError
from lsst.daf.butler.datastore.constraints import ConstraintsValidationError
from lsst.daf.butler.datastore.record_data import DatastoreRecordData
from lsst.daf.butler.datastores.chainedDatastore import ChainedDatastore

from butler_testkit import InMemoryDatastore, Isolation
from tests._helpers import make_metrics


def test_from_config_builds_our_datastore(datastore):
    assert type(datastore) is InMemoryDatastore
    assert datastore.isEphemeral is True


def test_from_config_rejects_a_class_that_is_not_a_datastore(registry):
    with pytest.raises(TypeError, match="not a Datastore"):
        Datastore.fromConfig(DatastoreConfig({"cls": "builtins.dict"}), registry.getDatastoreBridgeManager())


def test_default_name_has_upstream_prefix_and_is_unique_per_instance(make_datastore):
    first, second = make_datastore(), make_datastore()
    assert first.name.startswith("InMemoryDatastore@")
    assert second.name.startswith("InMemoryDatastore@")
    assert first.name != second.name
    assert str(first) == repr(first) == first.name


def test_configured_name_is_honoured(make_datastore):
    datastore = make_datastore(name="scratch")
    assert datastore.name == "scratch"
    assert datastore.names == ("scratch",)
    assert datastore.roots == {"scratch": None}


@pytest.mark.parametrize("bad_name", ["", "   ", 42])
def test_bad_name_is_refused(make_datastore, bad_name):
    with pytest.raises(DatastoreValidationError, match="name"):
        make_datastore(name=bad_name)


def test_isolation_defaults_to_copy(datastore):
    assert datastore.isolation is Isolation.COPY


def test_unknown_isolation_fails_listing_valid_values(make_datastore):
    with pytest.raises(DatastoreValidationError, match=r"'deep'.*'copy', 'reference', 'serialize'"):
        make_datastore(isolation="deep")


def test_constraints_accepting_and_rejecting_everything_are_refused(make_datastore):
    with pytest.raises(ConstraintsValidationError):
        make_datastore(constraints={"accept": ["all"], "reject": ["all"]})


def test_set_config_root_leaves_config_unchanged():
    config = Config({"datastore": {"cls": "butler_testkit.InMemoryDatastore"}})
    before = config.toDict()
    InMemoryDatastore.setConfigRoot("/some/root", config, Config(before))
    assert config.toDict() == before


def test_only_the_universe_of_the_bridge_manager_is_needed(universe, make_ref):
    # A bridge manager with nothing but a universe: anything else would raise.
    bridge_manager = types.SimpleNamespace(universe=universe)
    datastore = Datastore.fromConfig(
        DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore"}), bridge_manager
    )
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    datastore.trash(ref)
    datastore.emptyTrash()
    assert not datastore.exists(ref)


def test_clone_shares_state_name_and_config(datastore, registry, make_ref):
    clone = datastore.clone(registry.getDatastoreBridgeManager())
    assert type(clone) is InMemoryDatastore
    assert clone.name == datastore.name
    assert clone.config == datastore.config
    first, second = make_ref(), make_ref()
    datastore.put(make_metrics(), first)
    clone.put(make_metrics(), second)
    assert clone.exists(first) and datastore.exists(second)
    assert clone.getURI(first) == datastore.getURI(first)


def test_clone_shares_trash_across_empty_trash(datastore, registry, make_ref):
    # Upstream rebinds its trash set in emptyTrash, after which the clone's
    # trash is a different set; ours stays one state for life.
    clone = datastore.clone(registry.getDatastoreBridgeManager())
    refs = [make_ref() for _ in range(3)]
    for ref in refs:
        datastore.put(make_metrics(), ref)
    datastore.trash(refs[0])
    clone.emptyTrash()
    assert not datastore.exists(refs[0])
    clone.trash(refs[1])
    datastore.emptyTrash()
    assert not clone.exists(refs[1])
    assert clone.exists(refs[2])
    assert datastore.trashed_refs() == clone.trashed_refs() == []


def test_clone_keeps_its_own_transactions(datastore, registry, make_ref):
    clone = datastore.clone(registry.getDatastoreBridgeManager())
    ref = make_ref()
    with datastore.transaction():
        clone.put(make_metrics(), ref)
        assert clone._transaction is None
    assert datastore.exists(ref)


def test_validate_configuration_accepts_catalogue_entities(datastore, make_ref, universe):
    ref = make_ref()
    datastore.validateConfiguration([ref, ref.datasetType, ref.datasetType.storageClass], logFailures=True)


def test_validate_configuration_reports_every_unusable_storage_class(datastore, universe, caplog):
    broken_type = StorageClass("BtkBrokenType", pytype="no_such_module.Thing")
    broken_delegate = StorageClass("BtkBrokenDelegate", pytype=dict, delegate="no_such_module.Delegate")
    dataset_type = DatasetType("broken", universe.conform(["instrument"]), broken_delegate)
    with pytest.raises(DatastoreValidationError) as excinfo:
        datastore.validateConfiguration([broken_type, dataset_type, "not an entity"], logFailures=True)
    message = str(excinfo.value)
    assert "BtkBrokenType" in message and "Python type" in message
    assert "BtkBrokenDelegate" in message and "delegate" in message
    assert "'not an entity'" in message
    assert len([r for r in caplog.records if r.levelname == "CRITICAL"]) == 3


def test_lookup_keys_include_accept_and_reject_entries(make_datastore):
    datastore = make_datastore(constraints={"accept": ["metric", "all"], "reject": ["BtkDict"]})
    names = {key.name for key in datastore.getLookupKeys()}
    assert names == {"metric", "BtkDict"}


def test_lookup_keys_are_empty_without_constraints(datastore):
    assert datastore.getLookupKeys() == set()


def test_validate_key_accepts_any_key(datastore, make_ref):
    for key in datastore.getLookupKeys() | set(make_ref()._lookupNames()):
        datastore.validateKey(key, make_ref())


def test_simple_answers(datastore, make_ref):
    assert datastore.get_opaque_table_definitions() == {}
    assert datastore.needs_expanded_data_ids("copy") is False
    # Records of a dataset that is not stored: none, under this datastore's name.
    assert datastore.export_records([make_ref()]) == {datastore.name: DatastoreRecordData()}


def test_works_as_a_child_of_upstream_chained_datastore(registry, make_ref):
    config = DatastoreConfig(
        {
            "cls": "lsst.daf.butler.datastores.chainedDatastore.ChainedDatastore",
            "datastores": [
                {"cls": "butler_testkit.InMemoryDatastore", "name": "first"},
                {"cls": "butler_testkit.InMemoryDatastore", "name": "second", "isolation": "reference"},
            ],
        }
    )
    chained = Datastore.fromConfig(config, registry.getDatastoreBridgeManager())
    assert isinstance(chained, ChainedDatastore)
    assert chained.names == ("first", "second")
    assert chained.isEphemeral
    ref = make_ref()
    metrics = make_metrics()
    chained.put(metrics, ref)
    assert chained.get(ref) == metrics
    assert all(child.exists(ref) for child in chained.datastores)
    assert chained.getURI(ref).netloc == "first"
    chained.trash(ref)
    chained.emptyTrash()
    assert not any(child.exists(ref) for child in chained.datastores)


def test_per_child_constraints_in_a_chained_datastore(registry, make_ref):
    config = DatastoreConfig(
        {
            "cls": "lsst.daf.butler.datastores.chainedDatastore.ChainedDatastore",
            "datastores": [
                {"cls": "butler_testkit.InMemoryDatastore", "name": "metrics_only"},
                {
                    "cls": "butler_testkit.InMemoryDatastore",
                    "name": "no_metrics",
                    "constraints": {"reject": ["BtkMetrics"]},
                },
            ],
            "datastore_constraints": [{"constraints": {"accept": ["metric"]}}, {"constraints": None}],
        }
    )
    chained = Datastore.fromConfig(config, registry.getDatastoreBridgeManager())
    first, second = chained.datastores
    metric, other_metrics, plain = (
        make_ref(name="metric"),
        make_ref(name="other"),
        make_ref(name="plain", storage_class="BtkDict"),
    )
    chained.put(make_metrics(), metric)
    chained.put({"a": 1}, plain)
    assert (first.exists(metric), second.exists(metric)) == (True, False)
    assert (first.exists(plain), second.exists(plain)) == (False, True)
    with pytest.raises(DatasetTypeNotSupportedError):
        chained.put(make_metrics(), other_metrics)
    assert not chained.exists(other_metrics)


def test_no_bridge_is_registered(datastore, registry, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    assert list(registry.getDatastoreBridgeManager().findDatastores(ref)) == []


def test_records_for_other_datastores_are_ignored(datastore, make_ref):
    from lsst.daf.butler.datastore.record_data import DatastoreRecordData

    datastore.import_records({"some_file_datastore": DatastoreRecordData(records={})})
    datastore.import_records({datastore.name: DatastoreRecordData(records={})})
    assert datastore.stored_refs() == []


def test_default_name_roots_match_names(datastore):
    assert list(datastore.roots) == list(datastore.names) == [datastore.name]
    assert datastore.roots[datastore.name] is None
