"""The records an in-memory datastore exports: a file and the dataset it holds."""

from __future__ import annotations

__all__ = ("FILE_RECORDS_TABLE", "REF_RECORDS_TABLE", "StoredDatasetRefInfo", "parse_records", "records_of")

import dataclasses
from collections.abc import Mapping
from typing import Any

from lsst.daf.butler import DatasetId, DatasetRef, DimensionUniverse, Location, LocationFactory
from lsst.daf.butler.datastore.record_data import DatastoreRecordData
from lsst.daf.butler.datastore.stored_file_info import StoredDatastoreItemInfo, StoredFileInfo

FILE_RECORDS_TABLE = "in_memory_datastore_files"
"""Table of a dataset's file record: the `StoredFileInfo` of a file datastore,
with an absolute path."""

REF_RECORDS_TABLE = "in_memory_datastore_refs"
"""Table of a dataset's reference record (`StoredDatasetRefInfo`)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StoredDatasetRefInfo(StoredDatastoreItemInfo):
    """The reference of an exported dataset, as a datastore record.

    A file datastore's records need no reference: it reads a file when it
    is asked for a dataset. An in-memory datastore holds each dataset with
    its reference, so its records carry one, and importing them reads the
    file at once.

    Parameters
    ----------
    ref : `str`
        The `~lsst.daf.butler.DatasetRef` as JSON.
    """

    ref: str

    @classmethod
    def from_ref(cls, ref: DatasetRef) -> StoredDatasetRefInfo:
        """Record a reference.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The reference.

        Returns
        -------
        info : `StoredDatasetRefInfo`
            The record.
        """
        return cls(ref=ref.to_json())

    def to_ref(self, universe: DimensionUniverse) -> DatasetRef:
        """Rebuild the reference.

        Parameters
        ----------
        universe : `~lsst.daf.butler.DimensionUniverse`
            Universe of its data ID.

        Returns
        -------
        ref : `~lsst.daf.butler.DatasetRef`
            The reference.
        """
        ref = DatasetRef.from_json(self.ref, universe=universe)
        assert isinstance(ref, DatasetRef)
        return ref

    def file_location(self, factory: LocationFactory) -> Location:
        """Refuse: this record names a dataset, not a file.

        Parameters
        ----------
        factory : `~lsst.daf.butler.LocationFactory`
            Unused.

        Returns
        -------
        location : `~lsst.daf.butler.Location`
            Never returns.

        Raises
        ------
        TypeError
            Always.
        """
        raise TypeError("A dataset reference record has no file location.")

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StoredDatasetRefInfo:
        """Rebuild from a record's mapping.

        Parameters
        ----------
        record : `~collections.abc.Mapping`
            With a ``ref`` key.

        Returns
        -------
        info : `StoredDatasetRefInfo`
            The record.
        """
        return cls(ref=str(record["ref"]))

    def to_record(self, **kwargs: Any) -> dict[str, Any]:
        """Return the record as a mapping.

        Parameters
        ----------
        **kwargs
            Further entries.

        Returns
        -------
        record : `dict`
            ``ref`` and ``kwargs``.
        """
        return {"ref": self.ref, **kwargs}

    def update(self, **kwargs: Any) -> StoredDatasetRefInfo:
        """Return a copy with other values.

        Parameters
        ----------
        **kwargs
            ``ref``.

        Returns
        -------
        info : `StoredDatasetRefInfo`
            The copy.
        """
        return dataclasses.replace(self, **kwargs)


def records_of(ref: DatasetRef, file_info: StoredFileInfo) -> dict[str, list[StoredDatastoreItemInfo]]:
    """Return the records of one dataset.

    Parameters
    ----------
    ref : `~lsst.daf.butler.DatasetRef`
        The dataset.
    file_info : `~lsst.daf.butler.datastore.stored_file_info.StoredFileInfo`
        Its file, with an absolute path.

    Returns
    -------
    records : `dict` [`str`, `list`]
        By table name, as in `DatastoreRecordData`.
    """
    return {FILE_RECORDS_TABLE: [file_info], REF_RECORDS_TABLE: [StoredDatasetRefInfo.from_ref(ref)]}


def parse_records(
    data: DatastoreRecordData, universe: DimensionUniverse
) -> list[tuple[DatasetId, DatasetRef, list[StoredFileInfo]]]:
    """Return each dataset's reference and files from exported records.

    Parameters
    ----------
    data : `DatastoreRecordData`
        Records exported by an in-memory datastore.
    universe : `~lsst.daf.butler.DimensionUniverse`
        Universe of the data IDs.

    Returns
    -------
    datasets : `list` [`tuple`]
        Dataset ID, reference and file records of each dataset with records.

    Raises
    ------
    ValueError
        Raised if a dataset's records lack the reference or the file
        record, or hold something else, naming the dataset.
    """
    parsed = []
    if not isinstance(data.records, Mapping):
        raise ValueError(
            f"Records must map dataset IDs to tables of records; got {type(data.records).__name__}."
        )
    for dataset_id, tables in data.records.items():
        if not tables:
            continue
        if not isinstance(tables, Mapping):
            raise ValueError(
                f"The records of dataset {dataset_id} must map table names to records; got "
                f"{type(tables).__name__}."
            )
        ref_records = tables.get(REF_RECORDS_TABLE, [])
        file_records = tables.get(FILE_RECORDS_TABLE, [])
        if len(ref_records) != 1 or not isinstance(ref_records[0], StoredDatasetRefInfo):
            raise ValueError(
                f"The records of dataset {dataset_id} do not hold its reference (table "
                f"{REF_RECORDS_TABLE!r}, found tables {sorted(tables)}); only records exported by an "
                "in-memory datastore can be imported into one."
            )
        files = [info for info in file_records if isinstance(info, StoredFileInfo)]
        if not files or len(files) != len(file_records):
            raise ValueError(
                f"The records of dataset {dataset_id} name no file (table {FILE_RECORDS_TABLE!r}, "
                f"found tables {sorted(tables)})."
            )
        ref = ref_records[0].to_ref(universe)
        if ref.id != dataset_id:
            raise ValueError(f"The records of dataset {dataset_id} hold the reference of {ref}.")
        parsed.append((dataset_id, ref, files))
    return parsed
