"""Seeds: one per session, one per test and stream, the same on every run and worker.

Pure standard library: the pytest plugin imports this at start-up.
"""

from __future__ import annotations

__all__ = (
    "DEFAULT_SEED",
    "SEED_ENVIRONMENT_VARIABLE",
    "derive_seed",
    "parse_seed",
    "session_seed",
    "set_session_seed",
)

import hashlib
import os

DEFAULT_SEED = 20260101
"""Session seed used when none is configured."""

SEED_ENVIRONMENT_VARIABLE = "BUTLER_TESTKIT_SEED"
"""Environment variable that sets the session seed (``--butler-seed`` wins)."""

# Set by the pytest plugin from --butler-seed, so that unittest mixins run by
# pytest use the same session seed as the fixtures.
_configured_seed: int | None = None


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


def set_session_seed(seed: int | None) -> int | None:
    """Set (or with `None`, clear) the session seed configured by the test runner.

    Parameters
    ----------
    seed : `int` or `None`
        The seed.

    Returns
    -------
    previous : `int` or `None`
        The seed configured before, to restore later.
    """
    global _configured_seed
    previous = _configured_seed
    _configured_seed = seed
    return previous


def session_seed(explicit: int | None = None) -> int:
    """Return the session seed.

    Parameters
    ----------
    explicit : `int`, optional
        A seed given directly, which wins.

    Returns
    -------
    seed : `int`
        ``explicit``, else the runner's (``--butler-seed``), else
        ``$BUTLER_TESTKIT_SEED``, else `DEFAULT_SEED`.

    Raises
    ------
    ValueError
        Raised if the environment variable is not an integer.
    """
    if explicit is not None:
        return explicit
    if _configured_seed is not None:
        return _configured_seed
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
