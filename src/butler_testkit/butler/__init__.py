"""Fast, isolated, real Butler repositories for tests."""

from ._repository import TestRepository, create_test_repository
from ._request import REPOSITORY_KEYWORDS, repository_request
from ._seeding import SeededData, Seeding
from ._stats import SetupStats, reset_setup_stats, setup_stats
from ._template import RepositorySpec, cache_directory

__all__ = (
    "REPOSITORY_KEYWORDS",
    "RepositorySpec",
    "SeededData",
    "Seeding",
    "SetupStats",
    "TestRepository",
    "cache_directory",
    "create_test_repository",
    "repository_request",
    "reset_setup_stats",
    "setup_stats",
)
