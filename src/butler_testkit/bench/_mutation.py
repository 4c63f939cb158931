"""Mutation strength: how many plausible bugs of a datastore class a test suite notices.

Every mutant (see `butler_testkit.bench._mutants`) is run in a process of its own,
with the mutated module loaded from memory under the original module's name:
no installed file is ever written. A first run of the unmutated suite, with
coverage.py recording which test executed which line, tells each mutant which
tests can see it; only those run (a test that never executes the changed line
behaves exactly as on the original), and a mutant that no test executes
survives without a run. A mutant is *killed* when its run fails, errors or
times out, and *survives* when it passes; mutants listed as equivalent (they
change no behaviour any caller can see) are counted apart, with a reason each.

Several suites can judge one run, in order (the conformance suite, then a
project's own tests): a mutant goes to the next suite only if the ones before
let it survive, and the report says which suite killed what.
"""

from __future__ import annotations

__all__ = (
    "DEFAULT_EQUIVALENTS",
    "STATUSES",
    "EquivalentMutant",
    "MutantResult",
    "MutationReport",
    "MutationRunError",
    "TestCommand",
    "conformance_command",
    "external_command",
    "format_mutation_report",
    "load_equivalents",
    "run_mutation",
)

import collections
import concurrent.futures
import dataclasses
import random
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ._mutants import Mutant, generate_mutants
from ._mutation_runner import SITECUSTOMIZE, Judge, MutationRunError, TestCommand, stop_everything

DEFAULT_EQUIVALENTS = "equivalent_mutants.yaml"
"""Name of the checked-in list of equivalent mutants, next to this module."""

KILLED = "killed"
TIMEOUT = "timeout"
SURVIVED = "survived"
UNCOVERED = "uncovered"
EQUIVALENT = "equivalent"
INVALID = "invalid"
STATUSES = (KILLED, TIMEOUT, SURVIVED, UNCOVERED, EQUIVALENT, INVALID)
"""What became of a mutant: killed by a failing test, killed by running out
of time, survived a run, survived because no test executes it, listed as
equivalent, or does not compile (left out of every rate)."""

_CONFORMANCE_MODULE = """\
# Written by butler-testkit bench --suite mutation: the conformance suite against one target.
from butler_testkit.conformance import conformance_class, resolve_target

TestConformance = conformance_class(resolve_target({spec!r}))
"""

_CONFORMANCE_INI = "[pytest]\nxfail_strict = true\n"


def conformance_command(target: str, directory: Path) -> TestCommand:
    """Return the command running the conformance suite against a ``butler-testkit check`` target.

    Parameters
    ----------
    target : `str`
        A target as ``butler-testkit check`` takes it (a built-in name, a
        configuration file or a class path).
    directory : `pathlib.Path`
        An empty directory for the test module and its configuration; it
        must outlive the runs.

    Returns
    -------
    command : `TestCommand`
        pytest on a module holding the suite's class for the target, with a
        bare configuration and no conftest files.
    """
    path = Path(target)
    if path.suffix in {".yaml", ".yml", ".json"} or path.is_file():
        target = str(path.resolve())
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "test_conformance.py").write_text(_CONFORMANCE_MODULE.format(spec=target))
    (directory / "pytest.ini").write_text(_CONFORMANCE_INI)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "test_conformance.py",
        "-c",
        "pytest.ini",
        "--rootdir",
        ".",
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
    ]
    return TestCommand(f"the conformance suite against {target}", argv, directory)


def external_command(command: str, cwd: Path) -> TestCommand:
    """Return a pytest command of another test suite, to run against the mutants.

    Parameters
    ----------
    command : `str`
        A shell-like command line running pytest (``python -m pytest tests/x.py
        -k Case``); a leading ``python`` means this interpreter, which must be
        able to import butler-testkit.
    cwd : `pathlib.Path`
        The directory it runs in.

    Returns
    -------
    command : `TestCommand`
        The command, labelled with its text.

    Raises
    ------
    MutationRunError
        Raised if the command is empty or the directory does not exist.
    """
    argv = shlex.split(command)
    if not argv:
        raise MutationRunError("The test command is empty.")
    if not cwd.is_dir():
        raise MutationRunError(f"The test command's directory {str(cwd)!r} does not exist.")
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return TestCommand(command, argv, cwd.resolve())


