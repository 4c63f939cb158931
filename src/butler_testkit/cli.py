"""The ``butler-testkit`` command."""

from __future__ import annotations

__all__ = ("build_parser", "main")

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``butler-testkit`` command.

    Returns
    -------
    parser : `argparse.ArgumentParser`
        The parser, with one sub-command per job.
    """
    parser = argparse.ArgumentParser(
        prog="butler-testkit",
        description="Test doubles, fixtures and checks for lsst.daf.butler datastores.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from .bench import SUITES, add_common_arguments

    bench = commands.add_parser(
        "bench",
        help="compare datastores side by side, and test repositories with makeTestRepo",
        description=" ".join(f"{entry.name.capitalize()}: {entry.summary}." for entry in SUITES),
    )
    bench.add_argument(
        "--suite",
        choices=("all", *(entry.name for entry in SUITES)),
        default="all",
        help="what to benchmark; all runs every suite but those run only when named (default: %(default)s)",
    )
    add_common_arguments(bench)
    for entry in SUITES:
        entry.add_arguments(bench.add_argument_group(f"{entry.name} suite"))

    check = commands.add_parser(
        "check",
        help="run the datastore conformance suite against datastores and print one matrix",
        description=(
            "Run the conformance suite (through pytest, one run per target) against each target and "
            "print one matrix of areas by outcome with a column per target, with the reason of every "
            "skip (an absent capability) and expected failure (a declared divergence). The exit status "
            "is 0 only when no target has an unexplained failure."
        ),
    )
    check.add_argument(
        "targets",
        nargs="*",
        default=["inmemory"],
        metavar="TARGET",
        help=(
            "inmemory (ours, the default), upstream-inmemory, file, chained, a datastore config file "
            "(.yaml/.yml/.json with 'cls' and an optional 'conformance' section of capabilities and "
            "divergences) or a datastore class path"
        ),
    )
    check.add_argument(
        "-n",
        "--numprocesses",
        dest="workers",
        metavar="N",
        help="pytest-xdist workers for each run: a number or 'auto' (default: no xdist)",
    )
    check.add_argument(
        "-k", dest="keyword", metavar="EXPRESSION", help="run only the tests pytest -k selects"
    )
    check.add_argument("--seed", type=int, default=None, help="--butler-seed of the runs")
    check.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    check.add_argument(
        "--coverage",
        action="store_true",
        help="measure which lines and branches of each target's datastore modules the suite executed, "
        "and print a table per method (needs the 'coverage' extra)",
    )
    check.add_argument(
        "--coverage-html",
        type=Path,
        metavar="DIR",
        help="also write an HTML coverage report per target in DIR",
    )
    return parser


def _progress(line: str) -> None:
    print(f"... {line}", file=sys.stderr, flush=True)


def _run_bench(args: argparse.Namespace) -> int:
    from .bench import SUITES, BenchTargetError

    chosen = [entry for entry in SUITES if args.suite == entry.name or (args.suite == "all" and entry.in_all)]
    status = 0
    for number, entry in enumerate(chosen):
        try:
            result = entry.run(args, _progress)
        except KeyboardInterrupt:
            print("butler-testkit bench: interrupted", file=sys.stderr)
            return 130
        except ValueError as err:
            print(f"butler-testkit bench: error: {err}", file=sys.stderr)
            return 2
        except BenchTargetError as err:
            print(f"butler-testkit bench: {err}", file=sys.stderr)
            return 1
        if number:
            print()
        print(result.text)
        if not result.ok:
            status = 1
    return status


def _run_check(args: argparse.Namespace) -> int:
    from .conformance import CoverageUnavailableError, TargetError, format_check, run_check

    if args.workers is not None and args.workers != "auto" and not args.workers.isdigit():
        print(
            f"butler-testkit check: error: -n takes a number or 'auto', not {args.workers!r}",
            file=sys.stderr,
        )
        return 2
    try:
        result = run_check(
            args.targets,
            workers=args.workers,
            keyword=args.keyword,
            seed=args.seed,
            verbose=args.verbose,
            progress=_progress,
            coverage=args.coverage,
            coverage_html=args.coverage_html,
        )
    except (TargetError, CoverageUnavailableError) as err:
        print(f"butler-testkit check: error: {err}", file=sys.stderr)
        return 2
    print(format_check(result))
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``butler-testkit`` command.

    Parameters
    ----------
    argv : `~collections.abc.Sequence` [`str`], optional
        Arguments without the program name; `sys.argv` by default.

    Returns
    -------
    status : `int`
        Exit status: 0 on success, 1 if a datastore failed (a benchmark
        operation, or a conformance test without a declared reason), 2 for a
        usage error.
    """
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        return _run_bench(args)
    if args.command == "check":
        return _run_check(args)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse only lets known ones through


if __name__ == "__main__":
    sys.exit(main())
