"""The pytest plugin object that gathers conformance results into the report.

Imported by the pytest plugin at start-up, so it imports nothing heavy: the
report module comes with the first conformance result of a run.
"""

from __future__ import annotations

__all__ = ("REPORT_OPTION", "ConformanceReporter")

from typing import TYPE_CHECKING, Any

import pytest

from .._constants import CONFORMANCE_PROPERTY

if TYPE_CHECKING:
    from ._report import ConformanceResults

REPORT_OPTION = "butler_conformance_report"
"""Destination of the conformance report: the ``dest`` of ``--butler-conformance-report``."""


class ConformanceReporter:
    """Collect conformance results; print the matrix and write the report.

    Registered by the pytest plugin on every run; a run without conformance
    tests pays nothing for it. Under xdist the controller sees every
    worker's reports, with their ``user_properties``, and only it reports.

    Parameters
    ----------
    config : `pytest.Config`
        The run's configuration, whose ``--butler-conformance-report``
        option (if given) names where the report is written.
    """

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._worker = hasattr(config, "workerinput")
        self._results: ConformanceResults | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the result of a conformance test.

        Parameters
        ----------
        report : `pytest.TestReport`
            The report of one phase of one test.
        """
        if self._worker or not any(name == CONFORMANCE_PROPERTY for name, _ in report.user_properties):
            return
        if self._results is None:
            from ._report import ConformanceResults

            self._results = ConformanceResults()
        self._results.add(report, CONFORMANCE_PROPERTY)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print the matrix of areas by outcome, if any conformance test ran.

        Parameters
        ----------
        terminalreporter : `_pytest.terminal.TerminalReporter`
            pytest's terminal reporter.
        """
        if self._results is None:
            return
        from ._report import format_matrix

        terminalreporter.write_sep("=", "butler-testkit datastore conformance")
        for line in format_matrix(self._results.suites()):
            terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the report where ``--butler-conformance-report`` says, even if empty.

        Parameters
        ----------
        session : `pytest.Session`
            The session.
        """
        path = self._config.getoption(REPORT_OPTION, None)
        if path is None or self._worker:
            return
        from ._report import write_report

        write_report(path, [] if self._results is None else self._results.suites())
