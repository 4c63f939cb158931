"""Mutation strength: how many plausible bugs of a datastore class a test suite notices.

Every mutant (see `butler_testkit._mutants`) is run in a process of its own,
with the mutated module loaded from memory under the original module's name:
no installed file is ever written. A first run of the unmutated suite, with
coverage.py recording which test executed which line, tells each mutant which
tests can see it; only those run (a test that never executes the changed line
behaves exactly as on the original), and a mutant that no test executes
survives without a run. A mutant is *killed* when its run fails, errors or
times out, and *survives* when it passes; mutants listed as equivalent (they
change no behaviour any caller can see) are counted apart, with a reason each.
"""

from __future__ import annotations

__all__ = (
    "DEFAULT_EQUIVALENTS",
    "EquivalentMutant",
    "MutantResult",
    "MutationReport",
    "MutationRunError",
    "TestCommand",
    "add_mutation_arguments",
    "conformance_command",
    "external_command",
    "format_mutation_report",
    "load_equivalents",
    "run_mutation",
    "run_mutation_command",
)

import argparse
import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ._mutants import Mutant, generate_mutants
from ._mutation_hook import MUTANT_VARIABLE, SELECTION_VARIABLE

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

_HOOK_MODULE = "butler_testkit._mutation_hook"
_COVERAGE_PLUGIN = "butler_testkit._pytest_coverage"
_SITECUSTOMIZE = f"import {_HOOK_MODULE}\n\n{_HOOK_MODULE}.install_from_environment()\n"
# Variables of the caller's environment that would change what the runs do
# (with those of the coverage plugin, which imports pytest: see _cleared).
_CLEARED_ENVIRONMENT = (
    "PYTEST_ADDOPTS",
    "PYTEST_PLUGINS",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
    MUTANT_VARIABLE,
    SELECTION_VARIABLE,
)
# Mutant runs yield the processor to everything else on the machine.
_NICE = ("nice", "-n", "10") if shutil.which("nice") else ()
_OUTPUT_TAIL = 25


class MutationRunError(RuntimeError):
    """The unmutated suite does not pass, or the run cannot be set up."""


@dataclasses.dataclass(frozen=True)
class TestCommand:
    """A pytest command that runs a test suite against whatever module is importable.

    Parameters
    ----------
    label : `str`
        What the suite is, for the report.
    argv : `~collections.abc.Sequence` [`str`]
        The command.
    cwd : `pathlib.Path`
        Directory it runs in (pytest node IDs are relative to its rootdir).
    """

    __test__ = False  # not a pytest test class

    label: str
    argv: Sequence[str]
    cwd: Path


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
        The mutant's key (`butler_testkit._mutants.Mutant.key`).
    reason : `str`
        One line saying why no test can tell it from the original.
    """

    key: str
    reason: str


def load_equivalents(path: Path | None = None) -> dict[str, EquivalentMutant]:
    """Read a list of equivalent mutants.

    Parameters
    ----------
    path : `pathlib.Path`, optional
        A YAML list of entries with ``key`` and ``reason`` (``class``,
        ``line`` and ``change`` are for readers); the checked-in list by
        default.

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
        equivalents[entry["key"]] = EquivalentMutant(entry["key"], reason.strip())
    return equivalents


