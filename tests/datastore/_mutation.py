"""Changing every mutable part of a dataset, and comparing datasets part by part."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pydantic

SENTINEL = "changed by the test"


def scramble(obj: Any) -> None:
    """Change, in place, every mutable part of ``obj`` that can be reached from it."""
    _scramble(obj, set())


def _scramble(obj: Any, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            for item in obj.flat:
                _scramble(item, seen)
        elif obj.flags.writeable and obj.size:
            if obj.dtype == bool:
                np.logical_not(obj, out=obj)
            else:
                obj += 1
    elif isinstance(obj, dict):
        for value in list(obj.values()):
            _scramble(value, seen)
        obj[SENTINEL] = True
    elif isinstance(obj, list):
        for item in obj:
            _scramble(item, seen)
        obj.append(SENTINEL)
    elif isinstance(obj, set):
        obj.add(SENTINEL)
    elif isinstance(obj, bytearray):
        obj.extend(b"!")
    elif isinstance(obj, tuple | frozenset):
        for item in obj:
            _scramble(item, seen)
    elif isinstance(obj, pydantic.BaseModel):
        for name in type(obj).model_fields:
            _scramble(getattr(obj, name), seen)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for field in dataclasses.fields(obj):
            _scramble(getattr(obj, field.name), seen)


def same(got: Any, expected: Any) -> bool:
    """Return whether ``got`` equals ``expected`` part by part, types and dtypes included (NaN equals NaN)."""
    if isinstance(expected, np.ndarray):
        return (
            isinstance(got, np.ndarray)
            and got.dtype == expected.dtype
            and got.shape == expected.shape
            and np.array_equal(got, expected, equal_nan=expected.dtype.kind in "fc")
        )
    if type(got) is not type(expected):
        return False
    if isinstance(expected, dict):
        return list(got) == list(expected) and all(same(got[key], expected[key]) for key in expected)
    if isinstance(expected, list | tuple):
        return len(got) == len(expected) and all(map(same, got, expected))
    if isinstance(expected, pydantic.BaseModel):
        return same(got.model_dump(), expected.model_dump())
    if dataclasses.is_dataclass(expected):
        return all(
            same(getattr(got, field.name), getattr(expected, field.name))
            for field in dataclasses.fields(expected)
        )
    if isinstance(expected, float) and expected != expected:
        return got != got
    return bool(got == expected)
