"""``butler-testkit check --coverage``: which lines and branches of a datastore's own source the suite ran.

The source measured is the module defining the target's datastore class and,
for a chain (a configuration with ``datastores``), the modules of its
children's classes. The pytest run of each target loads a coverage plugin
(in every pytest-xdist worker too); the parent combines what they wrote and
tabulates it per function, from coverage.py's JSON report.
"""

from __future__ import annotations

__all__ = (
    "COVERAGE_EXTRA",
    "CoverageUnavailableError",
    "FunctionCoverage",
    "ModuleCoverage",
    "TargetCoverage",
    "collect_coverage",
    "coverage_environment",
    "format_coverage",
    "measured_modules",
    "require_coverage",
    "target_datastore_class",
)

import dataclasses
import importlib
import inspect
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._pytest_coverage import DATA_VARIABLE, INCLUDE_VARIABLE
from ._targets import ConformanceTarget, TargetError, resolve_target

COVERAGE_EXTRA = "coverage"
"""The optional extra that installs coverage.py: ``pip install 'butler-testkit[coverage]'``."""

COVERAGE_PLUGIN_ARGUMENTS = ("-p", "butler_testkit._pytest_coverage")
"""What a pytest command needs to load the measuring plugin."""

_DATA_NAME = ".coverage"


class CoverageUnavailableError(RuntimeError):
    """Coverage was asked for, but coverage.py is not installed."""


def require_coverage() -> None:
    """Check that coverage.py can be imported.

    Raises
    ------
    CoverageUnavailableError
        Raised if it cannot, naming the extra that installs it.
    """
    try:
        import coverage  # noqa: F401
    except ImportError as err:
        raise CoverageUnavailableError(
            f"--coverage needs coverage.py, which is not installed: install butler-testkit's "
            f"'{COVERAGE_EXTRA}' extra (pip install 'butler-testkit[{COVERAGE_EXTRA}]')."
        ) from err


@dataclasses.dataclass(frozen=True)
class FunctionCoverage:
    """What the suite executed of one function or method.

    Attributes
    ----------
    name : `str`
        Qualified name in its module (``Class.method``; nested functions
        are listed on their own).
    start_line : `int`
        Line of its ``def``.
    statements : `int`
        Statements of its body.
    missed_statements : `list` [`int`]
        Lines of the statements never executed.
    branches : `int`
        Branch destinations of its body (two per ``if``).
    missed_branches : `list` [`tuple` [`int`, `int`]]
        Branches never taken, as (from line, to line); a negative
        destination is an exit from the function.
    """

    name: str
    start_line: int
    statements: int
    missed_statements: list[int]
    branches: int
    missed_branches: list[tuple[int, int]]

    @property
    def percent(self) -> float:
        """Covered statements and branches over all of them, as coverage.py reports it."""
        total = self.statements + self.branches
        missed = len(self.missed_statements) + len(self.missed_branches)
        return 100.0 * (total - missed) / total if total else 100.0

    def missed(self) -> str:
        """Describe what was missed: line ranges, then branches not taken (``12->14``, ``20->exit``)."""
        parts = _ranges(self.missed_statements)
        missed_lines = set(self.missed_statements)
        # A branch from a line never executed is already said by the line.
        parts += [
            f"{start}->{'exit' if end < 0 else end}"
            for start, end in self.missed_branches
            if start not in missed_lines
        ]
        return ", ".join(parts)


@dataclasses.dataclass(frozen=True)
class ModuleCoverage:
    """What the suite executed of one module.

    Attributes
    ----------
    module : `str`
        The module's name.
    path : `str`
        Its source file.
    statements, missed_statements, branches, missed_branches : `int`
        Totals of the whole module, import-time lines included.
    functions : `list` [`FunctionCoverage`]
        Every function and method, in source order.
    """

    module: str
    path: str
    statements: int
    missed_statements: int
    branches: int
    missed_branches: int
    functions: list[FunctionCoverage]

    @property
    def percent(self) -> float:
        """Covered statements and branches over all of them."""
        total = self.statements + self.branches
        missed = self.missed_statements + self.missed_branches
        return 100.0 * (total - missed) / total if total else 100.0


