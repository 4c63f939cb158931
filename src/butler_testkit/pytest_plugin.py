"""butler-testkit's pytest plugin: storage classes, data IDs, refs and datastores per test.

Installed with the package (``pytest11`` entry point ``butler_testkit``), so
its fixtures are available in every test without a ``conftest.py``:

- ``butler_universe``: daf_butler's default dimension universe;
- ``butler_storage_classes``: the storage-class catalogue, installed for one
  test and taken back exactly afterwards;
- ``butler_bridge_manager``: a fresh registry bridge manager;
- ``butler_datastore``: a fresh ``InMemoryDatastore``, configured with the
  ``butler_datastore`` marker (and wrapped in an ``InstrumentedDatastore``
  with the ``butler_faults`` marker);
- ``butler_data_ids``: seeded, realistic data IDs and their records;
- ``butler_refs``: resolved ``DatasetRef`` objects from a name;
- ``butler_seed``: the seed of the current test;
- ``butler``, ``butler_repo``, ``butler_repo_factory``: a real, isolated
  Butler per test (configured and seeded with the ``butler_repo`` marker).

Options (``pytest --help``, group "butler-testkit"): ``--butler-seed``,
``--butler-instrument``, ``--butler-conformance-report`` and
``--butler-fast-repos`` (also the ini option ``butler_fast_repos = true``:
every Butler repository the tests create comes from the fast path; see
``butler_testkit.butler.fast_repos``). Markers:
``butler_datastore(**config)``, ``butler_faults(*faults, seed=...)``,
``butler_data_ids(instrument=...)``, ``butler_repo(...)`` and
``butler_capability(name)`` (used by the conformance suite, which prints its
matrix of areas by outcome at the end of a run that included it).

Heavy modules (daf_butler takes about two seconds to import) are imported
only when a fixture is first used, so having the plugin installed costs an
unrelated test run nothing noticeable. Disable it with
``pytest -p no:butler_testkit`` (or ``addopts = ["-p", "no:butler_testkit"]``).
"""

from __future__ import annotations

__all__ = (
    "butler",
    "butler_bridge_manager",
    "butler_data_ids",
    "butler_datastore",
    "butler_refs",
    "butler_repo",
    "butler_repo_factory",
    "butler_seed",
    "butler_storage_classes",
    "butler_universe",
)

import argparse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from . import _seeds
from ._fast_repos_plugin import FastReposPlugin, add_fast_repos_option, fast_repos_wanted

if TYPE_CHECKING:
    from lsst.daf.butler import Butler, DimensionUniverse
    from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager

    from .butler import TestRepository
    from .datastore import FaultPlan, InMemoryDatastore, InstrumentedDatastore
    from .factories import DataIdFactory, RefFactory, StorageClassScope

INSTRUMENT_NAMES = ("GenericCam", "HSC", "LSSTCam")
"""The instrument presets (``butler_testkit.factories.INSTRUMENTS``), named
here so that option parsing imports nothing heavy."""

DEFAULT_INSTRUMENT = "GenericCam"

DATASTORE_MARKER_KEYS = ("name", "isolation", "constraints", "expire_after", "capacity_bytes", "formatters")
"""Configuration keys the ``butler_datastore`` marker accepts."""

CAPABILITY_MARKER = "butler_capability"
"""Marker gating a conformance test on a capability (``butler_testkit.conformance.requires``)."""

CONFORMANCE_PROPERTY = "butler_conformance"
"""``user_properties`` entry by which a conformance test reaches the report (and xdist's controller)."""


_previous_seed = pytest.StashKey[int | None]()
_fast_repos = pytest.StashKey[FastReposPlugin]()


