"""Where a dataset's file goes, relative to a datastore root."""

from __future__ import annotations

__all__ = ("artifact_path",)

import re

from lsst.daf.butler import DatasetRef

# Characters kept as they are in a path part; anything else becomes "_" so
# that a data ID value can neither add directories nor need quoting.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+=-]")


def _part(value: object) -> str:
    part = _UNSAFE.sub("_", str(value))
    # "." and ".." are safe characters but would climb out of the directory.
    return "_" if part in ("", ".", "..") else part


def artifact_path(ref: DatasetRef, extension: str) -> str:
    """Return the path, relative to a datastore root, of a dataset's file.

    ``<run>/<dataset type>/<dataset type>_<data ID values>_<dataset ID><ext>``,
    the run's ``/`` kept as directories as a file datastore's default
    template does. The dataset ID makes the path unique even without a
    registry to keep data IDs unique within a run.

    Parameters
    ----------
    ref : `~lsst.daf.butler.DatasetRef`
        The dataset (a component reference names its parent's file).
    extension : `str`
        The formatter's extension, with its dot (may be empty).

    Returns
    -------
    path : `str`
        A relative POSIX path.
    """
    name = ref.datasetType.nameAndComponent()[0]
    run = "/".join(_part(segment) for segment in ref.run.split("/") if segment)
    values = "_".join(_part(value) for value in ref.dataId.required_values)
    stem = f"{_part(name)}_{values}_{ref.id.hex}" if values else f"{_part(name)}_{ref.id.hex}"
    return f"{run}/{_part(name)}/{stem}{extension}"
