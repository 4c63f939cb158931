"""``serialize`` isolation: every put goes through the formatter a FileDatastore would use."""

from __future__ import annotations

import os
import threading
from typing import Any, ClassVar

import numpy as np
import pytest
from lsst.daf.butler import FormatterV2, StorageClass, StorageClassFactory
from lsst.resources import ResourcePath

from butler_testkit import InMemoryDatastore, Isolation, UnserializableDatasetError
from butler_testkit.datastore import SerializedDataset
from butler_testkit.factories import CATALOGUE, FORMATTERS
from tests._helpers import make_metrics
from tests.factories.test_round_trips import PARAMETER_CASES, PARAMETERS, SAMPLES, _expected_with, _same


@pytest.fixture
def serializing(make_datastore) -> InMemoryDatastore:
    return make_datastore(isolation="serialize")


def _stored(datastore: InMemoryDatastore, ref) -> Any:
    return datastore._state.datasets[ref.id.int].obj


@pytest.mark.parametrize("storage_class", sorted(CATALOGUE))
def test_every_catalogue_storage_class_round_trips_through_its_formatter(
    serializing, make_ref, storage_class
):
    ref = make_ref(f"ds_{storage_class}", storage_class=storage_class)
    serializing.put(SAMPLES[storage_class], ref)
    stored = _stored(serializing, ref)
    assert isinstance(stored, SerializedDataset)
    assert stored.formatter == FORMATTERS[storage_class]
    assert isinstance(stored.data, bytes)
    assert _same(serializing.get(ref), SAMPLES[storage_class])


def test_the_mode_is_named_and_listed(serializing):
    assert serializing.isolation is Isolation.SERIALIZE
    assert [mode.value for mode in Isolation] == ["copy", "reference", "serialize"]


def test_the_stored_bytes_are_what_the_formatter_writes(serializing, make_ref):
    ref = make_ref(storage_class="BtkDict")
    serializing.put({"b": 2, "a": [1, 2]}, ref)
    stored = _stored(serializing, ref)
    assert stored.data == b'{"b": 2, "a": [1, 2]}'
    assert stored.extension == ".json"


def test_components_parameters_and_conversions_apply_after_reading(serializing, make_ref):
    ref = make_ref()
    serializing.put(make_metrics(6), ref)
    assert serializing.get(ref.makeComponentRef("summary")) == make_metrics().summary
    assert serializing.get(ref.makeComponentRef("counter")) == 6
    assert serializing.get(ref.makeComponentRef("counter"), parameters={"slice": slice(2)}) == 2
    assert serializing.get(ref, parameters={"slice": slice(1, 3)}).data == [1, 2]
    assert serializing.get(ref, storageClass="BtkMetricsDict")["data"] == list(range(6))


@pytest.mark.parametrize(("storage_class", "component", "parameter"), PARAMETER_CASES)
def test_every_parameter_of_the_catalogue_reads_as_under_copy_isolation(
    serializing, datastore, make_ref, storage_class, component, parameter
):
    ref = make_ref(f"ds_{storage_class}", storage_class=storage_class)
    serializing.put(SAMPLES[storage_class], ref)
    datastore.put(SAMPLES[storage_class], ref)
    read_ref = ref if component is None else ref.makeComponentRef(component)
    parameters = {parameter: PARAMETERS[parameter]}
    assert _same(
        serializing.get(read_ref, parameters=parameters), datastore.get(read_ref, parameters=parameters)
    )
    if component is None:
        assert _same(
            serializing.get(ref, parameters=parameters), _expected_with(parameter, SAMPLES[storage_class])
        )


def test_every_get_returns_a_fresh_object_and_the_put_object_is_untouched(serializing, make_ref):
    ref = make_ref()
    metrics = make_metrics()
    serializing.put(metrics, ref)
    metrics.data.append(99)
    first = serializing.get(ref)
    first.summary["answer"] = 0
    assert serializing.get(ref) == make_metrics()
    assert serializing.get(ref) is not serializing.get(ref)


def test_what_the_format_cannot_keep_is_lost_as_in_a_file(serializing, make_ref):
    # JSON has only string keys and no tuples: a FileDatastore gives back
    # what the file holds, and so does serialize isolation.
    ref = make_ref(storage_class="BtkDict")
    serializing.put({1: (2, 3)}, ref)
    assert serializing.get(ref) == {"1": [2, 3]}


def test_an_object_its_formatter_cannot_write_fails_at_put_and_nothing_is_stored(serializing, make_ref):
    ref = make_ref(storage_class="BtkDict")
    with pytest.raises(UnserializableDatasetError) as excinfo:
        serializing.put({"lock": threading.Lock()}, ref)
    message = str(excinfo.value)
    assert "BtkDict" in message
    assert FORMATTERS["BtkDict"] in message
    assert isinstance(excinfo.value, TypeError)
    assert not serializing.exists(ref)
    assert serializing.stored_refs() == []
    # The same dataset stores fine once it can be written.
    serializing.put({"lock": None}, ref)
    assert serializing.get(ref) == {"lock": None}


def test_an_object_array_cannot_be_written_without_pickling(serializing, make_ref):
    ref = make_ref(storage_class="BtkArray")
    with pytest.raises(UnserializableDatasetError, match="ArrayFormatter"):
        serializing.put(np.array([object(), object()]), ref)
    assert not serializing.exists(ref)


def test_the_formatters_configuration_chooses_the_formatter(make_datastore, make_ref):
    pickling = make_datastore(
        isolation="serialize", formatters={"BtkDict": "lsst.daf.butler.formatters.pickle.PickleFormatter"}
    )
    ref = make_ref(storage_class="BtkDict")
    pickling.put({1: (2, 3)}, ref)
    assert _stored(pickling, ref).formatter == "lsst.daf.butler.formatters.pickle.PickleFormatter"
    assert pickling.get(ref) == {1: (2, 3)}  # pickle keeps what JSON loses


