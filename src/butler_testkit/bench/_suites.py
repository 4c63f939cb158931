"""The suites of ``butler-testkit bench``, each declared once.

A `BenchSuite` brings its own command-line options and a function that runs
it and returns its report; the command lists `SUITES` for ``--suite``, adds
every suite's options and runs the chosen ones in order. Adding a suite is
adding an entry (and the module that measures it).

Standard library only at import: ``butler-testkit --help`` builds its parser
from this table, and each suite imports what it measures when it runs.
"""

from __future__ import annotations

__all__ = (
    "SUITES",
    "BenchSuite",
    "Progress",
    "SuiteResult",
    "add_common_arguments",
    "measurement_names",
    "suite",
)

import argparse
import dataclasses
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ._mutation_suite import MUTATION_SUMMARY, add_mutation_arguments, run_mutation_suite
from ._operations import MEASUREMENTS

Progress = Callable[[str], None]
"""Called with a line of text as each stage of a suite starts."""


class _ArgumentAdder(Protocol):
    def add_argument(self, *names: str, **options: Any) -> Any: ...


@dataclasses.dataclass(frozen=True)
class SuiteResult:
    """What a suite's run gives the command: its report and whether it passed.

    Parameters
    ----------
    text : `str`
        The report, printed as it is.
    ok : `bool`, optional
        `False` makes the command exit with status 1 (the downstream suite
        fails this way when a test that passes as the package's maintainers
        run it fails with the switch).
    """

    text: str
    ok: bool = True


@dataclasses.dataclass(frozen=True)
class BenchSuite:
    """One suite of ``butler-testkit bench``.

    Parameters
    ----------
    name : `str`
        Its ``--suite`` value.
    summary : `str`
        One line for ``--help``.
    add_arguments : `~collections.abc.Callable`
        Adds the suite's own options to an argument group.
    run : `~collections.abc.Callable` [[`argparse.Namespace`, `Progress`], `SuiteResult`]
        Runs the suite with the parsed options and returns its report.
        Raises `ValueError` for bad options (a usage error) and
        `~butler_testkit.bench.BenchTargetError` when what it measures fails.
    in_all : `bool`, optional
        Whether ``--suite all`` (the default) runs it; a suite that installs
        and runs another package's tests runs only when named.
    """

    name: str
    summary: str
    add_arguments: Callable[[_ArgumentAdder], None]
    run: Callable[[argparse.Namespace, Progress], SuiteResult]
    in_all: bool = True


def add_common_arguments(group: _ArgumentAdder) -> None:
    """Add the options several suites read, each reading them its own way.

    Parameters
    ----------
    group : argument group
        Where to add them.
    """
    group.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="datastores and objects: rounds, the best time of each kept (default: 3 and 5); "
        "downstream: A B B A rounds, 0 for a profile alone (default: 1)",
    )


def measurement_names(value: str) -> list[str]:
    """Split ``--operations``: comma-separated names, a hyphen standing for a space.

    Parameters
    ----------
    value : `str`
        The option's value, e.g. ``component-get,exists``.

    Returns
    -------
    names : `list` [`str`]
        The names, e.g. ``["component get", "exists"]``.
    """
    # "component-get" spares the shell a quoted space.
    return [name.strip().replace("-", " ") for name in value.split(",") if name.strip()]