@dataclasses.dataclass(frozen=True)
class EquivalentMutant:
    """A mutant that changes no behaviour a caller can see, and why.

    Attributes
    ----------
    key : `str`
        The mutant's key (`butler_testkit.bench._mutants.Mutant.key`).
    reason : `str`
        One line saying why no test can tell it from the original.
    class_path : `str` or `None`
        The class mutated, ``module.Class`` of its defining module; a run
        reports an entry of its class that it no longer generates.
    """

    key: str
    reason: str
    class_path: str | None = None


def load_equivalents(path: Path | None = None) -> dict[str, EquivalentMutant]:
    """Read a list of equivalent mutants.

    Parameters
    ----------
    path : `pathlib.Path`, optional
        A YAML list of entries with ``key``, ``reason`` and optionally
        ``class`` (``line`` and ``change`` are for readers); the checked-in
        list by default.

    Returns
    -------
    equivalents : `dict` [`str`, `EquivalentMutant`]
        By key.

    Raises
    ------
    MutationRunError
        Raised if the file is not such a list, or a reason is missing or
        spans lines.
    """
    import yaml  # type: ignore[import-untyped]

    if path is None:
        text = resources.files(__package__ or "butler_testkit").joinpath(DEFAULT_EQUIVALENTS).read_text()
        where = DEFAULT_EQUIVALENTS
    else:
        text = path.read_text()
        where = str(path)
    entries = yaml.safe_load(text) or []
    if not isinstance(entries, list):
        raise MutationRunError(f"{where} must hold a list of equivalent mutants.")
    equivalents: dict[str, EquivalentMutant] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            raise MutationRunError(f"Every entry of {where} needs a 'key'; got {entry!r}.")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip() or "\n" in reason.strip():
            raise MutationRunError(f"Equivalent mutant {entry['key']} in {where} needs a one-line reason.")
        class_path = entry.get("class")
        if class_path is not None and not isinstance(class_path, str):
            raise MutationRunError(f"Equivalent mutant {entry['key']} in {where}: 'class' must be a string.")
        equivalents[entry["key"]] = EquivalentMutant(entry["key"], reason.strip(), class_path)
    return equivalents


