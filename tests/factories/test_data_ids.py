"""Data IDs: valid for any dimension group, consistent, seeded, backed by complete records."""

from __future__ import annotations

import re

import pytest
from faker import Faker
from lsst.daf.butler import Butler, Config, DataCoordinate, DimensionUniverse

from butler_testkit.factories import INSTRUMENTS, ButlerProvider, DataIdFactory

COMMON_GROUPS = [
    ("instrument", "visit", "detector"),
    ("instrument", "exposure", "detector"),
    ("instrument", "exposure", "visit"),
    ("skymap", "tract", "patch", "band"),
    ("instrument", "visit", "skymap", "tract", "patch"),
    ("instrument", "day_obs"),
    ("instrument", "group"),
    ("instrument", "physical_filter"),
    ("band", "subfilter", "skymap", "tract", "patch"),
    ("instrument", "visit_system", "visit"),
    ("htm7",),
    ("healpix11", "band"),
]


@pytest.fixture(params=sorted(INSTRUMENTS))
def factory(request):
    return DataIdFactory(instrument=request.param, seed=20260101)


def _every_dimension(universe: DimensionUniverse) -> list[str]:
    return sorted(universe.getStaticDimensions().names)


def test_every_single_dimension_of_the_default_universe_gets_a_valid_expanded_data_id(factory):
    for name in _every_dimension(factory.universe):
        data_id = factory.data_id([name])
        assert data_id.hasFull() and data_id.hasRecords(), name
        assert set(data_id.dimensions.names) == set(factory.universe.conform([name]).names)


@pytest.mark.parametrize("dimensions", COMMON_GROUPS, ids="-".join)
def test_common_groups_get_expanded_data_ids_with_a_record_per_element(factory, dimensions):
    data_id = factory.data_id(dimensions)
    assert data_id.hasRecords()
    for element in data_id.dimensions.elements:
        assert data_id.records[element] is not None, element


def test_all_non_skypix_dimensions_at_once_agree_with_each_other(factory):
    universe = factory.universe
    names = [name for name in _every_dimension(universe) if not name.startswith(("htm", "healpix"))]
    data_id = factory.data_id([*names, "htm7"])
    preset = INSTRUMENTS[data_id["instrument"]]
    assert data_id["exposure"] == data_id["visit"]
    assert data_id["band"] == preset.physical_filters[data_id["physical_filter"]]
    exposure = data_id.records["exposure"]
    visit = data_id.records["visit"]
    assert (exposure.day_obs, exposure.physical_filter) == (visit.day_obs, visit.physical_filter)
    assert exposure.group == data_id["group"]
    assert data_id.records["day_obs"].timespan.contains(exposure.timespan)
    assert visit.region.contains(data_id.records["visit_detector_region"].region.getCentroid())
    assert data_id.records["tract"].region.contains(data_id.records["patch"].region.getCentroid())


def test_a_visit_keeps_its_filter_day_and_pointing(factory):
    first = factory.data_id(["instrument", "visit", "detector"])
    again = factory.data_id(["instrument", "visit", "detector"], visit=first["visit"])
    assert again["physical_filter"] == first["physical_filter"]
    assert again["day_obs"] == first["day_obs"]
    assert again.records["visit"] is first.records["visit"]
    as_exposure = factory.data_id(["instrument", "exposure"], exposure=first["visit"])
    assert as_exposure["physical_filter"] == first["physical_filter"]


def test_visit_ids_follow_the_instrument_scheme(factory):
    preset = factory.instrument
    for data_id in factory.data_ids(["instrument", "visit", "detector"], 20):
        assert data_id["visit"] < preset.visit_max
        assert preset.split_exposure_id(data_id["visit"]) == (
            data_id["day_obs"],
            data_id.records["visit"].seq_num,
        )
        assert data_id["detector"] in {detector.id for detector in preset.science_detectors}


