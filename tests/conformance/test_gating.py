"""Capabilities become skips naming them, divergences strict xfails; mistakes are reported, not hidden."""

from __future__ import annotations

import textwrap

from butler_testkit.conformance import load_report

SUITES = textwrap.dedent(
    """
    import pytest
    from butler_testkit.conformance import BUILTIN_TARGETS, Capabilities, DatastoreConformance

    ours = BUILTIN_TARGETS["inmemory"]


    class OurDatastore(DatastoreConformance):
        @pytest.fixture
        def datastore_factory(self, tmp_path):
            return ours.factory(tmp_path)

        @pytest.fixture
        def capabilities(self):
            return ours.capabilities


    class TestNothingDeclared(OurDatastore):
        @pytest.fixture
        def capabilities(self):
            return Capabilities()


    class TestUnexpectedPass(OurDatastore):
        @pytest.fixture
        def divergences(self):
            return {"test_the_name_is_a_non_empty_string": "claimed to fail"}


    class TestDivergentParameter(OurDatastore):
        @pytest.fixture
        def capabilities(self):
            return Capabilities(uri_scheme="file")

        @pytest.fixture
        def divergences(self):
            return {"test_a_stored_dataset_has_the_declared_uri_scheme": "not a file datastore"}


    class TestUnknownDivergence(OurDatastore):
        @pytest.fixture
        def divergences(self):
            return {"test_that_does_not_exist": "a typo"}


    class TestMultiLineReason(OurDatastore):
        @pytest.fixture
        def divergences(self):
            return {"test_the_name_is_a_non_empty_string": "first line\\nsecond line"}


    class TestNotCapabilities(OurDatastore):
        @pytest.fixture
        def capabilities(self):
            return {"ephemeral": True}


    class TestNoOverrides(DatastoreConformance):
        pass
    """
)

SELECTED = (
    "test_the_name_is_a_non_empty_string",
    "test_an_ephemeral_datastore_has_no_root",
    "test_a_stored_dataset_has_the_declared_uri_scheme",
)


def test_gating_outcomes_and_errors(pytester):
    pytester.makepyfile(test_gating=SUITES)
    report = pytester.path / "report"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-k", " or ".join(SELECTED), f"--butler-conformance-report={report}"
    )
    suites = {suite.name: suite for suite in load_report(report.with_suffix(".json"))}
    outcomes = {
        name: {test.test: (test.outcome, test.reason) for test in suite.tests}
        for name, suite in suites.items()
    }

    nothing = outcomes["TestNothingDeclared"]
    assert nothing["test_an_ephemeral_datastore_has_no_root"] == ("skipped", "needs capability ephemeral")
    assert nothing["test_a_stored_dataset_has_the_declared_uri_scheme"] == (
        "skipped",
        "needs capability uri_scheme",
    )
    assert nothing["test_the_name_is_a_non_empty_string"] == ("passed", "")
    assert suites["TestNothingDeclared"].ok

    unexpected = outcomes["TestUnexpectedPass"]["test_the_name_is_a_non_empty_string"]
    assert unexpected[0] == "failed"
    assert "XPASS(strict)" in unexpected[1] and "claimed to fail" in unexpected[1]
    assert not suites["TestUnexpectedPass"].ok

    assert outcomes["TestDivergentParameter"]["test_a_stored_dataset_has_the_declared_uri_scheme"] == (
        "xfailed",
        "declared divergence: not a file datastore",
    )
    assert suites["TestDivergentParameter"].ok

    for name, message in [
        ("TestUnknownDivergence", "name no test of the conformance suite: ['test_that_does_not_exist']"),
        ("TestMultiLineReason", "must be one non-empty line"),
        ("TestNotCapabilities", "must return a butler_testkit.conformance.Capabilities"),
        ("TestNoOverrides", "TestNoOverrides must override the capabilities fixture"),
    ]:
        assert {outcome for outcome, _ in outcomes[name].values()} == {"failed"}, name
        assert all(message in reason for _, reason in outcomes[name].values()), (name, outcomes[name])
    result.stdout.fnmatch_lines(
        ["*TestNoOverrides: 0 passed, 3 failed, 0 skipped, 0 xfailed -- DOES NOT CONFORM*"]
    )


MODES = textwrap.dedent(
    """
    import pytest
    from butler_testkit.conformance import BUILTIN_TARGETS, Capabilities, DatastoreConformance

    ours = BUILTIN_TARGETS["inmemory"]


    class TestCopyOnly(DatastoreConformance):
        @pytest.fixture
        def datastore_factory(self, tmp_path):
            return ours.factory(tmp_path)

        @pytest.fixture
        def capabilities(self):
            return Capabilities(ingest_transfer_modes={"copy"})
    """
)


def test_transfer_modes_gate_each_parameter_both_ways(pytester):
    pytester.makepyfile(test_modes=MODES)
    report = pytester.path / "report"
    pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-k",
        "an_ingested_file_is_readable or an_unsupported_transfer_mode",
        f"--butler-conformance-report={report}",
    )
    (suite,) = load_report(report.with_suffix(".json"))
    outcomes = {test.test: (test.outcome, test.reason) for test in suite.tests}

    assert outcomes["test_an_ingested_file_is_readable[copy]"] == ("passed", "")
    assert outcomes["test_an_ingested_file_is_readable[link]"] == (
        "skipped",
        "capability ingest_transfer_modes lacks 'link'",
    )
    assert outcomes["test_an_unsupported_transfer_mode_is_refused_and_stores_nothing[copy]"] == (
        "skipped",
        "applies only without 'copy' in capability ingest_transfer_modes",
    )
    assert outcomes["test_an_unsupported_transfer_mode_is_refused_and_stores_nothing[link]"] == ("passed", "")
    # Our datastore does ingest with "auto": declaring less than it does is a
    # promise broken the other way, and the suite says so.
    assert outcomes["test_an_unsupported_transfer_mode_is_refused_and_stores_nothing[auto]"][0] == "failed"
    assert not suite.ok
