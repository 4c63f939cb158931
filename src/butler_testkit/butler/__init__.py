"""Fast, isolated, real Butler repositories for tests."""

from ._bench import RepositoryBenchReport, format_repository_report, run_repository_bench
from ._repository import TestRepository, create_test_repository
from ._request import REPOSITORY_KEYWORDS, repository_request
from ._seeding import SeededData, Seeding
from ._stats import SetupStats, reset_setup_stats, setup_stats
from ._template import RepositorySpec, cache_directory

__all__ = (
    "REPOSITORY_KEYWORDS",
    "RepositoryBenchReport",
    "RepositorySpec",
    "SeededData",
    "Seeding",
    "SetupStats",
    "TestRepository",
    "cache_directory",
    "create_test_repository",
    "format_repository_report",
    "repository_request",
    "reset_setup_stats",
    "run_repository_bench",
    "setup_stats",
)