def test_lsstcam_names_and_groups_look_like_the_real_ones():
    data_id = DataIdFactory(instrument="LSSTCam", seed=5).data_id(["instrument", "exposure", "detector"])
    exposure = data_id.records["exposure"]
    assert re.fullmatch(r"MC_O_\d{8}_\d{6}", exposure.obs_id)
    assert exposure.obs_id == f"MC_O_{exposure.day_obs}_{exposure.seq_num:06d}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", data_id["group"])
    assert re.fullmatch(r"R\d\d_S\d\d", data_id.records["detector"].full_name)


def test_same_seed_same_values_different_seed_different_values():
    def draw(seed: int) -> list[DataCoordinate]:
        factory = DataIdFactory(instrument="HSC", seed=seed)
        return [factory.data_id(dimensions) for dimensions in COMMON_GROUPS]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_given_values_are_kept_and_the_rest_agree(factory):
    preset = factory.instrument
    physical_filter = sorted(preset.physical_filters)[-1]
    data_id = factory.data_id(["instrument", "visit"], physical_filter=physical_filter)
    assert data_id["physical_filter"] == physical_filter
    assert data_id["band"] == preset.physical_filters[physical_filter]
    band = preset.bands[0]
    assert factory.data_id(["instrument", "exposure"], band=band)["band"] == band


def test_another_instrument_can_be_asked_for_per_data_id():
    factory = DataIdFactory(seed=1)
    assert factory.data_id(instrument="LSSTCam")["instrument"] == "LSSTCam"
    assert factory.data_id(["instrument", "detector"], instrument="HSC")["instrument"] == "HSC"
    assert {record.name for record in factory.records()["instrument"]} == {"GenericCam", "LSSTCam", "HSC"}


@pytest.mark.parametrize(
    ("dimensions", "values", "error", "message"),
    [
        (["instrument", "detector"], {"visit": 1}, ValueError, r"\['visit'\] are not dimensions"),
        (["instrument", "detector"], {"detector": 9999}, ValueError, "has no detector 9999"),
        (["instrument", "visit"], {"instrument": "DECam"}, LookupError, "No instrument preset named 'DECam'"),
        (["skymap", "tract"], {"skymap": "unknown_map"}, LookupError, "No sky map preset named"),
        (["skymap", "tract"], {"tract": 10**6}, ValueError, "tract must be an int in 0..999"),
        (["instrument", "visit"], {"physical_filter": "HSC-G"}, ValueError, "no physical_filter 'HSC-G'"),
        (["instrument", "visit"], {"band": "N921"}, ValueError, "no physical filter for band 'N921'"),
        (["instrument", "exposure", "visit"], {"exposure": 5, "visit": 6}, ValueError, "one-to-one"),
        (["instrument", "visit_system"], {"visit_system": 7}, ValueError, "no visit_system 7"),
        (["htm7"], {"htm7": -1}, ValueError, "not a pixel of htm7"),
        (["instrument", "visit"], {"day_obs": 20241301}, ValueError, "not a valid YYYYMMDD"),
        (["not_a_dimension"], {}, ValueError, r"\['not_a_dimension'\] are not dimensions"),
        ([3], {}, TypeError, "must be strings"),
        (17, {}, TypeError, "a DimensionGroup, a name or names"),
    ],
)
def test_bad_values_raise_typed_errors_naming_them(dimensions, values, error, message):
    factory = DataIdFactory(seed=1)
    with pytest.raises(error, match=message):
        factory.data_id(dimensions, **values)
    assert factory.records() == DataIdFactory(seed=1).records()  # nothing was recorded


def test_a_contradicting_band_is_refused():
    factory = DataIdFactory(instrument="LSSTCam", seed=1)
    visit = factory.data_id(["instrument", "visit"])
    other_band = next(band for band in factory.instrument.bands if band != visit["band"])
    with pytest.raises(ValueError, match="contradicts"):
        factory.data_id(["instrument", "visit"], visit=visit["visit"], band=other_band)


