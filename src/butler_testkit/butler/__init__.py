"""Fast, isolated, real Butler repositories for tests."""

from ._class_scope import ClassRepositoryMixin, RepositorySnapshot
from ._compat import addDataIdValue, addDatasetType, makeTestCollection, makeTestRepo
from ._repository import TestRepository, create_test_repository
from ._seeding import REPOSITORY_KEYWORDS, SeededData, Seeding, repository_request
from ._stats import SetupStats, reset_setup_stats, setup_stats
from ._switch import PATCHED_NAMES, fast_repos, fast_repos_active, turn_off_fast_repos, turn_on_fast_repos
from ._template import RepositorySpec, cache_directory

__all__ = (
    "PATCHED_NAMES",
    "REPOSITORY_KEYWORDS",
    "ClassRepositoryMixin",
    "RepositorySnapshot",
    "RepositorySpec",
    "SeededData",
    "Seeding",
    "SetupStats",
    "TestRepository",
    "addDataIdValue",
    "addDatasetType",
    "cache_directory",
    "create_test_repository",
    "fast_repos",
    "fast_repos_active",
    "makeTestCollection",
    "makeTestRepo",
    "repository_request",
    "reset_setup_stats",
    "setup_stats",
    "turn_off_fast_repos",
    "turn_on_fast_repos",
)
