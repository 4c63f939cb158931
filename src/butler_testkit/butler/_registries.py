"""Which database engine a test repository's registry runs on."""

from __future__ import annotations

__all__ = ("REGISTRY_CHOICES", "REGISTRY_ENVIRONMENT_VARIABLE", "resolve_registry")

import os

REGISTRY_ENVIRONMENT_VARIABLE = "BUTLER_TESTKIT_REGISTRY"
"""Environment variable giving the default registry of test repositories."""

REGISTRY_CHOICES = ("sqlite", "postgresql")
"""The registry engines named by a word; a PostgreSQL URL is the third kind of choice."""


def resolve_registry(registry: str | None = None) -> str:
    """Check a registry choice and return it in canonical form.

    Parameters
    ----------
    registry : `str`, optional
        ``"sqlite"`` (a SQLite file inside the repository),
        ``"postgresql"`` (a database on this process's throwaway PostgreSQL
        server), or the URL of an existing PostgreSQL server (each test
        repository is a new database on it). `None` means
        ``$BUTLER_TESTKIT_REGISTRY``, or ``"sqlite"`` when that is unset or
        empty.

    Returns
    -------
    registry : `str`
        ``"sqlite"``, ``"postgresql"``, or the URL with a driver
        (``postgresql+psycopg://...`` when it named none).

    Raises
    ------
    ValueError
        Raised for anything else, naming where the bad value came from.
    """
    source = "registry"
    if registry is None:
        registry = os.environ.get(REGISTRY_ENVIRONMENT_VARIABLE, "").strip() or "sqlite"
        source = f"${REGISTRY_ENVIRONMENT_VARIABLE}"
    if not isinstance(registry, str):
        raise TypeError(f"registry must be a str; got {type(registry).__name__}: {registry!r}")
    if registry.lower() in REGISTRY_CHOICES:
        return registry.lower()
    if "://" in registry:
        from ._postgresql import PostgresServer

        try:
            return PostgresServer.existing(registry).url
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from None
    raise ValueError(
        f"{source} must be 'sqlite', 'postgresql' or the URL of a PostgreSQL server "
        f"(postgresql://user@host/dbname); got {registry!r}."
    )
