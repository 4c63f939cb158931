"""Capabilities: typed, explicit, absent unless declared; every one gates some test of the suite."""

from __future__ import annotations

import pytest

from butler_testkit._constants import CAPABILITY_MARKER
from butler_testkit.conformance import (
    INGEST_TRANSFER_MODES,
    Capabilities,
    DatastoreConformance,
    capability_names,
    lacks,
    requires,
)
from butler_testkit.conformance._report import AREAS
from butler_testkit.conformance._suite import _area_of


def test_every_capability_is_absent_unless_declared():
    capabilities = Capabilities()
    assert capabilities.present() == []
    assert not any(capabilities.has(name) for name in capability_names())
    assert Capabilities(thread_safe=True, uri_scheme="mem").present() == ["thread_safe", "uri_scheme"]


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ({"ephemeral": "yes"}, TypeError, "'ephemeral' must be True or False"),
        ({"ephemeral": 1}, TypeError, "'ephemeral' must be True or False"),
        ({"ingest_transfer_modes": "copy"}, TypeError, "collection of mode names"),
        ({"ingest_transfer_modes": {"copy", "teleport"}}, ValueError, "'teleport'"),
        ({"uri_scheme": ""}, ValueError, "non-empty str"),
    ],
)
def test_a_bad_value_is_refused_naming_the_capability(values, error, match):
    with pytest.raises(error, match=match):
        Capabilities(**values)


def test_transfer_modes_become_a_frozen_set():
    capabilities = Capabilities(ingest_transfer_modes=["copy", "move", "copy"])
    assert capabilities.ingest_transfer_modes == frozenset({"copy", "move"})
    assert capabilities.to_dict()["ingest_transfer_modes"] == ["copy", "move"]


def test_from_a_mapping_unknown_names_are_refused():
    assert Capabilities.from_mapping({"ephemeral": True}) == Capabilities(ephemeral=True)
    with pytest.raises(ValueError, match=r"Unknown capabilities \['teleports'\]"):
        Capabilities.from_mapping({"ephemeral": True, "teleports": True})
    with pytest.raises(TypeError, match="must be a mapping"):
        Capabilities.from_mapping(["ephemeral"])


def test_an_unknown_capability_cannot_be_asked_for_or_required():
    with pytest.raises(ValueError, match="Unknown capability 'teleports'"):
        Capabilities().has("teleports")
    with pytest.raises(ValueError, match="Unknown capability 'teleports'"):
        requires("teleports")
    with pytest.raises(ValueError, match="Unknown capability 'teleports'"):
        lacks("teleports")


def test_the_markers_are_the_plugins():
    assert requires("ephemeral").name == lacks("ephemeral").name == CAPABILITY_MARKER


def _suite_tests():
    return {
        name: getattr(DatastoreConformance, name)
        for name in dir(DatastoreConformance)
        if name.startswith("test")
    }


def test_every_capability_gates_a_test_both_ways_where_it_can():
    required, lacked = set(), set()
    for function in _suite_tests().values():
        for mark in getattr(function, "pytestmark", []):
            if mark.name == CAPABILITY_MARKER:
                (required if mark.kwargs["present"] else lacked).add(mark.args[0])
    assert required == set(capability_names())
    assert lacked >= {
        "ingest_transfer_modes",
        "disassembly",
        "artifact_retrieval",
        "zip_ingest",
        "records_export",
    }


def test_the_suite_has_at_least_80_tests_in_every_area():
    tests = _suite_tests()
    assert len(tests) >= 80
    areas = {_area_of(DatastoreConformance, name) for name in tests}
    assert areas == set(AREAS)


def test_every_ingest_mode_is_exercised():
    (test,) = [
        function for name, function in _suite_tests().items() if name == "test_an_ingested_file_is_readable"
    ]
    (parametrize,) = [mark for mark in test.pytestmark if mark.name == "parametrize"]
    assert tuple(parametrize.args[1]) == INGEST_TRANSFER_MODES
