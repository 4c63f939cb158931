"""Benchmark: a test repository on PostgreSQL against upstream's way of isolating tests there."""

from __future__ import annotations

__all__ = ("PostgresRepositoryBenchReport", "run_postgresql_repository_bench")

import contextlib
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy

WARM_LIMIT = 1 / 4
"""Target: our warm per-test cost at most this fraction of upstream's."""


@dataclasses.dataclass(frozen=True)
class PostgresRepositoryBenchReport:
    """Per-test repository setup on PostgreSQL, ours against upstream's, in seconds.

    Attributes
    ----------
    repeats : `int`
        Measurements per figure; each figure is their median.
    ours_alternating : `float`
        ``create_test_repository(registry=...)`` + ``close``, taking turns
        with upstream's way: a test among other work, which gives the copy
        made in the background time to be ready.
    ours_back_to_back : `float`
        The same with nothing in between: the sustained cost, when each test
        waits for the server to copy the template.
    upstream : `float`
        A new namespace through daf_butler's
        ``TemporaryPostgresInstance.patch_butler_config``, ``Butler.makeRepo``
        and a writeable ``Butler.from_config`` on it, closed.
    """

    repeats: int
    ours_alternating: float
    ours_back_to_back: float
    upstream: float

    @property
    def ratio(self) -> float:
        """The conservative ratio: back-to-back ours over upstream."""
        return self.ours_back_to_back / self.upstream

    @property
    def meets_target(self) -> bool:
        """Whether `ratio` is at most `WARM_LIMIT`."""
        return self.ratio <= WARM_LIMIT


class _ServerView:
    """What ``TemporaryPostgresInstance`` needs of a ``testing.postgresql`` server: its URL."""

    def __init__(self, url: str) -> None:
        self._url = url

    def url(self) -> str:
        return self._url


@contextlib.contextmanager
def _upstream_instance(choice: str) -> Iterator[Any]:
    """Yield a ``TemporaryPostgresInstance`` on a database of its own on our server."""
    from lsst.daf.butler.tests.postgresql import TemporaryPostgresInstance

    from ._pg_repository import postgres_registries

    registries = postgres_registries(choice)
    name = registries._new_name("upstream")
    registries._execute(f'CREATE DATABASE "{name}"')
    url = registries.server.database_url(name)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        yield TemporaryPostgresInstance(_ServerView(url), engine)
    finally:
        engine.dispose()
        registries._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_postgresql_repository_bench(
    repeats: int = 15, registry: str = "postgresql", progress: Callable[[str], None] | None = None
) -> PostgresRepositoryBenchReport:
    """Measure per-test repository setup on PostgreSQL against upstream's way, in one run.

    Parameters
    ----------
    repeats : `int`, optional
        Measurements per figure (median reported).
    registry : `str`, optional
        ``"postgresql"`` (this process's throwaway server) or a server URL.
    progress : `~collections.abc.Callable` [[`str`], `None`], optional
        Called with a line of text as each phase starts.

    Returns
    -------
    report : `PostgresRepositoryBenchReport`
        The medians.

    Raises
    ------
    PostgresUnavailableError
        Raised if PostgreSQL cannot be had.
    """
    from lsst.daf.butler import Butler, Config

    from ._registries import resolve_registry
    from ._repository import create_test_repository

    choice = resolve_registry(registry)
    say = progress or (lambda line: None)
    with (
        tempfile.TemporaryDirectory(prefix="btk-pg-bench-") as directory,
        _upstream_instance(choice) as instance,
    ):
        root = Path(directory)

        def ours(name: str) -> None:
            create_test_repository(root / name, run="bench", registry=choice).close()

        def upstream(name: str) -> None:
            config = Config({"datastore": {"cls": "butler_testkit.InMemoryDatastore"}})
            instance.patch_butler_config(config)
            Butler.makeRepo(str(root / name), config=config)
            Butler.from_config(str(root / name), writeable=True, run="bench").close()

        say("warming up (templates, imports, caches)")
        ours("warm-ours")
        upstream("warm-upstream")
        alternating: list[float] = []
        upstream_times: list[float] = []
        say(f"{repeats} of each, taking turns")
        for index in range(repeats):
            pair: list[tuple[list[float], Callable[[str], None], str]] = [
                (alternating, ours, f"ours-{index}"),
                (upstream_times, upstream, f"upstream-{index}"),
            ]
            for times, make, name in pair if index % 2 == 0 else reversed(pair):
                start = time.perf_counter()
                make(name)
                times.append(time.perf_counter() - start)
        say(f"{repeats} of ours, back to back")
        back_to_back: list[float] = []
        for index in range(repeats):
            start = time.perf_counter()
            ours(f"ours-back-{index}")
            back_to_back.append(time.perf_counter() - start)
    return PostgresRepositoryBenchReport(
        repeats=repeats,
        ours_alternating=statistics.median(alternating),
        ours_back_to_back=statistics.median(back_to_back),
        upstream=statistics.median(upstream_times),
    )
