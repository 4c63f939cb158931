"""Fast equivalents of daf_butler's test-repository helpers, with the same signatures."""

from __future__ import annotations

__all__ = ("addDataIdValue", "addDatasetType", "makeTestCollection", "makeTestRepo")

import random
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy
from lsst.daf.butler import Butler, Config, DatasetType, Dimension, DimensionUniverse
from lsst.daf.butler.registry import RegistryDefaults

from ._fast_repo_engine import DEFAULT_TEST_DATASTORE, engine


# The annotations are daf_butler's, to the letter, so that the signatures are equal.
def makeTestRepo(
    root: str,
    dataIds: Mapping[str, Iterable] | None = None,  # type: ignore[type-arg]
    *,
    config: Config | None = None,
    **kwargs: Any,
) -> Butler:
    """Make a test repository and a writeable Butler on it, as daf_butler's ``makeTestRepo`` does.

    The repository is a copy of the first one made with the same
    configuration in this process (``Butler.makeRepo`` is not run again),
    its Butler reuses the configuration parse and the registry managers of
    that first one, and its registry skips waiting for the disk: the same
    repository and Butler as daf_butler's, in a fraction of the time.

    Parameters
    ----------
    root : `str`
        Directory of the new repository.
    dataIds : `~collections.abc.Mapping` [`str`, `~collections.abc.Iterable`], optional
        Values of some dimensions (e.g. ``{"instrument": ["notACam"],
        "detector": [1, 2]}``): each becomes a dimension record, with
        arbitrary values for the other fields and for the dimensions they
        need, linked to the first value of each.
    config : `~lsst.daf.butler.Config`, optional
        Repository configuration, merged over the defaults: daf_butler's
        in-memory datastore without checksums and a SQLite registry in the
        repository. A ``datastore.cls`` here is honoured.
    **kwargs
        Passed to ``Butler.makeRepo`` (``dimensionConfig``, ``standalone``,
        ``searchPaths``, ...; not ``forceConfigRoot``, which is `False`).

    Returns
    -------
    butler : `~lsst.daf.butler.Butler`
        A writeable Butler on the new repository, with no default run: give
        each test its own with `makeTestCollection`.

    Notes
    -----
    Values drawn for dimensions not given come from the `random` module, in
    the same order as daf_butler's, so a suite that seeds `random` gets the
    same records.
    """
    defaults = Config()
    defaults["datastore", "cls"] = DEFAULT_TEST_DATASTORE
    defaults["datastore", "checksum"] = False
    defaults["registry", "db"] = "sqlite:///<butlerRoot>/gen3.sqlite3"
    if config:
        defaults.update(config)
    fast = engine()
    written = fast.make_repo_as("makeTestRepo", root, config=defaults, forceConfigRoot=False, **kwargs)
    butler = fast.open_butler(written, writeable=True, defaults=RegistryDefaults())
    for dimension, records in _records_for_values(dataIds or {}, butler.dimensions).items():
        if butler.dimensions[dimension].has_own_table:
            butler.registry.insertDimensionData(dimension, *records)
    return butler


def makeTestCollection(repo: Butler, uniqueId: str | None = None) -> Butler:
    """Return a writeable Butler on ``repo``'s repository with a new run, as daf_butler's does.

    Parameters
    ----------
    repo : `~lsst.daf.butler.Butler`
        A Butler on the repository (from `makeTestRepo`, say).
    uniqueId : `str`, optional
        Makes the run ``test_<uniqueId>``; a random number (from the `random`
        module, as daf_butler draws it) if not given.

    Returns
    -------
    butler : `~lsst.daf.butler.Butler`
        A Butler sharing ``repo``'s registry connections and datastore, whose
        default run is the new collection.
    """
    # Drawn only when not given, as daf_butler draws it.
    suffix = uniqueId if uniqueId else str(random.randrange(1_000_000_000))
    return Butler.from_config(butler=repo, run=f"test_{suffix}")


def addDatasetType(butler: Butler, name: str, dimensions: set[str], storageClass: str) -> DatasetType:
    """Register a dataset type, as daf_butler's ``addDatasetType`` does.

    Parameters
    ----------
    butler : `~lsst.daf.butler.Butler`
        A writeable Butler on the repository.
    name : `str`
        Name of the dataset type.
    dimensions : `set` [`str`]
        Its dimensions.
    storageClass : `str`
        Its storage class.

    Returns
    -------
    dataset_type : `~lsst.daf.butler.DatasetType`
        The registered dataset type.

    Raises
    ------
    ValueError
        Raised if a dimension or the storage class is unknown.
    """
    try:
        dataset_type = DatasetType(name, dimensions, storageClass, universe=butler.dimensions)
        butler.registry.registerDatasetType(dataset_type)
    except KeyError as err:
        raise ValueError(f"Cannot add dataset type {name!r}: {err}") from err
    return dataset_type


