"""Fast, isolated, real Butler repositories for tests."""

from ._repository import TestRepository, create_test_repository
from ._seeding import SeededData, Seeding
from ._stats import SetupStats, reset_setup_stats, setup_stats
from ._template import RepositorySpec, cache_directory

__all__ = (
    "RepositorySpec",
    "SeededData",
    "Seeding",
    "SetupStats",
    "TestRepository",
    "cache_directory",
    "create_test_repository",
    "reset_setup_stats",
    "setup_stats",
)
