"""The conformance report: areas by outcome, per datastore, in the terminal, Markdown and JSON.

Standard library, pytest's report objects and the capability names only: the
conformance reporter imports this when the first conformance result arrives,
and ``butler-testkit check`` reads the JSON it writes.
"""

from __future__ import annotations

__all__ = (
    "AREAS",
    "OUTCOMES",
    "ConformanceResults",
    "SuiteResult",
    "TestResult",
    "format_markdown",
    "format_matrix",
    "load_report",
    "report_json",
    "write_report",
)

import collections
import dataclasses
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from ._capabilities import capability_names

AREAS: tuple[str, ...] = (
    "construction",
    "put and get",
    "composites and parameters",
    "conversion",
    "existence and URIs",
    "deletion and trash",
    "transactions",
    "constraints",
    "transfer",
    "chains",
    "records",
    "concurrency",
    "resource release",
    "stateful",
)
"""The areas of the suite, in report order; tests added by a subclass are in ``other``."""

OUTCOMES: tuple[str, ...] = ("passed", "failed", "skipped", "xfailed")
"""Outcomes of a conformance test. A strict expected failure that passed is ``failed``."""

_CELL_LETTERS = {"passed": "p", "failed": "F", "skipped": "s", "xfailed": "x"}
_SEVERITY = {"passed": 0, "skipped": 1, "xfailed": 2, "failed": 3}

_DIVERGENCE_PREFIX = "declared divergence: "

REPORT_FORMAT = "butler-testkit-conformance"
REPORT_VERSION = 1


@dataclasses.dataclass
class TestResult:
    """The outcome of one conformance test.

    Attributes
    ----------
    test : `str`
        Test id within the suite (``test_x`` or ``test_x[param]``).
    area : `str`
        Its area (see `AREAS`).
    outcome : `str`
        One of `OUTCOMES`.
    reason : `str`
        Why it was skipped or expected to fail, or the failure's message.
    """

    __test__ = False  # not a pytest test class

    test: str
    area: str
    outcome: str
    reason: str = ""


@dataclasses.dataclass
class SuiteResult:
    """The results of the suite against one datastore.

    Attributes
    ----------
    name : `str`
        The subclass of `DatastoreConformance` (or, for ``butler-testkit
        check``, the target).
    capabilities : `dict` [`str`, `object`]
        The declared capabilities.
    divergences : `dict` [`str`, `str`]
        The declared divergences and their reasons.
    tests : `list` [`TestResult`]
        One per test, in the order they finished.
    """

    name: str
    capabilities: dict[str, Any] = dataclasses.field(default_factory=dict)
    divergences: dict[str, str] = dataclasses.field(default_factory=dict)
    tests: list[TestResult] = dataclasses.field(default_factory=list)

    def counts(self) -> dict[str, collections.Counter[str]]:
        """Count outcomes per area.

        Returns
        -------
        counts : `dict` [`str`, `collections.Counter` [`str`]]
            Outcome counts by area.
        """
        counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for test in self.tests:
            counts[test.area][test.outcome] += 1
        return counts

    def total(self) -> collections.Counter[str]:
        """Count outcomes over every area.

        Returns
        -------
        counts : `collections.Counter` [`str`]
            Outcome counts.
        """
        return collections.Counter(test.outcome for test in self.tests)

    def with_outcome(self, outcome: str) -> list[TestResult]:
        """Return the tests with one outcome, sorted by test id.

        Parameters
        ----------
        outcome : `str`
            One of `OUTCOMES`.

        Returns
        -------
        tests : `list` [`TestResult`]
            The tests.
        """
        return sorted((test for test in self.tests if test.outcome == outcome), key=lambda test: test.test)

    @property
    def ok(self) -> bool:
        """Whether no test failed (skips and declared divergences are explained)."""
        return not any(test.outcome == "failed" for test in self.tests)


