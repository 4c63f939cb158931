"""Repository templates: built once, on disk, then copied for every test."""

from __future__ import annotations

__all__ = (
    "RepositorySpec",
    "RepositoryTemplate",
    "cache_directory",
    "populate_repository",
    "repository_config",
)

import contextlib
import dataclasses
import functools
import getpass
import hashlib
import importlib.metadata
import json
import os
import pickle
import shutil
import stat
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

from lsst.daf.butler import Butler, ButlerConfig, Config, DimensionConfig
from lsst.daf.butler.direct_butler import DirectButler
from lsst.resources import ResourcePath

from ..datastore import release_shared_state
from ..factories import installed_storage_classes
from ._seeding import SeededData, Seeding
from ._sqlite import TestDatabases
from ._stats import STATS

DATABASE_FILE = "gen3.sqlite3"
CONFIG_FILE = "butler.yaml"
SEEDED_FILE = "seeded.json"
# The expanded configuration, so that opening the template skips reading and
# merging daf_butler's default configuration files (most of the first
# repository's cost in a process).
EXPANDED_CONFIG_FILE = "butler-config.pickle"

#: Environment variable naming the directory where templates are cached.
CACHE_ENVIRONMENT_VARIABLE = "BUTLER_TESTKIT_CACHE_DIR"

# Marks a dimension configuration given inline (as YAML) rather than by location.
_INLINE_PREFIX = "inline-yaml:"

# Bump when the content of a template changes for the same inputs.
_TEMPLATE_FORMAT = 1

# The repository configuration of every test repository: a SQLite registry
# inside the repository and our datastore, shared by every Butler opened on
# the repository so that they all see the same datasets.
_REPOSITORY_CONFIG = {
    "registry": {"db": f"sqlite:///<butlerRoot>/{DATABASE_FILE}"},
    "datastore": {"cls": "butler_testkit.InMemoryDatastore", "shared": True},
}


@dataclasses.dataclass(frozen=True)
class RepositorySpec:
    """What a test repository holds before the test starts.

    Parameters
    ----------
    dimension_config : `str` or `~lsst.daf.butler.DimensionConfig`, optional
        The dimension universe: a configuration or the location (path or
        URI) of one; the default universe if `None`. A configuration object
        is kept as its YAML text.
    registry_data : `tuple` [`str`, ...], optional
        Locations of export files to import into the registry, in order,
        e.g. ``resource://lsst.daf.butler/tests/registry_data/base.yaml``.
    seeding : `Seeding`, optional
        Dimension records and dataset types to add after the registry data.
    seed : `int`, optional
        Seed of the seeded values.
    """

    dimension_config: str | DimensionConfig | None = None
    registry_data: tuple[str, ...] = ()
    seeding: Seeding | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.dimension_config, Config):
            # Hashable, comparable and part of the cache key as text.
            text = self.dimension_config.dump()
            assert text is not None, "dumping to a string always returns it"
            object.__setattr__(self, "dimension_config", _INLINE_PREFIX + text)
        elif self.dimension_config is not None and not isinstance(self.dimension_config, str):
            raise TypeError(
                "dimension_config must be a DimensionConfig or the location of one; "
                f"got {type(self.dimension_config).__name__}."
            )

    def dimension_configuration(self) -> DimensionConfig | None:
        """Return the dimension universe configuration, `None` for the default.

        Returns
        -------
        config : `~lsst.daf.butler.DimensionConfig` or `None`
            The configuration.
        """
        location = self.dimension_config
        if location is None:
            return None
        assert isinstance(location, str)
        if location.startswith(_INLINE_PREFIX):
            return DimensionConfig(Config.fromString(location.removeprefix(_INLINE_PREFIX)))
        return DimensionConfig(location)

    def key(self) -> str:
        """Return the cache key: a digest of everything the template holds.

        Returns
        -------
        key : `str`
            Hex digest of the versions of daf_butler and butler-testkit, the
            template format, and the content of every input file.

        Raises
        ------
        FileNotFoundError
            Raised if an input file does not exist.
        """
        digest = hashlib.sha256()
        parts = {
            "format": _TEMPLATE_FORMAT,
            "daf_butler": _version("lsst-daf-butler"),
            "butler_testkit": _version("butler-testkit"),
            "code": _code_digest(),
            "config": _REPOSITORY_CONFIG,
            "seeding": None if self.seeding is None else self.seeding.key(),
            "seed": self.seed,
        }
        digest.update(json.dumps(parts, sort_keys=True).encode())
        dimension_config = self.dimension_config
        assert dimension_config is None or isinstance(dimension_config, str)
        for location in [dimension_config or "", *self.registry_data]:
            digest.update(location.encode())
            if location and not location.startswith(_INLINE_PREFIX):
                digest.update(_read_bytes(location))
        return digest.hexdigest()[:24]