def addDataIdValue(butler: Butler, dimension: str, value: str | int, **related: str | int) -> None:
    """Add the dimension records behind a data ID value, as daf_butler's ``addDataIdValue`` does.

    Parameters
    ----------
    butler : `~lsst.daf.butler.Butler`
        A writeable Butler on the repository.
    dimension : `str`
        The dimension of the new value.
    value : `str` or `int`
        The value.
    **related : `str` or `int`
        Values of dimensions it depends on, which must exist already. Those
        not given are linked to an existing value, or (implied dimensions
        only) to a new one, made up and added.

    Raises
    ------
    ValueError
        Raised if the dimension is unknown or a related one is not among its
        dependencies.
    RuntimeError
        Raised if the records cannot be added consistently (give related
        values explicitly).
    """
    universe = butler.dimensions
    try:
        element = universe[dimension]
    except KeyError as err:
        raise ValueError(f"Unknown dimension {dimension!r}.") from err
    unexpected = related.keys() - element.minimal_group.names
    if unexpected:
        raise ValueError(f"Unexpected keywords {unexpected} not found in {element.minimal_group.names}")
    data_id: dict[str, str | int] = {dimension: value, **related}
    group = universe.conform(data_id.keys())
    to_sync: list[tuple[Dimension, dict[str, Any]]] = []
    for name in group.names:
        current = universe.dimensions[name]
        if data_id.get(name) is None:
            data_id[name], invented = _existing_or_new_value(butler, data_id, current)
            if not invented:
                continue
        # Values the caller gave for other dimensions, and required
        # dependencies, must exist already; elements without a table have no
        # record to add.
        if name in related or (name != dimension and name in group.required) or not current.has_own_table:
            continue
        to_sync.append((current, _record_fields(data_id, current)))
    for current, fields in to_sync:
        try:
            butler.registry.syncDimensionData(current, current.RecordClass(**fields))
        except sqlalchemy.exc.IntegrityError as err:
            raise RuntimeError(
                f"Could not add a record for {current.name}={data_id[current.name]!r} consistently with "
                f"{data_id}; give the related dimension values (instrument, physical_filter, ...) "
                "explicitly."
            ) from err


def _existing_or_new_value(
    butler: Butler, data_id: Mapping[str, str | int], dimension: Dimension
) -> tuple[str | int, bool]:
    """Return an existing value of ``dimension`` consistent with ``data_id``, or a new one."""
    known = {name: data_id[name] for name in data_id.keys() & dimension.dimensions.names}
    for record in butler.registry.queryDimensionRecords(dimension, dataId=known).limit(1):
        existing = record.dataId[dimension.name]
        assert existing is not None
        return existing, False
    return _random_value(dimension), True


def _record_fields(data_id: Mapping[str, str | int], dimension: Dimension) -> dict[str, Any]:
    fields: dict[str, Any] = {dimension.primaryKey.name: data_id[dimension.name]}
    fields.update(_filler_fields(dimension, data_id[dimension.name]))
    for other in dimension.dimensions:
        if other.name != dimension.name:
            fields[other.name] = data_id[other.name]
    return fields


def _records_for_values(
    values: Mapping[str, Iterable[Any]], universe: DimensionUniverse
) -> dict[str, list[Any]]:
    """Make linked dimension records for the given values of some dimensions.

    Every dimension the given ones need gets one random value; each record
    refers to the first record of each dimension it depends on.
    """
    chosen: dict[str, list[Any]] = {}
    for name in universe.conform(values.keys()).names:
        chosen[name] = list(values[name]) if name in values else [_random_value(universe.dimensions[name])]
    fields = {
        name: [_filler_fields(universe[name], value) for value in given] for name, given in chosen.items()
    }
    for name, records in fields.items():
        element = universe[name]
        for record in records:
            for other in element.dimensions:
                if other != element:
                    record[other.name] = fields[other.name][0][other.primaryKey.name]
    return {
        name: [universe[name].RecordClass(**record) for record in records] for name, records in fields.items()
    }


def _filler_fields(dimension: Any, value: str | int) -> dict[str, Any]:
    """Fill a record's own keys and required metadata from its value."""
    fields: dict[str, Any] = {}
    for key in dimension.uniqueKeys:
        convert: Any = (lambda *args: str(*args).encode()) if key.nbytes else key.dtype().python_type
        try:
            fields[key.name] = convert(value)
        except TypeError:
            fields[key.name] = convert()
    for key in dimension.metadata:
        if not key.nullable:
            fields[key.name] = key.dtype().python_type(value)
    return fields


def _random_value(dimension: Dimension) -> int | str:
    number = random.randrange(1000)
    return str(number) if dimension.primaryKey.getPythonType() is str else number
