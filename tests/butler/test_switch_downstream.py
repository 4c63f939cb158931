"""A downstream-style suite gives the same outcomes with and without ``--butler-fast-repos``."""

from __future__ import annotations

import pathlib
import re

import pytest

SOURCE = (pathlib.Path(__file__).parent / "downstream_style.py").read_text()

_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", re.MULTILINE)


def _outcomes(output: str) -> dict[str, str]:
    return {test: outcome for outcome, test in _OUTCOME.findall(output)}


@pytest.fixture
def downstream(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_downstream_style=SOURCE)
    return pytester


def test_the_same_outcomes_with_the_switch(downstream: pytest.Pytester) -> None:
    plain = downstream.runpytest_inprocess("-rA", "-p", "no:cacheprovider")
    fast = downstream.runpytest_inprocess("-rA", "-p", "no:cacheprovider", "--butler-fast-repos")
    expected = _outcomes(plain.stdout.str())
    assert len(expected) == 12
    assert set(expected.values()) == {"PASSED"}
    assert _outcomes(fast.stdout.str()) == expected
    fast.stdout.fnmatch_lines(
        ["*butler-testkit fast repositories*", "served by the fast path: *Butler.makeRepo*"]
    )
    assert "fast repositories" not in plain.stdout.str()


def test_the_ini_option_turns_it_on(downstream: pytest.Pytester) -> None:
    downstream.makeini("[pytest]\nbutler_fast_repos = true\n")
    result = downstream.runpytest_inprocess("-rA", "-p", "no:cacheprovider", "-k", "FileRepository")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["served by the fast path: *Butler.makeRepo*"])


def test_workers_report_to_the_controller(downstream: pytest.Pytester) -> None:
    result = downstream.runpytest_subprocess(
        "-rA", "-p", "no:cacheprovider", "-n", "2", "--butler-fast-repos"
    )
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(
        [
            "*butler-testkit fast repositories*",
            "served by the fast path: *",
            "handed to daf_butler:",
            "*first repository of its configuration (template built)",
        ]
    )
