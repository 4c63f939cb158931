"""One engine behind both front ends: one option table, the same options, the same objects."""

from __future__ import annotations

import io
import textwrap
import unittest
from typing import ClassVar

import pytest

from butler_testkit import InjectedFaultError, InMemoryDatastore, InstrumentedDatastore, Isolation
from butler_testkit.engine import (
    ARGUMENTS,
    KEYWORDS,
    OPTIONS,
    ButlerTestEngine,
    Option,
    configure_session,
    option,
    options_from_attributes,
    options_from_markers,
    resolve_options,
    restore_session,
)
from butler_testkit.unittest import ButlerDatastoreMixin, ButlerTestCaseMixin


@pytest.fixture
def no_session():
    """Run as if the test runner had been given no butler-testkit option."""
    previous = configure_session({})
    yield
    restore_session(previous)


def _markers(**markers):
    return lambda name: markers.get(name)


def test_every_option_a_test_can_set_is_both_a_marker_key_and_a_class_attribute():
    per_test = [entry for entry in OPTIONS if entry.marker is not None]
    assert per_test
    assert all(entry.attribute is not None for entry in per_test)
    names = [entry.name for entry in OPTIONS]
    assert len(names) == len(set(names))
    attributes = [entry.attribute for entry in OPTIONS if entry.attribute]
    assert len(attributes) == len(set(attributes))


def test_markers_give_options_and_refuse_what_no_option_takes():
    given = options_from_markers(
        _markers(
            butler_datastore=((), {"isolation": "reference"}),
            butler_faults=(({"operations": "get"},), {"seed": 3}),
            butler_data_ids=((), {"instrument": "HSC"}),
        )
    )
    assert given == {
        "datastore": ({"isolation": "reference"}, "The butler_datastore marker"),
        "faults": (({"operations": "get"},), "The butler_faults marker"),
        "faults_seed": (3, "The butler_faults marker"),
        "instrument": ("HSC", "The butler_data_ids marker"),
    }
    with pytest.raises(TypeError, match="The butler_datastore marker takes keyword arguments only"):
        options_from_markers(_markers(butler_datastore=(("reference",), {})))
    with pytest.raises(TypeError, match=r"The butler_data_ids marker does not know \['camera'\]"):
        options_from_markers(_markers(butler_data_ids=((), {"camera": "HSC"})))
    with pytest.raises(TypeError, match=r"The butler_faults marker does not know \['sead'\]"):
        options_from_markers(_markers(butler_faults=(({"operations": "get"},), {"sead": 1})))


def test_a_test_value_wins_over_the_session_which_wins_over_the_default(no_session):
    assert resolve_options({})["instrument"] == "GenericCam"
    configure_session({"instrument": ("LSSTCam", "--butler-instrument")})
    assert resolve_options({})["instrument"] == "LSSTCam"
    assert resolve_options({"instrument": ("HSC", "the marker")})["instrument"] == "HSC"


@pytest.mark.parametrize(
    ("given", "error", "match"),
    [
        ({"datastore": ({"isolatoin": "copy"}, "Case.butler_datastore_config")}, TypeError, "does not know"),
        ({"datastore": (["copy"], "Case.butler_datastore_config")}, TypeError, "must be a mapping"),
        ({"instrument": ("Hubble", "Case.butler_instrument")}, ValueError, "must name an instrument"),
        ({"seed": ("twelve", "Case.butler_seed")}, ValueError, "Case.butler_seed must be an integer"),
        ({"faults": ((), "Case.butler_faults")}, TypeError, "needs at least one rule"),
        ({"faults": ({"operations": "get"}, "Case.butler_faults")}, TypeError, "a sequence of rules"),
        ({"faults": (({"operation": "get"},), "Case.butler_faults")}, TypeError, "has a bad rule"),
        ({"repository": ({"visit": 1}, "Case.butler_repo_spec")}, TypeError, r"does not know \['visit'\]"),
        ({"teleport": (True, "Case.butler_teleport")}, KeyError, "teleport"),
    ],
)
def test_a_bad_option_is_refused_naming_where_it_came_from(given, error, match, no_session):
    with pytest.raises(error, match=match):
        resolve_options(given)


