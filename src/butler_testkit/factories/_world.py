"""Consistent data ID values and dimension records, drawn from a source of choices."""

from __future__ import annotations

__all__ = ("Chooser", "DimensionWorld", "Observation", "RandomChooser")

import dataclasses
import datetime
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import astropy.time  # type: ignore[import-untyped]
from lsst.daf.butler import (
    DataCoordinate,
    DataIdValue,
    Dimension,
    DimensionElement,
    DimensionGroup,
    DimensionRecord,
    DimensionUniverse,
    SkyPixDimension,
    Timespan,
)

from ._instruments import INSTRUMENTS, InstrumentPreset, SkyMapPreset, date_to_day_obs, get_instrument
from ._sky import (
    detector_centre,
    detector_region,
    patch_of,
    patch_region,
    tract_centre,
    tract_of,
    tract_region,
    unit_vector,
    visit_region,
)

_T = TypeVar("_T")

# Dimensions whose values come from one observation (an exposure and the
# visit defined from it), so that they always agree with each other.
_OBSERVATION_DIMENSIONS = ("exposure", "visit", "day_obs", "group", "physical_filter")

_SSP_TABLES = ("ssp_r_0.1_0.5", "ssp_r_0.5_1.5", "ssp_r_1.5_5.0")

# Values drawn for dimensions this module does not know (from a universe
# other than the default one), by primary-key type.
_FALLBACK_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")


class Chooser(Protocol):
    """Where the randomness comes from: a seeded generator or Hypothesis."""

    def integer(self, low: int, high: int) -> int:
        """Return an integer in ``[low, high]``."""

    def choice(self, options: Sequence[_T]) -> _T:
        """Return one of ``options``."""

    def real(self, low: float, high: float) -> float:
        """Return a float in ``[low, high]``."""


