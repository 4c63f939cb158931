"""pytest adapter of the fast-repository switch: turn it on for a run, report what it did."""

from __future__ import annotations

__all__ = ("FastReposPlugin",)

from collections.abc import Mapping
from typing import Any

import pytest

# Key of the statistics a worker hands to the xdist controller.
_WORKER_OUTPUT_KEY = "butler_testkit_fast_repos"


class FastReposPlugin:
    """Turns the switch on for the session (in every process that runs tests) and reports it.

    Parameters
    ----------
    config : `pytest.Config`
        The configuration.
    """

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._worker = hasattr(config, "workerinput")
        # An xdist controller runs no test: it only gathers the workers' counts.
        self._controller = not self._worker and bool(getattr(config.option, "numprocesses", None))
        self._on = False
        self._baseline: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self._routed: dict[str, int] = {}
        self._fallbacks: dict[str, int] = {}

    def turn_on(self) -> None:
        """Turn the switch on, unless this process is an xdist controller."""
        if self._controller or self._on:
            return
        from .butler import setup_stats, turn_on_fast_repos

        turn_on_fast_repos()
        stats = setup_stats()
        # Counts of this run only (pytester runs sessions inside a session).
        self._baseline = (dict(stats.routed), dict(stats.fallbacks))
        self._on = True

    def turn_off(self) -> None:
        """Turn the switch off if this plugin turned it on."""
        if not self._on:
            return
        from .butler import turn_off_fast_repos

        turn_off_fast_repos()
        self._on = False

    def _own_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        if not self._on:
            return {}, {}
        from .butler import setup_stats

        stats = setup_stats()
        return _minus(stats.routed, self._baseline[0]), _minus(stats.fallbacks, self._baseline[1])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Any:
        routed, fallbacks = self._own_counts()
        _add(self._routed, routed)
        _add(self._fallbacks, fallbacks)
        if self._worker:
            workeroutput: dict[str, Any] = getattr(self._config, "workeroutput", {})
            workeroutput[_WORKER_OUTPUT_KEY] = {"routed": routed, "fallbacks": fallbacks}
        yield

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT_KEY)
        if output:
            _add(self._routed, output.get("routed", {}))
            _add(self._fallbacks, output.get("fallbacks", {}))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._worker:
            return
        terminalreporter.write_sep("=", "butler-testkit fast repositories")
        if not self._routed and not self._fallbacks:
            terminalreporter.write_line("no Butler repository was made")
            return
        served = ", ".join(f"{name} {count}" for name, count in sorted(self._routed.items()))
        terminalreporter.write_line(f"served by the fast path: {served or 'nothing'}")
        if self._fallbacks:
            terminalreporter.write_line("handed to daf_butler:")
            for reason, count in sorted(self._fallbacks.items()):
                terminalreporter.write_line(f"  {count:5d}  {reason}")


def _minus(counts: Mapping[str, int], baseline: Mapping[str, int]) -> dict[str, int]:
    difference = {key: count - baseline.get(key, 0) for key, count in counts.items()}
    return {key: count for key, count in difference.items() if count}


def _add(totals: dict[str, int], counts: Mapping[str, int]) -> None:
    for key, count in counts.items():
        totals[key] = totals.get(key, 0) + count