def test_a_bad_session_value_changes_nothing(no_session):
    configure_session({"instrument": ("HSC", "--butler-instrument")})
    with pytest.raises(ValueError, match="--butler-seed must be an integer"):
        configure_session({"seed": ("abc", "--butler-seed")})
    assert resolve_options({})["instrument"] == "HSC"


def test_the_engine_builds_a_datastore_with_faults_and_seeds_per_test(no_session):
    engine = ButlerTestEngine.for_test(
        "tests/x.py::test_y",
        "test_y",
        {
            "datastore": ({"isolation": "reference", "capacity_bytes": 10_000}, "marker"),
            "faults": (({"operations": "get", "probability": 0.5},), "marker"),
        },
    )
    with engine.storage_classes():
        datastore = engine.datastore()
        assert isinstance(datastore, InstrumentedDatastore)
        assert datastore.wrapped.isolation is Isolation.REFERENCE
        assert datastore.faults.seed == engine.seed("faults")
    same = ButlerTestEngine.for_test("tests/x.py::test_y", "test_y", {})
    other = ButlerTestEngine.for_test("tests/x.py::test_z", "test_z", {})
    assert same.seed("refs") == engine.seed("refs") != other.seed("refs")
    assert engine.run_name == "test/test_y"
    assert ButlerTestEngine("id", "test_a[1-b c]").run_name == "test/test_a_1-b_c_"


class _FaultyCase(ButlerDatastoreMixin, unittest.TestCase):
    """A unittest case with fault injection, as the butler_faults marker gives a pytest test."""

    __test__ = False
    butler_datastore_config: ClassVar = {"isolation": "serialize", "capacity_bytes": 1_000_000}
    butler_faults: ClassVar = ({"operations": "get", "nth": 2},)

    def runTest(self) -> None:
        datastore = self.butler_datastore
        assert isinstance(datastore, InstrumentedDatastore)
        assert isinstance(datastore.wrapped, InMemoryDatastore)
        assert datastore.wrapped.isolation is Isolation.SERIALIZE
        assert datastore.faults.seed == self.butler_test_seed("faults")
        from butler_testkit.factories import RefFactory

        ref = RefFactory(self.butler_engine.data_ids(), seed=1).ref("plain", storage_class="BtkDict")
        datastore.put({"a": 1}, ref)
        assert datastore.get(ref) == {"a": 1}
        with pytest.raises(InjectedFaultError):
            datastore.get(ref)
        assert datastore.get(ref) == {"a": 1}


def _run(case: unittest.TestCase) -> unittest.TestResult:
    return unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(case)


def test_a_unittest_case_gets_faults_and_every_datastore_key(no_session):
    result = _run(_FaultyCase())
    assert result.wasSuccessful(), result.errors + result.failures

    class Seeded(_FaultyCase):
        butler_faults_seed: ClassVar = 5

        def runTest(self) -> None:
            assert self.butler_datastore.faults.seed == 5

    assert _run(Seeded()).wasSuccessful()

    class NoRules(_FaultyCase):
        butler_faults: ClassVar = ()

    result = _run(NoRules())
    assert len(result.errors) == 1 and "NoRules.butler_faults needs at least one rule" in result.errors[0][1]


def test_under_pytest_the_mixins_follow_the_session_options(pytester):
    pytester.makepyfile(
        textwrap.dedent(
            """
            import unittest
            from butler_testkit.unittest import ButlerTestCaseMixin

            class Session(ButlerTestCaseMixin, unittest.TestCase):
                def test_instrument(self):
                    assert self.butler_data_ids.instrument.name == "LSSTCam"

            class Pinned(ButlerTestCaseMixin, unittest.TestCase):
                butler_instrument = "HSC"

                def test_instrument(self):
                    assert self.butler_data_ids.instrument.name == "HSC"
            """
        )
    )
    pytester.runpytest("-p", "no:cacheprovider", "--butler-instrument=LSSTCam").assert_outcomes(passed=2)