def _seed_option(value: str) -> int:
    try:
        return _seeds.parse_seed(value, "--butler-seed")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the butler-testkit option group.

    Parameters
    ----------
    parser : `pytest.Parser`
        The command-line parser.
    """
    group = parser.getgroup("butler-testkit", "butler-testkit: fixtures for lsst.daf.butler")
    group.addoption(
        "--butler-seed",
        dest="butler_seed",
        default=None,
        type=_seed_option,
        metavar="SEED",
        help=(
            "session seed of butler_data_ids, butler_refs and the unittest mixins; each test derives "
            f"its own from it and its node id (default: ${_seeds.SEED_ENVIRONMENT_VARIABLE} or "
            f"{_seeds.DEFAULT_SEED})"
        ),
    )
    group.addoption(
        "--butler-instrument",
        dest="butler_instrument",
        default=None,
        choices=INSTRUMENT_NAMES,
        help=f"instrument preset of butler_data_ids unless a marker says (default: {DEFAULT_INSTRUMENT})",
    )
    group.addoption(
        "--butler-conformance-report",
        dest="butler_conformance_report",
        default=None,
        metavar="PATH",
        help=(
            "write the datastore conformance report to PATH as Markdown (suffix .md) and JSON (suffix .json)"
        ),
    )
    add_fast_repos_option(group, parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers and the session seed.

    Parameters
    ----------
    config : `pytest.Config`
        The configuration.
    """
    config.addinivalue_line(
        "markers",
        "butler_datastore(**config): configure the butler_datastore fixture's InMemoryDatastore; "
        f"keys {', '.join(DATASTORE_MARKER_KEYS)}, e.g. @pytest.mark.butler_datastore(isolation='reference')",
    )
    config.addinivalue_line(
        "markers",
        "butler_faults(*faults, seed=None): wrap the butler_datastore fixture in an InstrumentedDatastore "
        "whose FaultPlan has these rules, each a mapping of butler_testkit.Fault keywords (or a Fault), "
        "e.g. @pytest.mark.butler_faults({'operations': 'get', 'nth': 2}); the seed of probabilities "
        "defaults to the test's",
    )
    config.addinivalue_line(
        "markers",
        "butler_data_ids(instrument=...): instrument preset of the butler_data_ids and butler_refs "
        f"fixtures ({', '.join(INSTRUMENT_NAMES)})",
    )
    config.addinivalue_line(
        "markers",
        "butler_repo(**spec): what the butler / butler_repo fixtures' repository holds "
        "(instrument, detectors, visits, exposures, tracts, dataset_types, registry_data, "
        "dimension_config, run), e.g. @pytest.mark.butler_repo(instrument='HSC', detectors=3, visits=2)",
    )
    config.addinivalue_line(
        "markers",
        f"{CAPABILITY_MARKER}(name, present=True, param=None): run a conformance test only when the "
        "datastore has (or, with present=False, lacks) a capability; set by "
        "butler_testkit.conformance.requires and lacks",
    )
    config.stash[_previous_seed] = _seeds.set_session_seed(config.getoption("butler_seed"))
    config.pluginmanager.register(_ConformanceReporter(config), "butler_testkit-conformance-report")
    if fast_repos_wanted(config):
        plugin = config.stash[_fast_repos] = FastReposPlugin(config)
        config.pluginmanager.register(plugin, "butler_testkit-fast-repos")
        plugin.turn_on()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Restore the session seed (pytester runs sessions inside sessions).

    Parameters
    ----------
    config : `pytest.Config`
        The configuration.
    """
    if _previous_seed in config.stash:
        _seeds.set_session_seed(config.stash[_previous_seed])
    if _fast_repos in config.stash:
        config.stash[_fast_repos].turn_off()


def pytest_report_header(config: pytest.Config) -> str:
    """Report the session seed, so that a run can be reproduced.

    Parameters
    ----------
    config : `pytest.Config`
        The configuration.

    Returns
    -------
    header : `str`
        The seed line.
    """
    return f"butler-testkit: --butler-seed={_seeds.session_seed(config.getoption('butler_seed'))}"


def _marker_kwargs(request: pytest.FixtureRequest, name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Return a marker's keyword arguments, refusing positional or unknown ones."""
    marker = request.node.get_closest_marker(name)
    if marker is None:
        return {}
    if marker.args:
        raise TypeError(
            f"The {name} marker takes keyword arguments only ({', '.join(allowed)}); got {marker.args!r}."
        )
    unknown = sorted(set(marker.kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"The {name} marker does not know {unknown}; it takes {', '.join(allowed)}.")
    return dict(marker.kwargs)


def _fault_plan(request: pytest.FixtureRequest) -> FaultPlan | None:
    """Build the plan of the ``butler_faults`` marker, or `None` without one."""
    marker = request.node.get_closest_marker("butler_faults")
    if marker is None:
        return None
    from collections.abc import Mapping

    from .datastore import Fault, FaultPlan

    unknown = sorted(set(marker.kwargs) - {"seed"})
    if unknown:
        raise TypeError(f"The butler_faults marker does not know {unknown}; it takes rules and seed=.")
    if not marker.args:
        raise TypeError("The butler_faults marker needs at least one rule (a mapping of Fault keywords).")
    faults = []
    for spec in marker.args:
        if isinstance(spec, Fault):
            faults.append(spec)
        elif isinstance(spec, Mapping):
            try:
                faults.append(Fault(**spec))
            except TypeError as err:
                raise TypeError(f"The butler_faults marker has a bad rule {dict(spec)!r}: {err}") from err
        else:
            raise TypeError(
                f"The butler_faults marker takes mappings of Fault keywords or Fault rules; got {spec!r}."
            )
    seed = marker.kwargs.get("seed")
    return FaultPlan(*faults, seed=_test_seed(request, "faults") if seed is None else seed)


def _test_seed(request: pytest.FixtureRequest, stream: str) -> int:
    session = _seeds.session_seed(request.config.getoption("butler_seed"))
    return _seeds.derive_seed(session, request.node.nodeid, stream)


@pytest.fixture
def butler_seed(request: pytest.FixtureRequest) -> int:
    """Return the seed of this test: the same on every run, in any order, on any xdist worker.

    Derived from the session seed (``--butler-seed``, else
    ``$BUTLER_TESTKIT_SEED``, else a fixed default) and the test's node id.
    ``butler_data_ids`` and ``butler_refs`` each derive their own stream
    from the same two values.
    """
    return _test_seed(request, "test")


@pytest.fixture(scope="session")
def butler_universe() -> DimensionUniverse:
    """Return daf_butler's default ``DimensionUniverse`` (immutable, so shared by the session)."""
    from .factories._data_ids import default_universe

    return default_universe()


@pytest.fixture
def butler_storage_classes() -> Iterator[StorageClassScope]:
    """Install the storage-class catalogue (``Btk*``) for this test only.

    Yields a ``StorageClassScope``: ``scope["BtkImage"]`` is a storage class,
    ``scope.define({...})`` adds more and ``scope.redefine(name, {...})``
    replaces one, for this test only. Afterwards daf_butler's process-wide
    ``StorageClassFactory`` holds exactly what it held before, so no test can
    affect another.
    """
    from .factories import installed_storage_classes

    with installed_storage_classes() as scope:
        yield scope


@pytest.fixture
def butler_bridge_manager(butler_universe: DimensionUniverse) -> DatastoreRegistryBridgeManager:
    """Return a new, empty ``butler_testkit.InMemoryBridgeManager``, shared with nothing else.

    Bridges and opaque tables without SQL, enough for ``InMemoryDatastore``
    and for upstream's ``FileDatastore`` and ``ChainedDatastore``; inspect
    what a datastore recorded through ``bridges``, ``operations`` and
    ``opaque.tables``.
    """
    from .factories._bridges import make_bridge_manager

    return make_bridge_manager()


@pytest.fixture
def butler_datastore(
    request: pytest.FixtureRequest,
    butler_storage_classes: StorageClassScope,
    butler_bridge_manager: DatastoreRegistryBridgeManager,
) -> InMemoryDatastore | InstrumentedDatastore:
    """Return a fresh ``butler_testkit.InMemoryDatastore``, with the catalogue installed.

    Copy isolation by default; configure it with the ``butler_datastore``
    marker, whose keywords are datastore configuration keys (``name``,
    ``isolation``, ``constraints``, ``expire_after``, ``capacity_bytes``,
    ``formatters``)::

        @pytest.mark.butler_datastore(isolation="reference")
        def test_fast(butler_datastore): ...

    With the ``butler_faults`` marker the datastore comes wrapped in an
    ``InstrumentedDatastore`` (its ``.wrapped``), whose ``faults`` plan has
    the marker's rules and whose ``journal`` records every call::

        @pytest.mark.butler_faults({"operations": "get", "nth": 2}, seed=1)
        def test_retry(butler_datastore): ...

    A positional or unknown marker argument is a ``TypeError``; an invalid
    value is the datastore's own ``DatastoreValidationError`` (or the
    ``Fault``'s ``ValueError``).
    """
    from lsst.daf.butler.datastore import Datastore, DatastoreConfig

    from .datastore import InMemoryDatastore, InstrumentedDatastore

    config = _marker_kwargs(request, "butler_datastore", DATASTORE_MARKER_KEYS)
    plan = _fault_plan(request)
    datastore = Datastore.fromConfig(
        DatastoreConfig({**config, "cls": "butler_testkit.InMemoryDatastore"}), butler_bridge_manager
    )
    assert isinstance(datastore, InMemoryDatastore)
    if plan is not None:
        return InstrumentedDatastore.wrap(datastore, faults=plan)
    return datastore


@pytest.fixture
def butler_data_ids(request: pytest.FixtureRequest, butler_universe: DimensionUniverse) -> DataIdFactory:
    """Make seeded, realistic data IDs for this test, and the dimension records behind them.

    A ``DataIdFactory``: ``butler_data_ids.data_id(["instrument", "visit",
    "detector"])`` returns an expanded ``DataCoordinate`` whose values agree
    with each other (a visit keeps its physical filter, band, day and
    pointing); ``butler_data_ids.records()`` (or ``insert_records(registry)``)
    fills a registry. The instrument preset is ``GenericCam`` unless
    ``--butler-instrument`` or the ``butler_data_ids(instrument=...)``
    marker says ``HSC`` or ``LSSTCam``. The same test gets the same values on
    every run; ``--butler-seed`` changes them all.
    """
    from .factories import DataIdFactory

    instrument = _marker_kwargs(request, "butler_data_ids", ("instrument",)).get(
        "instrument", request.config.getoption("butler_instrument") or DEFAULT_INSTRUMENT
    )
    return DataIdFactory(butler_universe, instrument=instrument, seed=_test_seed(request, "data_ids"))


@pytest.fixture
def butler_refs(
    request: pytest.FixtureRequest,
    butler_data_ids: DataIdFactory,
    butler_storage_classes: StorageClassScope,
) -> RefFactory:
    """Make resolved ``DatasetRef`` objects for this test, from as little as a name.

    A ``RefFactory``: ``butler_refs.ref("calexp")`` defines the dataset type
    on first use (``BtkMetrics`` on instrument/visit/detector unless
    ``storage_class=``/``dimensions=`` say otherwise) and returns a ref with a
    new data ID from ``butler_data_ids``, the test's run and a seeded dataset
    id; ``component=``, ``override_storage_class=``, ``data_id=``/keyword
    values, ``run=`` and ``id=`` are also accepted, and
    ``butler_refs.refs(name, n)`` makes several. The catalogue is installed.
    """
    from .factories import RefFactory

    return RefFactory(butler_data_ids, seed=_test_seed(request, "refs"))


def _run_name(request: pytest.FixtureRequest) -> str:
    """Name a run collection after the test: ``test/<test name>``."""
    name = "".join(char if char.isalnum() or char in "_-." else "_" for char in request.node.name)
    return f"test/{name}"


@pytest.fixture
def butler_repo_factory(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    butler_storage_classes: StorageClassScope,
) -> Iterator[Callable[..., TestRepository]]:
    """Make fresh, isolated test repositories; all are closed after the test.

    Call it with the ``butler_repo`` marker's keywords (``instrument``,
    ``detectors``, ``visits``, ``exposures``, ``tracts``, ``dataset_types``,
    ``registry_data``, ``dimension_config``, ``run``); each call returns a new
    ``butler_testkit.butler.TestRepository`` in its own directory. Seeded
    values are drawn from the session seed, so repositories made with the
    same keywords hold the same records (and share one template, which keeps
    them cheap).
    """
    from .butler import create_test_repository, repository_request

    made: list[TestRepository] = []
    session_seed = _seeds.session_seed(request.config.getoption("butler_seed"))

    def make(**keywords: Any) -> TestRepository:
        spec, run = repository_request(keywords, default_run=_run_name(request), seed=session_seed)
        root = tmp_path_factory.mktemp("butler_repo", numbered=True)
        repository = create_test_repository(root, run=run, spec=spec)
        made.append(repository)
        return repository

    yield make
    for repository in made:
        repository.close()


@pytest.fixture
def butler_repo(
    request: pytest.FixtureRequest, butler_repo_factory: Callable[..., TestRepository]
) -> TestRepository:
    """Return a fresh, fully isolated repository for this test, with a Butler on it.

    A ``butler_testkit.butler.TestRepository``: ``.butler`` (writeable, default
    run ``test/<test name>``), ``.root`` (``Butler.from_config(root)`` anywhere
    in the process opens the same registry and sees the same datasets),
    ``.open(run=...)`` for more Butlers, ``.seeded`` for what the
    ``butler_repo`` marker seeded::

        @pytest.mark.butler_repo(instrument="HSC", detectors=3, visits=2,
                                 dataset_types={"calexp": "BtkImage"})
        def test_it(butler_repo): ...

    No other test sees its dimension records, collections, dataset types,
    datasets or datastore records. Made in milliseconds from a template; see
    ``butler_testkit.butler.setup_stats``. Closed after the test, with every
    SQLite connection still open on it.
    """
    from .butler import REPOSITORY_KEYWORDS

    return butler_repo_factory(**_marker_kwargs(request, "butler_repo", REPOSITORY_KEYWORDS))


@pytest.fixture
def butler(butler_repo: TestRepository) -> Butler:
    """Return a real, writeable ``Butler`` on this test's own repository.

    The Butler of ``butler_repo``: SQLite registry, ``InMemoryDatastore``,
    default run ``test/<test name>``, the storage-class catalogue installed,
    seeded by the ``butler_repo`` marker. See ``butler_repo``.
    """
    return butler_repo.butler


class _ConformanceReporter:
    """Collects conformance results; prints the matrix and writes the report.

    The report module is imported with the first conformance result, so a
    run without the suite pays nothing for it. Under xdist the controller
    sees every worker's reports, with their ``user_properties``.
    """

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._worker = hasattr(config, "workerinput")
        self._results: Any = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._worker or not any(name == CONFORMANCE_PROPERTY for name, _ in report.user_properties):
            return
        if self._results is None:
            from .conformance._report import ConformanceResults

            self._results = ConformanceResults()
        self._results.add(report, CONFORMANCE_PROPERTY)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._results is None:
            return
        from .conformance._report import format_matrix

        terminalreporter.write_sep("=", "butler-testkit datastore conformance")
        for line in format_matrix(self._results.suites()):
            terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = self._config.getoption("butler_conformance_report")
        if path is None or self._worker:
            return
        from .conformance._report import write_report

        write_report(path, [] if self._results is None else self._results.suites())
