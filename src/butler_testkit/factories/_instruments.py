"""Instrument presets: the cameras, filters, id schemes and sky maps data IDs come from."""

from __future__ import annotations

__all__ = (
    "INSTRUMENTS",
    "DetectorPreset",
    "InstrumentPreset",
    "SkyMapPreset",
    "get_instrument",
)

import dataclasses
import datetime
import hashlib
import math
from collections.abc import Mapping

_EPOCH_FORMAT = "%Y%m%d"


def day_obs_to_date(day_obs: int) -> datetime.date:
    """Turn a ``YYYYMMDD`` integer into a date.

    Parameters
    ----------
    day_obs : `int`
        The observing day.

    Returns
    -------
    date : `datetime.date`
        The date.

    Raises
    ------
    ValueError
        Raised if the integer is not a valid ``YYYYMMDD`` date.
    """
    if isinstance(day_obs, bool) or not isinstance(day_obs, int):
        raise ValueError(f"day_obs must be a YYYYMMDD integer; got {day_obs!r}.")
    try:
        return datetime.datetime.strptime(f"{day_obs:08d}", _EPOCH_FORMAT).date()
    except ValueError:
        raise ValueError(f"day_obs {day_obs} is not a valid YYYYMMDD date.") from None


def date_to_day_obs(date: datetime.date) -> int:
    """Turn a date into a ``YYYYMMDD`` integer.

    Parameters
    ----------
    date : `datetime.date`
        The date.

    Returns
    -------
    day_obs : `int`
        The observing day.
    """
    return date.year * 10_000 + date.month * 100 + date.day


@dataclasses.dataclass(frozen=True)
class DetectorPreset:
    """One detector of an instrument preset.

    Parameters
    ----------
    id : `int`
        The ``detector`` data ID value.
    full_name : `str`
        Unique name (``R22_S11`` for LSSTCam).
    raft : `str` or `None`
        Group of detectors it belongs to.
    name_in_raft : `str`
        Name within the raft.
    purpose : `str`
        ``SCIENCE``, ``WAVEFRONT``, ``GUIDER`` or ``FOCUS``.
    x, y : `float`
        Position of its centre in the focal plane, in degrees on the sky
        from the boresight.
    size : `float`
        Side of the (square) area it sees, in degrees.
    """

    id: int
    full_name: str
    raft: str | None
    name_in_raft: str
    purpose: str
    x: float
    y: float
    size: float


@dataclasses.dataclass(frozen=True)
class SkyMapPreset:
    """A sky map: tracts spread evenly over the sphere, split into patches.

    Parameters
    ----------
    name : `str`
        The ``skymap`` data ID value.
    tract_max : `int`
        Number of tracts (ids ``0 .. tract_max - 1``).
    patch_nx_max, patch_ny_max : `int`
        Patches per tract along x and y.

    Notes
    -----
    Tract centres lie on a Fibonacci lattice, so every tract covers about
    the same area; each tract is a square in its tangent plane, a little
    larger than its share of the sphere so that neighbours overlap, as in a
    real sky map.
    """

    name: str
    tract_max: int
    patch_nx_max: int
    patch_ny_max: int

    @property
    def tract_width(self) -> float:
        """Side of a tract, in degrees (10% overlap with its neighbours)."""
        sphere_deg2 = 4 * math.pi * (180 / math.pi) ** 2
        return 1.1 * math.sqrt(sphere_deg2 / self.tract_max)

    @property
    def hash(self) -> bytes:
        """A stable digest of the definition (the record's ``hash`` field)."""
        text = f"{self.name}:{self.tract_max}:{self.patch_nx_max}:{self.patch_ny_max}"
        return hashlib.sha1(text.encode()).digest()


