"""The registry engines the tests of this folder run on: both, in one run.

A test that asks for ``registry`` (or uses the plugin's repository fixtures,
through the ``butler_registry`` override below) runs once on SQLite and once
on PostgreSQL, skipped with the reason where PostgreSQL cannot be had. Given
``--butler-registry``, they run on that registry alone.
"""

from __future__ import annotations

import pytest

from butler_testkit.butler import REGISTRY_CHOICES, PostgresUnavailableError, postgres_registries
from butler_testkit.engine import session_options

ENGINES = ("sqlite", "postgresql")


def _engine_id(choice: str) -> str:
    return choice if choice in REGISTRY_CHOICES else "postgresql-url"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "registry" in metafunc.fixturenames:
        chosen = session_options().get("registry")
        engines = ENGINES if chosen is None else (chosen,)
        metafunc.parametrize("registry", engines, ids=_engine_id, indirect=True, scope="function")


@pytest.fixture
def registry(request: pytest.FixtureRequest) -> str:
    """The registry engine of this run of the test, skipped if it cannot be had."""
    choice: str = request.param
    if choice != "sqlite":
        try:
            postgres_registries(choice)
        except PostgresUnavailableError as err:
            pytest.skip(str(err))
    return choice


@pytest.fixture
def butler_registry(registry: str) -> str:
    """The plugin's repository fixtures follow this folder's engines."""
    return registry
