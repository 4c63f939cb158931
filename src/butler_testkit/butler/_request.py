"""What a test asks of its repository: declarative keywords, turned into a spec and a run."""

from __future__ import annotations

__all__ = ("REPOSITORY_KEYWORDS", "repository_request")

from collections.abc import Mapping
from typing import Any

from ._seeding import Seeding
from ._template import RepositorySpec

REPOSITORY_KEYWORDS = (
    "instrument",
    "detectors",
    "visits",
    "exposures",
    "tracts",
    "dataset_types",
    "registry_data",
    "dimension_config",
    "run",
)
"""Keywords that declare a test repository: `Seeding` fields, `RepositorySpec`
inputs and ``run``; the ``butler_repo`` marker and the unittest mixin take them."""


def repository_request(
    keywords: Mapping[str, Any], *, default_run: str, seed: int
) -> tuple[RepositorySpec, str]:
    """Turn declarative keywords into a repository spec and a run name.

    Parameters
    ----------
    keywords : `~collections.abc.Mapping` [`str`, `object`]
        Any of `REPOSITORY_KEYWORDS`.
    default_run : `str`
        Run used unless ``run`` is given.
    seed : `int`
        Seed of the seeded values (the session seed, so that tests declaring
        the same repository share its template).

    Returns
    -------
    spec : `RepositorySpec`
        What the repository holds.
    run : `str`
        Its default run.

    Raises
    ------
    TypeError
        Raised for an unknown keyword.
    ValueError
        Raised for an invalid seeding, as by `Seeding`.
    """
    unknown = sorted(set(keywords) - set(REPOSITORY_KEYWORDS))
    if unknown:
        raise TypeError(
            f"Unknown test-repository keyword(s) {unknown}; known ones are {', '.join(REPOSITORY_KEYWORDS)}."
        )
    remaining = dict(keywords)
    run = remaining.pop("run", default_run)
    registry_data = remaining.pop("registry_data", ())
    dimension_config = remaining.pop("dimension_config", None)
    spec = RepositorySpec(
        dimension_config=dimension_config,
        registry_data=(registry_data,) if isinstance(registry_data, str) else tuple(registry_data),
        seeding=Seeding(**remaining) if remaining else None,
        seed=seed,
    )
    return spec, run
