"""Seeds: one per session, one per test and stream, the same on every run and worker.

Pure standard library: the pytest plugin imports this at start-up. Where the
session seed comes from (``--butler-seed``, a unittest class's ``butler_seed``)
is the option table's business (``butler_testkit.engine.OPTIONS``); this
module adds the environment variable and the default, and derives per-test
seeds.
"""

from __future__ import annotations

__all__ = (
    "DEFAULT_SEED",
    "SEED_ENVIRONMENT_VARIABLE",
    "derive_seed",
    "parse_seed",
    "session_seed",
)

import hashlib
import os

DEFAULT_SEED = 20260101
"""Session seed used when none is configured."""

SEED_ENVIRONMENT_VARIABLE = "BUTLER_TESTKIT_SEED"
"""Environment variable that sets the session seed (``--butler-seed`` wins)."""


def parse_seed(value: object, source: str) -> int:
    """Return a seed given as an integer or a string of one.

    Parameters
    ----------
    value : `object`
        The value.
    source : `str`
        Where it came from, for the error message.

    Returns
    -------
    seed : `int`
        The seed.

    Raises
    ------
    ValueError
        Raised if the value is not an integer.
    """
    if isinstance(value, bool):
        raise ValueError(f"{source} must be an integer; got {value!r}.")
    try:
        return int(str(value).strip(), 10) if not isinstance(value, int) else value
    except ValueError:
        raise ValueError(f"{source} must be an integer; got {value!r}.") from None


def session_seed(explicit: int | None = None) -> int:
    """Return the session seed.

    Parameters
    ----------
    explicit : `int`, optional
        A seed given directly (``--butler-seed``, a class's own), which wins.

    Returns
    -------
    seed : `int`
        ``explicit``, else ``$BUTLER_TESTKIT_SEED``, else `DEFAULT_SEED`.

    Raises
    ------
    ValueError
        Raised if the environment variable is not an integer.
    """
    if explicit is not None:
        return explicit
    value = os.environ.get(SEED_ENVIRONMENT_VARIABLE)
    if value is not None and value.strip():
        return parse_seed(value, f"${SEED_ENVIRONMENT_VARIABLE}")
    return DEFAULT_SEED


def derive_seed(seed: int, test_id: str, stream: str) -> int:
    """Return the seed of one stream of values in one test.

    Parameters
    ----------
    seed : `int`
        The session seed.
    test_id : `str`
        The test's identity (a pytest node id, a unittest test id): the same
        on every run, in any order, on any worker.
    stream : `str`
        Which values (``data_ids``, ``refs``): each stream has its own
        generator, so drawing more of one never shifts another.

    Returns
    -------
    seed : `int`
        A 64-bit seed.
    """
    # Python's hash() of a str changes between processes; a digest does not.
    digest = hashlib.blake2b(f"{seed}\0{test_id}\0{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
