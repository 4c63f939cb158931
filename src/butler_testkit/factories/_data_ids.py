"""Realistic, seeded data IDs: a Faker provider and the factory built on it."""

from __future__ import annotations

__all__ = ("DEFAULT_DIMENSIONS", "ButlerProvider", "DataIdFactory", "conform_dimensions", "default_universe")

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import faker
from faker.providers import BaseProvider
from lsst.daf.butler import DataCoordinate, DataIdValue, DimensionGroup, DimensionRecord, DimensionUniverse

from ._instruments import INSTRUMENTS, InstrumentPreset, get_instrument
from ._world import DimensionWorld, RandomChooser, distinct

if TYPE_CHECKING:
    from lsst.daf.butler.registry import Registry

DEFAULT_DIMENSIONS: tuple[str, ...] = ("instrument", "visit", "detector")
"""Dimensions of a data ID when none are given: one detector of one visit."""


@functools.cache
def default_universe() -> DimensionUniverse:
    """Return daf_butler's default dimension universe.

    Returns
    -------
    universe : `~lsst.daf.butler.DimensionUniverse`
        The same object ``DimensionUniverse()`` returns.

    Notes
    -----
    ``DimensionUniverse()`` parses its configuration on every call before
    finding its cached instance; factories made once per test should not
    pay for that.
    """
    return DimensionUniverse()


def conform_dimensions(universe: DimensionUniverse, dimensions: Any) -> DimensionGroup:
    """Turn dimension names (or a group) into a `~lsst.daf.butler.DimensionGroup`.

    Parameters
    ----------
    universe : `~lsst.daf.butler.DimensionUniverse`
        The dimensions.
    dimensions : `~lsst.daf.butler.DimensionGroup`, `str` or iterable of `str`
        A group, one name, or names; required dimensions are added.

    Returns
    -------
    group : `~lsst.daf.butler.DimensionGroup`
        The group.

    Raises
    ------
    TypeError
        Raised if ``dimensions`` is not a group, a name or names.
    ValueError
        Raised if a name is not a dimension of the universe.
    """
    if isinstance(dimensions, DimensionGroup):
        if dimensions.universe is not universe:
            raise ValueError(f"{dimensions} belongs to another dimension universe than {universe}.")
        return dimensions
    names = [dimensions] if isinstance(dimensions, str) else dimensions
    try:
        names = list(names)
    except TypeError:
        raise TypeError(
            f"Dimensions must be a DimensionGroup, a name or names; got {dimensions!r}."
        ) from None
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"Dimension names must be strings; got {dimensions!r}.")
    unknown = [name for name in names if name not in universe.getStaticDimensions().names]
    if unknown:
        raise ValueError(f"{unknown} are not dimensions of {universe}.")
    return universe.conform(names)