@dataclasses.dataclass(frozen=True)
class TargetCoverage:
    """The coverage of one target's datastore modules.

    Attributes
    ----------
    target : `str`
        The target's name.
    modules : `list` [`ModuleCoverage`]
        One per measured module.
    html : `pathlib.Path` or `None`
        Directory of the HTML report, if one was written.
    """

    target: str
    modules: list[ModuleCoverage]
    html: Path | None = None


def _classes_of(config: Mapping[str, Any]) -> Iterator[str]:
    cls = config.get("cls")
    if isinstance(cls, str):
        yield cls
    children = config.get("datastores")
    if isinstance(children, Sequence) and not isinstance(children, str):
        for child in children:
            if isinstance(child, Mapping):
                yield from _classes_of(child)


def _target_config(target: ConformanceTarget) -> dict[str, Any]:
    # The classes do not depend on the root the placeholder stands for.
    return dict(target.config)


def target_datastore_class(spec: str) -> str:
    """Return the datastore class a target builds, as its configuration names it.

    Parameters
    ----------
    spec : `str`
        A target, as ``butler-testkit check`` takes it.

    Returns
    -------
    class_path : `str`
        The ``cls`` of its configuration.

    Raises
    ------
    TargetError
        Raised if the target cannot be resolved, or is a chain (whose
        datastore is several classes).
    """
    config = _target_config(resolve_target(spec))
    if "datastores" in config:
        raise TargetError(
            f"Target {spec!r} chains several datastores ({', '.join(_classes_of(config))}); say which "
            "class to mutate."
        )
    return str(config["cls"])


def measured_modules(target: ConformanceTarget) -> dict[str, str]:
    """Return the modules whose coverage a target's run measures.

    Parameters
    ----------
    target : `ConformanceTarget`
        The target.

    Returns
    -------
    modules : `dict` [`str`, `str`]
        Source file by module name: the module defining the datastore class
        and, for a chain, those defining its children's classes.

    Raises
    ------
    TargetError
        Raised if a class cannot be imported or has no Python source.
    """
    modules: dict[str, str] = {}
    for path in _classes_of(_target_config(target)):
        module_name, _, class_name = path.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            source = inspect.getsourcefile(cls)
        except (ImportError, AttributeError, TypeError) as err:
            raise TargetError(f"Cannot find the source of datastore class {path!r}: {err}") from err
        if source is None:
            raise TargetError(f"Datastore class {path!r} has no Python source to measure.")
        modules.setdefault(cls.__module__, str(Path(source).resolve()))
    return modules


def coverage_environment(modules: Mapping[str, str], directory: Path) -> dict[str, str]:
    """Return the environment variables that make a pytest run measure these modules.

    Parameters
    ----------
    modules : `~collections.abc.Mapping` [`str`, `str`]
        Source files by module name (`measured_modules`).
    directory : `pathlib.Path`
        Directory of the run, where the data files go.

    Returns
    -------
    environment : `dict` [`str`, `str`]
        To add to the run's environment; the command also needs
        `COVERAGE_PLUGIN_ARGUMENTS`.
    """
    import os

    return {
        DATA_VARIABLE: str(directory / _DATA_NAME),
        INCLUDE_VARIABLE: os.pathsep.join(modules.values()),
    }


