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
  Butler per test (configured and seeded with the ``butler_repo`` marker);
- ``butler_registry``: where those repositories keep their registry
  (``sqlite``, ``postgresql`` or a server URL); override it to choose
  per test, or parametrize it to run tests on both engines.

Options (``pytest --help``, group "butler-testkit"): ``--butler-seed``,
``--butler-instrument``, ``--butler-registry``, ``--butler-fast-repos``
(also the ini option ``butler_fast_repos = true``: every Butler repository
the tests create comes from the fast path; see
``butler_testkit.butler.fast_repos``) and ``--butler-conformance-report``.
Markers:
``butler_datastore(**config)``, ``butler_faults(*faults, seed=...)``,
``butler_data_ids(instrument=...)``, ``butler_repo(...)`` and
``butler_capability(name)`` (used by the conformance suite, whose reporter
this plugin registers: it prints the matrix of areas by outcome at the end of
a run that included it).

The fixtures are thin: the options and markers come from one table
(``butler_testkit.engine.OPTIONS``), and each fixture asks the test's
``butler_testkit.engine.ButlerTestEngine`` for its object, as the unittest
mixins do.

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
    "butler_registry",
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
from .engine import (
    MARKERS,
    OPTIONS,
    Option,
    configure_session,
    option,
    options_from_markers,
    restore_session,
    session_options,
)

if TYPE_CHECKING:
    from lsst.daf.butler import Butler, DimensionUniverse
    from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager

    from ._pytest_fast_repos import FastReposPlugin
    from .butler import TestRepository
    from .datastore import InMemoryDatastore, InstrumentedDatastore
    from .engine import ButlerTestEngine
    from .factories import DataIdFactory, RefFactory, StorageClassScope

_previous_session = pytest.StashKey[dict[str, Any]]()


_fast_repos: pytest.StashKey[FastReposPlugin] = pytest.StashKey()


