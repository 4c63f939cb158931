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

    A stored dataset is ``mem://<datastore>/<run>/<dataset type>/<dataset
    id>?<data ID>``: the same dataset always gets the same URI, in every
    process, for as long as the datastore keeps its name, and two datasets
    never share one. A component reference names its parent dataset, since
    the parent is what is stored.

    A prediction, for a dataset that is not stored, is
    ``mem://<datastore>/<run>/<dataset type>?<data ID>#predicted``, the
    dataset type's name including any component: like a file datastore's
    file template, it depends on what the dataset is (dataset type,
    component, run, data ID), not on the ID a reference happens to carry, so
    every prediction for one dataset is the same URI.

    Every part is percent-encoded.

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

    def uri(self, ref: DatasetRef) -> InMemoryResourcePath:
        """Return the URI of a stored dataset.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.

        Returns
        -------
        uri : `lsst.resources.mem.InMemoryResourcePath`
            The URI, naming the dataset's ID.
        """
        prefix = _path_prefix(ref.run, ref.datasetType.nameAndComponent()[0])
        return self._assemble(f"{prefix}{dataset_key(ref):032x}", ref.dataId, "")

    def predicted(self, ref: DatasetRef) -> InMemoryResourcePath:
        """Return the URI a dataset that is not stored would have, as far as it is known.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset; its ID plays no part.

        Returns
        -------
        uri : `lsst.resources.mem.InMemoryResourcePath`
            The URI, with the fragment ``predicted``.
        """
        return self._assemble(_path_prefix(ref.run, ref.datasetType.name)[:-1], ref.dataId, "predicted")

    def _assemble(self, path: str, data_id: DataCoordinate, fragment: str) -> InMemoryResourcePath:
        parsed = ParseResult(
            scheme="mem",
            netloc=self._netloc,
            path=path,
            params="",
            query=_data_id_query(data_id),
            fragment=fragment,
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
