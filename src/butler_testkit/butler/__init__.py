"""Fast, isolated, real Butler repositories for tests."""

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
from ._template import RepositorySpec, cache_directory

__all__ = (
    "REGISTRY_CHOICES",
    "REPOSITORY_KEYWORDS",
    "PostgresRegistries",
    "PostgresServer",
    "PostgresUnavailableError",
    "RepositorySpec",
    "SeededData",
    "Seeding",
    "SetupStats",
    "TestRepository",
    "cache_directory",
    "close_postgres_registries",
    "create_test_repository",
    "find_postgres_binaries",
    "postgres_registries",
    "repository_request",
    "reset_setup_stats",
    "resolve_registry",
    "setup_stats",
    "stop_throwaway_postgres_server",
    "throwaway_postgres_server",
)
