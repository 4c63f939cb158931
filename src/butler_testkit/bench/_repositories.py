"""Benchmark: a test repository against ``makeTestRepo`` + ``makeTestCollection``, and on PostgreSQL.

``butler-testkit bench --suite repositories``. Each figure is measured under
a key (``warm ours``, ``cold upstream``, ``postgresql ours``, ...); `ROWS`
pairs them into the report's rows with the ratio each is held to, so a new
row is a new measurement and an entry there.
"""

from __future__ import annotations

__all__ = (
    "COLD_LIMIT",
    "POSTGRESQL_LIMIT",
    "ROWS",
    "WARM_LIMIT",
    "RepositoryBenchReport",
    "RepositoryRow",
    "format_repository_report",
    "run_repository_bench",
)

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ._pg_repositories import OURS, OURS_BACK_TO_BACK, UPSTREAM, PostgresUnavailable, measure_postgresql

WARM_LIMIT = 1 / 6
"""One more repository in a process: at most this fraction of upstream's cost."""

COLD_LIMIT = 1 / 2
"""The first repository in a process: at most this fraction of upstream's cost."""

POSTGRESQL_LIMIT = 1 / 4
"""One more repository on PostgreSQL: at most this fraction of upstream's new namespace."""

# Each cold measurement runs in a fresh interpreter; imports happen before the
# clock starts, so that only repository setup is timed on both sides.
_COLD_SCRIPT = """
import json, sys, time
from lsst.daf.butler.tests import makeTestCollection, makeTestRepo
from butler_testkit.butler import create_test_repository
which, root = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if which == "upstream":
    makeTestCollection(makeTestRepo(root), uniqueId="bench")
else:
    create_test_repository(root, run="bench").close()
print(json.dumps(time.perf_counter() - start))
"""


@dataclasses.dataclass(frozen=True)
class RepositoryRow:
    """A row of the repository report: our figure against upstream's.

    Parameters
    ----------
    label : `str`
        What the row measures.
    ours, upstream : `str`
        Keys of the two figures in `RepositoryBenchReport.seconds`.
    limit : `float` or `None`
        The largest acceptable ours / upstream, if the row is held to one.
    """

    label: str
    ours: str
    upstream: str
    limit: float | None


ROWS: tuple[RepositoryRow, ...] = (
    RepositoryRow("warm: one more in a process", "warm ours", "warm upstream", WARM_LIMIT),
    RepositoryRow("cold: first in a process (template on disk)", "cold ours", "cold upstream", COLD_LIMIT),
    RepositoryRow(
        "cold: first on a machine (template built)", "cold ours, no template", "cold upstream", None
    ),
    RepositoryRow("postgresql: one more, a test's work between", OURS, UPSTREAM, POSTGRESQL_LIMIT),
    RepositoryRow("postgresql: one more, back to back", OURS_BACK_TO_BACK, UPSTREAM, POSTGRESQL_LIMIT),
)
"""The rows of the report, in order."""


@dataclasses.dataclass(frozen=True)
class RepositoryBenchReport:
    """Per-test repository setup, ours against upstream's, in seconds.

    Attributes
    ----------
    repeats : `int`
        Measurements per figure; each figure is their median.
    cold_repeats : `int`
        Cold measurements per figure (0: not measured, and the cold figures
        are absent).
    seconds : `dict` [`str`, `float`]
        Each figure measured: ``warm ours`` and ``warm upstream``, one more
        repository in a process that has made some already; ``cold ours``
        and ``cold upstream``, the first repository in a fresh process, our
        template already on disk (upstream has no on-disk cache); ``cold
        ours, no template``, the first in a fresh process on a machine
        without our template (it is built first); ``postgresql ours`` and
        ``postgresql upstream``, what a test waits for its repository on
        PostgreSQL to be made and closed, with a small test's work between
        repositories (ours on a template copy, upstream a new namespace);
        ``postgresql ours, back to back``, ours with nothing between.
    notes : `tuple` [`str`, ...]
        Why figures are missing, if some are.
    """

    repeats: int
    cold_repeats: int
    seconds: dict[str, float]
    notes: tuple[str, ...] = ()


def _warm(repeats: int, root: Path) -> tuple[float, float]:
    from lsst.daf.butler.tests import makeTestCollection, makeTestRepo

    from ..butler import create_test_repository

    def ours(index: int) -> None:
        create_test_repository(root / f"ours-{index}", run="bench").close()

    def upstream(index: int) -> None:
        makeTestCollection(makeTestRepo(str(root / f"upstream-{index}")), uniqueId="bench")

    # One of each first, untimed: templates, imports and caches warm up.
    ours(-1)
    upstream(-1)
    ours_times: list[float] = []
    upstream_times: list[float] = []
    for index in range(repeats):
        # Alternate which goes first, so that neither always follows the other.
        pair: list[tuple[list[float], Callable[[int], None]]] = [
            (ours_times, ours),
            (upstream_times, upstream),
        ]
        for times, make in pair if index % 2 == 0 else reversed(pair):
            start = time.perf_counter()
            make(index)
            times.append(time.perf_counter() - start)
    return statistics.median(ours_times), statistics.median(upstream_times)