@functools.cache
def _code_digest() -> str:
    """Digest of the code that decides what a template holds.

    A development install keeps one version number while the factories and
    the seeding change, so the code itself is part of the key.
    """
    package = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for path in sorted([*package.glob("factories/*.py"), *package.glob("butler/*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _read_bytes(location: str) -> bytes:
    uri = ResourcePath(location, forceDirectory=False)
    if not uri.exists():
        raise FileNotFoundError(f"Repository input {location!r} does not exist.")
    return uri.read()


def cache_directory() -> Path:
    """Return the directory holding repository templates.

    Returns
    -------
    directory : `pathlib.Path`
        ``$BUTLER_TESTKIT_CACHE_DIR`` if set, else a per-user directory in the
        system's temporary directory, created private. Templates there are
        read-only and shared by every process (and xdist worker) of every
        run that needs the same one; delete the directory to rebuild them.

    Raises
    ------
    PermissionError
        Raised if the directory (or the per-user directory above it) belongs
        to another user or others can write to it: templates are loaded from
        it, so it must be trusted.
    """
    configured = os.environ.get(CACHE_ENVIRONMENT_VARIABLE)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        _check_private(directory)
        return directory
    user_directory = Path(tempfile.gettempdir()) / f"butler-testkit-{getpass.getuser()}"
    user_directory.mkdir(mode=0o700, exist_ok=True)
    _check_private(user_directory)
    directory = user_directory / "templates"
    directory.mkdir(exist_ok=True)
    return directory


def _check_private(directory: Path) -> None:
    """Refuse a directory another user owns or others can write to."""
    if not hasattr(os, "getuid"):  # pragma: no cover - no ownership to check on Windows
        return
    info = directory.stat()
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(
            f"The butler-testkit template cache {directory} belongs to another user or is writable by "
            f"others, so its templates cannot be trusted; remove it or set ${CACHE_ENVIRONMENT_VARIABLE} "
            "to a directory of your own."
        )


class RepositoryTemplate:
    """A template repository: its files on disk and a Butler open on them.

    Use `for_spec`; each process keeps one template per spec.

    Parameters
    ----------
    spec : `RepositorySpec`
        What the template holds.
    directory : `pathlib.Path`
        Where its (read-only) files are.
    butler : `~lsst.daf.butler.direct_butler.DirectButler`
        A read-only Butler on the template, whose registry managers new test
        repositories clone.
    """

    _by_spec: ClassVar[dict[RepositorySpec, RepositoryTemplate]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, spec: RepositorySpec, directory: Path, butler: DirectButler) -> None:
        self.spec = spec
        self.directory = directory
        self.butler = butler
        seeded = directory / SEEDED_FILE
        self.seeded = SeededData.load(seeded) if seeded.exists() else SeededData()
        # The tables in the template's file, hence in every copy of it, read
        # now, before any test repository adds definitions of its own.
        registry: Any = butler._registry
        self.table_names: frozenset[str] = frozenset(registry._db._metadata._tables)

    @property
    def database(self) -> Path:
        """The template's registry database file."""
        return self.directory / DATABASE_FILE

    @property
    def config_file(self) -> Path:
        """The template's ``butler.yaml``."""
        return self.directory / CONFIG_FILE

    @classmethod
    def for_spec(cls, spec: RepositorySpec, databases: TestDatabases) -> RepositoryTemplate:
        """Return this process's template for ``spec``, loading or building it.

        Parameters
        ----------
        spec : `RepositorySpec`
            What the template must hold.
        databases : `TestDatabases`
            Where to register the SQLite files, so that building is fast.

        Returns
        -------
        template : `RepositoryTemplate`
            The template.
        """
        with cls._lock:
            template = cls._by_spec.get(spec)
            if template is None:
                template = cls._by_spec[spec] = cls._load(spec, databases)
            return template

    @classmethod
    def _load(cls, spec: RepositorySpec, databases: TestDatabases) -> RepositoryTemplate:
        directory = cache_directory() / spec.key()
        if not (directory / CONFIG_FILE).exists():
            _build(spec, directory, databases)
        start = time.perf_counter()
        root = ResourcePath(directory, forceDirectory=True)
        expanded = directory / EXPANDED_CONFIG_FILE
        if expanded.exists():
            with expanded.open("rb") as stream:
                config: ButlerConfig = pickle.load(stream)
            # Written in the directory the template was built in.
            config.configDir = root
            config.configFile = root.join(CONFIG_FILE)
            butler = Butler.from_config(config=config, writeable=False)
        else:
            butler = Butler.from_config(root, writeable=False)
        assert isinstance(butler, DirectButler), "a SQLite repository always gets a DirectButler"
        # Its datastore is never used: test repositories get their own.
        release_shared_state(str(directory))
        STATS.record_template_load(time.perf_counter() - start)
        return cls(spec, directory, butler)

    @classmethod
    def discard_loaded(cls) -> None:
        """Close and forget the templates loaded by this process.

        Their files stay on disk for the next process.
        """
        with cls._lock:
            for template in cls._by_spec.values():
                template.butler.close()
            cls._by_spec.clear()


def _build(spec: RepositorySpec, directory: Path, databases: TestDatabases) -> None:
    """Build the template for ``spec`` and move it into place atomically."""
    start = time.perf_counter()
    directory.parent.mkdir(parents=True, exist_ok=True)
    building = directory.parent / f"building-{uuid.uuid4().hex}"
    building.mkdir()
    database = building / DATABASE_FILE
    databases.register(str(database))
    try:
        root = ResourcePath(building, forceDirectory=True)
        populate_repository(spec, building, Config(_REPOSITORY_CONFIG))
        with (building / EXPANDED_CONFIG_FILE).open("wb") as stream:
            pickle.dump(ButlerConfig(root), stream)
        release_shared_state(str(building))
        databases.close_connections(str(database))
        for path in building.iterdir():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        with contextlib.suppress(OSError):
            # Another process may have won the race; its template is as good.
            os.rename(building, directory)
    finally:
        databases.close_connections(str(database))
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    STATS.record_template_build(time.perf_counter() - start)


def repository_config(registry_url: str | None = None) -> Config:
    """Return the configuration every test repository is made with.

    Parameters
    ----------
    registry_url : `str`, optional
        The registry database's URL; a SQLite file inside the repository if
        `None`.

    Returns
    -------
    config : `~lsst.daf.butler.Config`
        Our datastore, shared by every Butler opened on the repository, and
        the registry database.
    """
    config = Config(_REPOSITORY_CONFIG)
    if registry_url is not None:
        config["registry", "db"] = registry_url
    return config


def populate_repository(spec: RepositorySpec, directory: Path, config: Config) -> None:
    """Make a repository in ``directory`` holding what ``spec`` asks for.

    Parameters
    ----------
    spec : `RepositorySpec`
        Dimension universe, registry data and seeding.
    directory : `pathlib.Path`
        The repository's root; its ``butler.yaml`` is written there, and the
        `SeededData` file when the spec seeds anything.
    config : `~lsst.daf.butler.Config`
        The repository configuration (see `repository_config`).
    """
    root = ResourcePath(directory, forceDirectory=True)
    Butler.makeRepo(
        root, config=config, dimensionConfig=spec.dimension_configuration(), forceConfigRoot=False
    )
    if spec.registry_data or spec.seeding is not None:
        with Butler.from_config(root, writeable=True) as butler, installed_storage_classes():
            for location in spec.registry_data:
                butler.import_(filename=location, without_datastore=True)
            if spec.seeding is not None:
                spec.seeding.apply(butler, spec.seed).save(directory / SEEDED_FILE)