class RandomChooser:
    """Choices from a `random.Random` (what Faker seeds).

    Parameters
    ----------
    rng : `random.Random`
        The generator.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def integer(self, low: int, high: int) -> int:
        """Return an integer in ``[low, high]``.

        Parameters
        ----------
        low, high : `int`
            Bounds, inclusive.

        Returns
        -------
        value : `int`
            The integer.
        """
        return self._rng.randint(low, high)

    def choice(self, options: Sequence[_T]) -> _T:
        """Return one of the options.

        Parameters
        ----------
        options : `~collections.abc.Sequence`
            Non-empty.

        Returns
        -------
        option : `object`
            One of them.
        """
        return self._rng.choice(options)

    def real(self, low: float, high: float) -> float:
        """Return a float in ``[low, high]``.

        Parameters
        ----------
        low, high : `float`
            Bounds.

        Returns
        -------
        value : `float`
            The float.
        """
        return self._rng.uniform(low, high)


@dataclasses.dataclass(frozen=True)
class Observation:
    """One exposure, and the visit defined from it (same id).

    Everything the ``exposure``, ``visit``, ``day_obs``, ``group`` and
    ``physical_filter`` values and records of a data ID come from.
    """

    instrument: str
    exposure: int
    day_obs: int
    seq_num: int
    physical_filter: str
    band: str
    group: str
    obs_id: str
    begin: datetime.datetime
    exposure_time: float
    dark_time: float
    ra: float
    dec: float
    sky_angle: float
    azimuth: float
    zenith_angle: float
    target_name: str
    science_program: str

    @property
    def visit(self) -> int:
        """The visit id: visits are defined one-to-one with exposures."""
        return self.exposure

    @property
    def end(self) -> datetime.datetime:
        """End of the exposure."""
        return self.begin + datetime.timedelta(seconds=self.exposure_time)


def _timespan(begin: datetime.datetime, end: datetime.datetime) -> Timespan:
    return Timespan(astropy.time.Time(begin, scale="utc"), astropy.time.Time(end, scale="utc"))


def _require_int(name: str, value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an int in {low}..{high} ({what}); got {value!r}.")
    return value


def _day_start(preset: InstrumentPreset, date: datetime.date) -> datetime.datetime:
    midnight = datetime.datetime(date.year, date.month, date.day, tzinfo=datetime.UTC)
    return midnight + datetime.timedelta(hours=preset.day_start_hours)


class DimensionWorld:
    """Draws data ID values that agree with each other, and builds their records.

    One world holds the observations it has drawn, so that every data ID it
    makes with the same visit has the same physical filter, day, group and
    pointing, and the records it builds describe exactly the data IDs it
    made.

    Parameters
    ----------
    universe : `~lsst.daf.butler.DimensionUniverse`
        The dimensions.
    instrument : `InstrumentPreset`
        Instrument used when a data ID does not say which.
    chooser : `Chooser`
        Source of the choices.
    """

    def __init__(self, universe: DimensionUniverse, instrument: InstrumentPreset, chooser: Chooser) -> None:
        self.universe = universe
        self.instrument = instrument
        self._chooser = chooser
        self._observations: dict[tuple[str, int], Observation] = {}
        self._records: dict[str, dict[tuple[DataIdValue, ...], DimensionRecord]] = {}
        self._instruments_used: dict[str, InstrumentPreset] = {instrument.name: instrument}
        self._skymaps_used: dict[str, SkyMapPreset] = {instrument.skymap.name: instrument.skymap}

    # Values

    def values(
        self,
        dimensions: DimensionGroup,
        fixed: Mapping[str, Any],
        *,
        default: InstrumentPreset | None = None,
    ) -> dict[str, DataIdValue]:
        """Draw a value for every required and implied dimension.

        Parameters
        ----------
        dimensions : `~lsst.daf.butler.DimensionGroup`
            The dimensions.
        fixed : `~collections.abc.Mapping` [`str`, `object`]
            Values given by the caller; the others are drawn to agree with
            them.
        default : `InstrumentPreset`, optional
            Instrument to use if ``fixed`` names none, instead of the
            world's.

        Returns
        -------
        values : `dict` [`str`, `int` or `str`]
            A value for every dimension in ``dimensions.names``.

        Raises
        ------
        ValueError
            Raised if a fixed value is not a dimension of the group, is not
            valid for its instrument or sky map, or contradicts another.
        LookupError
            Raised if a fixed instrument or sky map has no preset.
        """
        names = set(dimensions.names)
        unknown = set(fixed) - names
        if unknown:
            raise ValueError(
                f"{sorted(unknown)} are not dimensions of {dimensions}; they are {sorted(names)}."
            )
        choose = self._chooser
        values: dict[str, DataIdValue] = {}

        preset = self._instrument(default if default is not None else self.instrument)
        if "instrument" in names:
            preset = self._instrument(fixed.get("instrument", preset))
            values["instrument"] = preset.name

        observation = None
        if names.intersection(_OBSERVATION_DIMENSIONS):
            observation = self.observation(preset, fixed)
            for name in _OBSERVATION_DIMENSIONS:
                if name in names:
                    values[name] = getattr(observation, name)

        if "band" in names:
            if observation is not None:
                values["band"] = observation.band
                if "band" in fixed and fixed["band"] != observation.band:
                    raise ValueError(
                        f"band {fixed['band']!r} contradicts physical_filter "
                        f"{observation.physical_filter!r}, which implies band {observation.band!r}."
                    )
            elif "band" in fixed:
                if not isinstance(fixed["band"], str) or not fixed["band"]:
                    raise ValueError(f"band must be a non-empty str; got {fixed['band']!r}.")
                values["band"] = fixed["band"]
            else:
                values["band"] = choose.choice(preset.bands)

        if "detector" in names:
            if "detector" in fixed:
                values["detector"] = preset.detector(fixed["detector"]).id
            else:
                values["detector"] = choose.choice(preset.science_detectors).id

        if "visit_system" in names:
            visit_system = fixed.get("visit_system", preset.visit_system)
            if visit_system not in preset.visit_systems:
                raise ValueError(
                    f"Instrument {preset.name} has no visit_system {visit_system!r}; it has "
                    f"{sorted(preset.visit_systems)}."
                )
            values["visit_system"] = visit_system

        # Where on the sky this data ID is: tracts, patches and sky pixels
        # are chosen there, so that they overlap its visit and detector.
        position: tuple[float, float] | None = None
        if observation is not None:
            position = (observation.ra, observation.dec)
            if "detector" in values:
                detector = preset.detector(int(values["detector"]))
                position = detector_centre(observation.ra, observation.dec, observation.sky_angle, detector)
        if "skymap" in names:
            skymap = self._skymap(fixed.get("skymap", preset.skymap.name))
            values["skymap"] = skymap.name
            if "tract" in names:
                if "tract" in fixed:
                    tract = _require_int(
                        "tract", fixed["tract"], 0, skymap.tract_max - 1, f"sky map {skymap.name}"
                    )
                elif position is not None:
                    tract = tract_of(skymap, *position)
                else:
                    tract = choose.integer(0, skymap.tract_max - 1)
                values["tract"] = tract
                if position is None:
                    position = tract_centre(skymap, tract)
                if "patch" in names:
                    patch_count = skymap.patch_nx_max * skymap.patch_ny_max
                    if "patch" in fixed:
                        patch = _require_int(
                            "patch", fixed["patch"], 0, patch_count - 1, f"sky map {skymap.name}"
                        )
                    elif observation is not None:
                        patch = patch_of(skymap, tract, *position)
                    else:
                        patch = choose.integer(0, patch_count - 1)
                    values["patch"] = patch

        if "subfilter" in names:
            if "subfilter" in fixed:
                values["subfilter"] = _require_int("subfilter", fixed["subfilter"], 0, 2**31 - 1, "an index")
            else:
                values["subfilter"] = choose.integer(0, 2)

        for name in sorted(names):
            if name in values:
                continue
            dimension = self.universe[name]
            if name in fixed:
                values[name] = self._check_fixed_skypix(dimension, fixed[name])
            elif isinstance(dimension, SkyPixDimension):
                if position is None:
                    position = (choose.real(0.0, 360.0), math.degrees(math.asin(choose.real(-1.0, 1.0))))
                values[name] = dimension.pixelization.index(unit_vector(*position))
            elif name == "ssp_hypothesis_table":
                values[name] = choose.choice(_SSP_TABLES)
            elif isinstance(dimension, Dimension) and dimension.primaryKey.getPythonType() is int:
                values[name] = choose.integer(0, 999)
            else:
                values[name] = f"{choose.choice(_FALLBACK_WORDS)}{choose.integer(0, 99)}"
        return values

    def _check_fixed_skypix(self, dimension: Any, value: Any) -> Any:
        if isinstance(dimension, SkyPixDimension):
            pixel_range = dimension.pixelization.universe()
            # RangeSet holds unsigned 64-bit values and rejects negative ones.
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < 0
                or not pixel_range.contains(value)
            ):
                raise ValueError(f"{value!r} is not a pixel of {dimension.name}.")
        return value

    def _instrument(self, name: str | InstrumentPreset) -> InstrumentPreset:
        preset = get_instrument(name)
        self._instruments_used.setdefault(preset.name, preset)
        self._skymaps_used.setdefault(preset.skymap.name, preset.skymap)
        return preset

    def _skymap(self, name: Any) -> SkyMapPreset:
        known = {preset.skymap.name: preset.skymap for preset in INSTRUMENTS.values()}
        known.update(self._skymaps_used)
        if name not in known:
            raise LookupError(
                f"No sky map preset named {name!r}; the presets are {', '.join(sorted(known))}."
            )
        self._skymaps_used.setdefault(name, known[name])
        return known[name]

    # Observations

    def observation(self, preset: InstrumentPreset, fixed: Mapping[str, Any]) -> Observation:
        """Return the observation fixed values name, or draw one that agrees with them.

        Parameters
        ----------
        preset : `InstrumentPreset`
            The instrument.
        fixed : `~collections.abc.Mapping` [`str`, `object`]
            May hold ``exposure``, ``visit``, ``day_obs``, ``group``,
            ``physical_filter`` and ``band``.

        Returns
        -------
        observation : `Observation`
            The same object every time for the same instrument and id.

        Raises
        ------
        ValueError
            Raised if the values cannot describe one observation.
        """
        exposure = fixed.get("exposure")
        visit = fixed.get("visit")
        if exposure is not None and visit is not None and exposure != visit:
            raise ValueError(
                f"exposure {exposure} and visit {visit} differ, but {preset.name} visits are defined "
                "one-to-one from exposures (same id)."
            )
        identifier = exposure if exposure is not None else visit
        if identifier is not None:
            observation = self._observations.get((preset.name, identifier))
            if observation is None:
                day_obs, seq_num = preset.split_exposure_id(identifier)
                observation = self._draw_observation(preset, day_obs, seq_num, fixed)
            self._check_agrees(observation, fixed)
            return observation

        for _ in range(1000):
            if "day_obs" in fixed:
                day_obs = fixed["day_obs"]
            else:
                span = (preset.last_day - preset.first_day).days
                day_obs = date_to_day_obs(
                    preset.first_day + datetime.timedelta(days=self._chooser.integer(0, span))
                )
            seq_num = self._chooser.integer(1, preset.max_seq_num)
            existing = self._observations.get((preset.name, preset.exposure_id(day_obs, seq_num)))
            if existing is None:
                return self._draw_observation(preset, day_obs, seq_num, fixed)
            try:
                self._check_agrees(existing, fixed)
            except ValueError:
                continue
            return existing
        raise ValueError(
            f"Cannot find a {preset.name} observation agreeing with {dict(fixed)}: all are taken."
        )

    def _check_agrees(self, observation: Observation, fixed: Mapping[str, Any]) -> None:
        for name in ("day_obs", "group", "physical_filter", "band"):
            if name in fixed and fixed[name] != getattr(observation, name):
                raise ValueError(
                    f"{name} {fixed[name]!r} contradicts {observation.instrument} exposure "
                    f"{observation.exposure}, whose {name} is {getattr(observation, name)!r}."
                )

    def _draw_observation(
        self, preset: InstrumentPreset, day_obs: int, seq_num: int, fixed: Mapping[str, Any]
    ) -> Observation:
        choose = self._chooser
        exposure = preset.exposure_id(day_obs, seq_num)
        if not exposure < min(preset.exposure_max, preset.visit_max):
            raise ValueError(f"{exposure} is beyond {preset.name}'s exposure_max or visit_max.")
        if "physical_filter" in fixed:
            physical_filter = fixed["physical_filter"]
            if physical_filter not in preset.physical_filters:
                raise ValueError(
                    f"Instrument {preset.name} has no physical_filter {physical_filter!r}; it has "
                    f"{', '.join(preset.physical_filters)}."
                )
        else:
            candidates = [
                name for name, band in preset.physical_filters.items() if fixed.get("band", band) == band
            ]
            if not candidates:
                raise ValueError(
                    f"Instrument {preset.name} has no physical filter for band {fixed['band']!r}; its bands "
                    f"are {', '.join(preset.bands)}."
                )
            physical_filter = choose.choice(candidates)
        date = datetime.datetime.strptime(str(day_obs), "%Y%m%d").replace(tzinfo=datetime.UTC)
        begin = date + datetime.timedelta(
            hours=preset.night_start_hours, seconds=(seq_num - 1) * preset.cadence_seconds
        )
        fields = {"exposure": exposure, "day_obs": day_obs, "seq_num": seq_num, "frame": exposure * 100}
        group = fixed.get("group")
        if group is None:
            group = preset.group_format.format(**fields, begin=begin.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3])
        elif not isinstance(group, str) or not group:
            raise ValueError(f"group must be a non-empty str; got {group!r}.")
        exposure_time = choose.choice(preset.exposure_times)
        observation = Observation(
            instrument=preset.name,
            exposure=exposure,
            day_obs=day_obs,
            seq_num=seq_num,
            physical_filter=physical_filter,
            band=preset.physical_filters[physical_filter],
            group=group,
            obs_id=preset.obs_id_format.format(**fields),
            begin=begin,
            exposure_time=exposure_time,
            dark_time=round(exposure_time + choose.real(0.1, 1.5), 3),
            ra=round(choose.real(0.0, 360.0), 6),
            dec=round(choose.real(*preset.dec_range), 6),
            sky_angle=round(choose.real(0.0, 360.0), 4),
            azimuth=round(choose.real(0.0, 360.0), 4),
            zenith_angle=round(choose.real(5.0, 65.0), 4),
            target_name=choose.choice(preset.targets),
            science_program=choose.choice(preset.science_programs),
        )
        self._observations[(preset.name, exposure)] = observation
        return observation

    # Data IDs and records

    def data_id(
        self,
        dimensions: DimensionGroup,
        fixed: Mapping[str, Any],
        *,
        expanded: bool,
        default: InstrumentPreset | None = None,
    ) -> DataCoordinate:
        """Draw a data ID.

        Parameters
        ----------
        dimensions : `~lsst.daf.butler.DimensionGroup`
            Its dimensions.
        fixed : `~collections.abc.Mapping` [`str`, `object`]
            Values given by the caller.
        expanded : `bool`
            Whether to attach the dimension records.
        default : `InstrumentPreset`, optional
            Instrument to use if ``fixed`` names none.

        Returns
        -------
        data_id : `~lsst.daf.butler.DataCoordinate`
            A data ID with every implied value (and records if expanded).
        """
        values = self.values(dimensions, fixed, default=default)
        data_id = DataCoordinate.standardize(values, dimensions=dimensions)
        if expanded:
            data_id = data_id.expanded(self.records_for(data_id))
        return data_id

    def records_for(self, data_id: DataCoordinate) -> dict[str, DimensionRecord]:
        """Build (or reuse) the record of every element of a data ID.

        Parameters
        ----------
        data_id : `~lsst.daf.butler.DataCoordinate`
            A data ID with all implied values.

        Returns
        -------
        records : `dict` [`str`, `~lsst.daf.butler.DimensionRecord`]
            One record per element of its dimensions.
        """
        values = dict(data_id.mapping)
        return {name: self._record(self.universe[name], values) for name in data_id.dimensions.elements}

    def _record(self, element: DimensionElement, values: Mapping[str, DataIdValue]) -> DimensionRecord:
        key = tuple(values[name] for name in element.required.names)
        cache = self._records.setdefault(element.name, {})
        record = cache.get(key)
        if record is None:
            fields = _RECORD_BUILDERS.get(element.name, _generic_fields)(self, element, values)
            record = element.RecordClass(**fields)
            cache[key] = record
        return record

    def _preset_of(self, values: Mapping[str, DataIdValue]) -> InstrumentPreset:
        return self._instrument(str(values["instrument"]))

    def _observation_of(self, values: Mapping[str, DataIdValue], name: str) -> Observation:
        return self.observation(self._preset_of(values), {"exposure": values[name]})

    def all_records(self) -> dict[str, tuple[DimensionRecord, ...]]:
        """Return every record a registry needs for what this world made.

        Returns
        -------
        records : `dict` [`str`, `tuple` [`~lsst.daf.butler.DimensionRecord`, ...]]
            Records by element name, elements in the order a registry must
            insert them: the instruments used with all their detectors,
            physical filters, bands and visit systems, the sky maps used,
            and the records of every data ID made. Sky pixels, which a
            registry does not store, are left out.
        """
        for preset in list(self._instruments_used.values()):
            base = {"instrument": preset.name}
            self._record(self.universe["instrument"], base)
            for detector in preset.detectors:
                self._record(self.universe["detector"], {**base, "detector": detector.id})
            for physical_filter, band in preset.physical_filters.items():
                self._record(
                    self.universe["physical_filter"],
                    {**base, "physical_filter": physical_filter, "band": band},
                )
                self._record(self.universe["band"], {"band": band})
            for visit_system in preset.visit_systems:
                self._record(self.universe["visit_system"], {**base, "visit_system": visit_system})
        for skymap in list(self._skymaps_used.values()):
            self._record(self.universe["skymap"], {"skymap": skymap.name})
        ordered = self.universe.sorted(self._records)
        return {
            element.name: tuple(self._records[element.name].values())
            for element in ordered
            if element.hasTable() and element.viewOf is None
        }


# Record builders: each returns the fields of one element's record.

_Builder = Callable[[DimensionWorld, DimensionElement, Mapping[str, DataIdValue]], dict[str, Any]]


def _keys(element: DimensionElement, values: Mapping[str, DataIdValue]) -> dict[str, Any]:
    """Return the fields that hold data ID values (the element's own under its primary key)."""
    fields: dict[str, Any] = {}
    for dimension in element.required:
        field = dimension.primaryKey.name if dimension.name == element.name else dimension.name
        fields[field] = values[dimension.name]
    for dimension in element.implied:
        fields[dimension.name] = values[dimension.name]
    return fields


def _generic_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    fields = _keys(element, values)
    if isinstance(element, SkyPixDimension):
        fields["region"] = element.pixelization.pixel(int(values[element.name]))
        return fields
    for alternate in getattr(element, "alternateKeys", ()):
        fields[alternate.name] = str(values[element.name])
    return fields


def _instrument_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    preset = world._preset_of(values)
    return {
        "name": preset.name,
        "visit_max": preset.visit_max,
        "visit_system": preset.visit_system,
        "exposure_max": preset.exposure_max,
        "detector_max": preset.detector_max,
        "class_name": preset.class_name,
    }


def _detector_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    detector = world._preset_of(values).detector(int(values["detector"]))
    return {
        **_keys(element, values),
        "full_name": detector.full_name,
        "name_in_raft": detector.name_in_raft,
        "raft": detector.raft,
        "purpose": detector.purpose,
    }


def _physical_filter_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    preset = world._preset_of(values)
    return {
        "instrument": preset.name,
        "name": values["physical_filter"],
        "band": preset.physical_filters[str(values["physical_filter"])],
    }


def _day_obs_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    preset = world._preset_of(values)
    date = datetime.datetime.strptime(str(values["day_obs"]), "%Y%m%d").date()
    start = _day_start(preset, date)
    return {**_keys(element, values), "timespan": _timespan(start, start + datetime.timedelta(days=1))}


def _exposure_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    observation = world._observation_of(values, "exposure")
    return {
        "instrument": observation.instrument,
        "id": observation.exposure,
        "day_obs": observation.day_obs,
        "group": observation.group,
        "physical_filter": observation.physical_filter,
        "obs_id": observation.obs_id,
        "exposure_time": observation.exposure_time,
        "dark_time": observation.dark_time,
        "observation_type": "science",
        "observation_reason": "science",
        "seq_num": observation.seq_num,
        "seq_start": observation.seq_num,
        "seq_end": observation.seq_num,
        "target_name": observation.target_name,
        "science_program": observation.science_program,
        "tracking_ra": observation.ra,
        "tracking_dec": observation.dec,
        "sky_angle": observation.sky_angle,
        "azimuth": observation.azimuth,
        "zenith_angle": observation.zenith_angle,
        "has_simulated": False,
        "can_see_sky": True,
        "timespan": _timespan(observation.begin, observation.end),
    }


def _visit_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    observation = world._observation_of(values, "visit")
    preset = world._preset_of(values)
    return {
        "instrument": observation.instrument,
        "id": observation.visit,
        "day_obs": observation.day_obs,
        "physical_filter": observation.physical_filter,
        "name": observation.obs_id,
        "seq_num": observation.seq_num,
        "exposure_time": observation.exposure_time,
        "target_name": observation.target_name,
        "observation_reason": "science",
        "science_program": observation.science_program,
        "azimuth": observation.azimuth,
        "zenith_angle": observation.zenith_angle,
        "region": visit_region(observation.ra, observation.dec, preset.field_radius, observation.sky_angle),
        "timespan": _timespan(observation.begin, observation.end),
    }


def _visit_system_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    preset = world._preset_of(values)
    return {**_keys(element, values), "name": preset.visit_systems[int(values["visit_system"])]}


def _visit_detector_region_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    observation = world._observation_of(values, "visit")
    detector = world._preset_of(values).detector(int(values["detector"]))
    return {
        **_keys(element, values),
        "region": detector_region(observation.ra, observation.dec, observation.sky_angle, detector),
    }


def _skymap_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    skymap = world._skymap(values["skymap"])
    return {
        "name": skymap.name,
        "hash": skymap.hash,
        "tract_max": skymap.tract_max,
        "patch_nx_max": skymap.patch_nx_max,
        "patch_ny_max": skymap.patch_ny_max,
    }


def _tract_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    skymap = world._skymap(values["skymap"])
    return {**_keys(element, values), "region": tract_region(skymap, int(values["tract"]))}


def _patch_fields(
    world: DimensionWorld, element: DimensionElement, values: Mapping[str, DataIdValue]
) -> dict[str, Any]:
    skymap = world._skymap(values["skymap"])
    cell_y, cell_x = divmod(int(values["patch"]), skymap.patch_nx_max)
    return {
        **_keys(element, values),
        "cell_x": cell_x,
        "cell_y": cell_y,
        "region": patch_region(skymap, int(values["tract"]), int(values["patch"])),
    }


_RECORD_BUILDERS: Mapping[str, _Builder] = {
    "instrument": _instrument_fields,
    "detector": _detector_fields,
    "physical_filter": _physical_filter_fields,
    "day_obs": _day_obs_fields,
    "exposure": _exposure_fields,
    "visit": _visit_fields,
    "visit_system": _visit_system_fields,
    "visit_detector_region": _visit_detector_region_fields,
    "skymap": _skymap_fields,
    "tract": _tract_fields,
    "patch": _patch_fields,
}


def distinct(draw: Callable[[], DataCoordinate], count: int, what: Iterable[str]) -> list[DataCoordinate]:
    """Draw ``count`` different data IDs.

    Parameters
    ----------
    draw : `~collections.abc.Callable`
        Draws one data ID.
    count : `int`
        How many.
    what : `~collections.abc.Iterable` [`str`]
        Dimension names, for the error message.

    Returns
    -------
    data_ids : `list` [`~lsst.daf.butler.DataCoordinate`]
        Different data IDs, in the order drawn.

    Raises
    ------
    ValueError
        Raised if that many different data IDs cannot be found.
    """
    found: dict[DataCoordinate, None] = {}
    attempts = 0
    while len(found) < count:
        attempts += 1
        if attempts > 50 * count + 100:
            raise ValueError(
                f"Cannot make {count} different data IDs with dimensions {sorted(what)} and the values "
                f"given; found {len(found)}."
            )
        found.setdefault(draw(), None)
    return list(found)