def _argument_type(entry: Option) -> Callable[[str], Any]:
    """Validate a command-line value when pytest parses it, so that a bad one is a usage error."""

    def parse(value: str) -> Any:
        try:
            entry.parse(value, entry.cli or entry.name)
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return value

    return parse


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the butler-testkit option group: every option of the table with a command-line or ini form.

    Parameters
    ----------
    parser : `pytest.Parser`
        The command-line parser.
    """
    group = parser.getgroup("butler-testkit", "butler-testkit: fixtures for lsst.daf.butler")
    for entry in OPTIONS:
        if entry.cli is not None:
            if entry.flag:
                group.addoption(
                    entry.cli, dest=entry.dest, action="store_true", default=None, help=entry.help
                )
            else:
                group.addoption(
                    entry.cli,
                    dest=entry.dest,
                    default=None,
                    type=_argument_type(entry),
                    choices=entry.choices,
                    metavar=entry.metavar,
                    help=entry.help,
                )
        if entry.ini is not None and entry.flag:
            parser.addini(entry.ini, entry.help, type="bool", default=False)
        elif entry.ini is not None:
            parser.addini(entry.ini, entry.help, type="string", default="")


def _session_given(config: pytest.Config) -> dict[str, tuple[object, str]]:
    """Return the session-wide values of the run: the command line, else the ini file."""
    given: dict[str, tuple[object, str]] = {}
    for entry in OPTIONS:
        if entry.cli is not None and config.getoption(entry.dest) is not None:
            given[entry.name] = (config.getoption(entry.dest), entry.cli)
        elif entry.ini is not None and config.getini(entry.ini) not in (False, ""):
            given[entry.name] = (config.getini(entry.ini), f"the ini option {entry.ini}")
    return given


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers, the session's options and the conformance reporter.

    Parameters
    ----------
    config : `pytest.Config`
        The configuration.
    """
    for marker in MARKERS:
        config.addinivalue_line("markers", f"{marker.signature}: {marker.help}")
    config.stash[_previous_session] = configure_session(_session_given(config))
    from .conformance import ConformanceReporter

    config.pluginmanager.register(ConformanceReporter(config), "butler_testkit-conformance-report")
    if session_options().get("fast_repos"):
        from ._pytest_fast_repos import FastReposPlugin

        plugin = config.stash[_fast_repos] = FastReposPlugin(config)
        config.pluginmanager.register(plugin, "butler_testkit-fast-repos")
        plugin.turn_on()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Restore the session's options (pytester runs sessions inside sessions).

    Parameters
    ----------
    config : `pytest.Config`
        The configuration.
    """
    if _previous_session in config.stash:
        previous = config.stash[_previous_session]
        restore_session(previous)
    if _fast_repos in config.stash:
        config.stash[_fast_repos].turn_off()


def pytest_report_header(config: pytest.Config) -> str:
    """Report the session seed (and registry), so that a run can be reproduced.

    Parameters
    ----------
    config : `pytest.Config`
        The configuration.

    Returns
    -------
    header : `str`
        The seed line, with the registry when one was chosen.
    """
    options = session_options()
    header = f"butler-testkit: --butler-seed={_seeds.session_seed(options.get('seed'))}"
    if options.get("registry") is not None:
        header += f" --butler-registry={_shown_registry(options['registry'])}"
    return header


def _shown_registry(registry: str) -> str:
    """Return a registry choice as a header may show it: a URL without its password."""
    if "://" not in registry:
        return registry
    import sqlalchemy

    return sqlalchemy.engine.make_url(registry).render_as_string(hide_password=True)


def _find_marker(
    request: pytest.FixtureRequest,
) -> Callable[[str], tuple[tuple[Any, ...], dict[str, Any]] | None]:
    def find(name: str) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        marker = request.node.get_closest_marker(name)
        return None if marker is None else (marker.args, dict(marker.kwargs))

    return find


@pytest.fixture
def _butler_engine(request: pytest.FixtureRequest) -> ButlerTestEngine:
    """Return the engine behind this test's butler-testkit fixtures, with its markers read."""
    from .engine import ButlerTestEngine

    given = options_from_markers(_find_marker(request))
    return ButlerTestEngine.for_test(request.node.nodeid, request.node.name, given)


@pytest.fixture
def butler_seed(_butler_engine: ButlerTestEngine) -> int:
    """Return the seed of this test: the same on every run, in any order, on any xdist worker.

    Derived from the session seed (``--butler-seed``, else
    ``$BUTLER_TESTKIT_SEED``, else a fixed default) and the test's node id.
    ``butler_data_ids`` and ``butler_refs`` each derive their own stream
    from the same two values.
    """
    return _butler_engine.seed("test")


@pytest.fixture(scope="session")
def butler_universe() -> DimensionUniverse:
    """Return daf_butler's default ``DimensionUniverse`` (immutable, so shared by the session)."""
    from .engine import ButlerTestEngine

    return ButlerTestEngine.universe()


@pytest.fixture
def butler_storage_classes(_butler_engine: ButlerTestEngine) -> Iterator[StorageClassScope]:
    """Install the storage-class catalogue (``Btk*``) for this test only.

    Yields a ``StorageClassScope``: ``scope["BtkImage"]`` is a storage class,
    ``scope.define({...})`` adds more and ``scope.redefine(name, {...})``
    replaces one, for this test only. Afterwards daf_butler's process-wide
    ``StorageClassFactory`` holds exactly what it held before, so no test can
    affect another.
    """
    with _butler_engine.storage_classes() as scope:
        yield scope


@pytest.fixture
def butler_bridge_manager(_butler_engine: ButlerTestEngine) -> DatastoreRegistryBridgeManager:
    """Return a new, empty ``butler_testkit.InMemoryBridgeManager``, shared with nothing else.

    Bridges and opaque tables without SQL, enough for ``InMemoryDatastore``
    and for upstream's ``FileDatastore`` and ``ChainedDatastore``; inspect
    what a datastore recorded through ``bridges``, ``operations`` and
    ``opaque.tables``.
    """
    return _butler_engine.bridge_manager()


