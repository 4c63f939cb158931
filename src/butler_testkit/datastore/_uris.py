"""Stable, descriptive ``mem://`` URIs for in-memory datasets."""

from __future__ import annotations

__all__ = ("DatasetUris",)

import functools
from urllib.parse import ParseResult, quote, quote_plus

from lsst.daf.butler import DataCoordinate, DatasetRef
from lsst.resources.mem import InMemoryResourcePath

from ._refs import dataset_key


class DatasetUris:
    """Build the URIs naming datasets of one datastore.

    ``mem://<datastore>/<run>/<dataset type>/<dataset id>?<data ID>``, with
    every part percent-encoded and the fragment ``predicted`` for a dataset
    that is not stored. The same dataset always gets the same URI, in every
    process, for as long as the datastore keeps its name. A component
    reference names its parent dataset, since the parent is what is stored.

    Parameters
    ----------
    datastore_name : `str`
        Name of the datastore; it becomes the URI's authority.

    Notes
    -----
    ``mem://`` URIs are descriptive only: lsst.resources reports that they
    exist and cannot read them.

    URIs are assembled from parts rather than parsed from a string, and the
    quoted parts are cached: parsing and quoting are most of the cost.
    """

    def __init__(self, datastore_name: str) -> None:
        self._netloc = quote(datastore_name, safe="")

    def uri(self, ref: DatasetRef, *, predicted: bool = False) -> InMemoryResourcePath:
        """Return the URI of a dataset.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.
        predicted : `bool`, optional
            Whether the dataset is not stored (yet).

        Returns
        -------
        uri : `lsst.resources.mem.InMemoryResourcePath`
            The URI.
        """
        prefix = _path_prefix(ref.run, ref.datasetType.nameAndComponent()[0])
        parsed = ParseResult(
            scheme="mem",
            netloc=self._netloc,
            path=f"{prefix}{dataset_key(ref):032x}",
            params="",
            query=_data_id_query(ref.dataId),
            fragment="predicted" if predicted else "",
        )
        return InMemoryResourcePath(parsed, forceDirectory=False)


# Runs, dataset types and data ID values recur endlessly; the caches are
# bounded so that a stream of distinct values cannot grow them without limit.
@functools.lru_cache(maxsize=1024)
def _path_prefix(run: str, dataset_type_name: str) -> str:
    return f"/{quote(run)}/{quote(dataset_type_name, safe='')}/"


@functools.lru_cache(maxsize=4096)
def _quote_value(value: str) -> str:
    return quote_plus(value)


def _data_id_query(data_id: DataCoordinate) -> str:
    """Encode the required dimensions of a data ID as a query string."""
    return "&".join(
        f"{name}={_quote_value(value) if isinstance(value, str) else value}"
        for name, value in zip(data_id.dimensions.required, data_id.required_values, strict=True)
    )