@dataclasses.dataclass(frozen=True)
class InstrumentPreset:
    """Everything needed to make consistent data IDs and records for a camera.

    Parameters
    ----------
    name : `str`
        The ``instrument`` data ID value.
    class_name : `str`
        Full name of the instrument's class (the record's ``class_name``).
    detectors : `tuple` [`DetectorPreset`, ...]
        Its detectors.
    physical_filters : `~collections.abc.Mapping` [`str`, `str`]
        Physical filter names and the band each implies.
    visit_systems : `~collections.abc.Mapping` [`int`, `str`]
        Visit systems by id.
    visit_system : `int`
        The preferred visit system; visits are defined one-to-one with
        exposures, so their ids are the same.
    detector_max, exposure_max, visit_max : `int`
        Exclusive upper bounds of the ids (the instrument record's values).
    id_scheme : `str`
        ``day_obs`` for ids ``YYYYMMDD * 100000 + seq_num`` (LSST);
        ``sequential`` for ids counted from `first_day` in steps of
        `id_step`, `max_seq_num` per night.
    id_step : `int`
        Step between consecutive ids of a ``sequential`` scheme (HSC uses
        even numbers).
    obs_id_format : `str`
        `str.format` template of ``obs_id``; fields ``exposure``,
        ``day_obs``, ``seq_num`` and ``frame`` (``exposure * 100``).
    group_format : `str`
        Template of the ``group`` name; fields as for `obs_id_format` plus
        ``begin`` (ISO time of the start of the exposure).
    first_day, last_day : `datetime.date`
        Range of observing days.
    night_start_hours : `float`
        Start of the first exposure of a night, in hours after midnight UTC
        of ``day_obs``.
    day_start_hours : `float`
        Start of the observing day ``day_obs``, in hours after midnight UTC
        of that date (the rollover).
    cadence_seconds : `float`
        Time between the starts of consecutive exposures.
    max_seq_num : `int`
        Largest sequence number in a night.
    exposure_times : `tuple` [`float`, ...]
        Exposure times to choose from, in seconds.
    field_radius : `float`
        Radius of the field of view, in degrees.
    dec_range : `tuple` [`float`, `float`]
        Declinations the telescope points at, in degrees.
    targets : `tuple` [`str`, ...]
        Target names.
    science_programs : `tuple` [`str`, ...]
        Science program names.
    skymap : `SkyMapPreset`
        The sky map used with this instrument.
    """

    name: str
    class_name: str
    detectors: tuple[DetectorPreset, ...]
    physical_filters: Mapping[str, str]
    visit_systems: Mapping[int, str]
    visit_system: int
    detector_max: int
    exposure_max: int
    visit_max: int
    id_scheme: str
    id_step: int
    obs_id_format: str
    group_format: str
    first_day: datetime.date
    last_day: datetime.date
    night_start_hours: float
    day_start_hours: float
    cadence_seconds: float
    max_seq_num: int
    exposure_times: tuple[float, ...]
    field_radius: float
    dec_range: tuple[float, float]
    targets: tuple[str, ...]
    science_programs: tuple[str, ...]
    skymap: SkyMapPreset

    @property
    def bands(self) -> tuple[str, ...]:
        """The bands its physical filters imply, sorted."""
        return tuple(sorted(set(self.physical_filters.values())))

    @property
    def science_detectors(self) -> tuple[DetectorPreset, ...]:
        """The detectors whose purpose is ``SCIENCE``."""
        return tuple(detector for detector in self.detectors if detector.purpose == "SCIENCE")

    def detector(self, detector_id: int) -> DetectorPreset:
        """Return a detector by id.

        Parameters
        ----------
        detector_id : `int`
            The detector's id.

        Returns
        -------
        detector : `DetectorPreset`
            The detector.

        Raises
        ------
        ValueError
            Raised if the instrument has no such detector.
        """
        for detector in self.detectors:
            if detector.id == detector_id:
                return detector
        raise ValueError(
            f"Instrument {self.name} has no detector {detector_id!r}; its detectors are "
            f"{self.detectors[0].id}..{self.detectors[-1].id}."
        )

    def exposure_id(self, day_obs: int, seq_num: int) -> int:
        """Return the exposure (and visit) id of an observation.

        Parameters
        ----------
        day_obs : `int`
            Observing day, ``YYYYMMDD``.
        seq_num : `int`
            Sequence number within the night, from 1.

        Returns
        -------
        exposure : `int`
            The id.

        Raises
        ------
        ValueError
            Raised if the day is outside the instrument's range or the
            sequence number out of bounds.
        """
        date = day_obs_to_date(day_obs)
        if not self.first_day <= date <= self.last_day:
            raise ValueError(
                f"day_obs {day_obs} is outside {self.name}'s observing days "
                f"{date_to_day_obs(self.first_day)}..{date_to_day_obs(self.last_day)}."
            )
        if isinstance(seq_num, bool) or not isinstance(seq_num, int) or not 1 <= seq_num <= self.max_seq_num:
            raise ValueError(
                f"seq_num must be an int in 1..{self.max_seq_num} for {self.name}; got {seq_num!r}."
            )
        if self.id_scheme == "day_obs":
            return day_obs * 100_000 + seq_num
        night = (date - self.first_day).days
        return self.id_step * (night * self.max_seq_num + seq_num)

    def split_exposure_id(self, exposure: int) -> tuple[int, int]:
        """Return the observing day and sequence number an id encodes.

        Parameters
        ----------
        exposure : `int`
            An exposure or visit id of this instrument.

        Returns
        -------
        day_obs : `int`
            Observing day, ``YYYYMMDD``.
        seq_num : `int`
            Sequence number within the night.

        Raises
        ------
        ValueError
            Raised if the id is not one this instrument's scheme produces.
        """
        if isinstance(exposure, bool) or not isinstance(exposure, int) or exposure <= 0:
            raise ValueError(f"{exposure!r} is not a valid {self.name} exposure or visit id.")
        if self.id_scheme == "day_obs":
            day_obs, seq_num = divmod(exposure, 100_000)
        else:
            count, remainder = divmod(exposure, self.id_step)
            if remainder:
                raise ValueError(
                    f"{exposure} is not a valid {self.name} exposure or visit id: ids are multiples "
                    f"of {self.id_step}."
                )
            night, seq_num = divmod(count, self.max_seq_num)
            if seq_num == 0:
                night, seq_num = night - 1, self.max_seq_num
            day_obs = date_to_day_obs(self.first_day + datetime.timedelta(days=night))
        try:
            if self.exposure_id(day_obs, seq_num) != exposure:
                raise ValueError("does not round-trip")
        except ValueError as err:
            raise ValueError(f"{exposure} is not a valid {self.name} exposure or visit id ({err}).") from None
        return day_obs, seq_num


