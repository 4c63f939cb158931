"""Fast, isolated, real Butler repositories for tests."""

from ._class_scope import ClassRepositoryMixin, RepositorySnapshot
from ._compat import addDataIdValue, addDatasetType, makeTestCollection, makeTestRepo
from ._pg_repository import PostgresRegistries, close_postgres_registries, postgres_registries
from ._postgresql import (
    PostgresServer,
    PostgresUnavailableError,
    find_postgres_binaries,
    stop_throwaway_postgres_server,
    throwaway_postgres_server,
)
from ._registries import REGISTRY_CHOICES, resolve_registry
from ._repository import TestRepository, create_test_repository
from ._request import REPOSITORY_KEYWORDS, repository_request
from ._seeding import SeededData, Seeding
from ._stats import SetupStats, reset_setup_stats, setup_stats
from ._switch import PATCHED_NAMES, fast_repos, fast_repos_active, turn_off_fast_repos, turn_on_fast_repos
from ._template import RepositorySpec, cache_directory

__all__ = (
    "PATCHED_NAMES",
    "REGISTRY_CHOICES",
    "REPOSITORY_KEYWORDS",
    "ClassRepositoryMixin",
    "PostgresRegistries",
    "PostgresServer",
    "PostgresUnavailableError",
    "RepositorySnapshot",
    "RepositorySpec",
    "SeededData",
    "Seeding",
    "SetupStats",
    "TestRepository",
    "addDataIdValue",
    "addDatasetType",
    "cache_directory",
    "close_postgres_registries",
    "create_test_repository",
    "fast_repos",
    "fast_repos_active",
    "find_postgres_binaries",
    "makeTestCollection",
    "makeTestRepo",
    "postgres_registries",
    "repository_request",
    "reset_setup_stats",
    "resolve_registry",
    "setup_stats",
    "stop_throwaway_postgres_server",
    "throwaway_postgres_server",
    "turn_off_fast_repos",
    "turn_on_fast_repos",
)