def _phase_outcome(report: pytest.TestReport) -> tuple[str, str] | None:
    """Classify one phase's report; `None` when it says nothing (a passing setup)."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return ("xfailed", str(report.wasxfail)) if report.skipped else ("passed", "")
        if report.passed:
            return ("passed", "")
    if report.skipped:
        return ("skipped", _skip_reason(report))
    if report.failed:
        return ("failed", _failure_message(report))
    return None


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    # A skip's longrepr is (path, line, "Skipped: reason").
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if not message:
        lines = [line for line in str(report.longreprtext).splitlines() if line.strip()]
        message = lines[-1] if lines else "failed"
    prefix = "" if report.when == "call" else f"error in {report.when}: "
    first = next((line.strip() for line in str(message).splitlines() if line.strip()), "failed")
    return prefix + first


class ConformanceResults:
    """Collects the results of conformance tests from pytest's reports."""

    def __init__(self) -> None:
        self._suites: dict[str, SuiteResult] = {}
        self._tests: dict[str, TestResult] = {}

    def add(self, report: pytest.TestReport, property_name: str) -> None:
        """Record one phase of a test, if it belongs to the suite.

        Parameters
        ----------
        report : `pytest.TestReport`
            A setup, call or teardown report.
        property_name : `str`
            Name of the ``user_properties`` entry the suite records.
        """
        raw = next((value for name, value in report.user_properties if name == property_name), None)
        if raw is None:
            return
        info = json.loads(str(raw))
        suite = self._suites.get(info["suite"])
        if suite is None:
            suite = self._suites[info["suite"]] = SuiteResult(info["suite"])
        # A test whose capabilities or divergences fixture failed has neither.
        if not suite.capabilities and "capabilities" in info:
            suite.capabilities = dict(info["capabilities"])
            suite.divergences = dict(info["divergences"])
        outcome = _phase_outcome(report)
        if outcome is None:
            return
        test = self._tests.get(report.nodeid)
        if test is None:
            test = self._tests[report.nodeid] = TestResult(info["test"], info["area"], *outcome)
            suite.tests.append(test)
        elif _SEVERITY[outcome[0]] > _SEVERITY[test.outcome]:
            test.outcome, test.reason = outcome

    def suites(self) -> list[SuiteResult]:
        """Return the results of every suite seen, in the order first seen.

        Returns
        -------
        suites : `list` [`SuiteResult`]
            The results.
        """
        return list(self._suites.values())


def _areas_of(suites: Sequence[SuiteResult]) -> list[str]:
    seen = {test.area for suite in suites for test in suite.tests}
    return [area for area in AREAS if area in seen] + sorted(seen - set(AREAS))


def _cell(counts: Mapping[str, int]) -> str:
    parts = [f"{counts[outcome]}{_CELL_LETTERS[outcome]}" for outcome in OUTCOMES if counts.get(outcome)]
    return " ".join(parts) if parts else "-"


def _reason_counts(tests: Iterable[TestResult]) -> list[tuple[str, int]]:
    counter = collections.Counter(test.reason for test in tests)
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def format_matrix(suites: Sequence[SuiteResult]) -> list[str]:
    """Format the areas-by-outcome matrix, one column per suite, and what explains it.

    Parameters
    ----------
    suites : `~collections.abc.Sequence` [`SuiteResult`]
        The results to show.

    Returns
    -------
    lines : `list` [`str`]
        A table (``p`` passed, ``F`` failed, ``s`` skipped, ``x`` expected
        failure), then per suite the skip reasons, the declared divergences
        and the failures.
    """
    areas = _areas_of(suites)
    headers = ["area", *(suite.name for suite in suites)]
    rows = [[area, *(_cell(suite.counts().get(area, {})) for suite in suites)] for area in areas]
    rows.append(["total", *(_cell(suite.total()) for suite in suites)])
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    lines = [
        "p passed, F failed, s skipped (capability absent), x expected failure (declared divergence)",
        line(headers),
        "-+-".join("-" * width for width in widths),
    ]
    lines += [line(row) for row in rows[:-1]]
    lines += ["-+-".join("-" * width for width in widths), line(rows[-1])]
    for suite in suites:
        lines += ["", f"{suite.name}: {_summary(suite)}"]
        skipped = suite.with_outcome("skipped")
        if skipped:
            lines.append("  skipped:")
            lines += [f"    {count:3d} x {reason}" for reason, count in _reason_counts(skipped)]
        xfailed = suite.with_outcome("xfailed")
        if xfailed:
            lines.append("  expected failures (declared divergences):")
            lines += [
                f"    {name}: {reason.removeprefix(_DIVERGENCE_PREFIX)}"
                for name, reason in _collapsed(xfailed)
            ]
        failed = suite.with_outcome("failed")
        if failed:
            lines.append("  FAILED:")
            lines += [f"    {name}: {reason}" for name, reason in _collapsed(failed)]
    return lines


def _collapsed(tests: Sequence[TestResult]) -> list[tuple[str, str]]:
    """Join the parameters of a test that fail or diverge for one reason: ``test_x[a, b]``."""
    groups: dict[tuple[str, str], list[str]] = {}
    for test in tests:
        base, _, parameter = test.test.partition("[")
        groups.setdefault((base, test.reason), []).append(parameter.removesuffix("]"))
    return [
        (base if parameters == [""] else f"{base}[{', '.join(parameters)}]", reason)
        for (base, reason), parameters in groups.items()
    ]


def _summary(suite: SuiteResult) -> str:
    total = suite.total()
    counts = ", ".join(f"{total.get(outcome, 0)} {outcome}" for outcome in OUTCOMES)
    return f"{counts} -- {'conforms' if suite.ok else 'DOES NOT CONFORM'}"


