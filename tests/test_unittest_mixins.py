"""The unittest mixins: the same factories, isolation and seeding for TestCase classes."""

from __future__ import annotations

import re
import textwrap
import unittest
from typing import ClassVar

import pytest
from lsst.daf.butler import StorageClassFactory

from butler_testkit import InMemoryDatastore, Isolation
from butler_testkit.unittest import ButlerDatastoreMixin, ButlerTestCaseMixin

DRAWN: list[tuple[str, object]] = []


class _Recording(ButlerTestCaseMixin, unittest.TestCase):
    """Draws values and checks the fixtures; run by the tests below, not collected."""

    __test__ = False
    butler_instrument = "LSSTCam"

    def _draw(self) -> None:
        ref = self.butler_refs.ref("calexp", storage_class="BtkImage")
        data_id = self.butler_data_ids.data_id(["instrument", "exposure"])
        DRAWN.append((self.id(), (str(ref.id), ref.run, dict(ref.dataId.mapping), dict(data_id.mapping))))

    def test_first(self) -> None:
        assert isinstance(self.butler_datastore, InMemoryDatastore)
        assert self.butler_datastore.isolation is Isolation.COPY
        assert "BtkImage" in self.butler_storage_classes
        assert self.butler_data_ids.instrument.name == "LSSTCam"
        self.butler_storage_classes.redefine("BtkDict", {"pytype": "list"})
        self._draw()

    def test_second(self) -> None:
        assert StorageClassFactory().getStorageClass("BtkDict").pytype is dict
        ref = self.butler_refs.ref("plain", storage_class="BtkDict")
        self.butler_datastore.put({"a": 1}, ref)
        assert self.butler_datastore.get(ref) == {"a": 1}
        self._draw()


def _run(case: type[unittest.TestCase], names: list[str]) -> dict[str, object]:
    DRAWN.clear()
    suite = unittest.TestSuite(case(name) for name in names)
    result = unittest.TextTestRunner(stream=open("/dev/null", "w"), verbosity=0).run(suite)  # noqa: SIM115
    assert result.wasSuccessful(), result.errors + result.failures
    return dict(DRAWN)


def test_each_test_gets_the_factories_and_the_catalogue_is_taken_back():
    before = dict(StorageClassFactory()._storageClasses)
    _run(_Recording, ["test_first", "test_second"])
    assert dict(StorageClassFactory()._storageClasses) == before


@pytest.fixture
def no_configured_seed(monkeypatch):
    """Run as if neither --butler-seed nor $BUTLER_TESTKIT_SEED were given to this session."""
    from butler_testkit import _seeds
    from butler_testkit.engine import configure_session, restore_session

    monkeypatch.delenv(_seeds.SEED_ENVIRONMENT_VARIABLE, raising=False)
    previous = configure_session({})
    yield
    restore_session(previous)


def test_values_are_the_same_in_any_order_and_change_with_the_seed(monkeypatch, no_configured_seed):
    forward = _run(_Recording, ["test_first", "test_second"])
    backward = _run(_Recording, ["test_second", "test_first"])
    assert forward == backward and len(forward) == 2

    class Seeded(_Recording):
        butler_seed: ClassVar[int | None] = 99

    seeded = _run(Seeded, ["test_first", "test_second"])
    assert [value for value in seeded.values()] != [value for value in forward.values()]
    monkeypatch.setenv("BUTLER_TESTKIT_SEED", "99")
    from_environment = _run(_Recording, ["test_first", "test_second"])
    assert list(from_environment.values()) != list(forward.values())


def test_the_datastore_is_configured_by_the_class():
    class Reference(ButlerDatastoreMixin, unittest.TestCase):
        butler_datastore_config: ClassVar = {"isolation": "reference", "name": "mine"}

        def runTest(self) -> None:
            assert self.butler_datastore.isolation is Isolation.REFERENCE
            assert self.butler_datastore.name == "mine"

    class Misspelt(ButlerDatastoreMixin, unittest.TestCase):
        butler_datastore_config: ClassVar = {"isolatoin": "reference"}

        def runTest(self) -> None:
            raise AssertionError("never reached")

    assert unittest.TextTestRunner(stream=open("/dev/null", "w")).run(Reference()).wasSuccessful()  # noqa: SIM115
    before = dict(StorageClassFactory()._storageClasses)
    result = unittest.TextTestRunner(stream=open("/dev/null", "w")).run(Misspelt())  # noqa: SIM115
    assert len(result.errors) == 1
    assert "Misspelt.butler_datastore_config does not know ['isolatoin']" in result.errors[0][1]
    assert dict(StorageClassFactory()._storageClasses) == before  # the failed setUp cleaned up


def test_under_pytest_the_mixins_take_the_seed_option(pytester):
    pytester.makepyfile(
        test_cases=textwrap.dedent(
            """
            import unittest
            from butler_testkit.unittest import ButlerRefsMixin

            class Case(ButlerRefsMixin, unittest.TestCase):
                def test_print(self):
                    print("DRAWN", self.butler_refs.ref("metric").id)
            """
        )
    )

    def drawn(*args: str) -> str:
        result = pytester.runpytest("-s", "-p", "no:cacheprovider", *args)
        result.assert_outcomes(passed=1)
        return re.search(r"DRAWN (\S+)", result.stdout.str()).group(1)

    assert drawn() == drawn()
    assert drawn("--butler-seed=5") != drawn()
    assert drawn("--butler-seed=5") == drawn("--butler-seed=5")


@pytest.mark.parametrize("name", ["test_first", "test_second"])
def test_a_mixin_case_also_runs_as_pytest_collects_it(name):
    # pytest runs TestCase classes itself; the mixins must not depend on unittest's runner.
    _run(_Recording, [name])
