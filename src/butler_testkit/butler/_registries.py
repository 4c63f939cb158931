"""Which database engine a test repository's registry runs on."""

from __future__ import annotations

__all__ = ("REGISTRY_CHOICES", "resolve_registry")

REGISTRY_CHOICES = ("sqlite", "postgresql")
"""The registry engines named by a word; a PostgreSQL URL is the third kind of choice."""


def resolve_registry(registry: str | None = None, *, source: str = "registry") -> str:
    """Check a registry choice and return it in canonical form.

    Parameters
    ----------
    registry : `str`, optional
        ``"sqlite"`` (a SQLite file inside the repository; also what `None`
        means), ``"postgresql"`` (a database on this process's throwaway
        PostgreSQL server), or the URL of an existing PostgreSQL server
        (each test repository is a new database on it).
    source : `str`, optional
        Where the value came from, for the error message (an option, a
        marker, an environment variable).

    Returns
    -------
    registry : `str`
        ``"sqlite"``, ``"postgresql"``, or the URL with a driver
        (``postgresql+psycopg://...`` when it named none).

    Raises
    ------
    TypeError
        Raised if ``registry`` is not a string.
    ValueError
        Raised for any other string, naming where it came from.
    """
    if registry is None:
        return "sqlite"
    if not isinstance(registry, str):
        raise TypeError(f"{source} must be a str; got {type(registry).__name__}: {registry!r}")
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
