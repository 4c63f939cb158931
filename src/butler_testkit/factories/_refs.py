"""Dataset types and resolved DatasetRefs, from as little as a name."""

from __future__ import annotations

__all__ = ("RefFactory",)

import random
import uuid
from collections.abc import Mapping
from typing import Any

from lsst.daf.butler import (
    DataCoordinate,
    DatasetRef,
    DatasetType,
    StorageClass,
    StorageClassFactory,
)

from ._data_ids import DataIdFactory

DEFAULT_STORAGE_CLASS = "BtkMetrics"
"""Storage class of a dataset type when none is given."""

_USERS = ("jbosch", "ktl", "yusra", "erykoff", "timj", "mrawls", "lskelvin", "jmeyers")


class RefFactory:
    """Resolved `~lsst.daf.butler.DatasetRef` objects for tests.

    ``refs.ref("calexp")`` is enough: the storage class (``BtkMetrics``),
    dimensions (``instrument, visit, detector``), data ID (drawn by the data
    ID factory, different for every ref of a dataset type in a run), run
    and dataset id all default sensibly; any of them can be given instead.
    The same seed gives the same dataset ids and runs.

    Parameters
    ----------
    data_ids : `DataIdFactory`
        Where data IDs come from (and the dimension universe).
    seed : `int`, optional
        Seed of the dataset ids and the default run.
    run : `str`, optional
        Default RUN collection; one is made up from the seed if not given.
    storage_class : `str`, optional
        Default storage class of new dataset types.
    dimensions : `str` or iterable of `str`, optional
        Default dimensions of new dataset types.
    """

    def __init__(
        self,
        data_ids: DataIdFactory,
        *,
        seed: int = 0,
        run: str | None = None,
        storage_class: str = DEFAULT_STORAGE_CLASS,
        dimensions: Any = ("instrument", "visit", "detector"),
    ) -> None:
        self.data_ids = data_ids
        self.universe = data_ids.universe
        # Ids have their own generator, so that drawing more or fewer data
        # IDs never changes which ids the refs get.
        self._rng = random.Random(seed)
        self.run = run if run is not None else self._make_run()
        """The default RUN collection."""
        self.default_storage_class = storage_class
        self.default_dimensions = data_ids.dimensions(dimensions)
        self._dataset_types: dict[str, DatasetType] = {}
        self._used: dict[tuple[str, str], set[DataCoordinate]] = {}

    def _make_run(self) -> str:
        return f"u/{self._rng.choice(_USERS)}/DM-{self._rng.randint(10_000, 59_999)}"

    def dataset_id(self) -> uuid.UUID:
        """Return a new dataset id from the seeded generator.

        Returns
        -------
        id : `uuid.UUID`
            A version-4 UUID.
        """
        return uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def dataset_type(
        self,
        name: str,
        /,
        *,
        storage_class: str | StorageClass | None = None,
        dimensions: Any = None,
        is_calibration: bool = False,
    ) -> DatasetType:
        """Return the dataset type of a name, defining it on first use.

        Parameters
        ----------
        name : `str`
            The dataset type name (not a component).
        storage_class : `str` or `~lsst.daf.butler.StorageClass`, optional
            Its storage class; the factory's default for a new type.
        dimensions : `~lsst.daf.butler.DimensionGroup` or names, optional
            Its dimensions; the factory's default for a new type.
        is_calibration : `bool`, optional
            Whether it may be certified into a CALIBRATION collection.

        Returns
        -------
        dataset_type : `~lsst.daf.butler.DatasetType`
            The same definition every time the name is asked for.

        Raises
        ------
        ValueError
            Raised if the name is not a valid dataset type name or a
            component, or if an argument contradicts the earlier definition
            of the name.
        LookupError
            Raised if the storage class is not registered (install the
            catalogue: the ``butler_storage_classes`` fixture).
        """
        if not isinstance(name, str):
            raise TypeError(f"A dataset type name must be a str; got {name!r}.")
        if "." in name:
            raise ValueError(f"{name!r} names a component; give the parent name and component= instead.")
        storage_class_name = storage_class.name if isinstance(storage_class, StorageClass) else storage_class
        existing = self._dataset_types.get(name)
        if existing is not None:
            requested_dimensions = None if dimensions is None else self.data_ids.dimensions(dimensions)
            conflicts = [
                f"{what} {wanted} (it has {have})"
                for what, wanted, have in (
                    ("storage class", storage_class_name, existing.storageClass_name),
                    ("dimensions", requested_dimensions, existing.dimensions),
                )
                if wanted is not None and wanted != have
            ]
            if is_calibration != existing.isCalibration():
                conflicts.append(f"is_calibration={is_calibration}")
            if conflicts:
                raise ValueError(
                    f"Dataset type {name!r} is already defined as {existing}; "
                    f"asked for {', '.join(conflicts)}."
                )
            return existing
        storage_class_name = storage_class_name or self.default_storage_class
        if storage_class_name not in StorageClassFactory():
            raise LookupError(
                f"Storage class {storage_class_name!r} is not registered; install the catalogue "
                "(the butler_storage_classes fixture, or installed_storage_classes()) or define it."
            )
        group = self.default_dimensions if dimensions is None else self.data_ids.dimensions(dimensions)
        dataset_type = DatasetType(
            name, group, storage_class_name, isCalibration=is_calibration, universe=self.universe
        )
        self._dataset_types[name] = dataset_type
        return dataset_type

    def ref(
        self,
        name: str = "metric",
        /,
        *,
        storage_class: str | StorageClass | None = None,
        dimensions: Any = None,
        data_id: DataCoordinate | Mapping[str, Any] | None = None,
        run: str | None = None,
        id: uuid.UUID | None = None,
        component: str | None = None,
        override_storage_class: str | StorageClass | None = None,
        expanded: bool = True,
        **values: Any,
    ) -> DatasetRef:
        """Make a resolved reference.

        Parameters
        ----------
        name : `str`, optional
            Dataset type name (``metric`` by default); see `dataset_type`.
        storage_class : `str` or `~lsst.daf.butler.StorageClass`, optional
            Storage class of a new dataset type.
        dimensions : `~lsst.daf.butler.DimensionGroup` or names, optional
            Dimensions of a new dataset type.
        data_id : `~lsst.daf.butler.DataCoordinate` or mapping, optional
            Values for some or all of the data ID; the rest are drawn to
            agree with them. Without values, a data ID is drawn that no
            earlier ref of this dataset type and run has.
        run : `str`, optional
            RUN collection; the factory's `run` by default.
        id : `uuid.UUID`, optional
            Dataset id; drawn from the seeded generator by default.
        component : `str`, optional
            Return the ref of this component of the dataset.
        override_storage_class : `str` or `~lsst.daf.butler.StorageClass`, optional
            Return the ref with this storage class instead (a read-time
            conversion).
        expanded : `bool`, optional
            Whether the data ID carries dimension records (the default, as
            a ``FileDatastore``'s file templates need).
        **values
            More data ID values, as keywords (``visit=...``).

        Returns
        -------
        ref : `~lsst.daf.butler.DatasetRef`
            A resolved reference.

        Raises
        ------
        TypeError
            Raised if ``id`` is not a `uuid.UUID` or ``run`` not a `str`.
        ValueError
            Raised for an invalid data ID value, or a storage class the
            dataset type's cannot convert to (daf_butler's check).
        lsst.daf.butler.UnknownComponentError
            Raised if ``component`` is not a component of the storage class.
        LookupError
            Raised if the storage class is not registered.
        """
        dataset_type = self.dataset_type(name, storage_class=storage_class, dimensions=dimensions)
        run = self.run if run is None else run
        if not isinstance(run, str) or not run:
            raise TypeError(f"run must be a non-empty str; got {run!r}.")
        if id is None:
            id = self.dataset_id()
        elif not isinstance(id, uuid.UUID):
            raise TypeError(f"id must be a uuid.UUID; got {id!r}.")
        coordinate = self._data_id(dataset_type, run, data_id, values, expanded=expanded)
        ref = DatasetRef(dataset_type, coordinate, run=run, id=id)
        if override_storage_class is not None:
            ref = ref.overrideStorageClass(override_storage_class)
        if component is not None:
            ref = ref.makeComponentRef(component)
        return ref

    def refs(self, name: str = "metric", count: int = 2, /, **kwargs: Any) -> list[DatasetRef]:
        """Make several references of one dataset type, with different data IDs.

        Parameters
        ----------
        name : `str`, optional
            Dataset type name.
        count : `int`, optional
            How many.
        **kwargs
            As for `ref` (except ``id``); data ID values are shared by all.

        Returns
        -------
        refs : `list` [`~lsst.daf.butler.DatasetRef`]
            References with different data IDs and ids.

        Raises
        ------
        ValueError
            Raised if ``count`` is negative or there are not that many
            different data IDs with the values given; and as for `ref`.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative int; got {count!r}.")
        if "id" in kwargs:
            raise TypeError("refs() draws a different id for each ref; id= is not accepted.")
        return [self.ref(name, **kwargs) for _ in range(count)]

    def _data_id(
        self,
        dataset_type: DatasetType,
        run: str,
        data_id: DataCoordinate | Mapping[str, Any] | None,
        values: Mapping[str, Any],
        *,
        expanded: bool,
    ) -> DataCoordinate:
        group = dataset_type.dimensions
        if isinstance(data_id, DataCoordinate):
            if not expanded or data_id.hasRecords():
                coordinate = DataCoordinate.standardize(data_id, dimensions=group, **values)
                self._used.setdefault((dataset_type.name, run), set()).add(coordinate)
                return coordinate
            fixed = dict(data_id.mapping if data_id.hasFull() else data_id.required)
        elif data_id is None:
            fixed = {}
        elif isinstance(data_id, Mapping):
            fixed = dict(data_id)
        else:
            raise TypeError(f"data_id must be a DataCoordinate or a mapping; got {data_id!r}.")
        fixed.update(values)
        used = self._used.setdefault((dataset_type.name, run), set())
        complete = set(group.required).issubset(fixed)
        # A drawn data ID must not repeat one this dataset type already has
        # in the run, as a registry would refuse it; one given in full is
        # the caller's choice.
        # "instrument" is both a dimension and a keyword of data_id().
        options: dict[str, Any] = {"expanded": expanded, **fixed}
        for _ in range(1000):
            coordinate = self.data_ids.data_id(group, **options)
            if complete or coordinate not in used:
                used.add(coordinate)
                return coordinate
        raise ValueError(
            f"Cannot find a data ID for {dataset_type.name!r} in run {run!r} with values {fixed} that "
            f"no earlier ref has ({len(used)} are taken)."
        )

    def __repr__(self) -> str:
        return f"RefFactory(run={self.run!r}, dataset_types={sorted(self._dataset_types)})"
