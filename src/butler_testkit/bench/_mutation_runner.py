"""Running a pytest command against mutants: the unmutated baseline, then one nice'd process per mutant.

A `Judge` is one test command. Its baseline run records, with coverage.py,
which test executed which line of the mutated module; each mutant then runs
only the tests that executed its statement, in a process forked from a server
that imported the heavy libraries once (or a fresh interpreter), with the
mutant loaded by `butler_testkit.bench._mutation_hook` from memory.
"""

from __future__ import annotations

__all__ = ("Judge", "JudgeOutcome", "MutationRunError", "TestCommand", "stop_everything")

import collections
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ._mutants import Mutant
from ._mutation_hook import MUTANT_VARIABLE, SELECTION_VARIABLE

_HOOK_MODULE = "butler_testkit.bench._mutation_hook"
_COVERAGE_PLUGIN = "butler_testkit._pytest_coverage"
SITECUSTOMIZE = f"import {_HOOK_MODULE}\n\n{_HOOK_MODULE}.install_from_environment()\n"
"""What the ``sitecustomize`` module first on a run's ``PYTHONPATH`` holds."""

# Variables of the caller's environment that would change what the runs do
# (with those of the coverage plugin, which imports pytest: see _environment).
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


@dataclasses.dataclass(frozen=True)
class JudgeOutcome:
    """What one test command made of one mutant.

    Attributes
    ----------
    status : `int` or `None`
        pytest's exit status, `None` if the run was stopped at its timeout.
    tests : `int`
        Tests selected: those that executed the mutant's statement.
    seconds : `float`
        Wall time of the run.
    output : `str`
        The end of pytest's output.
    """

    status: int | None
    tests: int
    seconds: float
    output: str


def _is_pytest(argv: Sequence[str]) -> bool:
    return list(argv[1:3]) == ["-m", "pytest"] or Path(argv[0]).name in ("pytest", "py.test")


def tail(output: str) -> str:
    """Return the last lines of a run's output.

    Parameters
    ----------
    output : `str`
        The whole output.

    Returns
    -------
    tail : `str`
        Its last lines.
    """
    return "\n".join(output.strip().splitlines()[-_OUTPUT_TAIL:])