def test_data_ids_are_distinct_and_impossible_counts_are_refused():
    factory = DataIdFactory(seed=3)
    data_ids = factory.data_ids(["instrument", "detector"], 4)
    assert len(set(data_ids)) == 4
    with pytest.raises(ValueError, match="Cannot make 5 different data IDs"):
        factory.data_ids(["instrument", "detector"], 5)
    with pytest.raises(ValueError, match="non-negative"):
        factory.data_ids(["instrument"], -1)


def test_records_fill_a_real_registry_and_match_what_it_expands(tmp_path):
    factory = DataIdFactory(instrument="HSC", seed=11)
    made = [factory.data_id(dimensions) for dimensions in COMMON_GROUPS]
    made.append(factory.data_id(["instrument", "visit", "detector"], instrument="LSSTCam"))
    everything = [
        name for name in _every_dimension(factory.universe) if not name.startswith(("htm", "healpix"))
    ]
    made.append(factory.data_id(everything))
    Butler.makeRepo(str(tmp_path), config=Config({"datastore": {"cls": "butler_testkit.InMemoryDatastore"}}))
    with Butler.from_config(str(tmp_path), writeable=True) as butler:
        factory.insert_records(butler.registry)
        factory.insert_records(butler.registry)  # a second time is harmless
        instrument = butler.registry.expandDataId(instrument="HSC").records["instrument"]
        assert (instrument.visit_max, instrument.exposure_max, instrument.detector_max) == (
            21_474_800,
            21_474_800,
            200,
        )
        assert instrument.class_name == "lsst.obs.subaru.HyperSuprimeCam"
        assert len(list(butler.registry.queryDimensionRecords("detector", instrument="LSSTCam"))) == 205
        for data_id in made:
            if any(name.startswith(("htm", "healpix")) for name in data_id.dimensions.names):
                continue
            expanded = butler.registry.expandDataId(data_id.required, dimensions=data_id.dimensions)
            assert expanded == data_id
            for element in data_id.dimensions.elements:
                assert expanded.records[element] == data_id.records[element], element
        # The tract and patch drawn with a visit and detector overlap them.
        data_id = made[4]
        overlapping = butler.registry.queryDataIds(
            ["tract", "patch"],
            dataId={"instrument": "HSC", "visit": data_id["visit"]},
            skymap=data_id["skymap"],
        )
        assert {(row["tract"], row["patch"]) for row in overlapping} >= {(data_id["tract"], data_id["patch"])}


def test_the_faker_provider_draws_valid_seeded_values():
    def values(seed: int) -> list[object]:
        fake = Faker()
        fake.add_provider(ButlerProvider)
        fake.seed_instance(seed)
        return [
            fake.butler_instrument(),
            fake.butler_physical_filter("HSC"),
            fake.butler_band("LSSTCam"),
            fake.butler_detector("LSSTCam"),
            fake.butler_exposure("LSSTCam"),
            fake.butler_day_obs("HSC"),
            fake.butler_run(),
            fake.butler_data_id(["instrument", "visit", "detector"], instrument="HSC"),
            fake.butler_data_id(["skymap", "tract", "patch", "band"]),
        ]

    first = values(99)
    assert first == values(99)
    assert first != values(100)
    instrument, physical_filter, band, detector, exposure, day_obs, run, visit, patch = first
    assert instrument in INSTRUMENTS
    assert physical_filter in INSTRUMENTS["HSC"].physical_filters
    assert band in INSTRUMENTS["LSSTCam"].bands
    assert INSTRUMENTS["LSSTCam"].detector(detector).purpose == "SCIENCE"
    assert INSTRUMENTS["LSSTCam"].split_exposure_id(exposure)
    assert 20140301 <= day_obs <= 20221231
    assert re.fullmatch(r"u/[a-z]{4,8}/DM-\d{5}/\d{8}T\d{6}Z", run)
    assert (
        visit["instrument"] == "HSC"
        and visit["band"] == INSTRUMENTS["HSC"].physical_filters[visit["physical_filter"]]
    )
    assert patch["skymap"] == "generic_rings"