def _datastore_arguments(group: _ArgumentAdder) -> None:
    measurements = ", ".join(name.replace(" ", "-") for name in MEASUREMENTS)
    group.add_argument("--n", type=int, default=20_000, help="datasets per target (default: %(default)s)")
    group.add_argument(
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
    group.add_argument(
        "--operations",
        metavar="NAME[,NAME...]",
        type=measurement_names,
        help=(
            f"measure only these, comma-separated: {measurements} (snapshot: snapshot and restore, for "
            "datastores that have them) (default: all; put is always timed, emptyTrash brings trash)"
        ),
    )
    group.add_argument(
        "--seed",
        type=int,
        default=20261123,
        help="seed of the dataset ids (and of the mutation suite's sample)",
    )


def _run_datastores(args: argparse.Namespace, progress: Progress) -> SuiteResult:
    from ._datastore_report import format_report
    from ._datastores import run_bench
    from ._targets import DEFAULT_TARGETS, resolve_target

    targets = [resolve_target(spec) for spec in (args.targets or DEFAULT_TARGETS)]
    report = run_bench(
        targets,
        n=args.n,
        rounds=3 if args.rounds is None else args.rounds,
        seed=args.seed,
        progress=progress,
        measure=args.operations or MEASUREMENTS,
    )
    return SuiteResult(format_report(report))


def _object_arguments(group: _ArgumentAdder) -> None:
    group.add_argument(
        "--objects-n",
        type=int,
        default=2000,
        help="datasets of each small kind of object per round (default: %(default)s)",
    )
    group.add_argument(
        "--array-n", type=int, default=64, help="1 MiB arrays stored per round (default: %(default)s)"
    )


def _run_objects(args: argparse.Namespace, progress: Progress) -> SuiteResult:
    from ._objects import format_object_report, run_object_bench

    rounds = 5 if args.rounds is None else args.rounds
    report = run_object_bench(args.objects_n, args.array_n, rounds, progress=progress)
    return SuiteResult(format_object_report(report))


def _repository_arguments(group: _ArgumentAdder) -> None:
    group.add_argument(
        "--repeats", type=int, default=15, help="repositories timed per side, warm (default: %(default)s)"
    )
    group.add_argument(
        "--cold-repeats",
        type=int,
        default=None,
        help="first-in-process repositories timed per side in fresh interpreters; 0 skips them "
        "(default: a third of --repeats, at least 3)",
    )
    group.add_argument(
        "--postgresql",
        default="postgresql",
        metavar="WHERE",
        help="where the PostgreSQL rows are measured: postgresql (a throwaway server), a server's URL, "
        "or none to leave them out (default: %(default)s)",
    )


def _run_repositories(args: argparse.Namespace, progress: Progress) -> SuiteResult:
    from ._repositories import format_repository_report, run_repository_bench

    postgresql = None if args.postgresql.lower() == "none" else args.postgresql
    report = run_repository_bench(
        args.repeats, cold_repeats=args.cold_repeats, progress=progress, postgresql=postgresql
    )
    return SuiteResult(format_repository_report(report))


def _downstream_arguments(group: _ArgumentAdder) -> None:
    group.add_argument("--package", default="lsst-pipe-base", help="lsst-pipe-base or lsst-ctrl-mpexec")
    group.add_argument("--package-version", help="its version (default: the one the table names)")
    group.add_argument("--python", help="its interpreter (default: the oldest Python it supports found)")
    group.add_argument(
        "--repo", type=Path, help="a checkout or git directory of its repository, for tests/config etc."
    )
    group.add_argument("--ref", help="the commit of --repo to read (default: the release's tag, else HEAD)")
    group.add_argument("--workers", default="auto", help="pytest-xdist -n of each run (default: auto)")
    group.add_argument("--a-args", help="mode A's own pytest arguments (default: -p no:butler_testkit)")
    group.add_argument(
        "--b-args",
        help="mode B's own pytest arguments, e.g. --b-args='-p no:cacheprovider' or --b-args=--x "
        "(default: --butler-fast-repos)",
    )
    group.add_argument(
        "--files",
        nargs="+",
        default=(),
        metavar="PATTERN",
        help="run only the selected files matching these patterns, e.g. 'test_config_*'",
    )
    group.add_argument("--a-only", action="store_true", help="run mode A alone: the maintainers' baseline")
    group.add_argument(
        "--profile", action="store_true", help="add one profiled pass per mode, in one process"
    )
    group.add_argument("--cache-dir", type=Path, help="where environments are kept (default: ~/.cache/...)")
    group.add_argument("--keep", action="store_true", help="keep the assembled tests and print where")


def _run_downstream(args: argparse.Namespace, progress: Progress) -> SuiteResult:
    from . import _downstream as downstream

    options = downstream.DownstreamOptions(
        package=downstream.resolve_package(args.package, args.package_version),
        python=args.python,
        repo=args.repo,
        ref=args.ref,
        workers=args.workers,
        rounds=1 if args.rounds is None else args.rounds,
        a_args=tuple(shlex.split(args.a_args)) if args.a_args is not None else ("-p", "no:butler_testkit"),
        b_args=tuple(shlex.split(args.b_args)) if args.b_args is not None else ("--butler-fast-repos",),
        a_only=args.a_only,
        profile=args.profile,
        cache_dir=args.cache_dir or downstream.default_cache_dir(),
        keep=args.keep,
        only=tuple(args.files),
    )
    try:
        report = downstream.run_downstream_bench(options, progress=progress)
    except downstream.DownstreamError as err:
        # The suite could not be run at all: say why, as for a broken target.
        from ._targets import BenchTargetError

        raise BenchTargetError(str(err)) from err
    return SuiteResult(downstream.format_downstream_report(report), ok=report.ok)


def _run_mutation(args: argparse.Namespace, progress: Progress) -> SuiteResult:
    from ._mutation_runner import MutationRunError
    from ._targets import BenchTargetError

    try:
        return SuiteResult(run_mutation_suite(args, progress))
    except MutationRunError as err:
        # The suite could not judge the mutants: say why, as for a broken target.
        raise BenchTargetError(str(err)) from err


SUITES: tuple[BenchSuite, ...] = (
    BenchSuite(
        "datastores",
        "measure put, get, component get, exists, mexists, getURI, bulk trash and emptyTrash, and the "
        "memory each stored dataset costs, for several datastores in one process, interleaved; print "
        "ratios against the first target and a linearity check (cost at N against N/10)",
        _datastore_arguments,
        _run_datastores,
    ),
    BenchSuite(
        "objects",
        "time put and get of a tiny dict, a metrics-like nested dict and a 1 MiB array in every isolation "
        "mode of our datastore against upstream's, beside what copying the array costs at least",
        _object_arguments,
        _run_objects,
    ),
    BenchSuite(
        "repositories",
        "time a fresh test repository against makeTestRepo + makeTestCollection, warm and in fresh "
        "interpreters, and on PostgreSQL against a new namespace per test",
        _repository_arguments,
        _run_repositories,
    ),
    BenchSuite(
        "downstream",
        "install a downstream package (lsst-pipe-base by default) in an environment of its own and run "
        "its own tests that make Butler repositories as its maintainers do (A) and with "
        "--butler-fast-repos (B), alternating A B B A; print outcomes, wall times, their ratio and every "
        "test whose outcome differs (run only when named)",
        _downstream_arguments,
        _run_downstream,
        in_all=False,
    ),
    BenchSuite("mutation", MUTATION_SUMMARY, add_mutation_arguments, _run_mutation, in_all=False),
)
"""Every suite, in the order ``--suite all`` runs them."""


def suite(name: str) -> BenchSuite:
    """Return the suite of a name.

    Parameters
    ----------
    name : `str`
        A `BenchSuite.name`.

    Returns
    -------
    suite : `BenchSuite`
        Its entry in `SUITES`.

    Raises
    ------
    KeyError
        Raised for a name that is no suite.
    """
    for entry in SUITES:
        if entry.name == name:
            return entry
    raise KeyError(f"No benchmark suite is named {name!r}; the suites are {[s.name for s in SUITES]}.")