@pytest.fixture
def butler_datastore(
    _butler_engine: ButlerTestEngine,
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
    return _butler_engine.datastore(butler_bridge_manager)


@pytest.fixture
def butler_data_ids(_butler_engine: ButlerTestEngine, butler_universe: DimensionUniverse) -> DataIdFactory:
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
    return _butler_engine.data_ids(butler_universe)


@pytest.fixture
def butler_refs(
    _butler_engine: ButlerTestEngine,
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
    return _butler_engine.refs(butler_data_ids)


@pytest.fixture
def butler_registry(_butler_engine: ButlerTestEngine) -> str:
    """Return where this test's repositories keep their registry.

    ``"sqlite"`` (a file in each repository), ``"postgresql"`` (a database
    each, on a throwaway server this process starts) or the URL of a
    PostgreSQL server: the ``butler_repo`` marker's ``registry``, else
    ``--butler-registry``, else ``$BUTLER_TESTKIT_REGISTRY``, else
    ``sqlite``. ``butler``, ``butler_repo`` and ``butler_repo_factory`` use
    it; override it to choose otherwise, for instance in a ``conftest.py``
    to run every repository test on both engines::

        @pytest.fixture(params=["sqlite", "postgresql"])
        def butler_registry(request):
            return request.param

    A test whose repository needs PostgreSQL is skipped, with the reason and
    how to install it, where PostgreSQL cannot be had.
    """
    return _butler_engine.registry


@pytest.fixture
def butler_repo_factory(
    _butler_engine: ButlerTestEngine,
    tmp_path_factory: pytest.TempPathFactory,
    butler_storage_classes: StorageClassScope,
    butler_registry: str,
) -> Iterator[Callable[..., TestRepository]]:
    """Make fresh, isolated test repositories; all are closed after the test.

    Call it with the ``butler_repo`` marker's keywords (``instrument``,
    ``detectors``, ``visits``, ``exposures``, ``tracts``, ``dataset_types``,
    ``registry_data``, ``dimension_config``, ``run``, and ``registry``, which
    defaults to ``butler_registry``); each call returns a new
    ``butler_testkit.butler.TestRepository`` in its own directory. Seeded
    values are drawn from the session seed, so repositories made with the
    same keywords hold the same records (and share one template, which keeps
    them cheap). Where a repository on PostgreSQL cannot be had, the test is
    skipped with the reason.
    """
    from .butler import PostgresUnavailableError

    made: list[TestRepository] = []

    def make(**keywords: Any) -> TestRepository:
        registry = butler_registry
        if "registry" in keywords:
            registry = option("registry").parse(keywords.pop("registry"), "butler_repo_factory(registry=...)")
        try:
            repository = _butler_engine.repository(
                tmp_path_factory.mktemp("butler_repo", numbered=True), keywords, registry=registry
            )
        except PostgresUnavailableError as err:
            pytest.skip(str(err))
        made.append(repository)
        return repository

    yield make
    for repository in made:
        repository.close()


@pytest.fixture
def butler_repo(
    _butler_engine: ButlerTestEngine, butler_repo_factory: Callable[..., TestRepository]
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
    ``butler_testkit.butler.setup_stats``. Its registry is where
    ``butler_registry`` says (the marker's ``registry=``). Closed after the
    test, with every connection still open on it.
    """
    return butler_repo_factory(**_butler_engine.options["repository"])


@pytest.fixture
def butler(butler_repo: TestRepository) -> Butler:
    """Return a real, writeable ``Butler`` on this test's own repository.

    The Butler of ``butler_repo``: its registry where ``butler_registry``
    says (SQLite by default), ``InMemoryDatastore``, default run
    ``test/<test name>``, the storage-class catalogue installed, seeded by
    the ``butler_repo`` marker. See ``butler_repo``.
    """
    return butler_repo.butler
