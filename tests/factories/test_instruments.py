"""Instrument presets: detectors, filters and id schemes that hold together."""

from __future__ import annotations

import datetime

import pytest

from butler_testkit.factories import INSTRUMENTS, get_instrument


@pytest.fixture(params=sorted(INSTRUMENTS))
def preset(request):
    return INSTRUMENTS[request.param]


def test_the_three_presets_exist():
    assert set(INSTRUMENTS) == {"GenericCam", "HSC", "LSSTCam"}


def test_detector_ids_and_names_are_unique_and_below_detector_max(preset):
    ids = [detector.id for detector in preset.detectors]
    names = [detector.full_name for detector in preset.detectors]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    assert max(ids) < preset.detector_max
    assert preset.science_detectors


@pytest.mark.parametrize(
    ("name", "detectors", "science"),
    [("GenericCam", 4, 4), ("HSC", 112, 104), ("LSSTCam", 205, 189)],
)
def test_detector_counts_are_those_of_the_real_cameras(name, detectors, science):
    preset = INSTRUMENTS[name]
    assert len(preset.detectors) == detectors
    assert len(preset.science_detectors) == science


def test_lsstcam_detectors_are_named_by_raft_and_sensor():
    preset = INSTRUMENTS["LSSTCam"]
    assert preset.detector(0).full_name == "R01_S00"
    assert preset.detector(94).full_name == "R22_S11"  # the centre of the focal plane
    assert preset.detector(94).x == preset.detector(94).y == 0.0
    assert preset.detector(189).full_name == "R00_SG0"
    assert {detector.purpose for detector in preset.detectors} == {"SCIENCE", "GUIDER", "WAVEFRONT"}
    assert all(
        detector.full_name == f"{detector.raft}_{detector.name_in_raft}" for detector in preset.detectors
    )


def test_physical_filters_imply_the_usual_bands():
    assert INSTRUMENTS["HSC"].physical_filters["HSC-I2"] == "i"
    assert INSTRUMENTS["LSSTCam"].physical_filters["r_57"] == "r"
    assert INSTRUMENTS["LSSTCam"].bands == ("g", "i", "r", "u", "y", "z")


def test_unknown_detector_is_a_value_error_naming_it(preset):
    with pytest.raises(ValueError, match=rf"{preset.name} has no detector 9999"):
        preset.detector(9999)


def test_ids_round_trip_at_the_edges_of_the_range(preset):
    for day in (preset.first_day, preset.last_day):
        day_obs = day.year * 10_000 + day.month * 100 + day.day
        for seq_num in (1, preset.max_seq_num):
            exposure = preset.exposure_id(day_obs, seq_num)
            assert preset.split_exposure_id(exposure) == (day_obs, seq_num)
            assert 0 < exposure < min(preset.exposure_max, preset.visit_max)


def test_lsstcam_ids_encode_day_obs_and_seq_num():
    assert INSTRUMENTS["LSSTCam"].exposure_id(20250610, 123) == 2025061000123


def test_hsc_ids_are_even():
    preset = INSTRUMENTS["HSC"]
    assert all(preset.exposure_id(20150101, seq) % 2 == 0 for seq in (1, 2, 3, 400))
    with pytest.raises(ValueError, match="multiples of 2"):
        preset.split_exposure_id(preset.exposure_id(20150101, 5) + 1)


@pytest.mark.parametrize(
    ("name", "exposure", "message"),
    [
        ("LSSTCam", 2025061000000, "seq_num"),
        ("LSSTCam", 2025136100001, "not a valid YYYYMMDD"),
        ("LSSTCam", 2019010100001, "outside LSSTCam's observing days"),
        ("GenericCam", 0, "not a valid GenericCam"),
        ("GenericCam", -3, "not a valid GenericCam"),
        ("GenericCam", "17", "not a valid GenericCam"),
    ],
)
def test_invalid_ids_are_value_errors_naming_the_id(name, exposure, message):
    with pytest.raises(ValueError, match=message):
        INSTRUMENTS[name].split_exposure_id(exposure)


def test_exposure_id_checks_its_arguments():
    preset = INSTRUMENTS["GenericCam"]
    with pytest.raises(ValueError, match=r"seq_num must be an int in 1\.\.500"):
        preset.exposure_id(20240105, 501)
    with pytest.raises(ValueError, match="outside GenericCam's observing days"):
        preset.exposure_id(20230105, 1)


def test_nights_fit_inside_their_observing_day(preset):
    last_start = preset.night_start_hours * 3600 + (preset.max_seq_num - 1) * preset.cadence_seconds
    longest = max(preset.exposure_times)
    assert preset.day_start_hours * 3600 <= preset.night_start_hours * 3600
    assert last_start + longest <= (preset.day_start_hours + 24) * 3600


def test_get_instrument_accepts_names_and_presets_and_lists_presets_when_unknown():
    assert get_instrument("HSC") is INSTRUMENTS["HSC"]
    assert get_instrument(INSTRUMENTS["HSC"]) is INSTRUMENTS["HSC"]
    with pytest.raises(LookupError, match="GenericCam, HSC, LSSTCam"):
        get_instrument("DECam")


def test_skymaps_have_distinct_stable_hashes():
    hashes = {preset.skymap.hash for preset in INSTRUMENTS.values()}
    assert len(hashes) == len(INSTRUMENTS)
    assert INSTRUMENTS["HSC"].skymap.hash == INSTRUMENTS["HSC"].skymap.hash
    assert all(len(value) <= 40 for value in hashes)


def test_observing_ranges_are_sane(preset):
    assert preset.first_day < preset.last_day
    assert preset.last_day < datetime.date(2030, 1, 1)
