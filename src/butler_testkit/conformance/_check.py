"""``butler-testkit check``: run the suite against each target through pytest, then one matrix."""

from __future__ import annotations

__all__ = ("CheckResult", "format_check", "run_check")

import dataclasses
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ._coverage import (
    COVERAGE_PLUGIN_ARGUMENTS,
    TargetCoverage,
    collect_coverage,
    coverage_environment,
    format_coverage,
    measured_modules,
    require_coverage,
)
from ._report import SuiteResult, format_matrix, load_report
from ._targets import BUILTIN_TARGETS, ConformanceTarget, TargetError, resolve_target

_TEST_MODULE = """\
# Written by butler-testkit check: the suite against one target.
from butler_testkit.conformance import conformance_class, resolve_target

TestConformance = conformance_class(resolve_target({spec!r}))
"""

# A bare configuration, so that the project check is run from cannot change
# what the suite does (its addopts, markers, plugins or conftest files).
_PYTEST_INI = """\
[pytest]
xfail_strict = true
"""

# Variables that would change the run from outside.
_CLEARED_ENVIRONMENT = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")


@dataclasses.dataclass
class CheckResult:
    """What ``butler-testkit check`` found.

    Attributes
    ----------
    suites : `list` [`SuiteResult`]
        The results of every target that ran, named after the target.
    errors : `dict` [`str`, `str`]
        Targets whose run did not produce a report, with pytest's last words.
    coverage : `list` [`TargetCoverage`]
        What each target's run executed of its datastore's source, when
        coverage was asked for.
    """

    suites: list[SuiteResult]
    errors: dict[str, str]
    coverage: list[TargetCoverage] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every target ran and none has an unexplained failure."""
        return not self.errors and all(suite.ok for suite in self.suites)


def _spec_for_subprocess(spec: str) -> str:
    # The run happens in a temporary directory: a relative file path must
    # still point at the user's file.
    path = Path(spec)
    if spec not in BUILTIN_TARGETS and path.is_file():
        return str(path.resolve())
    return spec


def _run_target(
    spec: str,
    target: ConformanceTarget,
    directory: Path,
    *,
    workers: str | None,
    keyword: str | None,
    seed: int | None,
    verbose: bool,
    coverage_modules: dict[str, str] | None = None,
) -> tuple[SuiteResult | None, str]:
    test_file = directory / "test_conformance.py"
    test_file.write_text(_TEST_MODULE.format(spec=_spec_for_subprocess(spec)))
    ini = directory / "pytest.ini"
    ini.write_text(_PYTEST_INI)
    report = directory / "report"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(test_file),
        "-c",
        str(ini),
        "--rootdir",
        str(directory),
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "-r",
        "N",
        f"--butler-conformance-report={report}",
        # Inside the run's directory, so that every datastore's files go
        # with it rather than piling up under the system's pytest-of-$USER.
        f"--basetemp={directory / 'tmp'}",
    ]
    if workers is not None:
        command += ["-n", workers]
    if keyword is not None:
        command += ["-k", keyword]
    if seed is not None:
        command.append(f"--butler-seed={seed}")
    environment = {key: value for key, value in os.environ.items() if key not in _CLEARED_ENVIRONMENT}
    if coverage_modules is not None:
        command += COVERAGE_PLUGIN_ARGUMENTS
        environment.update(coverage_environment(coverage_modules, directory))
    # Class paths are imported from the directory check runs in, as pytest would.
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), environment.get("PYTHONPATH")]))
    completed = subprocess.run(
        command,
        capture_output=not verbose,
        text=True,
        env=environment,
        check=False,
    )
    output = (completed.stdout or "") + (completed.stderr or "")
    json_report = report.with_suffix(".json")
    if completed.returncode not in (0, 1) or not json_report.is_file():
        tail = "\n".join(output.strip().splitlines()[-15:])
        return None, f"pytest exited with status {completed.returncode}:\n{tail}"
    suites = load_report(json_report)
    if len(suites) != 1:
        return None, f"expected the results of one suite, found {len(suites)}"
    suite = suites[0]
    suite.name = target.name
    return suite, output


def run_check(
    specs: Sequence[str],
    *,
    workers: str | None = None,
    keyword: str | None = None,
    seed: int | None = None,
    verbose: bool = False,
    progress: Callable[[str], None] | None = None,
    coverage: bool = False,
    coverage_html: Path | None = None,
) -> CheckResult:
    """Run the conformance suite against each target, each in its own pytest process.

    Parameters
    ----------
    specs : `~collections.abc.Sequence` [`str`]
        Targets: built-in names, configuration files or class paths (see
        `resolve_target`).
    workers : `str`, optional
        pytest-xdist's ``-n`` for each run (a number or ``auto``).
    keyword : `str`, optional
        pytest's ``-k`` expression, to run part of the suite.
    seed : `int`, optional
        ``--butler-seed`` of each run.
    verbose : `bool`, optional
        Show pytest's own output instead of capturing it.
    progress : `~collections.abc.Callable`, optional
        Called with a line before each target runs.
    coverage : `bool`, optional
        Measure, with coverage.py, which lines and branches of each
        target's datastore modules the suite executed.
    coverage_html : `pathlib.Path`, optional
        Also write an HTML coverage report per target under this directory
        (implies ``coverage``).

    Returns
    -------
    result : `CheckResult`
        One suite result per target that ran, and the targets that could
        not run.

    Raises
    ------
    TargetError
        Raised, before anything runs, if a target cannot be resolved.
    CoverageUnavailableError
        Raised, before anything runs, if coverage is asked for without
        coverage.py installed.
    """
    coverage = coverage or coverage_html is not None
    if coverage:
        require_coverage()
    targets = [(spec, resolve_target(spec)) for spec in specs]
    names = [target.name for _, target in targets]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise TargetError(f"Targets given twice: {', '.join(duplicates)}.")
    modules = {target.name: measured_modules(target) for _, target in targets} if coverage else {}
    suites: list[SuiteResult] = []
    errors: dict[str, str] = {}
    coverages: list[TargetCoverage] = []
    for spec, target in targets:
        if progress is not None:
            progress(f"checking {target.name}: {target.description}")
        with tempfile.TemporaryDirectory(prefix="butler-testkit-check-") as directory:
            suite, message = _run_target(
                spec,
                target,
                Path(directory),
                workers=workers,
                keyword=keyword,
                seed=seed,
                verbose=verbose,
                coverage_modules=modules.get(target.name),
            )
            if suite is not None and coverage:
                coverages.append(
                    collect_coverage(target.name, modules[target.name], Path(directory), coverage_html)
                )
        if suite is None:
            errors[target.name] = message
        else:
            suites.append(suite)
    return CheckResult(suites, errors, coverages)


def format_check(result: CheckResult) -> str:
    """Format the outcome of a check: one matrix with a column per target, then the verdict.

    Parameters
    ----------
    result : `CheckResult`
        What `run_check` returned.

    Returns
    -------
    text : `str`
        The matrix, what explains each skip and expected failure, every
        unexplained failure, and a last line saying whether all conform.
    """
    lines = format_matrix(result.suites) if result.suites else []
    for name, message in result.errors.items():
        lines += ["", f"{name}: DID NOT RUN", *(f"  {line}" for line in message.splitlines())]
    lines += format_coverage(result.coverage)
    failing = [suite.name for suite in result.suites if not suite.ok] + list(result.errors)
    lines.append("")
    if failing:
        lines.append(f"butler-testkit check: FAILED: {', '.join(failing)} (unexplained failures above)")
    else:
        names = ", ".join(suite.name for suite in result.suites)
        verb = "conforms" if len(result.suites) == 1 else "conform"
        lines.append(f"butler-testkit check: OK: {names} {verb} (every skip and divergence is explained)")
    return "\n".join(lines)