class ButlerProvider(BaseProvider):
    """Faker provider of valid, realistic ``lsst.daf.butler`` values.

    Add it to a `faker.Faker` and seed that for reproducible values::

        fake = Faker()
        fake.add_provider(ButlerProvider)
        fake.seed_instance(1234)
        fake.butler_data_id(["instrument", "visit", "detector"], instrument="HSC")

    Values drawn through one provider agree with each other: the same visit
    always has the same physical filter, day and pointing.

    Parameters
    ----------
    generator : `faker.Generator`
        The generator the provider draws from.
    """

    def __init__(self, generator: Any) -> None:
        super().__init__(generator)
        self._worlds: dict[tuple[int, str], DimensionWorld] = {}

    def butler_world(
        self, universe: DimensionUniverse | None = None, instrument: str | InstrumentPreset = "GenericCam"
    ) -> DimensionWorld:
        """Return this provider's consistent state for a universe and default instrument.

        Parameters
        ----------
        universe : `~lsst.daf.butler.DimensionUniverse`, optional
            The dimensions; daf_butler's default universe if not given.
        instrument : `str` or `InstrumentPreset`, optional
            Instrument used when a data ID does not say which.

        Returns
        -------
        world : `DimensionWorld`
            The same object for the same arguments.
        """
        universe = universe if universe is not None else default_universe()
        preset = get_instrument(instrument)
        key = (id(universe), preset.name)
        world = self._worlds.get(key)
        if world is None:
            world = DimensionWorld(universe, preset, RandomChooser(self.generator.random))
            self._worlds[key] = world
        return world

    def butler_instrument(self) -> str:
        """Return the name of an instrument preset.

        Returns
        -------
        name : `str`
            ``GenericCam``, ``HSC`` or ``LSSTCam``.
        """
        return str(self.random_element(tuple(INSTRUMENTS)))

    def butler_physical_filter(self, instrument: str = "GenericCam") -> str:
        """Return a physical filter of an instrument.

        Parameters
        ----------
        instrument : `str`, optional
            An instrument preset name.

        Returns
        -------
        name : `str`
            The physical filter.
        """
        return str(self.random_element(tuple(get_instrument(instrument).physical_filters)))

    def butler_band(self, instrument: str = "GenericCam") -> str:
        """Return a band one of an instrument's filters implies.

        Parameters
        ----------
        instrument : `str`, optional
            An instrument preset name.

        Returns
        -------
        band : `str`
            The band.
        """
        return str(self.random_element(get_instrument(instrument).bands))

    def butler_detector(self, instrument: str = "GenericCam") -> int:
        """Return the id of a science detector of an instrument.

        Parameters
        ----------
        instrument : `str`, optional
            An instrument preset name.

        Returns
        -------
        detector : `int`
            The id.
        """
        return int(self.random_element(get_instrument(instrument).science_detectors).id)

    def butler_exposure(self, instrument: str = "GenericCam") -> int:
        """Return an exposure id (also the id of the visit defined from it).

        Parameters
        ----------
        instrument : `str`, optional
            An instrument preset name.

        Returns
        -------
        exposure : `int`
            The id, following the instrument's scheme.
        """
        world = self.butler_world()
        return world.observation(get_instrument(instrument), {}).exposure

    def butler_day_obs(self, instrument: str = "GenericCam") -> int:
        """Return an observing day of an instrument.

        Parameters
        ----------
        instrument : `str`, optional
            An instrument preset name.

        Returns
        -------
        day_obs : `int`
            ``YYYYMMDD``, within the instrument's observing days.
        """
        world = self.butler_world()
        return world.observation(get_instrument(instrument), {}).day_obs

    def butler_run(self) -> str:
        """Return a realistic RUN collection name.

        Returns
        -------
        run : `str`
            ``u/<user>/DM-<ticket>/<timestamp>``.
        """
        user = self.lexify("????????", letters="abcdefghijklmnopqrstuvwxyz")[: self.random_int(4, 8)]
        ticket = self.random_int(10_000, 59_999)
        timestamp = (
            f"{self.random_int(2024, 2026)}{self.random_int(1, 12):02d}{self.random_int(1, 28):02d}"
            f"T{self.random_int(0, 23):02d}{self.random_int(0, 59):02d}{self.random_int(0, 59):02d}Z"
        )
        return f"u/{user}/DM-{ticket}/{timestamp}"

    def butler_data_id(
        self,
        dimensions: Any = DEFAULT_DIMENSIONS,
        *,
        instrument: str | None = None,
        universe: DimensionUniverse | None = None,
        **values: Any,
    ) -> dict[str, DataIdValue]:
        """Return valid, consistent values for every dimension of a group.

        Parameters
        ----------
        dimensions : `~lsst.daf.butler.DimensionGroup` or names, optional
            The dimensions (required ones are added); one visit's detector
            by default.
        instrument : `str`, optional
            Instrument preset to draw from (``GenericCam`` by default).
        universe : `~lsst.daf.butler.DimensionUniverse`, optional
            The dimensions' universe; the default universe if not given.
        **values
            Values to use for some dimensions; the rest agree with them.

        Returns
        -------
        data_id : `dict` [`str`, `int` or `str`]
            A value for every required and implied dimension.

        Raises
        ------
        ValueError
            Raised if a value is invalid or contradicts another.
        LookupError
            Raised if the instrument or sky map has no preset.
        """
        world = self.butler_world(universe)
        group = conform_dimensions(world.universe, dimensions)
        return world.values(group, _with_instrument(group, values, instrument), default=_preset(instrument))


def _preset(instrument: str | InstrumentPreset | None) -> InstrumentPreset | None:
    return None if instrument is None else get_instrument(instrument)


def _with_instrument(
    group: DimensionGroup, values: Mapping[str, Any], instrument: str | InstrumentPreset | None
) -> dict[str, Any]:
    """Return the fixed values, with the instrument if the group has one."""
    fixed = dict(values)
    if instrument is not None and "instrument" in group.names:
        fixed["instrument"] = get_instrument(instrument).name
    return fixed


