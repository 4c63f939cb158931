"""A pytest plugin measuring, with coverage.py, which lines of some files a run executed.

Loaded in the pytest process that ``butler-testkit check --coverage`` starts
(``-p butler_testkit._pytest_coverage``) and in a mutation run's unmutated
baseline (through ``PYTEST_PLUGINS``); configured by the environment, which
every pytest-xdist worker inherits:

- ``BUTLER_TESTKIT_COVERAGE_DATA``: where to write the data (each process adds
  its own suffix; the caller combines them);
- ``BUTLER_TESTKIT_COVERAGE_INCLUDE``: the files to measure, separated by
  `os.pathsep`;
- ``BUTLER_TESTKIT_COVERAGE_CONTEXTS``: ``1`` to record which test executed
  each line (the test's node ID is the coverage context).

Measurement starts when pytest is configured, before any test module is
imported, so that the measured modules' own import is seen too.
"""

from __future__ import annotations

__all__ = ("CONTEXTS_VARIABLE", "DATA_VARIABLE", "INCLUDE_VARIABLE")

import os
from collections.abc import Iterator
from typing import Any

import pytest

DATA_VARIABLE = "BUTLER_TESTKIT_COVERAGE_DATA"
INCLUDE_VARIABLE = "BUTLER_TESTKIT_COVERAGE_INCLUDE"
CONTEXTS_VARIABLE = "BUTLER_TESTKIT_COVERAGE_CONTEXTS"

_COVERAGE = pytest.StashKey[Any]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Start measuring, if the environment asks for it."""
    data_file = os.environ.get(DATA_VARIABLE)
    if not data_file:
        return
    import coverage

    include = [path for path in os.environ.get(INCLUDE_VARIABLE, "").split(os.pathsep) if path]
    measurement = coverage.Coverage(
        data_file=data_file, data_suffix=True, branch=True, include=include, config_file=False
    )
    measurement.start()
    config.stash[_COVERAGE] = measurement


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Attribute what a test executes, setup and teardown included, to its node ID."""
    measurement = item.config.stash.get(_COVERAGE, None)
    if measurement is None or os.environ.get(CONTEXTS_VARIABLE) != "1":
        return (yield)
    measurement.switch_context(item.nodeid)
    try:
        return (yield)
    finally:
        measurement.switch_context("")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop measuring and write the data."""
    measurement = config.stash.get(_COVERAGE, None)
    if measurement is not None:
        measurement.stop()
        measurement.save()
        del config.stash[_COVERAGE]
