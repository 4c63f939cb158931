"""Declarative seeding: the dimension records and dataset types a test needs."""

from __future__ import annotations

__all__ = ("SeededData", "Seeding")

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lsst.daf.butler import Butler, DatasetType

# Dimensions of a dataset type declared with a storage class only.
_DEFAULT_DIMENSIONS: tuple[str, ...] = ("instrument", "visit", "detector")


@dataclasses.dataclass(frozen=True, eq=False)
class Seeding:
    """What a test repository should hold: an instrument, observations, dataset types.

    Every record is drawn by `~butler_testkit.factories.DataIdFactory` from
    the instrument preset, so the values are realistic and consistent (no
    invented values colliding, no missing instrument fields) and the same for
    the same seed.

    Parameters
    ----------
    instrument : `str`, optional
        Instrument preset (``GenericCam``, ``HSC``, ``LSSTCam``): its
        instrument, detector, physical filter and band records. Required by
        every other observation field.
    detectors : `int` or `~collections.abc.Sequence` [`int`], optional
        Detectors the test uses: the first so many science detectors, or
        these ids. (Every detector of the instrument is inserted.)
    visits : `int`, optional
        How many visits (with their days of observation and filters).
    exposures : `int`, optional
        How many exposures.
    tracts : `int`, optional
        How many tracts of the instrument's sky map.
    dataset_types : `~collections.abc.Mapping`, optional
        Dataset types to register, by name: a storage class name (dimensions
        instrument, visit, detector), or a ``(storage class, dimensions)``
        pair.

    Raises
    ------
    ValueError
        Raised for a negative count, observations without an instrument, or
        a malformed dataset type entry.
    """

    instrument: str | None = None
    detectors: int | Sequence[int] = 0
    visits: int = 0
    exposures: int = 0
    tracts: int = 0
    dataset_types: Mapping[str, str | tuple[str, Sequence[str]]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("visits", "exposures", "tracts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Seeding {name} must be a non-negative int; got {value!r}.")
        detectors = self.detectors
        if isinstance(detectors, bool):
            raise ValueError(f"Seeding detectors must be a count or detector ids; got {detectors!r}.")
        if isinstance(detectors, int):
            if detectors < 0:
                raise ValueError(f"Seeding detectors must not be negative; got {detectors}.")
        else:
            object.__setattr__(self, "detectors", tuple(int(detector) for detector in detectors))
        wanted = bool(self.detectors) or self.visits or self.exposures or self.tracts
        if wanted and self.instrument is None:
            raise ValueError("Seeding detectors, visits, exposures or tracts needs an instrument.")
        normalized: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, entry in dict(self.dataset_types).items():
            if isinstance(entry, str):
                normalized[name] = (entry, _DEFAULT_DIMENSIONS)
            elif isinstance(entry, Sequence) and len(entry) == 2 and isinstance(entry[0], str):
                normalized[name] = (entry[0], tuple(entry[1]))
            else:
                raise ValueError(
                    f"Dataset type {name!r} must be given as a storage class name or a "
                    f"(storage class, dimensions) pair; got {entry!r}."
                )
        object.__setattr__(self, "dataset_types", normalized)

    @property
    def dataset_type_specs(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The dataset types, each as (storage class, dimensions)."""
        specs: Any = self.dataset_types  # normalized by __post_init__
        return dict(specs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Seeding) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def key(self) -> str:
        """Return a canonical text form of the seeding, for cache keys.

        Returns
        -------
        key : `str`
            JSON with sorted keys.
        """
        return json.dumps(dataclasses.asdict(self), sort_keys=True, default=list)

    def apply(self, butler: Butler, seed: int) -> SeededData:
        """Insert the records and register the dataset types.

        Parameters
        ----------
        butler : `~lsst.daf.butler.Butler`
            A writeable Butler on the repository to seed.
        seed : `int`
            Seed of every value drawn.

        Returns
        -------
        seeded : `SeededData`
            What was seeded.

        Raises
        ------
        ValueError
            Raised if a detector id is not one of the instrument's.
        LookupError
            Raised if the instrument names no preset.
        """
        from ..factories import DataIdFactory

        visits: list[int] = []
        exposures: list[int] = []
        tracts: list[int] = []
        detectors: list[int] = []
        skymap = None
        if self.instrument is not None:
            factory = DataIdFactory(butler.dimensions, instrument=self.instrument, seed=seed)
            preset = factory.instrument
            if isinstance(self.detectors, int):
                science = preset.science_detectors
                if self.detectors > len(science):
                    raise ValueError(
                        f"{preset.name} has {len(science)} science detectors; "
                        f"{self.detectors} were asked for."
                    )
                detectors = [detector.id for detector in science[: self.detectors]]
            else:
                detectors = [preset.detector(detector_id).id for detector_id in self.detectors]
            visits = [
                int(data_id["visit"]) for data_id in factory.data_ids(["instrument", "visit"], self.visits)
            ]
            exposures = [
                int(data_id["exposure"])
                for data_id in factory.data_ids(["instrument", "exposure"], self.exposures)
            ]
            tract_ids = factory.data_ids(["skymap", "tract"], self.tracts)
            tracts = [int(data_id["tract"]) for data_id in tract_ids]
            skymap = str(tract_ids[0]["skymap"]) if tract_ids else None
            factory.insert_records(butler.registry)
        for name, (storage_class, dimensions) in self.dataset_type_specs.items():
            butler.registry.registerDatasetType(
                DatasetType(name, butler.dimensions.conform(list(dimensions)), storage_class)
            )
        return SeededData(
            instrument=self.instrument,
            detectors=tuple(detectors),
            visits=tuple(visits),
            exposures=tuple(exposures),
            skymap=skymap,
            tracts=tuple(tracts),
            dataset_types=tuple(self.dataset_types),
        )


@dataclasses.dataclass(frozen=True)
class SeededData:
    """What a seeded test repository holds, for the test to use.

    Attributes
    ----------
    instrument : `str` or `None`
        Instrument name.
    detectors, visits, exposures : `tuple` [`int`, ...]
        Ids of the detectors, visits and exposures seeded (or picked).
    skymap : `str` or `None`
        Sky map of the tracts.
    tracts : `tuple` [`int`, ...]
        Ids of the tracts seeded.
    dataset_types : `tuple` [`str`, ...]
        Names of the dataset types registered.
    """

    instrument: str | None = None
    detectors: tuple[int, ...] = ()
    visits: tuple[int, ...] = ()
    exposures: tuple[int, ...] = ()
    skymap: str | None = None
    tracts: tuple[int, ...] = ()
    dataset_types: tuple[str, ...] = ()

    def data_ids(self, *dimensions: str) -> list[dict[str, Any]]:
        """Return every combination of the seeded values of ``dimensions``.

        Parameters
        ----------
        *dimensions : `str`
            Some of ``detector``, ``visit``, ``exposure``, ``tract``; the
            instrument (or sky map) is added.

        Returns
        -------
        data_ids : `list` [`dict` [`str`, `object`]]
            Plain data IDs, e.g. every visit with every detector, for
            ``butler.put(obj, dataset_type, data_id)``.

        Raises
        ------
        ValueError
            Raised for a dimension that was not seeded.
        """
        values = {
            "detector": self.detectors,
            "visit": self.visits,
            "exposure": self.exposures,
            "tract": self.tracts,
        }
        combos: list[dict[str, Any]] = [{}]
        for dimension in dimensions:
            if dimension not in values:
                raise ValueError(f"{dimension!r} is not a seeded dimension; use one of {sorted(values)}.")
            combos = [{**combo, dimension: value} for combo in combos for value in values[dimension]]
        for combo in combos:
            if "tract" in combo:
                combo["skymap"] = self.skymap
            if combo.keys() & {"detector", "visit", "exposure"}:
                combo["instrument"] = self.instrument
        return combos

    def save(self, path: Path) -> None:
        """Write to a JSON file (kept with a repository template).

        Parameters
        ----------
        path : `pathlib.Path`
            The file.
        """
        path.write_text(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def load(cls, path: Path) -> SeededData:
        """Read what `save` wrote.

        Parameters
        ----------
        path : `pathlib.Path`
            The file.

        Returns
        -------
        seeded : `SeededData`
            The data.
        """
        raw: dict[str, Any] = json.loads(path.read_text())
        fields: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in raw.items()
        }
        return cls(**fields)
