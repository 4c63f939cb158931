"""The ``butler-testkit`` command."""

from __future__ import annotations

__all__ = ("build_parser", "main")

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._mutation_cli import add_mutation_arguments
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

    bench = commands.add_parser(
        "bench",
        help="compare datastores side by side, and test repositories with makeTestRepo",
        description=(
            "Datastores: measure put, get, component get, exists, mexists, getURI, bulk trash and "
            "emptyTrash, and the memory each stored dataset costs, for several datastores in one "
            "process, interleaved; print ratios against the first target and a linearity check "
            "(cost at N against N/10). Repositories: time a fresh test repository against "
            "makeTestRepo + makeTestCollection, warm and in fresh interpreters."
        ),
    )
    bench.add_argument(
        "--suite",
        choices=("all", "datastores", "repositories", "mutation"),
        default="all",
        help="what to benchmark (default: %(default)s; 'all' is datastores and repositories, "
        "'mutation' the conformance suite's strength against mutants of a datastore class)",
    )
    bench.add_argument(
        "--repeats", type=int, default=15, help="repositories timed per side, warm (default: %(default)s)"
    )
    bench.add_argument(
        "--cold-repeats",
        type=int,
        default=None,
        help="first-in-process repositories timed per side in fresh interpreters; 0 skips them "
        "(default: a third of --repeats, at least 3)",
    )
    bench.add_argument("--n", type=int, default=20_000, help="datasets per target (default: %(default)s)")
    bench.add_argument(
        "--rounds", type=int, default=3, help="rounds; the best time of each is kept (default: %(default)s)"
    )
    bench.add_argument(
        "--datastore",
        dest="targets",
        action="append",
        metavar="TARGET",
        help=(
            "a target to compare, repeatable: ours-reference, ours-copy, upstream, file (upstream's "
            "FileDatastore), a datastore config file (.yaml/.json with 'cls') or a datastore class path; "
            "add @fakes to run it on butler-testkit's registry fakes or @dummy (the default) on "
            "daf_butler's DummyRegistry, e.g. file@fakes (default: ours-reference, ours-copy, upstream)"
        ),
    )
    bench.add_argument(
        "--operations",
        metavar="NAME[,NAME...]",
        type=_measurement_names,
        help=(
            "measure only these, comma-separated: put, get, component-get, exists, mexists, getURI, "
            "trash, emptyTrash, memory, snapshot (snapshot and restore, for datastores that have them) "
            "(default: all; put is always timed, emptyTrash brings trash)"
        ),
    )
    bench.add_argument(
        "--seed", type=int, default=20261123, help="seed of the dataset ids and the mutant sample"
    )
    add_mutation_arguments(bench)

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


def _measurement_names(value: str) -> list[str]:
    # "component-get" spares the shell a quoted space.
    return [name.strip().replace("-", " ") for name in value.split(",") if name.strip()]


def _run_bench(args: argparse.Namespace) -> int:
    if args.suite == "mutation":
        return _run_mutation_bench(args)
    status = 0
    if args.suite in ("all", "datastores"):
        status = _run_datastore_bench(args)
    if status == 0 and args.suite in ("all", "repositories"):
        status = _run_repository_bench(args)
    return status


def _progress(line: str) -> None:
    print(f"... {line}", file=sys.stderr, flush=True)


def _run_repository_bench(args: argparse.Namespace) -> int:
    from .butler._bench import format_repository_report, run_repository_bench

    try:
        report = run_repository_bench(args.repeats, cold_repeats=args.cold_repeats, progress=_progress)
    except ValueError as err:
        print(f"butler-testkit bench: error: {err}", file=sys.stderr)
        return 2
    print()
    print(format_repository_report(report))
    return 0


def _run_datastore_bench(args: argparse.Namespace) -> int:
    # Imported here so that `butler-testkit --help` stays fast.
    from .bench import (
        DEFAULT_TARGETS,
        MEASUREMENTS,
        BenchTargetError,
        format_report,
        resolve_target,
        run_bench,
    )

    try:
        targets = [resolve_target(spec) for spec in (args.targets or DEFAULT_TARGETS)]
        report = run_bench(
            targets,
            n=args.n,
            rounds=args.rounds,
            seed=args.seed,
            progress=_progress,
            measure=args.operations or MEASUREMENTS,
        )
    except ValueError as err:
        print(f"butler-testkit bench: error: {err}", file=sys.stderr)
        return 2
    except BenchTargetError as err:
        print(f"butler-testkit bench: {err}", file=sys.stderr)
        return 1
    print(format_report(report))
    return 0


def _run_mutation_bench(args: argparse.Namespace) -> int:
    from ._mutation_cli import mutation_targets, run_mutation_command

    class_path = args.mutate
    if class_path is None:
        from .conformance import TargetError, target_datastore_class

        targets = mutation_targets(args)
        if not targets:
            print("butler-testkit bench: error: say which class to mutate (--mutate)", file=sys.stderr)
            return 2
        try:
            class_path = target_datastore_class(targets[0])
        except TargetError as err:
            print(f"butler-testkit bench: error: {err}", file=sys.stderr)
            return 2
    return run_mutation_command(args, class_path, progress=_progress)


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
            progress=lambda line: print(f"... {line}", file=sys.stderr, flush=True),
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