@dataclasses.dataclass
@dataclasses.dataclass
class MutantResult:
    """What became of one mutant.

    Attributes
    ----------
    mutant : `butler_testkit.bench._mutants.Mutant`
        The mutant.
    status : `str`
        One of `STATUSES`.
    judge : `int` or `None`
        Index of the suite that killed it (or of the last that ran it).
    tests : `int`
        How many tests ran against it, in all suites (those that execute
        the changed statement).
    seconds : `float`
        Wall time of its runs.
    detail : `str`
        The tail of the run's output when it did not pass, the reason of
        an equivalent mutant, or the compiler's complaint.
    """

    mutant: Mutant
    status: str
    judge: int | None = None
    tests: int = 0
    seconds: float = 0.0
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values (without the mutated source)."""
        mutant = self.mutant
        return {
            "key": mutant.key,
            "class": f"{mutant.module}.{mutant.class_name}",
            "method": mutant.method,
            "operator": mutant.operator,
            "line": mutant.line,
            "original": mutant.original,
            "mutated": mutant.mutated,
            "status": self.status,
            "judge": self.judge,
            "tests": self.tests,
            "seconds": round(self.seconds, 2),
        }


@dataclasses.dataclass
class MutationReport:
    """The outcome of a mutation run.

    Attributes
    ----------
    class_path : `str`
        The class mutated (its defining module and name).
    suites : `list` [`str`]
        The judging suites' labels, in the order they ran.
    generated : `int`
        Mutants of the class in all.
    results : `list` [`MutantResult`]
        The mutants run (all of them, or the sample), in source order.
    sample_seed : `int` or `None`
        Seed of the sample, if it is one.
    baseline_seconds : `list` [`float`]
        Wall time of each unmutated suite, measured with coverage.
    seconds : `float`
        Wall time of the whole run.
    stale_equivalents : `list` [`str`]
        Listed equivalent mutants of this class that it no longer has
        (their code changed).
    wrongly_equivalent : `list` [`str`]
        Listed equivalent mutants that a test killed: the listing is wrong.
    """

    class_path: str
    suites: list[str]
    generated: int
    results: list[MutantResult]
    sample_seed: int | None
    baseline_seconds: list[float]
    seconds: float
    stale_equivalents: list[str] = dataclasses.field(default_factory=list)
    wrongly_equivalent: list[str] = dataclasses.field(default_factory=list)

    def count(self, *statuses: str) -> int:
        """Count the results with any of these statuses.

        Parameters
        ----------
        *statuses : `str`
            Statuses (see `STATUSES`).

        Returns
        -------
        count : `int`
            How many.
        """
        return sum(1 for result in self.results if result.status in statuses)

    @property
    def valid(self) -> int:
        """Mutants that compile: the denominator of the overall kill rate."""
        return len(self.results) - self.count(INVALID)

    @property
    def relevant(self) -> int:
        """Valid mutants that are not equivalent."""
        return self.valid - self.count(EQUIVALENT)

    @property
    def killed(self) -> int:
        """Mutants killed by a failure or a timeout."""
        return self.count(KILLED, TIMEOUT)

    def killed_by(self, judge: int) -> int:
        """Count the mutants one suite killed (the suites before it let them survive).

        Parameters
        ----------
        judge : `int`
            Index of the suite in `suites`.

        Returns
        -------
        count : `int`
            How many.
        """
        return sum(1 for r in self.results if r.status in (KILLED, TIMEOUT) and r.judge == judge)

    @property
    def kill_rate(self) -> float:
        """Killed over every valid mutant."""
        return self.killed / self.valid if self.valid else 0.0

    @property
    def strength(self) -> float:
        """Killed over the valid mutants that are not equivalent."""
        return self.killed / self.relevant if self.relevant else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "class": self.class_path,
            "suites": self.suites,
            "generated": self.generated,
            "sample_seed": self.sample_seed,
            "baseline_seconds": [round(seconds, 1) for seconds in self.baseline_seconds],
            "seconds": round(self.seconds, 1),
            "counts": {status: self.count(status) for status in STATUSES},
            "killed_by": [self.killed_by(judge) for judge in range(len(self.suites))],
            "kill_rate": round(self.kill_rate, 4),
            "strength": round(self.strength, 4),
            "stale_equivalents": self.stale_equivalents,
            "wrongly_equivalent": self.wrongly_equivalent,
            "results": [result.to_dict() for result in self.results],
        }


def run_mutation(
    class_path: str,
    commands: TestCommand | Sequence[TestCommand],
    *,
    sample: int | None = None,
    seed: int = 0,
    keys: Collection[str] | None = None,
    jobs: int = 1,
    timeout: float | None = None,
    equivalents: Mapping[str, EquivalentMutant] | None = None,
    progress: Callable[[str], None] | None = None,
    preload: Sequence[str] | None = None,
) -> MutationReport:
    """Run test suites against mutants of a class.

    Parameters
    ----------
    class_path : `str`
        The class to mutate, ``package.module.Class``.
    commands : `TestCommand` or `~collections.abc.Sequence` [`TestCommand`]
        The pytest commands running the suites, in order: a mutant goes to
        the next suite only if it survives this one.
    sample : `int`, optional
        Run a seeded random sample of this many mutants instead of all.
    seed : `int`, optional
        Seed of the sample.
    keys : `~collections.abc.Collection` [`str`], optional
        Run only the mutants with these keys (after sampling), e.g. the
        survivors of an earlier run.
    jobs : `int`, optional
        Mutants run at once, each in its own ``nice``'d process.
    timeout : `float`, optional
        Seconds a mutant's run may take before it is stopped (and counted
        as killed); three times the suite's unmutated run, at least a
        minute, by default.
    equivalents : `~collections.abc.Mapping` [`str`, `EquivalentMutant`], optional
        Mutants known to be equivalent, by key; the checked-in list by
        default.
    progress : `~collections.abc.Callable`, optional
        Called with a line as the run advances.
    preload : `~collections.abc.Sequence` [`str`], optional
        Modules the fork servers import once for every mutant's run (none
        may import the mutated module); daf_butler, pytest, numpy, Faker,
        Hypothesis and the conformance suite by default.

    Returns
    -------
    report : `MutationReport`
        Every mutant's fate.

    Raises
    ------
    MutationRunError
        Raised if an unmutated suite fails or never runs the module.
    butler_testkit.bench._mutants.MutationSourceError
        Raised if the class cannot be found.
    ValueError
        Raised for no command, fewer than one job, or an empty sample.
    """
    commands = [commands] if isinstance(commands, TestCommand) else list(commands)
    if not commands:
        raise ValueError("run_mutation needs at least one test command.")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}.")
    if sample is not None and sample < 1:
        raise ValueError(f"sample must be at least 1, not {sample}.")
    started = time.monotonic()
    say = progress or (lambda line: None)
    everything = generate_mutants(class_path)
    if not everything:
        raise MutationRunError(f"{class_path} has no method body to mutate.")
    module, class_name = everything[0].module, everything[0].class_name
    chosen = everything
    if sample is not None and sample < len(everything):
        picked = set(random.Random(seed).sample(range(len(everything)), sample))
        chosen = [mutant for index, mutant in enumerate(everything) if index in picked]
    if keys is not None:
        wanted = set(keys)
        chosen = [mutant for mutant in chosen if mutant.key in wanted]
        if not chosen:
            raise MutationRunError(
                f"None of the {len(wanted)} mutant keys given is a mutant of {class_path}."
            )
    known = load_equivalents() if equivalents is None else dict(equivalents)
    source_file = _module_file(module)
    with tempfile.TemporaryDirectory(prefix="butler-testkit-mutation-") as scratch:
        workspace = Path(scratch)
        hook_directory = workspace / "hook"
        hook_directory.mkdir()
        (hook_directory / "sitecustomize.py").write_text(SITECUSTOMIZE)
        judges = [
            Judge(command, workspace / f"suite-{index}", hook_directory, preload)
            for index, command in enumerate(commands)
        ]
        say(f"{len(chosen)} of {len(everything)} mutants of {module}.{class_name}")
        limits = []
        for judge in judges:
            say(f"unmutated: {judge.command.label}")
            judge.baseline(source_file)
            limits.append(timeout if timeout is not None else max(60.0, 3 * judge.seconds))
            say(f"  passes in {judge.seconds:.1f} s (with coverage); timeout {limits[-1]:.0f} s")
        results = _run_all(chosen, judges, limits, known, jobs=jobs, say=say)
    generated_keys = {mutant.key for mutant in everything}
    return MutationReport(
        class_path=f"{module}.{class_name}",
        suites=[command.label for command in commands],
        generated=len(everything),
        results=results,
        sample_seed=seed if sample is not None and sample < len(everything) else None,
        baseline_seconds=[judge.seconds for judge in judges],
        seconds=time.monotonic() - started,
        stale_equivalents=sorted(
            key
            for key, entry in known.items()
            if entry.class_path == f"{module}.{class_name}" and key not in generated_keys
        ),
        wrongly_equivalent=sorted(
            result.mutant.key
            for result in results
            if result.mutant.key in known and result.status in (KILLED, TIMEOUT)
        ),
    )


def _module_file(module: str) -> str:
    from ._mutants import _module_file as locate

    path = locate(module)
    if path is None:
        raise MutationRunError(f"Cannot locate the source file of {module}.")
    return path


def _run_all(
    mutants: Sequence[Mutant],
    judges: Sequence[Judge],
    limits: Sequence[float],
    equivalents: Mapping[str, EquivalentMutant],
    *,
    jobs: int,
    say: Callable[[str], None],
) -> list[MutantResult]:
    results: dict[int, MutantResult] = {}
    for judge in judges:
        judge.start(mutants[0].module, say)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(_judge, mutant, judges, limits, equivalents.get(mutant.key)): index
                for index, mutant in enumerate(mutants)
            }
            try:
                for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                    result = future.result()
                    results[futures[future]] = result
                    if result.status not in (UNCOVERED, INVALID):
                        say(f"[{done}/{len(mutants)}] {result.status:<9} {result.mutant.label}")
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                stop_everything(judges)
                raise
    finally:
        for judge in judges:
            judge.close()
    return [results[index] for index in range(len(mutants))]


def _judge(
    mutant: Mutant, judges: Sequence[Judge], limits: Sequence[float], equivalent: EquivalentMutant | None
) -> MutantResult:
    problem = mutant.check_syntax()
    if problem is not None:
        return MutantResult(mutant, INVALID, detail=problem)
    ran = 0
    seconds = 0.0
    last: int | None = None
    for index, (judge, limit) in enumerate(zip(judges, limits, strict=True)):
        tests = judge.tests_for(mutant)
        if not tests:
            continue
        outcome = judge.judge(mutant, tests, limit)
        ran += outcome.tests
        seconds += outcome.seconds
        last = index
        if outcome.status is None:
            return MutantResult(mutant, TIMEOUT, index, ran, seconds, f"stopped after {limit:.0f} s")
        if outcome.status != 0:
            # Failures (1), collection errors (2) or an internal error (3):
            # the mutant broke something a test relies on.
            return MutantResult(mutant, KILLED, index, ran, seconds, outcome.output)
    if equivalent is not None:
        return MutantResult(mutant, EQUIVALENT, last, ran, seconds, equivalent.reason)
    if last is None:
        return MutantResult(mutant, UNCOVERED, detail="no test executes this statement")
    return MutantResult(mutant, SURVIVED, last, ran, seconds)


def format_mutation_report(report: MutationReport, *, details: bool = False) -> str:
    """Format a mutation run: the rates, what each suite killed, survivors by method, and every survivor.

    Parameters
    ----------
    report : `MutationReport`
        The run.
    details : `bool`, optional
        Also list every killed mutant with the test output that killed it.

    Returns
    -------
    text : `str`
        Lines for a terminal (and for Markdown, where they sit in a code
        block).
    """
    valid = report.valid
    sampled = (
        f" (a sample, seed {report.sample_seed}, of {report.generated})"
        if report.sample_seed is not None
        else f" (of {report.generated})"
        if len(report.results) < report.generated
        else " (all)"
    )
    lines = [f"mutation strength of {report.class_path}", f"  mutants: {len(report.results)}{sampled}"]
    for index, suite in enumerate(report.suites):
        then = "judged by" if index == 0 else "then, for the survivors,"
        lines.append(
            f"  {then} {suite}: killed {report.killed_by(index)} "
            f"(unmutated run with coverage: {report.baseline_seconds[index]:.1f} s)"
        )
    lines += [
        "  " + ", ".join(f"{status} {report.count(status)}" for status in STATUSES if report.count(status)),
        f"  killed: {report.killed}/{valid} = {report.kill_rate:.1%} of all mutants; "
        f"{report.strength:.1%} of the {report.relevant} not equivalent",
    ]
    if len(report.suites) > 1 and report.relevant:
        first = report.killed_by(0)
        lines.append(f"  by the first suite alone: {first}/{report.relevant} = {first / report.relevant:.1%}")
    lines.append(f"  time: {report.seconds:.0f} s")
    by_method: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for result in report.results:
        by_method[result.mutant.method][result.status] += 1
    if by_method:
        width = max(len("method"), *(len(name) for name in by_method))
        lines += ["", f"  {'method':<{width}}  mutants  killed  survived  uncovered  equivalent"]
        for method, counts in by_method.items():
            lines.append(
                f"  {method:<{width}}  {sum(counts.values()):>7}  {counts[KILLED] + counts[TIMEOUT]:>6}  "
                f"{counts[SURVIVED]:>8}  {counts[UNCOVERED]:>9}  {counts[EQUIVALENT]:>10}"
            )
    survivors = [result for result in report.results if result.status in (SURVIVED, UNCOVERED)]
    if survivors:
        lines += ["", "  survivors:"]
        lines += [
            f"    {result.status:<9} {mutant.label}: {mutant.original} -> {mutant.mutated}"
            for result in survivors
            for mutant in [result.mutant]
        ]
    if report.wrongly_equivalent:
        lines += ["", "  listed as equivalent, yet killed (remove them from the list):"]
        lines += [f"    {key}" for key in report.wrongly_equivalent]
    if report.stale_equivalents:
        lines += ["", "  listed as equivalent, no longer generated (their code changed):"]
        lines += [f"    {key}" for key in report.stale_equivalents]
    invalid = [result for result in report.results if result.status == INVALID]
    if invalid:
        lines += ["", "  invalid (do not compile, left out):"]
        lines += [f"    {result.mutant.label}: {result.detail}" for result in invalid]
    if details:
        for result in report.results:
            if result.status in (KILLED, TIMEOUT):
                lines += [
                    "",
                    f"  {result.status} {result.mutant.label} by {report.suites[result.judge or 0]}:",
                ]
                lines += [f"    {line}" for line in result.detail.splitlines()]
    return "\n".join(lines)
