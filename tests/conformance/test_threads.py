"""The concurrency area's thread runner: errors reach the test, and a deadlock fails instead of hanging."""

from __future__ import annotations

import threading
import time

import pytest

from butler_testkit.conformance._areas.concurrency import _run_in_threads


def test_an_error_in_a_thread_is_raised_in_the_test():
    def fails() -> None:
        raise KeyError("from a thread")

    with pytest.raises(KeyError, match="from a thread"):
        _run_in_threads(lambda: None, fails)


def test_a_thread_that_never_finishes_fails_the_test_in_time():
    never = threading.Event()
    start = time.monotonic()
    with pytest.raises(AssertionError, match="1 of 2 threads did not finish"):
        _run_in_threads(lambda: None, lambda: never.wait() and None, timeout=0.2)
    assert time.monotonic() - start < 5
    never.set()