def _grid_detectors(
    count: int, *, size: float, name: str, purposes: Mapping[int, str] | None = None
) -> tuple[DetectorPreset, ...]:
    """Lay detectors out on the smallest centred square grid."""
    side = math.ceil(math.sqrt(count))
    detectors = []
    for index in range(count):
        row, column = divmod(index, side)
        detectors.append(
            DetectorPreset(
                id=index,
                full_name=name.format(index=index, row=row, column=column),
                raft=None,
                name_in_raft=name.format(index=index, row=row, column=column),
                purpose=(purposes or {}).get(index, "SCIENCE"),
                x=(column - (side - 1) / 2) * size,
                y=(row - (side - 1) / 2) * size,
                size=size,
            )
        )
    return tuple(detectors)


def _hsc_detectors() -> tuple[DetectorPreset, ...]:
    # 104 science CCDs and 8 focus CCDs, named as "<half>_<number>".
    detectors = _grid_detectors(112, size=0.12, name="{index}")
    renamed = []
    for detector in detectors:
        if detector.id < 104:
            half, number = divmod(detector.id, 52)
            full_name, purpose = f"{half}_{number + 10:02d}", "SCIENCE"
        else:
            half, number = divmod(detector.id - 104, 4)
            full_name, purpose = f"{half}_{number:02d}", "FOCUS"
        renamed.append(
            dataclasses.replace(detector, full_name=full_name, name_in_raft=full_name, purpose=purpose)
        )
    return tuple(renamed)


