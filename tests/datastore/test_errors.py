"""Every row of docs/errors.md: the exception, its message, and nothing changed.

The table in the docs is the source: each row's first column names a
scenario registered below. The test fails for a row without a scenario and
for a scenario without a row, so the docs and the behaviour cannot drift.
"""

from __future__ import annotations

import os
import re
import struct
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsst.daf.butler import (
    DataCoordinate,
    DatasetRef,
    DatasetType,
    FileDataset,
    Location,
    StorageClass,
    StorageClassFactory,
)
from lsst.daf.butler.datastore import FileTransferRecord
from lsst.daf.butler.datastore.record_data import DatastoreRecordData
from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import retrieve_and_zip
from lsst.daf.butler.registry.interfaces import FakeDatasetRef
from lsst.resources import ResourcePath

from butler_testkit import InMemoryDatastore
from butler_testkit.datastore._records import FILE_RECORDS_TABLE, records_of
from tests._helpers import make_metrics

ERRORS_PAGE = Path(__file__).parents[2] / "docs" / "errors.md"


@dataclass
class Failure:
    """One failing call and what its message must contain."""

    call: Callable[[], Any]
    fragments: list[str]


@dataclass
class Context:
    datastore: InMemoryDatastore
    make_ref: Callable[..., DatasetRef]
    make_datastore: Callable[..., Any]
    stored: DatasetRef  # stored, not trashed
    trashed: DatasetRef  # stored and trashed
    directory: Path  # empty, for files


