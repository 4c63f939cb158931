"""Benchmark: a test repository on PostgreSQL against upstream's way of isolating tests there.

Upstream's way (daf_butler's own PostgreSQL tests) is a new namespace per
test: ``TemporaryPostgresInstance.patch_butler_config``, ``Butler.makeRepo``
and a writeable ``Butler.from_config``, which builds the whole schema again.
Ours is ``create_test_repository(registry=...)``: a copy of a template
database made ahead in the background. Both run on the same server, with
the same datastore (ours, in memory), taking turns.
"""

from __future__ import annotations

__all__ = ("PostgresUnavailable", "measure_postgresql", "run_test_workload")

import contextlib
import dataclasses
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy
from lsst.daf.butler import Butler, Config, DatasetType

from ..butler import PostgresUnavailableError, create_test_repository, postgres_registries, resolve_registry

OURS = "postgresql ours"
"""Key of our figure with a test's work between repositories."""

OURS_BACK_TO_BACK = "postgresql ours, back to back"
"""Key of our figure with nothing between repositories."""

UPSTREAM = "postgresql upstream"
"""Key of upstream's figure (with the same work between, which it does not depend on)."""

_DATASETS = 3


@dataclasses.dataclass(frozen=True)
class PostgresUnavailable:
    """Why the PostgreSQL figures were not measured.

    Parameters
    ----------
    reason : `str`
        What was missing, and how to get it.
    """

    reason: str


def run_test_workload(butler: Butler) -> None:
    """Do what a small downstream test does with its repository.

    Parameters
    ----------
    butler : `~lsst.daf.butler.Butler`
        A writeable Butler with a default run, on an empty repository.

    Notes
    -----
    Records, a dataset type, three datasets put, read back and queried:
    the same on both sides, and not timed. Between two repositories it is
    the time a test gives the server to prepare the next one.
    """
    registry = butler.registry
    registry.insertDimensionData("instrument", {"name": "BenchCam", "detector_max": 8})
    registry.insertDimensionData(
        "detector",
        *({"instrument": "BenchCam", "id": number, "full_name": f"d{number}"} for number in range(_DATASETS)),
    )
    dataset_type = DatasetType(
        "bench_counts", butler.dimensions.conform(["instrument", "detector"]), "StructuredDataDict"
    )
    registry.registerDatasetType(dataset_type)
    refs = [
        butler.put({"detector": number}, dataset_type, instrument="BenchCam", detector=number)
        for number in range(_DATASETS)
    ]
    if [butler.get(ref) for ref in refs] != [{"detector": number} for number in range(_DATASETS)]:
        raise RuntimeError("The benchmark's test read back something else than it wrote.")
    if len(butler.query_datasets(dataset_type)) != _DATASETS:
        raise RuntimeError("The benchmark's test found another number of datasets than it wrote.")


class _ServerView:
    """What ``TemporaryPostgresInstance`` needs of a ``testing.postgresql`` server: its URL."""

    def __init__(self, url: str) -> None:
        self._url = url

    def url(self) -> str:
        return self._url


@contextlib.contextmanager
def _upstream_instance(server_url: str) -> Iterator[Any]:
    """Yield a ``TemporaryPostgresInstance`` on a database of its own, dropped at the end."""
    from lsst.daf.butler.tests.postgresql import TemporaryPostgresInstance

    name = f"btk_bench_upstream_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool)
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = sqlalchemy.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        yield TemporaryPostgresInstance(_ServerView(url), engine)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure_postgresql(
    repeats: int, root: Path, registry: str = "postgresql", progress: Callable[[str], None] | None = None
) -> dict[str, float] | PostgresUnavailable:
    """Measure per-test repository setup on PostgreSQL against upstream's way, in one run.

    Parameters
    ----------
    repeats : `int`
        Repositories timed per figure (median reported).
    root : `pathlib.Path`
        An empty directory for the repositories.
    registry : `str`, optional
        ``"postgresql"`` (this process's throwaway server) or a server URL.
    progress : `~collections.abc.Callable` [[`str`], `None`], optional
        Called with a line of text as each stage starts.

    Returns
    -------
    seconds : `dict` [`str`, `float`] or `PostgresUnavailable`
        Seconds per test under `OURS`, `OURS_BACK_TO_BACK` and `UPSTREAM`:
        what a test waits for its repository to be made and, after it, to
        be closed (the work between is not counted); or why PostgreSQL
        could not be had.

    Notes
    -----
    First each side makes one repository, untimed (the server, the
    template, imports). Then the two take turns, each repository followed
    by `run_test_workload` as a test would; then ours, back to back, with nothing
    in between: the worst case, a suite of tests that do nothing with
    their repositories.
    """
    say = progress or (lambda line: None)
    choice = resolve_registry(registry, source="--postgresql")
    try:
        server_url = postgres_registries(choice).server.url
    except PostgresUnavailableError as err:
        return PostgresUnavailable(str(err))
    with _upstream_instance(server_url) as instance:

        def ours(name: str, work: bool) -> float:
            start = time.perf_counter()
            repository = create_test_repository(root / name, run="bench", registry=choice)
            made = time.perf_counter() - start
            if work:
                run_test_workload(repository.butler)
            start = time.perf_counter()
            repository.close()
            return made + time.perf_counter() - start

        def upstream(name: str, work: bool) -> float:
            start = time.perf_counter()
            config = Config({"datastore": {"cls": "butler_testkit.InMemoryDatastore"}})
            instance.patch_butler_config(config)
            Butler.makeRepo(str(root / name), config=config)
            butler = Butler.from_config(str(root / name), writeable=True, run="bench")
            made = time.perf_counter() - start
            if work:
                run_test_workload(butler)
            start = time.perf_counter()
            butler.close()
            return made + time.perf_counter() - start

        say("PostgreSQL: warming up (server, template, imports)")
        ours("pg-warm-ours", True)
        upstream("pg-warm-upstream", True)
        say(f"PostgreSQL: timing {repeats} repositories each, taking turns, a test's work after each")
        figures: dict[str, list[float]] = {OURS: [], UPSTREAM: [], OURS_BACK_TO_BACK: []}
        for index in range(repeats):
            pair: list[tuple[str, Callable[[str, bool], float]]] = [(OURS, ours), (UPSTREAM, upstream)]
            for key, make in pair if index % 2 == 0 else reversed(pair):
                figures[key].append(make(f"pg-{key.split()[1]}-{index}", True))
        say(f"PostgreSQL: timing {repeats} of ours back to back")
        for index in range(repeats):
            figures[OURS_BACK_TO_BACK].append(ours(f"pg-back-{index}", False))
    return {key: statistics.median(values) for key, values in figures.items()}