def _lsstcam_detectors() -> tuple[DetectorPreset, ...]:
    # 21 science rafts of 3x3 sensors (ids 0-188, raft by raft), then the
    # four corner rafts with two guiders and two wavefront sensors each
    # (ids 189-204); a sensor sees about 0.2 degrees.
    pitch = 0.2
    corners = {(0, 0), (0, 4), (4, 0), (4, 4)}
    corner_sensors = (
        ("SG0", "GUIDER", 0, 2),
        ("SG1", "GUIDER", 2, 0),
        ("SW0", "WAVEFRONT", 2, 2),
        ("SW1", "WAVEFRONT", 1, 1),
    )
    detectors: list[DetectorPreset] = []
    for raft_row in range(5):
        for raft_column in range(5):
            if (raft_row, raft_column) in corners:
                continue
            raft = f"R{raft_row}{raft_column}"
            for sensor_row in range(3):
                for sensor_column in range(3):
                    sensor = f"S{sensor_row}{sensor_column}"
                    detectors.append(
                        DetectorPreset(
                            id=len(detectors),
                            full_name=f"{raft}_{sensor}",
                            raft=raft,
                            name_in_raft=sensor,
                            purpose="SCIENCE",
                            x=((raft_column - 2) * 3 + sensor_column - 1) * pitch,
                            y=((raft_row - 2) * 3 + sensor_row - 1) * pitch,
                            size=pitch,
                        )
                    )
    for raft_row, raft_column in sorted(corners):
        raft = f"R{raft_row}{raft_column}"
        for sensor, purpose, sensor_column, sensor_row in corner_sensors:
            detectors.append(
                DetectorPreset(
                    id=len(detectors),
                    full_name=f"{raft}_{sensor}",
                    raft=raft,
                    name_in_raft=sensor,
                    purpose=purpose,
                    x=((raft_column - 2) * 3 + sensor_column - 1) * pitch,
                    y=((raft_row - 2) * 3 + sensor_row - 1) * pitch,
                    size=pitch,
                )
            )
    return tuple(detectors)


GENERIC_CAM = InstrumentPreset(
    name="GenericCam",
    class_name="butler_testkit.factories.GenericCam",
    detectors=_grid_detectors(4, size=0.25, name="ccd{index}"),
    physical_filters={"gen-g": "g", "gen-r": "r", "gen-i": "i"},
    visit_systems={0: "one-to-one"},
    visit_system=0,
    detector_max=4,
    exposure_max=1_000_000,
    visit_max=1_000_000,
    id_scheme="sequential",
    id_step=1,
    obs_id_format="GEN{exposure:06d}",
    group_format="group{exposure:06d}",
    first_day=datetime.date(2024, 1, 1),
    last_day=datetime.date(2024, 12, 31),
    night_start_hours=20.0,
    day_start_hours=12.0,
    cadence_seconds=60.0,
    max_seq_num=500,
    exposure_times=(15.0, 30.0),
    field_radius=0.4,
    dec_range=(-30.0, 30.0),
    targets=("field_a", "field_b", "field_c"),
    science_programs=("test",),
    skymap=SkyMapPreset(name="generic_rings", tract_max=1000, patch_nx_max=4, patch_ny_max=4),
)
"""A small generic camera: 4 detectors, 3 filters, sequential ids, 2024."""

