"""Counts and times of test-repository setup, for suites to check their budget."""

from __future__ import annotations

__all__ = ("STATS", "SetupStats", "reset_setup_stats", "setup_stats")

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class SetupStats:
    """What test-repository setup has cost this process so far.

    Attributes
    ----------
    templates_built : `int`
        Templates built from scratch (the slow, once-per-machine step).
    template_build_seconds : `float`
        Time spent building them.
    templates_loaded : `int`
        Templates opened by this process (once per kind of repository).
    template_load_seconds : `float`
        Time spent opening them.
    repositories : `int`
        Test repositories created.
    repository_seconds : `float`
        Time spent creating them, seeding included.
    slow_path_repositories : `int`
        Repositories for which a full ``Butler.from_config`` was needed
        because the fast path is unavailable for this daf_butler.
    routed : `~collections.abc.Mapping` [`str`, `int`]
        Calls the fast-repository switch served itself, by function
        (``Butler.makeRepo``, ``makeTestRepo``, ...).
    fallbacks : `~collections.abc.Mapping` [`str`, `int`]
        Calls the switch handed to daf_butler's own function, by
        ``"<function>: <reason>"``.
    """

    templates_built: int = 0
    template_build_seconds: float = 0.0
    templates_loaded: int = 0
    template_load_seconds: float = 0.0
    repositories: int = 0
    repository_seconds: float = 0.0
    slow_path_repositories: int = 0
    routed: Mapping[str, int] = dataclasses.field(default_factory=dict, hash=False)
    fallbacks: Mapping[str, int] = dataclasses.field(default_factory=dict, hash=False)

    @property
    def routed_calls(self) -> int:
        """Calls the fast-repository switch served itself."""
        return sum(self.routed.values())

    @property
    def fallback_calls(self) -> int:
        """Calls the fast-repository switch handed to daf_butler."""
        return sum(self.fallbacks.values())

    @property
    def seconds_per_repository(self) -> float:
        """Mean creation time of a test repository (0 if none)."""
        return self.repository_seconds / self.repositories if self.repositories else 0.0

    @property
    def total_seconds(self) -> float:
        """All setup time: building and loading templates, making repositories."""
        return self.template_build_seconds + self.template_load_seconds + self.repository_seconds


class _Recorder:
    """Thread-safe accumulator behind `setup_stats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = SetupStats()

    def _add(self, **increments: float) -> None:
        with self._lock:
            current = dataclasses.asdict(self._stats)
            for name, value in increments.items():
                current[name] += value
            self._stats = SetupStats(**current)

    def _count(self, field: str, key: str) -> None:
        with self._lock:
            counts = dict(getattr(self._stats, field))
            counts[key] = counts.get(key, 0) + 1
            changes: dict[str, Any] = {field: counts}
            self._stats = dataclasses.replace(self._stats, **changes)

    def record_template_build(self, seconds: float) -> None:
        self._add(templates_built=1, template_build_seconds=seconds)

    def record_template_load(self, seconds: float) -> None:
        self._add(templates_loaded=1, template_load_seconds=seconds)

    def record_repository(self, seconds: float, *, slow_path: bool) -> None:
        self._add(repositories=1, repository_seconds=seconds, slow_path_repositories=int(slow_path))

    def record_routed(self, function: str) -> None:
        self._count("routed", function)

    def record_fallback(self, function: str, reason: str) -> None:
        self._count("fallbacks", f"{function}: {reason}")

    def snapshot(self) -> SetupStats:
        with self._lock:
            return self._stats

    def reset(self) -> None:
        with self._lock:
            self._stats = SetupStats()


STATS = _Recorder()


def setup_stats() -> SetupStats:
    """Return what test-repository setup has cost this process so far.

    Returns
    -------
    stats : `SetupStats`
        An immutable snapshot.

    Examples
    --------
    A suite can hold itself to a setup budget::

        from butler_testkit.butler import setup_stats

        def test_setup_budget():
            assert setup_stats().seconds_per_repository < 0.05
    """
    return STATS.snapshot()


def reset_setup_stats() -> None:
    """Zero the counters (for instance before measuring one part of a suite)."""
    STATS.reset()
