"""The report: the same under xdist, written as Markdown and JSON, and read back by check."""

from __future__ import annotations

import json
import textwrap

import pytest

from butler_testkit.conformance import SuiteResult, TestResult, load_report, write_report
from butler_testkit.conformance._report import format_markdown, format_matrix

OURS = textwrap.dedent(
    """
    from butler_testkit.conformance import BUILTIN_TARGETS, conformance_class

    TestOurs = conformance_class(BUILTIN_TARGETS["inmemory"])
    """
)


def test_the_suite_against_our_datastore_gives_the_same_result_on_two_workers(pytester):
    pytester.makepyfile(test_ours=OURS)
    here, on_workers = pytester.path / "here", pytester.path / "workers"
    in_process = pytester.runpytest("-p", "no:cacheprovider", f"--butler-conformance-report={here}")
    xdist = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", f"--butler-conformance-report={on_workers}"
    )
    assert in_process.ret == xdist.ret == 0
    single = json.loads(here.with_suffix(".json").read_text())
    double = json.loads(on_workers.with_suffix(".json").read_text())
    assert single == double
    (suite,) = single["suites"]
    assert suite["ok"] and suite["divergences"] == {}
    assert {test["outcome"] for test in suite["tests"]} == {"passed", "skipped"}
    assert here.with_suffix(".md").read_text() == on_workers.with_suffix(".md").read_text()
    matrix = format_matrix(load_report(here.with_suffix(".json")))
    for output in (in_process, xdist):
        output.stdout.fnmatch_lines([f"*{line}*" for line in matrix[:6]])


def _sample() -> list[SuiteResult]:
    return [
        SuiteResult(
            "mine",
            {"ephemeral": True, "ingest_transfer_modes": ["copy"], "uri_scheme": "mem", "zip_ingest": False},
            {"test_b": "known to keep the object"},
            [
                TestResult("test_a", "construction", "passed"),
                TestResult(
                    "test_b", "resource release", "xfailed", "declared divergence: known to keep the object"
                ),
                TestResult("test_c[1]", "put and get", "failed", "AssertionError: assert 1 == 2"),
                TestResult("test_c[2]", "put and get", "failed", "AssertionError: assert 1 == 2"),
                TestResult("test_d", "transfer", "skipped", "needs capability zip_ingest"),
                TestResult("test_mine", "other", "passed"),
            ],
        )
    ]


def test_the_matrix_counts_outcomes_by_area_and_explains_them():
    lines = format_matrix(_sample())
    text = "\n".join(lines)
    assert "construction" in text and "other" in text
    assert any(line.startswith("total") and "2p 2F 1s 1x" in line for line in lines)
    assert "mine: 2 passed, 2 failed, 1 skipped, 1 xfailed -- DOES NOT CONFORM" in text
    assert "1 x needs capability zip_ingest" in text
    assert "test_b: known to keep the object" in text
    # Parameters of a test failing for one reason are shown together.
    assert "test_c[1, 2]: AssertionError: assert 1 == 2" in text
    # Areas come in the suite's order, a subclass's own tests last.
    assert (
        text.index("construction") < text.index("put and get") < text.index("transfer") < text.index("other")
    )


def test_the_report_round_trips_through_json_and_reads_as_markdown(tmp_path):
    markdown, json_path = write_report(tmp_path / "sub" / "report.txt", _sample())
    assert (markdown.name, json_path.name) == ("report.md", "report.json")
    (suite,) = load_report(json_path)
    original = _sample()[0]
    assert (suite.name, suite.capabilities, suite.divergences) == (
        original.name,
        original.capabilities,
        original.divergences,
    )
    assert suite.tests == sorted(original.tests, key=lambda test: test.test)
    text = markdown.read_text()
    assert text == format_markdown(_sample())
    assert "| **total** | **2p 2F 1s 1x** |" in text
    assert "- Capabilities: ephemeral, ingest_transfer_modes (copy), uri_scheme (mem)." in text
    assert "- Absent: zip_ingest." in text
    assert "- `test_b`: known to keep the object" in text


def test_a_file_that_is_not_a_report_is_refused(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a butler-testkit conformance report"):
        load_report(path)
