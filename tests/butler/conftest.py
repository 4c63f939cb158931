"""The registry engine the tests of this folder run on."""

from __future__ import annotations

import pytest

from butler_testkit.butler import PostgresUnavailableError, resolve_registry


@pytest.fixture(scope="session")
def registry_choice() -> str:
    """``$BUTLER_TESTKIT_REGISTRY`` (``sqlite`` when unset), as test repositories read it."""
    return resolve_registry()


@pytest.fixture(autouse=True, scope="session")
def _registry_available(registry_choice: str) -> None:
    """Skip this folder's tests, saying why, when the chosen registry cannot be had."""
    if registry_choice == "sqlite":
        return
    from butler_testkit.butler import postgres_registries

    try:
        postgres_registries(registry_choice)
    except PostgresUnavailableError as err:
        pytest.skip(str(err))