@dataclasses.dataclass
class MutantResult:
    """What became of one mutant.

    Attributes
    ----------
    mutant : `butler_testkit._mutants.Mutant`
        The mutant.
    status : `str`
        One of `STATUSES`.
    tests : `int`
        How many tests ran against it (those that execute the changed
        statement).
    seconds : `float`
        Wall time of its run.
    detail : `str`
        The tail of the run's output when it did not pass, the reason of
        an equivalent mutant, or the compiler's complaint.
    """

    mutant: Mutant
    status: str
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
    suite : `str`
        The test suite's label.
    generated : `int`
        Mutants of the class in all.
    results : `list` [`MutantResult`]
        The mutants run (all of them, or the sample), in source order.
    sample_seed : `int` or `None`
        Seed of the sample, if it is one.
    baseline_seconds : `float`
        Wall time of the unmutated suite, measured with coverage.
    seconds : `float`
        Wall time of the whole run.
    stale_equivalents : `list` [`str`]
        Listed equivalent mutants of this class that it no longer has
        (their code changed).
    wrongly_equivalent : `list` [`str`]
        Listed equivalent mutants that a test killed: the listing is wrong.
    """

    class_path: str
    suite: str
    generated: int
    results: list[MutantResult]
    sample_seed: int | None
    baseline_seconds: float
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
    def killed(self) -> int:
        """Mutants killed by a failure or a timeout."""
        return self.count(KILLED, TIMEOUT)

    @property
    def kill_rate(self) -> float:
        """Killed over every valid mutant."""
        return self.killed / self.valid if self.valid else 0.0

    @property
    def strength(self) -> float:
        """Killed over the valid mutants that are not equivalent."""
        relevant = self.valid - self.count(EQUIVALENT)
        return self.killed / relevant if relevant else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "class": self.class_path,
            "suite": self.suite,
            "generated": self.generated,
            "sample_seed": self.sample_seed,
            "baseline_seconds": round(self.baseline_seconds, 1),
            "seconds": round(self.seconds, 1),
            "counts": {status: self.count(status) for status in STATUSES},
            "kill_rate": round(self.kill_rate, 4),
            "strength": round(self.strength, 4),
            "stale_equivalents": self.stale_equivalents,
            "wrongly_equivalent": self.wrongly_equivalent,
            "results": [result.to_dict() for result in self.results],
        }


def run_mutation(
    class_path: str,
    command: TestCommand,
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
    """Run a test suite against mutants of a class.

    Parameters
    ----------
    class_path : `str`
        The class to mutate, ``package.module.Class``.
    command : `TestCommand`
        The pytest command running the suite.
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
        as killed); three times the unmutated run, at least a minute, by
        default.
    equivalents : `~collections.abc.Mapping` [`str`, `EquivalentMutant`], optional
        Mutants known to be equivalent, by key; the checked-in list by
        default.
    progress : `~collections.abc.Callable`, optional
        Called with a line as the run advances.
    preload : `~collections.abc.Sequence` [`str`], optional
        Modules the fork server imports once for every mutant's run (none
        may import the mutated module); daf_butler, pytest, numpy, Faker,
        Hypothesis and the conformance suite by default.

    Returns
    -------
    report : `MutationReport`
        Every mutant's fate.

    Raises
    ------
    MutationRunError
        Raised if the unmutated suite fails or selects no test.
    butler_testkit._mutants.MutationSourceError
        Raised if the class cannot be found.
    """
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
        (hook_directory / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        runner = _Runner(command, hook_directory, workspace, preload)
        say(f"{len(chosen)} of {len(everything)} mutants of {module}.{class_name}; running {command.label}")
        baseline_seconds, tests_by_line = runner.baseline(source_file)
        limit = timeout if timeout is not None else max(60.0, 3 * baseline_seconds)
        say(f"the unmutated suite passes in {baseline_seconds:.1f} s (with coverage); timeout {limit:.0f} s")
        results = runner.run_all(chosen, tests_by_line, known, jobs=jobs, timeout=limit, say=say)
    generated_keys = {mutant.key for mutant in everything}
    prefix = f"{class_name}."
    report = MutationReport(
        class_path=f"{module}.{class_name}",
        suite=command.label,
        generated=len(everything),
        results=results,
        sample_seed=seed if sample is not None and sample < len(everything) else None,
        baseline_seconds=baseline_seconds,
        seconds=time.monotonic() - started,
        stale_equivalents=sorted(
            key for key in known if key.startswith(prefix) and key not in generated_keys
        ),
        wrongly_equivalent=sorted(
            result.mutant.key
            for result in results
            if result.mutant.key in known and result.status in (KILLED, TIMEOUT)
        ),
    )
    return report


def _module_file(module: str) -> str:
    from ._mutants import _module_file as locate

    path = locate(module)
    if path is None:
        raise MutationRunError(f"Cannot locate the source file of {module}.")
    return path


# Heavy libraries a fork server imports once for every mutant's run; none
# imports a datastore module.
_PRELOAD = (
    "pytest",
    "_pytest.python",
    "_pytest.fixtures",
    "hypothesis",
    "numpy",
    "pydantic",
    "faker",
    "sqlalchemy",
    "lsst.resources",
    "lsst.daf.butler",
    "lsst.daf.butler.datastore",
    "lsst.daf.butler.registry.interfaces",
)
# What the conformance suite adds, unless it imports the module under mutation.
_PRELOAD_SUITE = ("butler_testkit.pytest_plugin", "butler_testkit.conformance._targets")
# Forked children must not inherit idle thread pools.
_SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _is_pytest(argv: Sequence[str]) -> bool:
    return argv[1:3] == ["-m", "pytest"] or Path(argv[0]).name in ("pytest", "py.test")


class _ForkServer:
    """The runner's end of `butler_testkit._mutation_server`: one request per mutant run."""

    def __init__(
        self, environment: Mapping[str, str], cwd: Path, forbidden: str, preload: Sequence[str] = _PRELOAD
    ) -> None:
        self._process = subprocess.Popen(
            [*_NICE, sys.executable, "-m", "butler_testkit._mutation_server", forbidden, *preload],
            cwd=cwd,
            env={**environment, **_SINGLE_THREADED},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        assert self._process.stdin is not None
        first = self._process.stdout.readline()
        answer = json.loads(first) if first.strip() else {"error": "the fork server did not start"}
        if not answer.get("ready"):
            self.close()
            raise MutationRunError(str(answer.get("error")))
        self._lock = threading.Lock()
        self._numbers = iter(range(1, sys.maxsize))
        self._pids: dict[int, int] = {}
        self._statuses: dict[int, int] = {}
        self._events: dict[int, threading.Event] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            with self._lock:
                if "pid" in message:
                    self._pids[message["id"]] = message["pid"]
                elif "status" in message:
                    self._statuses[message["id"]] = message["status"]
                    self._events[message["id"]].set()
        # The server is gone: nothing will end any more.
        with self._lock:
            for identifier, event in self._events.items():
                self._statuses.setdefault(identifier, -int(signal.SIGKILL))
                event.set()

    def run(
        self,
        argv: Sequence[str],
        cwd: Path,
        environment: Mapping[str, str],
        output: Path,
        timeout: float | None,
    ) -> int | None:
        """Run a command in a forked child; return its status, or `None` if it timed out."""
        assert self._process.stdin is not None
        with self._lock:
            identifier = next(self._numbers)
            event = self._events[identifier] = threading.Event()
            request = {
                "id": identifier,
                "argv": list(argv),
                "cwd": str(cwd),
                "env": {**environment, **_SINGLE_THREADED},
                "output": str(output),
            }
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        finished = event.wait(timeout)
        if not finished:
            self.kill(identifier)
            event.wait()
        with self._lock:
            status = self._statuses.pop(identifier)
            self._events.pop(identifier)
            self._pids.pop(identifier, None)
        return status if finished else None

    def kill(self, identifier: int | None = None) -> None:
        """Kill one child's process group, or every child's."""
        with self._lock:
            pids = list(self._pids.values()) if identifier is None else [self._pids.get(identifier, 0)]
        for pid in pids:
            if pid > 0:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)

    def close(self) -> None:
        """End the server; it kills any child still running."""
        with contextlib.suppress(OSError, ValueError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            _kill(self._process)
            self._process.wait()


class _Runner:
    """Runs the suite: once unmutated with coverage, then once per mutant."""

    def __init__(
        self, command: TestCommand, hook_directory: Path, workspace: Path, preload: Sequence[str] | None
    ) -> None:
        self._command = command
        self._preload = preload
        self._hook_directory = hook_directory
        self._workspace = workspace
        self._processes: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()
        self._numbers = iter(range(1, sys.maxsize))
        self._server: _ForkServer | None = None

    def _environment(self, directory: Path, plugins: Sequence[str]) -> dict[str, str]:
        from ._pytest_coverage import CONTEXTS_VARIABLE, DATA_VARIABLE, INCLUDE_VARIABLE

        cleared = {*_CLEARED_ENVIRONMENT, CONTEXTS_VARIABLE, DATA_VARIABLE, INCLUDE_VARIABLE}
        environment = {key: value for key, value in os.environ.items() if key not in cleared}
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(self._hook_directory), os.getcwd(), os.environ.get("PYTHONPATH")])
        )
        environment["PYTEST_PLUGINS"] = ",".join(plugins)
        # Stop at the first failure; keep pytest's temporary files with the
        # run. No assertion rewriting: pytest's import hook would load the
        # modules of a package that is a pytest plugin (butler-testkit is
        # one) from their files, ahead of the mutant.
        environment["PYTEST_ADDOPTS"] = (
            f"-x -p no:cacheprovider --assert=plain --basetemp={directory / 'tmp'}"
        )
        return environment

    def _run(
        self, environment: Mapping[str, str], timeout: float | None, directory: Path | None = None
    ) -> tuple[int | None, str, float]:
        """Run the command; return its exit status (`None` on timeout), output and wall time."""
        started = time.monotonic()
        server = self._server
        if server is not None and directory is not None:
            output_file = directory / "output.txt"
            ended = server.run(self._command.argv, self._command.cwd, environment, output_file, timeout)
            output = output_file.read_text(errors="replace") if output_file.exists() else ""
            return ended, output, time.monotonic() - started
        process = subprocess.Popen(
            [*_NICE, *self._command.argv],
            cwd=self._command.cwd,
            env=dict(environment),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own process group, so that a timeout stops what it started too.
            start_new_session=True,
        )
        with self._lock:
            self._processes.add(process)
        try:
            output, _ = process.communicate(timeout=timeout)
            status: int | None = process.returncode
        except subprocess.TimeoutExpired:
            _kill(process)
            output, _ = process.communicate()
            status = None
        finally:
            with self._lock:
                self._processes.discard(process)
        return status, output or "", time.monotonic() - started

    def stop_everything(self) -> None:
        """Kill every run still going, and what it started."""
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            _kill(process)
        if self._server is not None:
            self._server.kill()

    def baseline(self, source_file: str) -> tuple[float, dict[int, set[str]]]:
        """Run the unmutated suite with coverage; return its time and the tests executing each line."""
        import coverage

        from ._pytest_coverage import CONTEXTS_VARIABLE, DATA_VARIABLE, INCLUDE_VARIABLE

        directory = self._workspace / "baseline"
        directory.mkdir()
        environment = self._environment(directory, [_HOOK_MODULE, _COVERAGE_PLUGIN])
        environment[DATA_VARIABLE] = str(directory / ".coverage")
        environment[INCLUDE_VARIABLE] = source_file
        environment[CONTEXTS_VARIABLE] = "1"
        try:
            status, output, seconds = self._run(environment, timeout=None)
        except KeyboardInterrupt:
            self.stop_everything()
            raise
        if status != 0:
            raise MutationRunError(
                f"The unmutated suite does not pass (pytest exit status {status}), so no mutant can be "
                f"judged by it:\n{_tail(output)}"
            )
        measurement = coverage.Coverage(data_file=str(directory / ".coverage"), config_file=False)
        measurement.combine([str(directory)], keep=False)
        data = measurement.get_data()
        measured = [name for name in data.measured_files() if os.path.samefile(name, source_file)]
        if not measured:
            raise MutationRunError(
                f"The unmutated suite never executed {source_file}: it cannot judge its mutants."
            )
        tests_by_line: dict[int, set[str]] = collections.defaultdict(set)
        for name in measured:
            for line, contexts in data.contexts_by_lineno(name).items():
                tests_by_line[line].update(context for context in contexts if context)
        return seconds, dict(tests_by_line)

    def run_all(
        self,
        mutants: Sequence[Mutant],
        tests_by_line: Mapping[int, set[str]],
        equivalents: Mapping[str, EquivalentMutant],
        *,
        jobs: int,
        timeout: float,
        say: Callable[[str], None],
    ) -> list[MutantResult]:
        results: dict[int, MutantResult] = {}
        done = 0
        if self._server is None and _is_pytest(self._command.argv):
            self._server = self._start_server(mutants[0].module, say)
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(self._judge, mutant, tests_by_line, equivalents, timeout): index
                for index, mutant in enumerate(mutants)
            }
            try:
                for future in concurrent.futures.as_completed(futures):
                    result = future.result()
                    results[futures[future]] = result
                    done += 1
                    if result.status not in (UNCOVERED, INVALID):
                        say(f"[{done}/{len(mutants)}] {result.status:<9} {result.mutant.label}")
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                self.stop_everything()
                raise
            finally:
                if self._server is not None:
                    self._server.close()
                    self._server = None
        return [results[index] for index in range(len(mutants))]

    def _start_server(self, forbidden: str, say: Callable[[str], None]) -> _ForkServer | None:
        environment = self._environment(self._workspace, [_HOOK_MODULE])
        problem = ""
        choices = [(*_PRELOAD, *_PRELOAD_SUITE), _PRELOAD] if self._preload is None else [self._preload]
        for preload in choices:
            try:
                return _ForkServer(environment, self._command.cwd, forbidden, preload)
            except MutationRunError as err:
                problem = str(err)
        say(f"each mutant runs in a fresh interpreter (no fork server: {problem})")
        return None

    def _judge(
        self,
        mutant: Mutant,
        tests_by_line: Mapping[int, set[str]],
        equivalents: Mapping[str, EquivalentMutant],
        timeout: float,
    ) -> MutantResult:
        first, last = mutant.statement_lines
        tests = sorted(set().union(*(tests_by_line.get(line, set()) for line in range(first, last + 1))))
        equivalent = equivalents.get(mutant.key)
        if not tests:
            if equivalent is not None:
                return MutantResult(mutant, EQUIVALENT, detail=equivalent.reason)
            return MutantResult(mutant, UNCOVERED, detail="no test executes this statement")
        problem = mutant.check_syntax()
        if problem is not None:
            return MutantResult(mutant, INVALID, detail=problem)
        with self._lock:
            number = next(self._numbers)
        directory = self._workspace / f"mutant-{number}"
        directory.mkdir()
        mutant_file = directory / "mutant.json"
        loaded = directory / "loaded"
        mutant_file.write_text(
            json.dumps({"module": mutant.module, "source": mutant.source, "loaded": str(loaded)})
        )
        selection = directory / "tests.txt"
        selection.write_text("\n".join(tests) + "\n")
        environment = self._environment(directory, [_HOOK_MODULE])
        environment[MUTANT_VARIABLE] = str(mutant_file)
        environment[SELECTION_VARIABLE] = str(selection)
        status, output, seconds = self._run(environment, timeout, directory)
        if status is not None and not loaded.exists():
            raise MutationRunError(
                f"Mutant {mutant.label} was never loaded: something imported {mutant.module} "
                f"without the mutation hook (exit status {status}):\n{_tail(output)}"
            )
        if status is None:
            outcome, detail = TIMEOUT, f"stopped after {timeout:.0f} s"
        elif status == 0:
            outcome, detail = SURVIVED, ""
        elif status in (1, 2, 3):
            # Failures (1), collection errors (2) or an internal error (3):
            # the mutant broke something a test relies on.
            outcome, detail = KILLED, _tail(output)
        else:
            raise MutationRunError(
                f"Mutant {mutant.label}: pytest exit status {status}, which says the test command "
                f"itself is wrong:\n{_tail(output)}"
            )
        if equivalent is not None and outcome == SURVIVED:
            outcome, detail = EQUIVALENT, equivalent.reason
        return MutantResult(mutant, outcome, tests=len(tests), seconds=seconds, detail=detail)