def _cold(which: str, root: Path, cache: str | None) -> float:
    environment = dict(os.environ)
    if cache is not None:
        environment["BUTLER_TESTKIT_CACHE_DIR"] = cache
    result = subprocess.run(
        [sys.executable, "-c", _COLD_SCRIPT, which, str(root)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Cold {which} measurement failed:\n{result.stderr.strip()}")
    seconds: float = json.loads(result.stdout.strip().splitlines()[-1])
    return seconds


def run_repository_bench(
    repeats: int = 15,
    cold_repeats: int | None = None,
    progress: Callable[[str], None] | None = None,
    postgresql: str | None = "postgresql",
) -> RepositoryBenchReport:
    """Measure per-test repository setup against upstream's, in one run.

    Parameters
    ----------
    repeats : `int`, optional
        Warm measurements per side (SQLite and PostgreSQL).
    cold_repeats : `int`, optional
        Measurements in fresh interpreters per figure; a third of
        ``repeats`` (at least 3) by default, 0 to skip them.
    progress : `~collections.abc.Callable` [[`str`], `None`], optional
        Called with a line of text as each stage starts.
    postgresql : `str` or `None`, optional
        Where the PostgreSQL figures are measured: ``"postgresql"`` (a
        throwaway server this process starts) or a server's URL; `None`
        leaves them out. Where PostgreSQL cannot be had, the report says
        why instead.

    Returns
    -------
    report : `RepositoryBenchReport`
        The medians.

    Raises
    ------
    ValueError
        Raised if ``repeats`` is less than 3, ``cold_repeats`` negative or
        ``postgresql`` no PostgreSQL choice.
    """
    if repeats < 3:
        raise ValueError(f"repeats must be at least 3; got {repeats}.")
    if cold_repeats is None:
        cold_repeats = max(3, repeats // 3)
    if cold_repeats < 0:
        raise ValueError(f"cold repeats must not be negative; got {cold_repeats}.")
    if postgresql is not None:
        from ..butler import resolve_registry

        if resolve_registry(postgresql, source="--postgresql") == "sqlite":
            raise ValueError("--postgresql takes postgresql, a PostgreSQL server's URL or none; got sqlite.")
    say = progress or (lambda line: None)
    with tempfile.TemporaryDirectory(prefix="butler-testkit-bench-repos-") as directory:
        root = Path(directory)
        say(f"timing {repeats} warm repositories each: ours and makeTestRepo + makeTestCollection")
        warm_ours, warm_upstream = _warm(repeats, root / "warm")
        cold: dict[str, list[float]] = {"ours": [], "upstream": [], "no-template": []}
        if cold_repeats:
            say(f"timing {cold_repeats} first-in-process repositories each, in fresh interpreters")
            _cold("ours", root / "prime", None)  # make sure our template is on disk
        for index in range(cold_repeats):
            cold["upstream"].append(_cold("upstream", root / f"cold-upstream-{index}", None))
            cold["ours"].append(_cold("ours", root / f"cold-ours-{index}", None))
            empty_cache = str(root / f"empty-cache-{index}")
            cold["no-template"].append(_cold("ours", root / f"cold-fresh-{index}", empty_cache))
        on_postgresql: dict[str, float] | PostgresUnavailable | None = None
        if postgresql is not None:
            on_postgresql = measure_postgresql(repeats, root / "postgresql", postgresql, say)

    seconds = {"warm ours": warm_ours, "warm upstream": warm_upstream}
    if cold_repeats:
        seconds["cold ours"] = statistics.median(cold["ours"])
        seconds["cold upstream"] = statistics.median(cold["upstream"])
        seconds["cold ours, no template"] = statistics.median(cold["no-template"])
    notes: tuple[str, ...] = ()
    if isinstance(on_postgresql, PostgresUnavailable):
        notes = (f"PostgreSQL not measured: {on_postgresql.reason}",)
    elif on_postgresql is not None:
        seconds.update(on_postgresql)
    return RepositoryBenchReport(repeats, cold_repeats, seconds, notes)


def format_repository_report(report: RepositoryBenchReport) -> str:
    """Render the repository benchmark as a table with its targets.

    Parameters
    ----------
    report : `RepositoryBenchReport`
        What was measured.

    Returns
    -------
    text : `str`
        The table: milliseconds per repository and the ratio ours/upstream,
        with the target each ratio is held to.
    """

    def row(entry: RepositoryRow) -> str:
        ours, upstream = report.seconds.get(entry.ours), report.seconds.get(entry.upstream)
        if ours is None or upstream is None:
            return f"{entry.label:<{_LABEL}}(not measured)"
        ratio = ours / upstream
        limit = entry.limit
        target = f"at most {limit:.2f}: {'met' if ratio <= limit else 'MISSED'}" if limit else "(no target)"
        return (
            f"{entry.label:<{_LABEL}}{ours * 1e3:>9.1f} ms {upstream * 1e3:>9.1f} ms {ratio:>8.3f}   {target}"
        )

    return "\n".join(
        [
            f"Test repository per test (median of {report.repeats} warm, "
            f"{report.cold_repeats} cold in fresh interpreters)",
            f"{'':<{_LABEL}}{'ours':>12} {'upstream':>12} {'ratio':>8}",
            *(row(entry) for entry in ROWS),
            "(upstream = makeTestRepo + makeTestCollection, or on PostgreSQL a new namespace:",
            " TemporaryPostgresInstance.patch_butler_config + Butler.makeRepo + Butler.from_config;",
            " ours = create_test_repository + close; on PostgreSQL, the time a test waits for both,",
            " each repository followed by a small test's work, not counted, or back to back)",
            *report.notes,
        ]
    )


_LABEL = 46
