"""The suites of ``butler-testkit bench``, each declared once.

A `BenchSuite` brings its own command-line options and a function that runs
it and returns its report; the command lists `SUITES` for ``--suite``, adds
every suite's options and runs the chosen ones in order. Adding a suite is
adding an entry (and the module that measures it).

Standard library only at import: ``butler-testkit --help`` builds its parser
from this table, and each suite imports what it measures when it runs.
"""

from __future__ import annotations

__all__ = ("SUITES", "BenchSuite", "Progress", "measurement_names", "suite")

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

from ._operations import MEASUREMENTS

Progress = Callable[[str], None]
"""Called with a line of text as each stage of a suite starts."""


class _ArgumentAdder(Protocol):
    def add_argument(self, *names: str, **options: Any) -> Any: ...


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
    run : `~collections.abc.Callable` [[`argparse.Namespace`, `Progress`], `str`]
        Runs the suite with the parsed options and returns its report.
        Raises `ValueError` for bad options (a usage error) and
        `~butler_testkit.bench.BenchTargetError` when what it measures fails.
    """

    name: str
    summary: str
    add_arguments: Callable[[_ArgumentAdder], None]
    run: Callable[[argparse.Namespace, Progress], str]


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
        "--rounds", type=int, default=3, help="rounds; the best time of each is kept (default: %(default)s)"
    )
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
    group.add_argument("--seed", type=int, default=20261123, help="seed of the dataset ids")


def _run_datastores(args: argparse.Namespace, progress: Progress) -> str:
    from ._datastore_report import format_report
    from ._datastores import run_bench
    from ._targets import DEFAULT_TARGETS, resolve_target

    targets = [resolve_target(spec) for spec in (args.targets or DEFAULT_TARGETS)]
    report = run_bench(
        targets,
        n=args.n,
        rounds=args.rounds,
        seed=args.seed,
        progress=progress,
        measure=args.operations or MEASUREMENTS,
    )
    return format_report(report)


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


def _run_repositories(args: argparse.Namespace, progress: Progress) -> str:
    from ._repositories import format_repository_report, run_repository_bench

    postgresql = None if args.postgresql.lower() == "none" else args.postgresql
    report = run_repository_bench(
        args.repeats, cold_repeats=args.cold_repeats, progress=progress, postgresql=postgresql
    )
    return format_repository_report(report)


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
        "repositories",
        "time a fresh test repository against makeTestRepo + makeTestCollection, warm and in fresh "
        "interpreters, and on PostgreSQL against a new namespace per test",
        _repository_arguments,
        _run_repositories,
    ),
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
