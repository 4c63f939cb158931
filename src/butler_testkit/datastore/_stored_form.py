"""What a datastore may keep in place of a dataset, and how it is read back."""

from __future__ import annotations

__all__ = ("FormatterReader", "StoredForm")

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lsst.daf.butler import DatasetRef, StorageClass


class FormatterReader(Protocol):
    """What reading a stored form may need of a datastore's formatters.

    The datastore's own formatters class fits; this module does not import it,
    since that class's module builds on stored forms.
    """

    def deserialize(
        self,
        data: bytes,
        formatter: str,
        ref: DatasetRef,
        *,
        storage_class: StorageClass | None = None,
        component: str | None = None,
        path: str = "dataset",
    ) -> Any:
        """Read a dataset, or one of its files, from a formatter's bytes."""
        ...


class StoredForm:
    """A dataset held in a form that only a fresh read turns back into it.

    ``copy`` isolation keeps a private copy (a pickle, or an object only ever
    copied) and ``serialize`` isolation keeps a formatter's bytes; anything
    else a datastore stores is the dataset object itself. Datastores sharing a
    state may be configured differently, so a reader asks what is stored how
    it is read, rather than relying on its own configuration.
    """

    __slots__ = ("__weakref__",)

    def fresh(self, ref: DatasetRef, formatters: FormatterReader) -> Any:
        """Return the whole dataset as a new object that shares nothing with this form.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The reference the dataset was stored with.
        formatters : `FormatterReader`
            Formatters of the reading datastore, for forms written by one.

        Returns
        -------
        dataset : `object`
            The dataset, of the stored reference's storage class's Python
            type; nothing else holds it.
        """
        raise NotImplementedError(f"{type(self).__qualname__} does not say how it is read.")