@pytest.fixture
def extra_options(monkeypatch):
    """Add options to the table for one test, as a future entry would be added."""
    from butler_testkit import engine, pytest_plugin
    from butler_testkit.engine import _options

    def add(*entries: Option) -> None:
        table = (*OPTIONS, *entries)
        for module in (_options, engine, pytest_plugin):
            monkeypatch.setattr(module, "OPTIONS", table)

    return add


def _choice(value: object, source: str) -> str:
    if value not in ("plain", "fancy"):
        raise ValueError(f"{source} must be plain or fancy; got {value!r}.")
    assert isinstance(value, str)
    return value


def test_a_new_option_is_one_entry_for_the_command_line_ini_markers_and_class_attributes(
    pytester, monkeypatch, extra_options
):
    # The two shapes of session options: a choice for every test repository
    # (command line, marker key, class attribute, as "registry" is) and a
    # switch (command line and ini).
    extra_options(
        Option(
            "demo_choice",
            _choice,
            "plain",
            "a choice for the test repositories",
            marker="butler_repo",
            marker_key="demo_choice",
            attribute="butler_demo_choice",
            cli="--butler-demo-choice",
            choices=("plain", "fancy"),
        ),
        Option(
            "demo_switch",
            lambda value, source: bool(value),
            False,
            "a switch",
            cli="--butler-demo-switch",
            ini="butler_demo_switch",
            flag=True,
        ),
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import os
            import unittest

            import pytest
            from butler_testkit.unittest import ButlerSeedMixin

            def test_session(_butler_engine):
                assert _butler_engine.options["demo_choice"] == os.environ["EXPECT_CHOICE"]
                assert _butler_engine.options["demo_switch"] is (os.environ["EXPECT_SWITCH"] == "1")

            @pytest.mark.butler_repo(demo_choice="fancy", instrument="HSC")
            def test_marker(_butler_engine):
                assert _butler_engine.options["demo_choice"] == "fancy"
                assert _butler_engine.options["repository"] == {"instrument": "HSC"}

            class Case(ButlerSeedMixin, unittest.TestCase):
                butler_demo_choice = "fancy"

                def test_attribute(self):
                    assert self.butler_engine.options["demo_choice"] == "fancy"
            """
        )
    )
    monkeypatch.setenv("EXPECT_CHOICE", "plain")
    monkeypatch.setenv("EXPECT_SWITCH", "0")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    monkeypatch.setenv("EXPECT_CHOICE", "fancy")
    monkeypatch.setenv("EXPECT_SWITCH", "1")
    pytester.runpytest(
        "-p", "no:cacheprovider", "--butler-demo-choice=fancy", "--butler-demo-switch"
    ).assert_outcomes(passed=3)
    pytester.makeini("[pytest]\nbutler_demo_switch = true\n")
    monkeypatch.setenv("EXPECT_CHOICE", "plain")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    result = pytester.runpytest("-p", "no:cacheprovider", "--butler-demo-choice=baroque")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_an_entry_names_a_marker_and_its_key_together():
    with pytest.raises(ValueError, match="both a marker and a marker_key"):
        Option("x", str, None, "help", marker="butler_repo")
    assert option("faults").marker_key == ARGUMENTS
    assert option("datastore").marker_key == KEYWORDS


def test_a_test_case_attribute_left_none_gives_nothing():
    class Case(ButlerTestCaseMixin, unittest.TestCase):
        butler_instrument = "HSC"

    assert options_from_attributes(Case) == {"instrument": ("HSC", "Case.butler_instrument")}


def test_the_registry_comes_from_the_test_else_the_session_else_the_environment(no_session, monkeypatch):
    monkeypatch.delenv("BUTLER_TESTKIT_REGISTRY", raising=False)
    assert ButlerTestEngine("t", "t").registry == "sqlite"
    monkeypatch.setenv("BUTLER_TESTKIT_REGISTRY", "PostgreSQL")
    assert ButlerTestEngine("t", "t").registry == "postgresql"
    configure_session({"registry": ("sqlite", "--butler-registry")})
    assert ButlerTestEngine("t", "t").registry == "sqlite"
    marked = options_from_markers(_markers(butler_repo=((), {"registry": "postgresql", "visits": 2})))
    assert marked == {
        "registry": ("postgresql", "The butler_repo marker"),
        "repository": ({"visits": 2}, "The butler_repo marker"),
    }
    assert ButlerTestEngine.for_test("t", "t", marked).registry == "postgresql"

    class Case(ButlerTestCaseMixin, unittest.TestCase):
        butler_registry = "postgresql://me@db.example/tests"

    engine = ButlerTestEngine.for_test("t", "t", options_from_attributes(Case))
    assert engine.registry == "postgresql+psycopg://me@db.example/tests"


@pytest.mark.parametrize(
    ("given", "error", "match"),
    [
        ({"registry": ("oracle", "The butler_repo marker")}, ValueError, "The butler_repo marker must be"),
        ({"registry": (None, "Case.butler_registry")}, TypeError, "Case.butler_registry must be"),
        ({"registry": ("mysql://db/x", "--butler-registry")}, ValueError, "not a PostgreSQL URL"),
    ],
)
def test_a_bad_registry_is_refused_naming_where_it_came_from(given, error, match, no_session):
    with pytest.raises(error, match=match):
        resolve_options(given)


def test_a_bad_registry_in_the_environment_is_named(no_session, monkeypatch):
    monkeypatch.setenv("BUTLER_TESTKIT_REGISTRY", "oracle")
    with pytest.raises(ValueError, match=r"\$BUTLER_TESTKIT_REGISTRY must be"):
        ButlerTestEngine("t", "t").registry  # noqa: B018


REGISTRY_MODULE = """
import unittest

import pytest
from butler_testkit.unittest import ButlerRepoMixin

def test_session(butler_repo, butler_registry):
    assert butler_repo.registry_dialect == butler_registry

@pytest.mark.butler_repo(registry="sqlite", run="marked/run")
def test_marker(butler_repo):
    assert butler_repo.registry_dialect == "sqlite"
    assert butler_repo.butler.run == "marked/run"

def test_factory(butler_repo_factory):
    assert butler_repo_factory(registry="sqlite").registry_dialect == "sqlite"
    with pytest.raises(ValueError, match="butler_repo_factory.registry=.... must be"):
        butler_repo_factory(registry="oracle")

class Case(ButlerRepoMixin, unittest.TestCase):
    butler_registry = "sqlite"

    def test_attribute(self):
        assert self.butler_repo.registry_dialect == "sqlite"
"""


def test_the_registry_option_reaches_every_repository_fixture_and_the_mixin(pytester):
    pytester.makepyfile(REGISTRY_MODULE)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)
    result = pytester.runpytest("-p", "no:cacheprovider", "--butler-registry=oracle")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_without_postgresql_its_tests_are_skipped_with_how_to_get_it(pytester, monkeypatch):
    # A process whose throwaway server cannot start: no server programs here.
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("butler_testkit.butler._postgresql._DEBIAN_ROOT", pytester.path / "none")
    monkeypatch.setattr("butler_testkit.butler._postgresql._PROCESS_SERVER._server", None)
    monkeypatch.setattr("butler_testkit.butler._postgresql._PROCESS_SERVER._unavailable", None)
    monkeypatch.setattr("butler_testkit.butler._pg_repository._PROCESS_REGISTRIES._by_choice", {})
    pytester.makepyfile(REGISTRY_MODULE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--butler-registry=postgresql", "-rs")
    # Only the test that takes the session's registry needs the server: the
    # marker, the factory's argument and the mixin's attribute ask for SQLite.
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*apt-get install postgresql*"])
    assert "--butler-registry=postgresql" in result.stdout.str()
