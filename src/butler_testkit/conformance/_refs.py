"""Resolved references for conformance tests: cheap, distinct and the same on every run."""

from __future__ import annotations

__all__ = ("ConformanceRefs",)

import functools
import random
import uuid

from lsst.daf.butler import DataCoordinate, DatasetRef, DatasetType

from ..factories import DataIdFactory, default_universe

DIMENSIONS = ("instrument", "visit", "detector")
"""Dimensions of every dataset type the suite uses."""

DEFAULT_RUN = "conformance/run"

_POOL_SIZE = 16


@functools.cache
def _data_id_pool(instrument: str, seed: int) -> tuple[DataCoordinate, ...]:
    # Drawing an expanded data ID costs milliseconds; a few dozen per process
    # serve every test, and file templates need the records they carry.
    factory = DataIdFactory(default_universe(), instrument=instrument, seed=seed)
    return tuple(factory.data_ids(DIMENSIONS, _POOL_SIZE))


class ConformanceRefs:
    """Make resolved references whose files can never collide.

    Every reference made by one instance has its own dataset ID and its own
    (dataset type, run, data ID) combination, so that a file datastore never
    writes two datasets to one path. Data IDs are expanded (they carry
    dimension records, as file templates need), realistic and seeded.

    Parameters
    ----------
    seed : `int`
        Seed of the dataset IDs; derived from the test's node ID so that a
        test gets the same IDs on every run, in any order, on any worker.
    data_id_seed : `int`
        Seed of the data IDs, shared by every test of a session.
    """

    def __init__(self, seed: int, data_id_seed: int) -> None:
        self._rng = random.Random(seed)
        self._data_id_seed = data_id_seed
        self._dataset_types: dict[str, DatasetType] = {}
        self._made = 0

    def dataset_type(self, name: str, storage_class: str) -> DatasetType:
        """Return the dataset type of a name, the same object every time.

        Parameters
        ----------
        name : `str`
            Dataset type name.
        storage_class : `str`
            Its storage class; must agree with earlier uses of the name.

        Returns
        -------
        dataset_type : `~lsst.daf.butler.DatasetType`
            On instrument, visit and detector.

        Raises
        ------
        ValueError
            Raised if the name was used before with another storage class.
        """
        existing = self._dataset_types.get(name)
        if existing is not None:
            if existing.storageClass_name != storage_class:
                raise ValueError(
                    f"Dataset type {name!r} already has storage class {existing.storageClass_name}, "
                    f"not {storage_class}."
                )
            return existing
        universe = default_universe()
        dataset_type = DatasetType(name, universe.conform(DIMENSIONS), storage_class, universe=universe)
        self._dataset_types[name] = dataset_type
        return dataset_type

    def ref(
        self, name: str = "metric", storage_class: str = "BtkMetrics", *, instrument: str = "GenericCam"
    ) -> DatasetRef:
        """Make a new resolved reference.

        Parameters
        ----------
        name : `str`, optional
            Dataset type name.
        storage_class : `str`, optional
            Storage class of the dataset type.
        instrument : `str`, optional
            Instrument preset of the data ID (``GenericCam``, ``HSC`` or
            ``LSSTCam``).

        Returns
        -------
        ref : `~lsst.daf.butler.DatasetRef`
            A reference no earlier call returned, in a run under
            ``conformance/run``.
        """
        pool = _data_id_pool(instrument, self._data_id_seed)
        number = self._made
        self._made += 1
        lap, position = divmod(number, len(pool))
        run = DEFAULT_RUN if lap == 0 else f"{DEFAULT_RUN}/{lap}"
        dataset_id = uuid.UUID(int=self._rng.getrandbits(128), version=4)
        return DatasetRef(self.dataset_type(name, storage_class), pool[position], run=run, id=dataset_id)

    def refs(self, count: int, name: str = "metric", storage_class: str = "BtkMetrics") -> list[DatasetRef]:
        """Make several new references of one dataset type.

        Parameters
        ----------
        count : `int`
            How many.
        name : `str`, optional
            Dataset type name.
        storage_class : `str`, optional
            Storage class of the dataset type.

        Returns
        -------
        refs : `list` [`~lsst.daf.butler.DatasetRef`]
            Distinct references.
        """
        return [self.ref(name, storage_class) for _ in range(count)]