Scenario = Callable[[Context], Iterator[Failure]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(row: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[row] = function
        return function

    return register


def _documented_rows() -> dict[str, str]:
    """Map the first column of the errors table to its exception name."""
    rows = {}
    for line in ERRORS_PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows[cells[0]] = cells[1].strip("`")
    return rows


DOCUMENTED = _documented_rows()


@scenario("a non-DatasetRef where a ref is expected (dataset type, data ID, UUID, FakeDatasetRef, string)")
def _not_a_ref(ctx: Context) -> Iterator[Failure]:
    dataset_type = ctx.stored.datasetType
    wrong = [dataset_type, ctx.stored.dataId, ctx.stored.id, FakeDatasetRef(ctx.stored.id), "metric"]
    store = ctx.datastore
    for value in wrong:
        name = type(value).__name__
        yield Failure(lambda value=value: store.put(make_metrics(), value), [name, "put()"])
        for method in ("get", "exists", "knows", "getURI", "getURIs", "remove", "trash"):
            yield Failure(lambda method=method, value=value: getattr(store, method)(value), [name, method])
        for method in ("mexists", "knows_these", "forget"):
            yield Failure(lambda method=method, value=value: getattr(store, method)([value]), [name, method])
        yield Failure(lambda value=value: store.emptyTrash(refs=[value]), [name, "emptyTrash"])
        yield Failure(lambda value=value: store.trash([ctx.trashed, value]), [name, "trash"])


@scenario('an "unresolved" ref: a dataset type and data ID without a dataset ID')
def _unresolved(ctx: Context) -> Iterator[Failure]:
    pair = (ctx.stored.datasetType, ctx.stored.dataId)
    yield Failure(lambda: ctx.datastore.put(make_metrics(), pair), ["tuple", "resolved DatasetRef"])
    yield Failure(lambda: ctx.datastore.get(pair), ["tuple", "resolved DatasetRef"])


@scenario("a non-iterable where refs are expected (`trash`, `forget`, `emptyTrash`, `mexists`)")
def _not_iterable(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    yield Failure(lambda: store.trash(42), ["int"])
    yield Failure(lambda: store.forget(42), ["int"])
    yield Failure(lambda: store.emptyTrash(refs=42), ["int"])
    yield Failure(lambda: store.mexists(42), ["int"])
    yield Failure(lambda: store.forget("metric"), ["str"])


@scenario("a component ref on put")
def _component_put(ctx: Context) -> Iterator[Failure]:
    component = ctx.make_ref().makeComponentRef("data")
    yield Failure(lambda: ctx.datastore.put([1, 2], component), ["metric.data", "'metric'"])


@scenario("an object of the wrong Python type on put")
def _wrong_type(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref()
    yield Failure(lambda: ctx.datastore.put(12, ref), ["builtins.int", "BtkMetrics"])
    yield Failure(lambda: ctx.datastore.put({"nonsense": 1}, ref), ["dict", "BtkMetrics"])


@scenario("`None` on put")
def _none(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref()
    yield Failure(lambda: ctx.datastore.put(None, ref), ["None", "BtkMetrics"])


@scenario("an object that cannot be copied, under `copy` isolation")
def _uncopyable(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref(storage_class="BtkDict")
    yield Failure(lambda: ctx.datastore.put({"lock": threading.Lock()}, ref), ["BtkDict", "reference"])


@scenario("a dataset type rejected by the constraints")
def _rejected(ctx: Context) -> Iterator[Failure]:
    picky = ctx.make_datastore(constraints={"reject": ["metric"]})
    ref = ctx.make_ref()
    yield Failure(lambda: picky.put(make_metrics(), ref), ["metric", str(ref.id)])
    assert picky.stored_refs() == []


@scenario("a re-put of a stored dataset ID")
def _reput(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.datastore.put(make_metrics(9), ctx.stored), [str(ctx.stored.id)])
    yield Failure(lambda: ctx.datastore.put(make_metrics(9), ctx.trashed), [str(ctx.trashed.id)])


@scenario("get of a dataset that is not stored")
def _get_unknown(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref()
    yield Failure(lambda: ctx.datastore.get(ref), [str(ref.id)])


@scenario("getURI of a dataset that is not stored, without predict")
def _uri_unknown(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref()
    yield Failure(lambda: ctx.datastore.getURI(ref), [str(ref.id)])


@scenario("trash of a single dataset that is not stored, with `ignore_errors=False`")
def _trash_unknown(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref()
    yield Failure(lambda: ctx.datastore.trash(ref, ignore_errors=False), [str(ref.id)])


@scenario("a double remove")
def _double_remove(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref()
    ctx.datastore.put(make_metrics(), ref)
    ctx.datastore.remove(ref)
    yield Failure(lambda: ctx.datastore.remove(ref), [str(ref.id)])


@scenario("an unknown read parameter")
def _unknown_parameter(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.datastore.get(ctx.stored, parameters={"xslice": 1}), ["xslice"])
    summary = ctx.stored.makeComponentRef("summary")
    yield Failure(lambda: ctx.datastore.get(summary, parameters={"slice": slice(1)}), ["slice"])


@scenario("an unknown component")
def _unknown_component(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref(storage_class="BtkMetricsNoComponents")
    ctx.datastore.put(make_metrics(), ref)
    bogus_type = DatasetType(
        "metric.nosuch", ref.datasetType.dimensions, "BtkDict", parentStorageClass="BtkMetricsNoComponents"
    )
    bogus = DatasetRef(bogus_type, ref.dataId, run=ref.run, id=ref.id)
    yield Failure(lambda: ctx.datastore.get(bogus), ["'nosuch'", "BtkMetricsNoComponents"])


@scenario("an incompatible storage-class override on get")
def _bad_override(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.datastore.get(ctx.stored, storageClass="BtkInt"), ["BtkInt", "BtkMetrics"])


@scenario("an unknown storage class name in an override")
def _unknown_override(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.datastore.get(ctx.stored, storageClass="NoSuchClass"), ["NoSuchClass"])


@scenario("a transfer from the datastore to itself")
def _self_transfer(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.datastore.transfer(ctx.datastore, ctx.stored), [ctx.datastore.name])


@scenario("an unknown `isolation` value")
def _bad_isolation(ctx: Context) -> Iterator[Failure]:
    yield Failure(
        lambda: ctx.make_datastore(isolation="deep"), ["'deep'", "'copy'", "'reference'", "'serialize'"]
    )
    yield Failure(lambda: ctx.make_datastore(isolation=True), ["True", "'copy'"])


@scenario("an empty or non-string `name`")
def _bad_name(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.make_datastore(name=""), ["''"])
    yield Failure(lambda: ctx.make_datastore(name=7), ["7"])


@scenario("a non-boolean `shared`, or `shared: true` without a repository root")
def _bad_shared(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.make_datastore(shared="yes"), ["'yes'"])
    yield Failure(lambda: ctx.make_datastore(shared=True), ["repository root"])


@scenario("a non-positive or non-numeric `expire_after`")
def _bad_expiry(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.make_datastore(expire_after=0), ["0"])
    yield Failure(lambda: ctx.make_datastore(expire_after="soon"), ["'soon'"])


@scenario("constraints that accept and reject everything")
def _contradictory_constraints(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.make_datastore(constraints={"accept": ["all"], "reject": ["all"]}), ["'all'"])


@scenario("`prepare_get_for_external_client`: objects in memory cannot be read by another process")
def _external_client(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    yield Failure(
        lambda: store.prepare_get_for_external_client(ctx.stored),
        ["InMemoryDatastore", "prepare_get_for_external_client"],
    )


@scenario("a non-positive or non-integer `capacity_bytes`")
def _bad_capacity(ctx: Context) -> Iterator[Failure]:
    for value, shown in [(0, "0"), (-5, "-5"), ("lots", "'lots'"), (True, "True"), (1.5, "1.5")]:
        yield Failure(lambda value=value: ctx.make_datastore(capacity_bytes=value), [shown])


@scenario("a `formatters` value that is not a mapping, or one daf_butler's formatter factory refuses")
def _bad_formatters(ctx: Context) -> Iterator[Failure]:
    yield Failure(lambda: ctx.make_datastore(formatters="json"), ["str", "'json'"])
    malformed = {"BtkDict": {"formatter": 3, "parameters": "not a mapping"}}
    yield Failure(lambda: ctx.make_datastore(formatters=malformed), ["'formatters' configuration is invalid"])


@scenario(
    "an object its formatter cannot write, under `serialize` isolation or measured for `capacity_bytes`"
)
def _unserializable(ctx: Context) -> Iterator[Failure]:
    fragments = ["BtkDict", "CatalogueJsonFormatter"]
    for config in ({"isolation": "serialize"}, {"isolation": "reference", "capacity_bytes": 10**6}):
        store = ctx.make_datastore(**config)
        ref = ctx.make_ref(storage_class="BtkDict")
        yield Failure(
            _changes_nothing(store, lambda store=store, ref=ref: store.put(_LOCKED, ref)), fragments
        )
    # Writing a file of an object stored by reference.
    store = ctx.make_datastore(isolation="reference")
    ref = ctx.make_ref(storage_class="BtkDict")
    store.put(_LOCKED, ref)
    directory = ResourcePath(ctx.directory, forceDirectory=True)
    yield Failure(_changes_nothing(store, lambda: store.retrieveArtifacts([ref], directory)), fragments)


@scenario("no formatter configured for a dataset that must be serialized or written as a file")
def _no_formatter(ctx: Context) -> Iterator[Failure]:
    StorageClassFactory().registerStorageClass(StorageClass("NoFormatterDict", pytype=dict))
    serializing = ctx.make_datastore(isolation="serialize")
    ref = ctx.make_ref(storage_class="NoFormatterDict")
    fragments = ["NoFormatterDict", "formatters"]
    yield Failure(_changes_nothing(serializing, lambda: serializing.put({"a": 1}, ref)), fragments)
    ctx.datastore.put({"a": 1}, ref)
    yield Failure(lambda: ctx.datastore.get_file_info_for_transfer([ref.id]), fragments)
    yield Failure(lambda: ctx.datastore.export_records([ref]), fragments)


@scenario("a put, ingest, zip, import or transfer that would exceed `capacity_bytes`")
def _over_capacity(ctx: Context) -> Iterator[Failure]:
    small = ctx.make_datastore(capacity_bytes=40)
    fragments = ["capacity_bytes=40", "bytes"]
    yield Failure(_changes_nothing(small, lambda: small.put(make_metrics(), ctx.make_ref())), fragments)
    archive = retrieve_and_zip([ctx.stored], ctx.directory, ctx.datastore.retrieveArtifacts)
    yield Failure(_changes_nothing(small, lambda: small.ingest_zip(archive, "copy")), fragments)
    transfers = ctx.datastore.get_file_info_for_transfer([ctx.stored.id])
    yield Failure(_changes_nothing(small, lambda: small.transfer_from(transfers, [ctx.stored])), fragments)


@scenario(
    "a transfer mode that cannot hold a dataset in memory: `ingest`, `ingest_zip` or `transfer_from` with "
    "`None`, `direct`, `split`, `unsafe_direct` or a link mode, or `transfer_from` with `move`"
)
def _unsupported_mode(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    path = ctx.directory / "file.json"
    path.write_text("{}")
    for mode in (None, "direct", "split", "link", "symlink", "hardlink", "relsymlink"):
        dataset = FileDataset(path=str(path), refs=[ctx.make_ref(storage_class="BtkDict")])
        yield Failure(
            lambda mode=mode, dataset=dataset: store.ingest(dataset, transfer=mode), [repr(mode), "'copy'"]
        )
    archive = retrieve_and_zip([ctx.stored], ctx.directory, store.retrieveArtifacts)
    for mode in (None, "direct", "symlink"):
        yield Failure(lambda mode=mode: store.ingest_zip(archive, mode), [repr(mode), "'move'"])
    for mode in ("move", "direct", "split", "unsafe_direct", "symlink"):
        yield Failure(
            lambda mode=mode: store.transfer_from({}, [ctx.make_ref()], mode), [repr(mode), "'copy'"]
        )
    yield Failure(lambda: store.ingest(), ["None", "ingest"])


@scenario("`retrieveArtifacts` or `export` of a dataset that is not stored")
def _artifacts_of_unknown(ctx: Context) -> Iterator[Failure]:
    ref = ctx.make_ref()
    directory = ResourcePath(ctx.directory, forceDirectory=True)
    yield Failure(lambda: ctx.datastore.retrieveArtifacts([ctx.stored, ref], directory), [str(ref.id)])
    yield Failure(
        lambda: list(ctx.datastore.export([ref], directory=directory, transfer="copy")), [str(ref.id)]
    )
    yield Failure(lambda: list(ctx.datastore.export([ref])), [str(ref.id)])


@scenario(
    "`retrieveArtifacts` to a destination that is not a directory, or with `move` or an unknown transfer mode"
)
def _bad_retrieval(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    directory = ResourcePath(ctx.directory, forceDirectory=True)
    not_a_directory = ResourcePath(ctx.directory / "file.txt", forceDirectory=False)
    yield Failure(lambda: store.retrieveArtifacts([ctx.stored], not_a_directory), [str(not_a_directory)])
    yield Failure(lambda: store.retrieveArtifacts([ctx.stored], directory, transfer="move"), ["move"])
    yield Failure(
        lambda: store.retrieveArtifacts([ctx.stored], directory, transfer="teleport"), ["'teleport'"]
    )


@scenario("`export` with `move`, or with a writing transfer mode and no directory")
def _bad_export(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    yield Failure(
        lambda: list(store.export([ctx.stored], directory=str(ctx.directory), transfer="move")), ["move"]
    )
    yield Failure(lambda: list(store.export([ctx.stored], transfer="copy")), ["'copy'"])


@scenario(
    "`retrieveArtifacts` onto existing files without `overwrite`, or `export` onto existing files (a "
    "symbolic link counts, dangling or not)"
)
def _existing_files(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    directory = ResourcePath(ctx.directory, forceDirectory=True)
    (written,) = store.retrieveArtifacts([ctx.stored], directory)
    yield Failure(lambda: store.retrieveArtifacts([ctx.stored], directory), [str(written)])
    exported = ctx.directory / "export"
    exported.mkdir()
    (dataset,) = store.export([ctx.stored], directory=str(exported), transfer="copy")
    yield Failure(
        lambda: store.export([ctx.stored], directory=str(exported), transfer="copy"), [str(dataset.path)]
    )
    linked = ctx.directory / "linked"
    (linked / dataset.path).parent.mkdir(parents=True)
    os.symlink(ctx.directory / "nowhere.json", linked / dataset.path)
    target = ResourcePath(linked, forceDirectory=True)
    yield Failure(lambda: store.retrieveArtifacts([ctx.stored], target), [str(linked / dataset.path)])
    yield Failure(lambda: store.export([ctx.stored], directory=str(linked), transfer="copy"), [dataset.path])


@scenario(
    "`retrieveArtifacts` or `export` of a file whose path leads out of the destination through a "
    "symbolic link"
)
def _escaping_files(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    elsewhere = ctx.directory / "elsewhere"
    elsewhere.mkdir()
    destination = ctx.directory / "destination"
    destination.mkdir()
    os.symlink(elsewhere, destination / ctx.stored.run.split("/")[0])
    fragments = [str(destination / ctx.stored.run.split("/")[0]), str(elsewhere)]
    target = ResourcePath(destination, forceDirectory=True)
    yield Failure(lambda: store.retrieveArtifacts([ctx.stored], target, overwrite=True), fragments)
    yield Failure(lambda: store.export([ctx.stored], directory=str(destination), transfer="copy"), fragments)


@scenario(
    "`ingest`, `ingest_zip`, `import_records` or `transfer_from` of a file that does not exist "
    "(or, for `transfer_from`, a dataset the source gives no files for)"
)
def _missing_files(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    missing = ctx.directory / "missing.json"
    dataset = FileDataset(path=str(missing), refs=[ctx.make_ref(storage_class="BtkDict")])
    yield Failure(lambda: store.ingest(dataset, transfer="copy"), [str(missing)])
    yield Failure(
        lambda: store.ingest_zip(ResourcePath(ctx.directory / "missing.zip"), "copy"), ["missing.zip"]
    )
    records = _records_with_files(ctx, str(ResourcePath(missing)))
    yield Failure(lambda: store.import_records({store.name: records}), [str(missing)])
    ref = ctx.make_ref()
    yield Failure(lambda: store.transfer_from({}, [ref]), [str(ref.id)])


@scenario(
    "`ingest`, `ingest_zip` or `import_records` of a dataset that is already stored (`transfer_from` skips "
    "it, as every datastore does)"
)
def _already_stored(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    fragments = [str(ctx.stored.id)]
    (dataset,) = store.export([ctx.stored], directory=str(ctx.directory), transfer="copy")
    file = FileDataset(path=str(ctx.directory / dataset.path), refs=[ctx.stored], formatter=dataset.formatter)
    yield Failure(lambda: store.ingest(file, transfer="copy"), fragments)
    archive = retrieve_and_zip([ctx.stored], ctx.directory, store.retrieveArtifacts)
    yield Failure(lambda: store.ingest_zip(archive, "copy"), fragments)
    records = store.export_records([ctx.stored])
    yield Failure(lambda: store.import_records(records), fragments)


@scenario("a file its formatter cannot read (`ingest`, `ingest_zip`, `import_records`, `transfer_from`)")
def _unreadable_file(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    garbage = ctx.directory / "garbage.json"
    garbage.write_bytes(b"this is not JSON")
    ref = ctx.make_ref(storage_class="BtkDict")
    fragments = ["CatalogueJsonFormatter", str(ref.id)]
    dataset = FileDataset(path=str(garbage), refs=[ref], formatter=_JSON_FORMATTER)
    yield Failure(lambda: store.ingest(dataset, transfer="copy"), fragments)
    info = StoredFileInfo(_JSON_FORMATTER, "garbage.json", ref.datasetType.storageClass, None, None, 16)
    location = Location(None, ResourcePath(garbage))
    transfers = {ref.id: [FileTransferRecord(location=location, file_info=info)]}
    yield Failure(lambda: store.transfer_from(transfers, [ref]), fragments)
    records = DatastoreRecordData(
        records={ref.id: records_of(ref, info.update(path=str(ResourcePath(garbage))))}
    )
    yield Failure(lambda: store.import_records({store.name: records}), fragments)


@scenario(
    "a zip without a Butler index, whose index names a file the zip lacks, or with a member that "
    "cannot be read"
)
def _zip_without_index(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    complete = retrieve_and_zip([ctx.stored], ctx.directory / "complete", store.retrieveArtifacts)
    truncated = ctx.directory / "truncated.zip"
    with zipfile.ZipFile(complete.ospath) as source, zipfile.ZipFile(truncated, "w") as archive:
        for name in source.namelist():
            if name.endswith(".json") and not name.startswith("_butler"):
                dropped = name
                continue
            archive.writestr(name, source.read(name))
    yield Failure(lambda: store.ingest_zip(ResourcePath(truncated), "copy"), ["truncated.zip", dropped])
    plain = ctx.directory / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("a.json", "{}")
    yield Failure(
        lambda: ctx.datastore.ingest_zip(ResourcePath(plain), "copy"), ["plain.zip", "_butler_zip_index"]
    )
    not_zip = ctx.directory / "not.zip"
    not_zip.write_bytes(b"no")
    yield Failure(lambda: ctx.datastore.ingest_zip(ResourcePath(not_zip), "copy"), ["not.zip"])
    corrupt = ctx.directory / "corrupt.zip"
    member = _corrupt_copy(complete.ospath, corrupt, lambda name: not name.startswith("_butler"))
    yield Failure(lambda: store.ingest_zip(ResourcePath(corrupt), "copy"), ["corrupt.zip", member])
    bad_index = ctx.directory / "bad_index.zip"
    _corrupt_copy(complete.ospath, bad_index, lambda name: name.startswith("_butler"))
    yield Failure(lambda: store.ingest_zip(ResourcePath(bad_index), "copy"), ["bad_index.zip", "index"])


def _corrupt_copy(source: str, corrupt: Path, chosen: Callable[[str], bool]) -> str:
    """Copy a zip, uncompressed, with the first byte of the chosen member flipped; return its name."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(corrupt, "w") as copy:
        for name in original.namelist():
            copy.writestr(name, original.read(name))
    with zipfile.ZipFile(corrupt) as archive:
        info = next(info for info in archive.infolist() if chosen(info.filename))
    raw = bytearray(corrupt.read_bytes())
    # The member's data follows its local header: 30 bytes, its name and its extra field.
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    raw[info.header_offset + 30 + name_length + extra_length] ^= 0xFF
    corrupt.write_bytes(bytes(raw))
    return info.filename


@scenario("records that an in-memory datastore did not export (no dataset reference, or a relative path)")
def _foreign_records(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    ref = ctx.make_ref()
    info = StoredFileInfo(_JSON_FORMATTER, "a/b.json", ref.datasetType.storageClass, None, None, 1)
    file_only = DatastoreRecordData(records={ref.id: {FILE_RECORDS_TABLE: [info]}})
    yield Failure(lambda: store.import_records({store.name: file_only}), [str(ref.id)])
    relative = DatastoreRecordData(records={ref.id: records_of(ref, info)})
    yield Failure(lambda: store.import_records({store.name: relative}), [str(ref.id)])


@scenario(
    "`ingest` of something other than a `FileDataset`, or with a formatter that is not one or cannot be "
    "imported; "
    "`get_file_info_for_transfer` of something other than a dataset ID; "
    "`import_records` of something other than records by datastore name; "
    "`transfer_from` of source files that are not `FileTransferRecord`s by dataset ID"
)
def _bad_file_arguments(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    path = ctx.directory / "file.json"
    path.write_text("{}")
    yield Failure(lambda: store.ingest(str(path), transfer="copy"), ["str"])
    dataset = FileDataset(
        path=str(path), refs=[ctx.make_ref(storage_class="BtkDict")], formatter="builtins.dict"
    )
    yield Failure(lambda: store.ingest(dataset, transfer="copy"), ["builtins.dict"])
    unimportable = FileDataset(
        path=str(path), refs=[ctx.make_ref(storage_class="BtkDict")], formatter="no_such_package.Formatter"
    )
    yield Failure(lambda: store.ingest(unimportable, transfer="copy"), ["no_such_package.Formatter"])
    yield Failure(lambda: store.get_file_info_for_transfer([str(ctx.stored.id)]), ["str"])
    yield Failure(lambda: store.import_records({store.name: "x"}), ["str"])
    yield Failure(
        lambda: store.import_records(store.export_records([ctx.stored])[store.name]), ["DatastoreRecordData"]
    )
    files = store.get_file_info_for_transfer([ctx.stored.id])
    yield Failure(lambda: store.transfer_from(list(files.items()), [ctx.stored]), ["list"])
    bogus = {ctx.stored.id: ["not a record"]}
    other = ctx.make_datastore()
    yield Failure(_changes_nothing(other, lambda: other.transfer_from(bogus, [ctx.stored])), ["str"])


@scenario("`ingest` of one dataset given more than once")
def _ingest_twice(ctx: Context) -> Iterator[Failure]:
    store = ctx.datastore
    path = ctx.directory / "file.json"
    path.write_text("{}")
    ref = ctx.make_ref(storage_class="BtkDict")
    twice = FileDataset(path=str(path), refs=[ref, ref])
    yield Failure(lambda: store.ingest(twice, transfer="copy"), [str(ref.id), "more than once"])
    once = FileDataset(path=str(path), refs=[ref])
    yield Failure(lambda: store.ingest(once, once, transfer="copy"), [str(ref.id), "more than once"])


_LOCKED = {"lock": threading.Lock()}
_JSON_FORMATTER = "butler_testkit.factories._formatters.CatalogueJsonFormatter"


def _changes_nothing(datastore: InMemoryDatastore, call: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap a failing call on another datastore than the context's, checking that it changes nothing."""

    def checked() -> Any:
        before = _snapshot(datastore)
        try:
            return call()
        finally:
            assert _snapshot(datastore) == before, f"stored state of {datastore} changed"

    return checked


def _records_with_files(ctx: Context, path: str) -> DatastoreRecordData:
    ref = ctx.make_ref()
    info = StoredFileInfo(_JSON_FORMATTER, path, ref.datasetType.storageClass, None, None, 1)
    return DatastoreRecordData(records={ref.id: records_of(ref, info)})


def _snapshot(datastore: InMemoryDatastore) -> tuple[Any, ...]:
    stored = sorted(datastore.stored_refs(), key=lambda ref: ref.id)
    values = [datastore.get(ref) for ref in stored]
    return (stored, sorted(ref.id for ref in datastore.trashed_refs()), values)


def test_every_documented_row_has_a_scenario_and_every_scenario_a_row():
    assert DOCUMENTED, f"no error table found in {ERRORS_PAGE}"
    assert sorted(set(DOCUMENTED) - set(SCENARIOS)) == [], "rows without a scenario"
    assert sorted(set(SCENARIOS) - set(DOCUMENTED)) == [], "scenarios without a row"


@pytest.mark.parametrize("row", sorted(DOCUMENTED))
def test_documented_error(row, datastore, make_ref, make_datastore, tmp_path):
    if row not in SCENARIOS:
        pytest.fail(f"docs/errors.md row has no scenario: {row}")
    stored, trashed = make_ref(), make_ref()
    datastore.put(make_metrics(), stored)
    datastore.put(make_metrics(2), trashed)
    datastore.trash(trashed)
    ctx = Context(datastore, make_ref, make_datastore, stored, trashed, tmp_path)
    failures = list(SCENARIOS[row](ctx))  # runs any setup before the snapshot
    assert failures, f"scenario for {row!r} produced no failing call"
    before = _snapshot(datastore)
    for failure in failures:
        with pytest.raises(Exception) as excinfo:  # noqa: PT011 - the exact type is checked below
            failure.call()
        assert type(excinfo.value).__name__ == DOCUMENTED[row], f"{row}: {excinfo.value!r}"
        message = str(excinfo.value)
        for fragment in failure.fragments:
            assert fragment in message, f"{row}: {fragment!r} not in {message!r}"
        assert _snapshot(datastore) == before, f"{row}: stored state changed"


def test_error_messages_do_not_drown_in_huge_reprs(datastore):
    huge = "x" * 10_000
    with pytest.raises(TypeError) as excinfo:
        datastore.get(huge)
    assert len(str(excinfo.value)) < 300


def test_a_data_id_is_not_a_ref(datastore, universe):
    data_id = DataCoordinate.standardize({"instrument": "Cam"}, universe=universe)
    with pytest.raises(TypeError, match="DataCoordinate"):
        datastore.exists(data_id)
    with pytest.raises(TypeError, match="UUID"):
        datastore.exists(uuid.uuid4())
    assert re.search(r"get\(\)", _message(lambda: datastore.get(data_id)))


def _message(call: Callable[[], Any]) -> str:
    try:
        call()
    except Exception as err:
        return str(err)
    raise AssertionError("no exception")
