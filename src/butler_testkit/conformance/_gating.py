"""Turning capabilities and declared divergences into skips and strict expected failures."""

from __future__ import annotations

__all__ = ("RESULT_PROPERTY", "capability_skip_reason", "check_divergences", "divergence_for")

from collections.abc import Iterable, Mapping

import pytest

from .._constants import CAPABILITY_MARKER
from .._constants import CONFORMANCE_PROPERTY as RESULT_PROPERTY
from ._capabilities import UNDECLARED_HINT, Capabilities


def capability_skip_reason(item: pytest.Item, capabilities: Capabilities) -> str | None:
    """Return why a test must be skipped for these capabilities, if it must.

    Parameters
    ----------
    item : `pytest.Item`
        The test, with its ``butler_capability`` markers.
    capabilities : `Capabilities`
        What the datastore under test declares.

    Returns
    -------
    reason : `str` or `None`
        A reason naming the capability, or `None` to run the test.

    Raises
    ------
    TypeError
        Raised if ``capabilities`` is not a `Capabilities`.
    """
    if not isinstance(capabilities, Capabilities):
        raise TypeError(
            f"The capabilities fixture must return a butler_testkit.conformance.Capabilities; "
            f"got {capabilities!r}."
        )
    for marker in item.iter_markers(CAPABILITY_MARKER):
        (name,) = marker.args
        wanted_present = marker.kwargs.get("present", True)
        param = marker.kwargs.get("param")
        if not capabilities.declares(name):
            return f"capability {name} is not declared ({UNDECLARED_HINT})"
        if wanted_present is None:
            continue
        if param is not None:
            value = item.callspec.params[param] if hasattr(item, "callspec") else None
            if not capabilities.has(name):
                return f"needs capability {name}"
            if wanted_present and value not in getattr(capabilities, name):
                return f"capability {name} lacks {value!r}"
            if not wanted_present and value in getattr(capabilities, name):
                return f"applies only without {value!r} in capability {name}"
            continue
        if capabilities.has(name) != wanted_present:
            return f"needs capability {name}" if wanted_present else f"applies only without capability {name}"
    return None


def check_divergences(divergences: object, test_names: Iterable[str]) -> Mapping[str, str]:
    """Check declared divergences against the tests of the suite.

    Parameters
    ----------
    divergences : `object`
        What the ``divergences`` fixture returned: a mapping from a test
        name (``test_x``) or test id (``test_x[param]``) to a one-line reason.
    test_names : `~collections.abc.Iterable` [`str`]
        Names of the suite's test functions.

    Returns
    -------
    divergences : `~collections.abc.Mapping` [`str`, `str`]
        The same mapping.

    Raises
    ------
    TypeError
        Raised if ``divergences`` is not a mapping of strings to strings.
    ValueError
        Raised if a key names no test of the suite, or a reason is empty or
        spans several lines.
    """
    if not isinstance(divergences, Mapping):
        raise TypeError(
            f"The divergences fixture must return a mapping of test names to reasons; got {divergences!r}."
        )
    names = set(test_names)
    unknown = []
    for key, reason in divergences.items():
        if not isinstance(key, str) or not isinstance(reason, str):
            raise TypeError(f"A divergence maps a test name to a reason (both str); got {key!r}: {reason!r}.")
        if key.split("[", 1)[0] not in names:
            unknown.append(key)
        if not reason.strip() or "\n" in reason.strip():
            raise ValueError(f"The reason of divergence {key!r} must be one non-empty line; got {reason!r}.")
    if unknown:
        raise ValueError(f"Declared divergences name no test of the conformance suite: {sorted(unknown)}.")
    return divergences


def divergence_for(item: pytest.Item, divergences: Mapping[str, str]) -> str | None:
    """Return the declared reason a test diverges, if one was declared.

    Parameters
    ----------
    item : `pytest.Item`
        The test.
    divergences : `~collections.abc.Mapping` [`str`, `str`]
        Checked divergences (`check_divergences`).

    Returns
    -------
    reason : `str` or `None`
        The reason declared for the test id, else for the test name.
    """
    reason = divergences.get(item.name)
    if reason is None:
        reason = divergences.get(getattr(item, "originalname", item.name))
    return reason
