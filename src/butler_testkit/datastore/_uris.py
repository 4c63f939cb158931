"""Stable, descriptive ``mem://`` URIs for in-memory datasets."""

from __future__ import annotations

__all__ = ("DatasetUris",)

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

    URIs are built piecewise rather than parsed from a string: parsing is
    most of the cost, and ``emptyTrash`` builds one per removed dataset.
    """

    def __init__(self, datastore_name: str) -> None:
        self._netloc = quote(datastore_name, safe="")
        # Quoting is a noticeable part of the cost and the same few runs,
        # dataset types and data ID values come back again and again.
        self._prefixes: dict[tuple[str, str], str] = {}
        self._quoted_values: dict[str, str] = {}

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
        run = ref.run
        type_name = ref.datasetType.nameAndComponent()[0]
        prefix = self._prefixes.get((run, type_name))
        if prefix is None:
            prefix = self._prefixes[run, type_name] = f"/{quote(run)}/{quote(type_name, safe='')}/"
        parsed = ParseResult(
            scheme="mem",
            netloc=self._netloc,
            path=f"{prefix}{dataset_key(ref):032x}",
            params="",
            query=self._data_id_query(ref.dataId),
            fragment="predicted" if predicted else "",
        )
        return InMemoryResourcePath(parsed, forceDirectory=False)

    def _data_id_query(self, data_id: DataCoordinate) -> str:
        """Encode the required dimensions of a data ID as a query string."""
        quoted = self._quoted_values
        parts = []
        for name, value in zip(data_id.dimensions.required, data_id.required_values, strict=True):
            if isinstance(value, str):
                text = quoted.get(value)
                if text is None:
                    text = quoted[value] = quote_plus(value)
            else:
                text = str(value)
            parts.append(f"{name}={text}")
        return "&".join(parts)
