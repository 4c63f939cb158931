"""The options and the run of ``butler-testkit bench --suite mutation``."""

from __future__ import annotations

__all__ = ("add_mutation_arguments", "mutation_targets", "run_mutation_command")

import argparse
import json
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
    from ._mutation import (
        MutationRunError,
        conformance_command,
        external_command,
        format_mutation_report,
        load_equivalents,
        run_mutation,
    )

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