def _kill(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class _ForkServer:
    """The runner's end of `butler_testkit.bench._mutation_server`: one request per mutant run."""

    def __init__(
        self, environment: Mapping[str, str], cwd: Path, forbidden: str, preload: Sequence[str] = _PRELOAD
    ) -> None:
        self._process = subprocess.Popen(
            [*_NICE, sys.executable, "-m", "butler_testkit.bench._mutation_server", forbidden, *preload],
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


class Judge:
    """One test command judging mutants: its baseline, then a run per mutant.

    Parameters
    ----------
    command : `TestCommand`
        The pytest command.
    workspace : `pathlib.Path`
        A directory of its own for the runs' files.
    hook_directory : `pathlib.Path`
        Directory holding the ``sitecustomize`` module that installs mutants.
    preload : `~collections.abc.Sequence` [`str`], optional
        Modules the fork server imports once; a default list if `None`.
    """

    def __init__(
        self, command: TestCommand, workspace: Path, hook_directory: Path, preload: Sequence[str] | None
    ) -> None:
        self.command = command
        self._workspace = workspace
        self._hook_directory = hook_directory
        self._preload = preload
        self._processes: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()
        self._numbers = iter(range(1, sys.maxsize))
        self._server: _ForkServer | None = None
        self._tests_by_line: dict[int, set[str]] = {}
        self.seconds = 0.0
        """Wall time of the unmutated run, with coverage."""

    def _environment(self, directory: Path, plugins: Sequence[str]) -> dict[str, str]:
        from .._pytest_coverage import CONTEXTS_VARIABLE, DATA_VARIABLE, INCLUDE_VARIABLE

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
            ended = server.run(self.command.argv, self.command.cwd, environment, output_file, timeout)
            output = output_file.read_text(errors="replace") if output_file.exists() else ""
            return ended, output, time.monotonic() - started
        process = subprocess.Popen(
            [*_NICE, *self.command.argv],
            cwd=self.command.cwd,
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

    def baseline(self, source_file: str) -> None:
        """Run the unmutated suite with coverage, to know which tests execute each line.

        Parameters
        ----------
        source_file : `str`
            The module under mutation.

        Raises
        ------
        MutationRunError
            Raised if the suite fails, or never executes the module.
        """
        import coverage

        from .._pytest_coverage import CONTEXTS_VARIABLE, DATA_VARIABLE, INCLUDE_VARIABLE

        directory = self._workspace / "baseline"
        directory.mkdir(parents=True)
        environment = self._environment(directory, [_HOOK_MODULE, _COVERAGE_PLUGIN])
        environment[DATA_VARIABLE] = str(directory / ".coverage")
        environment[INCLUDE_VARIABLE] = source_file
        environment[CONTEXTS_VARIABLE] = "1"
        status, output, self.seconds = self._run(environment, timeout=None)
        if status != 0:
            raise MutationRunError(
                f"{self.command.label}: the unmutated suite does not pass (pytest exit status {status}), "
                f"so no mutant can be judged by it:\n{tail(output)}"
            )
        measurement = coverage.Coverage(data_file=str(directory / ".coverage"), config_file=False)
        measurement.combine([str(directory)], keep=False)
        data = measurement.get_data()
        measured = [name for name in data.measured_files() if os.path.samefile(name, source_file)]
        if not measured:
            raise MutationRunError(
                f"{self.command.label}: the unmutated suite never executed {source_file}: it cannot "
                "judge its mutants."
            )
        tests_by_line: dict[int, set[str]] = collections.defaultdict(set)
        for name in measured:
            for line, contexts in data.contexts_by_lineno(name).items():
                tests_by_line[line].update(context for context in contexts if context)
        self._tests_by_line = dict(tests_by_line)

    def tests_for(self, mutant: Mutant) -> list[str]:
        """Return the tests that executed the mutant's statement in the baseline.

        Parameters
        ----------
        mutant : `butler_testkit.bench._mutants.Mutant`
            The mutant.

        Returns
        -------
        tests : `list` [`str`]
            Node IDs, sorted; only they can tell the mutant from the original.
        """
        first, last = mutant.statement_lines
        lines = range(first, last + 1)
        return sorted(set().union(*(self._tests_by_line.get(line, set()) for line in lines)))

    def start(self, forbidden: str, say: Callable[[str], None]) -> None:
        """Start the fork server, if the command is pytest and one can be started.

        Parameters
        ----------
        forbidden : `str`
            The module under mutation, which the server must not import.
        say : `~collections.abc.Callable`
            Told when each mutant will need a fresh interpreter instead.
        """
        if self._server is not None or not _is_pytest(self.command.argv):
            return
        environment = self._environment(self._workspace, [_HOOK_MODULE])
        problem = ""
        choices = [(*_PRELOAD, *_PRELOAD_SUITE), _PRELOAD] if self._preload is None else [self._preload]
        for preload in choices:
            try:
                self._server = _ForkServer(environment, self.command.cwd, forbidden, preload)
                return
            except MutationRunError as err:
                problem = str(err)
        say(f"{self.command.label}: each mutant runs in a fresh interpreter (no fork server: {problem})")

    def judge(self, mutant: Mutant, tests: Sequence[str], timeout: float) -> JudgeOutcome:
        """Run the selected tests against a mutant.

        Parameters
        ----------
        mutant : `butler_testkit.bench._mutants.Mutant`
            The mutant.
        tests : `~collections.abc.Sequence` [`str`]
            The tests to run (`tests_for`).
        timeout : `float`
            Seconds before the run is stopped.

        Returns
        -------
        outcome : `JudgeOutcome`
            pytest's status, or `None` for a timeout.

        Raises
        ------
        MutationRunError
            Raised if the mutant was never loaded, or pytest says the
            command itself is wrong.
        """
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
                f"without the mutation hook (exit status {status}):\n{tail(output)}"
            )
        if status is not None and status not in (0, 1, 2, 3):
            raise MutationRunError(
                f"Mutant {mutant.label}: pytest exit status {status}, which says the test command "
                f"itself is wrong:\n{tail(output)}"
            )
        shutil.rmtree(directory, ignore_errors=True)
        return JudgeOutcome(status, len(tests), seconds, tail(output))

    def stop_everything(self) -> None:
        """Kill every run still going, and what it started."""
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            _kill(process)
        if self._server is not None:
            self._server.kill()

    def close(self) -> None:
        """End the fork server."""
        if self._server is not None:
            self._server.close()
            self._server = None


def stop_everything(judges: Sequence[Judge]) -> None:
    """Kill every run of these judges still going.

    Parameters
    ----------
    judges : `~collections.abc.Sequence` [`Judge`]
        The judges.
    """
    for judge in judges:
        judge.stop_everything()