def test_a_formatter_can_be_chosen_by_dataset_type(make_datastore, make_ref):
    yaml = "lsst.daf.butler.formatters.yaml.YamlFormatter"
    datastore = make_datastore(isolation="serialize", formatters={"special": yaml})
    special, plain = make_ref("special", storage_class="BtkDict"), make_ref("plain", storage_class="BtkDict")
    datastore.put({"a": 1}, special)
    datastore.put({"a": 1}, plain)
    assert _stored(datastore, special).formatter == yaml
    assert _stored(datastore, plain).formatter == FORMATTERS["BtkDict"]


class FileOnlyFormatter(FormatterV2):
    """Writes and reads only local files, as some real formatters do."""

    default_extension = ".txt"
    can_read_from_local_file = True
    written: ClassVar[list[str]] = []

    def write_local_file(self, in_memory_dataset: Any, uri: ResourcePath) -> None:
        self.written.append(uri.ospath)
        with open(uri.ospath, "w") as stream:
            stream.write(repr(sorted(in_memory_dataset.items())))

    def read_from_local_file(self, path: str, component: str | None = None, expected_size: int = -1) -> Any:
        assert os.path.exists(path)
        with open(path) as stream:
            return dict(eval(stream.read()))


def test_a_formatter_that_only_writes_files_goes_through_a_temporary_file(make_datastore, make_ref):
    FileOnlyFormatter.written.clear()
    datastore = make_datastore(isolation="serialize", formatters={"BtkDict": f"{__name__}.FileOnlyFormatter"})
    ref = make_ref(storage_class="BtkDict")
    datastore.put({"a": 1, "b": 2}, ref)
    assert _stored(datastore, ref).data == b"[('a', 1), ('b', 2)]"
    assert len(FileOnlyFormatter.written) == 1
    assert not os.path.exists(FileOnlyFormatter.written[0])  # removed at once
    assert datastore.get(ref) == {"a": 1, "b": 2}


class ProvenanceFormatter(FormatterV2):
    """Records the provenance a file datastore hands to the formatter."""

    default_extension = ".json"
    can_read_from_uri = True
    seen: ClassVar[list[Any]] = []

    def add_provenance(self, in_memory_dataset: Any, /, *, provenance: Any = None) -> Any:
        self.seen.append(provenance)
        return {**in_memory_dataset, "stamped": True}

    def to_bytes(self, in_memory_dataset: Any) -> bytes:
        return repr(sorted(in_memory_dataset.items())).encode()

    def read_from_uri(self, uri: ResourcePath, component: str | None = None, expected_size: int = -1) -> Any:
        return dict(eval(uri.read()))


def test_the_formatter_attaches_provenance_and_the_callers_object_is_untouched(make_datastore, make_ref):
    from lsst.daf.butler import DatasetProvenance

    ProvenanceFormatter.seen.clear()
    datastore = make_datastore(
        isolation="serialize", formatters={"BtkDict": f"{__name__}.ProvenanceFormatter"}
    )
    ref = make_ref(storage_class="BtkDict")
    value = {"a": 1}
    provenance = DatasetProvenance(quantum_id=None)
    datastore.put(value, ref, provenance=provenance)
    assert value == {"a": 1}
    assert ProvenanceFormatter.seen == [provenance]
    assert datastore.get(ref) == {"a": 1, "stamped": True}


def test_a_rolled_back_put_is_removed(serializing, make_ref):
    ref = make_ref()
    with pytest.raises(RuntimeError), serializing.transaction():
        serializing.put(make_metrics(), ref)
        raise RuntimeError("roll back")
    assert not serializing.exists(ref)


def test_datastores_sharing_a_state_read_each_others_datasets(make_datastore, registry, make_ref):
    serializing = make_datastore(isolation="serialize")
    copying = InMemoryDatastore(
        type(serializing.config)({"cls": "butler_testkit.InMemoryDatastore"}),
        registry.getDatastoreBridgeManager(),
        state=serializing._state,
    )
    serialized, copied = make_ref(), make_ref()
    serializing.put(make_metrics(3), serialized)
    copying.put(make_metrics(4), copied)
    assert copying.get(serialized) == make_metrics(3)
    assert serializing.get(copied) == make_metrics(4)


def test_a_storage_class_added_by_a_test_needs_a_formatter(serializing, make_ref):
    from lsst.daf.butler import DatasetTypeNotSupportedError

    StorageClassFactory().registerStorageClass(StorageClass("UnformattedDict", pytype=dict))
    ref = make_ref(storage_class="UnformattedDict")
    with pytest.raises(DatasetTypeNotSupportedError, match="formatters"):
        serializing.put({"a": 1}, ref)
    assert not serializing.exists(ref)


def test_validation_asks_for_a_formatter_where_every_put_is_serialized(make_datastore, make_ref):
    from lsst.daf.butler.datastore import DatastoreValidationError

    StorageClassFactory().registerStorageClass(StorageClass("UnformattedList", pytype=list))
    ref = make_ref(storage_class="UnformattedList")
    make_datastore().validateConfiguration([ref])  # copy isolation writes no file
    for config in ({"isolation": "serialize"}, {"capacity_bytes": 100}):
        datastore = make_datastore(**config)
        datastore.validateConfiguration([make_ref(), make_ref().datasetType])  # BtkMetrics has one
        with pytest.raises(DatastoreValidationError, match="no formatter is configured"):
            datastore.validateConfiguration([ref])
        with pytest.raises(DatastoreValidationError, match="UnformattedList"):
            datastore.validateConfiguration([ref.datasetType])