def _kill(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _tail(output: str) -> str:
    return "\n".join(output.strip().splitlines()[-_OUTPUT_TAIL:])


def format_mutation_report(report: MutationReport, *, details: bool = False) -> str:
    """Format a mutation run: the rates, survivors by method, and every survivor.

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
    lines = [
        f"mutation strength of {report.class_path}",
        f"  suite: {report.suite}",
        f"  mutants: {len(report.results)}"
        + (
            f" (a sample, seed {report.sample_seed}, of {report.generated})"
            if report.sample_seed is not None
            else " (all)"
        ),
        "  " + ", ".join(f"{status} {report.count(status)}" for status in STATUSES if report.count(status)),
        f"  killed: {report.killed}/{valid} = {report.kill_rate:.1%} of all mutants; "
        f"{report.strength:.1%} of the {valid - report.count(EQUIVALENT)} not equivalent",
        f"  time: {report.seconds:.0f} s "
        f"(the unmutated suite with coverage: {report.baseline_seconds:.1f} s)",
    ]
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
                lines += ["", f"  {result.status} {result.mutant.label}:"]
                lines += [f"    {line}" for line in result.detail.splitlines()]
    return "\n".join(lines)


def add_mutation_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``butler-testkit bench --suite mutation`` to a parser.

    Parameters
    ----------
    parser : `argparse.ArgumentParser`
        The ``bench`` command's parser.
    """
    group = parser.add_argument_group(
        "mutation suite",
        "Mutants of a datastore class's methods, each run against the conformance suite (or another "
        "pytest command) in a nice'd process of its own; the installed file is never written.",
    )
    group.add_argument(
        "--conformance-target",
        default="inmemory",
        metavar="TARGET",
        help="the butler-testkit check target whose suite judges the mutants (default: %(default)s)",
    )
    group.add_argument(
        "--mutate",
        metavar="CLASS",
        help="the class to mutate, package.module.Class (default: the target's datastore class)",
    )
    group.add_argument(
        "--sample", type=int, metavar="N", help="run a seeded sample of N mutants (--seed) instead of all"
    )
    group.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="mutants run at once (default: %(default)s)"
    )
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="time a mutant's run may take, then it counts as killed (default: 3x the unmutated run, "
        "at least 60)",
    )
    group.add_argument(
        "--test-command",
        metavar="COMMAND",
        help="judge the mutants with this pytest command instead of the conformance suite, e.g. "
        "'python -m pytest tests/test_datastore.py -k InMemory' ('python' is this interpreter)",
    )
    group.add_argument(
        "--test-directory",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="directory the test command runs in (default: the current one)",
    )
    group.add_argument(
        "--equivalents",
        type=Path,
        metavar="FILE",
        help="YAML list of equivalent mutants (default: the one butler-testkit ships)",
    )
    group.add_argument("--mutation-report", type=Path, metavar="FILE", help="also write the results as JSON")
    group.add_argument(
        "--rerun-survivors",
        type=Path,
        metavar="FILE",
        help="run only the mutants that survived in an earlier --mutation-report FILE",
    )