HSC = InstrumentPreset(
    name="HSC",
    class_name="lsst.obs.subaru.HyperSuprimeCam",
    detectors=_hsc_detectors(),
    physical_filters={
        "HSC-G": "g",
        "HSC-R": "r",
        "HSC-R2": "r",
        "HSC-I": "i",
        "HSC-I2": "i",
        "HSC-Z": "z",
        "HSC-Y": "y",
        "NB0387": "N387",
        "NB0816": "N816",
        "NB0921": "N921",
    },
    visit_systems={0: "one-to-one", 1: "by-group-metadata"},
    visit_system=0,
    detector_max=200,
    exposure_max=21_474_800,
    visit_max=21_474_800,
    id_scheme="sequential",
    id_step=2,
    obs_id_format="HSCA{frame:08d}",
    group_format="{exposure}",
    first_day=datetime.date(2014, 3, 1),
    last_day=datetime.date(2022, 12, 31),
    # Mauna Kea is UTC-10: nights run from about 05:00 to 16:00 UTC of the
    # next date, and the observing day rolls over at local noon.
    night_start_hours=29.0,
    day_start_hours=22.0,
    cadence_seconds=90.0,
    max_seq_num=400,
    exposure_times=(30.0, 150.0, 300.0),
    field_radius=0.75,
    dec_range=(-10.0, 45.0),
    targets=("SSP_WIDE", "SSP_DEEP_COSMOS", "SSP_UDEEP_SXDS", "STRIPE82L"),
    science_programs=("o13015", "o14016", "o16040"),
    skymap=SkyMapPreset(name="hsc_rings_v1", tract_max=18938, patch_nx_max=9, patch_ny_max=9),
)
"""Hyper Suprime-Cam: 104 science and 8 focus CCDs, HSC filters, even ids."""

LSSTCAM = InstrumentPreset(
    name="LSSTCam",
    class_name="lsst.obs.lsst.LsstCam",
    detectors=_lsstcam_detectors(),
    physical_filters={"u_24": "u", "g_6": "g", "r_57": "r", "i_39": "i", "z_20": "z", "y_10": "y"},
    visit_systems={0: "one-to-one", 2: "by-seq-start-end"},
    visit_system=0,
    detector_max=1000,
    exposure_max=7_050_123_199_999,
    visit_max=7_050_123_199_999,
    id_scheme="day_obs",
    id_step=1,
    obs_id_format="MC_O_{day_obs}_{seq_num:06d}",
    group_format="{begin}",
    first_day=datetime.date(2025, 4, 15),
    last_day=datetime.date(2026, 12, 31),
    # Cerro Pachon: nights run from about 23:00 to 10:00 UTC, and the
    # observing day rolls over at 12:00 UTC (UTC-12h).
    night_start_hours=23.0,
    day_start_hours=12.0,
    cadence_seconds=40.0,
    max_seq_num=1000,
    exposure_times=(30.0,),
    field_radius=1.75,
    dec_range=(-75.0, 10.0),
    targets=("lowdust", "DDF_COSMOS", "DDF_XMM_LSS", "DDF_ELAIS_S1", "DDF_EDFS"),
    science_programs=("BLOCK-365", "BLOCK-407", "BLOCK-T427"),
    skymap=SkyMapPreset(name="lsst_cells_v1", tract_max=18938, patch_nx_max=10, patch_ny_max=10),
)
"""The LSST camera: 189 science, 8 guider and 8 wavefront sensors, ids by day_obs."""

INSTRUMENTS: Mapping[str, InstrumentPreset] = {preset.name: preset for preset in (GENERIC_CAM, HSC, LSSTCAM)}
"""The instrument presets by name: ``GenericCam``, ``HSC`` and ``LSSTCam``."""


def get_instrument(instrument: str | InstrumentPreset) -> InstrumentPreset:
    """Return an instrument preset.

    Parameters
    ----------
    instrument : `str` or `InstrumentPreset`
        A preset or the name of one.

    Returns
    -------
    preset : `InstrumentPreset`
        The preset.

    Raises
    ------
    LookupError
        Raised if no preset has that name, listing the presets.
    """
    if isinstance(instrument, InstrumentPreset):
        return instrument
    try:
        return INSTRUMENTS[instrument]
    except (KeyError, TypeError):
        raise LookupError(
            f"No instrument preset named {instrument!r}; the presets are {', '.join(INSTRUMENTS)}."
        ) from None