def format_markdown(suites: Sequence[SuiteResult]) -> str:
    """Format the report as Markdown.

    Parameters
    ----------
    suites : `~collections.abc.Sequence` [`SuiteResult`]
        The results.

    Returns
    -------
    markdown : `str`
        A table of areas by suite, then per suite its capabilities, skip
        reasons, declared divergences and failures.
    """
    areas = _areas_of(suites)
    out = [
        "# Datastore conformance",
        "",
        "Cells count tests: **p** passed, **F** failed, **s** skipped (capability absent), "
        "**x** expected failure (declared divergence).",
        "",
        "| area | " + " | ".join(suite.name for suite in suites) + " |",
        "|---|" + "---|" * len(suites),
    ]
    for area in areas:
        cells = " | ".join(_cell(suite.counts().get(area, {})) for suite in suites)
        out.append(f"| {area} | {cells} |")
    out.append("| **total** | " + " | ".join(f"**{_cell(suite.total())}**" for suite in suites) + " |")
    for suite in suites:
        out += ["", f"## {suite.name}", "", _summary(suite) + ".", ""]
        present = [name for name, value in suite.capabilities.items() if value]
        absent = [name for name, value in suite.capabilities.items() if not value]
        declared = ", ".join(_capability(name, suite.capabilities[name]) for name in present)
        out.append(f"- Capabilities: {declared or 'none'}.")
        out.append(f"- Absent: {', '.join(absent) or 'none'}.")
        unknown = [name for name in capability_names() if name not in suite.capabilities]
        if suite.capabilities and unknown:
            out.append(f"- Not declared: {', '.join(unknown)}.")
        skipped = suite.with_outcome("skipped")
        if skipped:
            out += ["", "Skipped:", ""]
            out += [f"- {reason} ({count})" for reason, count in _reason_counts(skipped)]
        if suite.divergences:
            out += ["", "Declared divergences:", ""]
            out += [f"- `{test}`: {reason}" for test, reason in sorted(suite.divergences.items())]
        failed = suite.with_outcome("failed")
        if failed:
            out += ["", "Failures:", ""]
            out += [f"- `{test.test}`: {test.reason}" for test in failed]
    return "\n".join(out) + "\n"


def _capability(name: str, value: object) -> str:
    if isinstance(value, bool):
        return name
    if isinstance(value, list | tuple):
        return f"{name} ({', '.join(map(str, value))})"
    return f"{name} ({value})"


def report_json(suites: Sequence[SuiteResult]) -> dict[str, Any]:
    """Return the report as JSON-ready data.

    Parameters
    ----------
    suites : `~collections.abc.Sequence` [`SuiteResult`]
        The results.

    Returns
    -------
    data : `dict` [`str`, `object`]
        ``format``, ``version`` and ``suites``; every suite's tests are
        sorted by test id, so equal runs give equal files.
    """
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "suites": [
            {
                "name": suite.name,
                "ok": suite.ok,
                "capabilities": suite.capabilities,
                "divergences": suite.divergences,
                "tests": [
                    dataclasses.asdict(test) for test in sorted(suite.tests, key=lambda test: test.test)
                ],
            }
            for suite in suites
        ],
    }


def write_report(path: str | os.PathLike[str], suites: Sequence[SuiteResult]) -> tuple[Path, Path]:
    """Write the report as Markdown and JSON.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        Where to write; the suffix is replaced by ``.md`` and by ``.json``.
    suites : `~collections.abc.Sequence` [`SuiteResult`]
        The results.

    Returns
    -------
    markdown, json : `tuple` [`pathlib.Path`, `pathlib.Path`]
        The files written.
    """
    base = Path(path)
    markdown_path, json_path = base.with_suffix(".md"), base.with_suffix(".json")
    base.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(format_markdown(suites))
    json_path.write_text(json.dumps(report_json(suites), indent=2, sort_keys=True) + "\n")
    return markdown_path, json_path


def load_report(path: str | os.PathLike[str]) -> list[SuiteResult]:
    """Read a JSON report written by `write_report`.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The ``.json`` file.

    Returns
    -------
    suites : `list` [`SuiteResult`]
        The results.

    Raises
    ------
    ValueError
        Raised if the file is not a conformance report of this version.
    """
    data = json.loads(Path(path).read_text())
    known = isinstance(data, dict) and (data.get("format"), data.get("version")) == (
        REPORT_FORMAT,
        REPORT_VERSION,
    )
    if not known:
        raise ValueError(f"{path} is not a butler-testkit conformance report (version {REPORT_VERSION}).")
    return [
        SuiteResult(
            suite["name"],
            dict(suite["capabilities"]),
            dict(suite["divergences"]),
            [TestResult(**test) for test in suite["tests"]],
        )
        for suite in data["suites"]
    ]