def _interrupt_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM stop the run as Ctrl-C does, so that its processes are stopped too."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def _survivors_of(path: Path) -> list[str]:
    try:
        results = json.loads(path.read_text())["results"]
        return [result["key"] for result in results if result["status"] in (SURVIVED, UNCOVERED)]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise MutationRunError(f"{path} is not a report written by --mutation-report: {err}") from err


def run_mutation_command(
    args: argparse.Namespace, class_path: str, progress: Callable[[str], None] | None = None
) -> int:
    """Run ``butler-testkit bench --suite mutation`` and print its report.

    Parameters
    ----------
    args : `argparse.Namespace`
        Parsed options (`add_mutation_arguments` and ``--seed``).
    class_path : `str`
        The class to mutate.
    progress : `~collections.abc.Callable`, optional
        Called with a line as the run advances.

    Returns
    -------
    status : `int`
        0 when the run completed, 1 if the suite could not judge the
        mutants, 2 for bad options, 130 if interrupted (by Ctrl-C or
        SIGTERM; every run still going is stopped first).
    """
    from ._mutants import MutationSourceError

    restore = _interrupt_on_sigterm()
    try:
        equivalents = load_equivalents(args.equivalents)
        keys = None if args.rerun_survivors is None else _survivors_of(args.rerun_survivors)
        with tempfile.TemporaryDirectory(prefix="butler-testkit-mutation-suite-") as directory:
            if args.test_command is not None:
                command = external_command(args.test_command, args.test_directory)
            else:
                command = conformance_command(args.conformance_target, Path(directory))
            report = run_mutation(
                class_path,
                command,
                sample=args.sample,
                seed=args.seed,
                keys=keys,
                jobs=args.jobs,
                timeout=args.timeout,
                equivalents=equivalents,
                progress=progress,
            )
    except (ValueError, MutationSourceError) as err:
        print(f"butler-testkit bench: error: {err}", file=sys.stderr)
        return 2
    except MutationRunError as err:
        print(f"butler-testkit bench: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("butler-testkit bench: interrupted; every mutant's run was stopped", file=sys.stderr)
        return 130
    finally:
        restore()
    print(format_mutation_report(report))
    if args.mutation_report is not None:
        args.mutation_report.write_text(json.dumps(report.to_dict(), indent=1) + "\n")
    return 0