class DataIdFactory:
    """Seeded, realistic data IDs and the dimension records behind them.

    Every data ID it makes is consistent with every other (a visit always
    has the same physical filter, band, day and pointing) and with the
    records `records` returns, which are enough to fill a registry. The
    same seed gives the same data IDs, call for call.

    Parameters
    ----------
    universe : `~lsst.daf.butler.DimensionUniverse`, optional
        The dimensions; daf_butler's default universe if not given.
    instrument : `str` or `InstrumentPreset`, optional
        Preset used unless a data ID names another instrument:
        ``GenericCam`` (the default), ``HSC`` or ``LSSTCam``.
    seed : `int`, optional
        Seed of every value drawn.

    Raises
    ------
    LookupError
        Raised if ``instrument`` names no preset.
    """

    def __init__(
        self,
        universe: DimensionUniverse | None = None,
        *,
        instrument: str | InstrumentPreset = "GenericCam",
        seed: int = 0,
    ) -> None:
        self.universe = universe if universe is not None else default_universe()
        self.instrument = get_instrument(instrument)
        self.seed = seed
        self.faker = faker.Faker()
        """The seeded `faker.Faker` (with `ButlerProvider`) values come from."""
        self.faker.add_provider(ButlerProvider)
        self.faker.seed_instance(seed)
        self._world: DimensionWorld = self.faker.butler_world(self.universe, self.instrument)

    @property
    def world(self) -> DimensionWorld:
        """The observations and records drawn so far."""
        return self._world

    def dimensions(self, dimensions: Any) -> DimensionGroup:
        """Return the `~lsst.daf.butler.DimensionGroup` of names or a group.

        Parameters
        ----------
        dimensions : `~lsst.daf.butler.DimensionGroup`, `str` or iterable of `str`
            The dimensions.

        Returns
        -------
        group : `~lsst.daf.butler.DimensionGroup`
            The group, with required dimensions added.

        Raises
        ------
        TypeError, ValueError
            Raised if these are not dimensions of the universe.
        """
        return conform_dimensions(self.universe, dimensions)

    def data_id(
        self,
        dimensions: Any = DEFAULT_DIMENSIONS,
        /,
        *,
        instrument: str | None = None,
        expanded: bool = True,
        **values: Any,
    ) -> DataCoordinate:
        """Make a data ID.

        Parameters
        ----------
        dimensions : `~lsst.daf.butler.DimensionGroup` or names, optional
            Its dimensions; ``instrument, visit, detector`` by default.
        instrument : `str`, optional
            Instrument preset for this data ID, instead of the factory's.
        expanded : `bool`, optional
            Whether to attach dimension records (the default), as a
            ``FileDatastore``'s file templates need.
        **values
            Values for some dimensions (e.g. ``visit=...``); the others are
            drawn to agree with them.

        Returns
        -------
        data_id : `~lsst.daf.butler.DataCoordinate`
            A data ID with a value for every implied dimension.

        Raises
        ------
        TypeError
            Raised if ``dimensions`` is not a group or names.
        ValueError
            Raised if a dimension is unknown, a value invalid (a detector
            the instrument lacks, a malformed visit id, ...) or
            contradictory (a band the physical filter does not imply, ...).
        LookupError
            Raised if an instrument or sky map has no preset.
        """
        group = self.dimensions(dimensions)
        fixed = _with_instrument(group, values, instrument)
        return self._world.data_id(group, fixed, expanded=expanded, default=_preset(instrument))

    def data_ids(
        self,
        dimensions: Any = DEFAULT_DIMENSIONS,
        count: int = 2,
        /,
        *,
        instrument: str | None = None,
        expanded: bool = True,
        **values: Any,
    ) -> list[DataCoordinate]:
        """Make several different data IDs.

        Parameters
        ----------
        dimensions : `~lsst.daf.butler.DimensionGroup` or names, optional
            Their dimensions.
        count : `int`, optional
            How many.
        instrument : `str`, optional
            Instrument preset, instead of the factory's.
        expanded : `bool`, optional
            Whether to attach dimension records.
        **values
            Values shared by all of them.

        Returns
        -------
        data_ids : `list` [`~lsst.daf.butler.DataCoordinate`]
            ``count`` different data IDs.

        Raises
        ------
        ValueError
            Raised if ``count`` is negative, or that many different data IDs
            do not exist with the values given; and as for `data_id`.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative int; got {count!r}.")
        group = self.dimensions(dimensions)
        return distinct(
            lambda: self.data_id(group, instrument=instrument, expanded=expanded, **values),
            count,
            group.names,
        )

    def records(self) -> dict[str, tuple[DimensionRecord, ...]]:
        """Return the dimension records a registry needs for every data ID made.

        Returns
        -------
        records : `dict` [`str`, `tuple` [`~lsst.daf.butler.DimensionRecord`, ...]]
            Records by element, in insertion order: the instruments used
            (with their maximum ids and class names), all their detectors,
            physical filters, bands and visit systems, the sky maps, and the
            records of every data ID made so far.
        """
        return self._world.all_records()

    def insert_records(self, registry: Registry) -> None:
        """Insert `records` into a registry, skipping those already there.

        Parameters
        ----------
        registry : `~lsst.daf.butler.registry.Registry`
            A writeable registry (``butler.registry``).
        """
        for element, records in self.records().items():
            registry.insertDimensionData(element, *records, skip_existing=True)

    def __repr__(self) -> str:
        return f"DataIdFactory(instrument={self.instrument.name!r}, seed={self.seed})"