def collect_coverage(
    target: str, modules: Mapping[str, str], directory: Path, html_directory: Path | None = None
) -> TargetCoverage:
    """Combine what a run measured and tabulate it per function.

    Parameters
    ----------
    target : `str`
        The target's name.
    modules : `~collections.abc.Mapping` [`str`, `str`]
        Source files by module name (`measured_modules`).
    directory : `pathlib.Path`
        Directory of the run, holding the data of every process.
    html_directory : `pathlib.Path`, optional
        Write an HTML report of the modules there (in a subdirectory named
        after the target).

    Returns
    -------
    coverage : `TargetCoverage`
        Per module and per function; a module the run never imported has
        every line missed.
    """
    import coverage

    measurement = coverage.Coverage(
        data_file=str(directory / _DATA_NAME), branch=True, include=list(modules.values()), config_file=False
    )
    measurement.combine([str(directory)], keep=False)
    json_path = directory / "coverage.json"
    try:
        measurement.json_report(morfs=list(modules.values()), outfile=str(json_path), ignore_errors=True)
    except coverage.exceptions.NoDataError:
        # Nothing measured at all: every module is reported as never imported.
        return TargetCoverage(target, [_module_coverage(name, path, None) for name, path in modules.items()])
    files = json.loads(json_path.read_text())["files"]
    by_path = {str(Path(path).resolve()): data for path, data in files.items()}
    html = None
    if html_directory is not None:
        html = html_directory / target
        measurement.html_report(
            morfs=list(modules.values()), directory=str(html), title=f"butler-testkit check: {target}"
        )
    return TargetCoverage(
        target,
        [_module_coverage(name, path, by_path.get(path)) for name, path in modules.items()],
        html,
    )


def _module_coverage(module: str, path: str, data: Mapping[str, Any] | None) -> ModuleCoverage:
    if data is None:
        return ModuleCoverage(module, path, 0, 0, 0, 0, [])
    summary = data["summary"]
    functions = [
        _function_coverage(name, function)
        for name, function in data.get("functions", {}).items()
        if name  # "" is the module's own top level
    ]
    functions.sort(key=lambda function: function.start_line)
    return ModuleCoverage(
        module,
        path,
        summary["num_statements"],
        summary["missing_lines"],
        summary.get("num_branches", 0),
        summary.get("missing_branches", 0),
        functions,
    )


def _function_coverage(name: str, data: Mapping[str, Any]) -> FunctionCoverage:
    summary = data["summary"]
    return FunctionCoverage(
        name,
        int(data.get("start_line", 0)),
        summary["num_statements"],
        sorted(data["missing_lines"]),
        summary.get("num_branches", 0),
        sorted((int(start), int(end)) for start, end in data.get("missing_branches", [])),
    )


def _ranges(lines: Iterable[int]) -> list[str]:
    ranges: list[str] = []
    ordered = sorted(lines)
    start = previous = None
    for line in [*ordered, None]:
        if line is not None and previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None:
            ranges.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = line
    return ranges


def format_coverage(coverages: Sequence[TargetCoverage]) -> list[str]:
    """Tabulate the coverage of every target, one table per measured module.

    Parameters
    ----------
    coverages : `~collections.abc.Sequence` [`TargetCoverage`]
        What `collect_coverage` returned for each target.

    Returns
    -------
    lines : `list` [`str`]
        For each module: a line of totals, then a row per function with
        its statements, missed statements, branches, missed branches,
        percentage and what was missed.
    """
    lines: list[str] = []
    for target in coverages:
        for module in target.modules:
            lines += [
                "",
                f"coverage of {target.target}: {module.module} ({module.path})",
                f"  {module.statements} statements, {module.missed_statements} missed; "
                f"{module.branches} branches, {module.missed_branches} missed: {module.percent:.1f}%",
            ]
            if not module.functions:
                lines.append("  never imported by the run")
                continue
            width = max(len("function"), *(len(function.name) for function in module.functions))
            header = f"  {'function':<{width}} | stmts | miss | branches | miss | cover | missed"
            lines += [header, "  " + "-" * (len(header) - 2)]
            for function in module.functions:
                missed_branches = len(function.missed_branches)
                lines.append(
                    f"  {function.name:<{width}} | {function.statements:>5} | "
                    f"{len(function.missed_statements):>4} | {function.branches:>8} | "
                    f"{missed_branches:>4} | {function.percent:>4.0f}% | {function.missed()}".rstrip()
                )
        if target.html is not None:
            lines.append(f"  HTML report of {target.target}: {target.html / 'index.html'}")
    return lines
