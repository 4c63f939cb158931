"""The options and the run of ``butler-testkit bench --suite mutation``."""

from __future__ import annotations

__all__ = ("MUTATION_SUMMARY", "add_mutation_arguments", "mutation_targets", "run_mutation_suite")

import argparse
import json
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

MUTATION_SUMMARY = (
    "run mutants of a datastore class's methods, each against the conformance suite (or another pytest "
    "command) in a nice'd process of its own, and print the share each suite kills (run only when "
    "named; the installed file is never written)"
)


def add_mutation_arguments(group: Any) -> None:
    """Add the options of ``butler-testkit bench --suite mutation`` to an argument group.

    Parameters
    ----------
    group : argument group
        The suite's group of the ``bench`` command's parser.
    """
    group.add_argument(
        "--conformance-target",
        dest="conformance_targets",
        action="append",
        metavar="TARGET",
        help="a butler-testkit check target whose conformance suite judges the mutants, repeatable "
        "(default: inmemory, unless --test-command is given)",
    )
    group.add_argument(
        "--mutate",
        metavar="CLASS",
        help="the class to mutate, package.module.Class (default: the first target's datastore class)",
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
        dest="test_commands",
        action="append",
        metavar="COMMAND",
        help="a pytest command that judges the mutants (after the conformance targets, if any), "
        "repeatable, e.g. 'python -m pytest tests/test_datastore.py -k InMemory' ('python' is this "
        "interpreter); the mutants that survive one suite go to the next",
    )
    group.add_argument(
        "--test-directory",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="directory the test commands run in (default: the current one)",
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


def mutation_targets(args: argparse.Namespace) -> list[str]:
    """Return the conformance targets that judge the mutants.

    Parameters
    ----------
    args : `argparse.Namespace`
        Parsed options (`add_mutation_arguments`).

    Returns
    -------
    targets : `list` [`str`]
        Those given, or ``inmemory`` when neither a target nor a test
        command is.
    """
    if args.conformance_targets:
        return list(args.conformance_targets)
    return [] if args.test_commands else ["inmemory"]


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
    from ._mutation import SURVIVED, UNCOVERED, MutationRunError

    try:
        results = json.loads(path.read_text())["results"]
        return [result["key"] for result in results if result["status"] in (SURVIVED, UNCOVERED)]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise MutationRunError(f"{path} is not a report written by --mutation-report: {err}") from err


def run_mutation_suite(args: argparse.Namespace, progress: Callable[[str], None] | None = None) -> str:
    """Run ``butler-testkit bench --suite mutation`` and return its report.

    Parameters
    ----------
    args : `argparse.Namespace`
        Parsed options (`add_mutation_arguments` and ``--seed``).
    progress : `~collections.abc.Callable`, optional
        Called with a line as the run advances.

    Returns
    -------
    report : `str`
        The report; also written as JSON to ``--mutation-report`` if given.

    Raises
    ------
    ValueError
        Raised for bad options: no class to mutate, a class without
        source, an unknown target.
    MutationRunError
        Raised if the suite cannot judge the mutants (the unmutated run
        fails).
    KeyboardInterrupt
        Raised on Ctrl-C or SIGTERM, once every run still going is stopped.
    """
    from ..conformance import TargetError, target_datastore_class
    from ._mutants import MutationSourceError
    from ._mutation import (
        conformance_command,
        external_command,
        format_mutation_report,
        load_equivalents,
        run_mutation,
    )

    class_path = args.mutate
    if class_path is None:
        targets = mutation_targets(args)
        if not targets:
            raise ValueError("say which class to mutate (--mutate)")
        try:
            class_path = target_datastore_class(targets[0])
        except TargetError as err:
            raise ValueError(str(err)) from err
    restore = _interrupt_on_sigterm()
    try:
        equivalents = load_equivalents(args.equivalents)
        keys = None if args.rerun_survivors is None else _survivors_of(args.rerun_survivors)
        with tempfile.TemporaryDirectory(prefix="butler-testkit-mutation-suite-") as directory:
            commands = [
                conformance_command(target, Path(directory) / f"target-{index}")
                for index, target in enumerate(mutation_targets(args))
            ]
            commands += [external_command(line, args.test_directory) for line in args.test_commands or []]
            report = run_mutation(
                class_path,
                commands,
                sample=args.sample,
                seed=args.seed,
                keys=keys,
                jobs=args.jobs,
                timeout=args.timeout,
                equivalents=equivalents,
                progress=progress,
            )
    except MutationSourceError as err:
        raise ValueError(str(err)) from err
    finally:
        restore()
    if args.mutation_report is not None:
        args.mutation_report.write_text(json.dumps(report.to_dict(), indent=1) + "\n")
    return format_mutation_report(report)
