"""Seeds: stable across processes, configurable, and refusing what is not an integer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from butler_testkit import _seeds


def test_derived_seeds_are_the_same_in_another_process():
    here = _seeds.derive_seed(20260101, "tests/test_x.py::test_y[1]", "refs")
    code = (
        "from butler_testkit import _seeds; "
        "print(_seeds.derive_seed(20260101, 'tests/test_x.py::test_y[1]', 'refs'))"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(there.stdout) == here
    assert 0 <= here < 2**64


def test_derived_seeds_differ_by_session_seed_test_and_stream():
    seeds = {
        _seeds.derive_seed(session, test, stream)
        for session in (1, 2)
        for test in ("a::t", "b::t")
        for stream in ("data_ids", "refs")
    }
    assert len(seeds) == 8


def test_the_session_seed_is_explicit_else_environment_else_default(monkeypatch):
    monkeypatch.delenv(_seeds.SEED_ENVIRONMENT_VARIABLE, raising=False)
    assert _seeds.session_seed() == _seeds.DEFAULT_SEED
    monkeypatch.setenv(_seeds.SEED_ENVIRONMENT_VARIABLE, " 42 ")
    assert _seeds.session_seed() == 42
    assert _seeds.session_seed(3) == 3


def test_a_bad_environment_seed_is_a_value_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv(_seeds.SEED_ENVIRONMENT_VARIABLE, "twelve")
    with pytest.raises(ValueError, match=r"\$BUTLER_TESTKIT_SEED must be an integer; got 'twelve'"):
        _seeds.session_seed()


@pytest.mark.parametrize("value", ["1.5", "", True, "0x10"])
def test_parse_seed_refuses_what_is_not_an_integer(value):
    with pytest.raises(ValueError, match="must be an integer"):
        _seeds.parse_seed(value, "the seed")
