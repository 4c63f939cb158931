"""Copies of exceptions that keep no stack frame, and so no local variable, alive."""

from __future__ import annotations

__all__ = ("detached_copy",)

import copy


def detached_copy(error: BaseException) -> BaseException:
    """Return a copy of ``error`` without a traceback, for keeping.

    A raised exception holds its traceback, the traceback holds the frames
    it went through, and the frames hold their local variables: keeping the
    exception keeps alive every object those calls were handed (a failed
    ``put``'s dataset, for one). The copy has the same type, arguments and
    attributes; its cause and context are detached copies too.

    Parameters
    ----------
    error : `BaseException`
        The exception, raised or not.

    Returns
    -------
    copy : `BaseException`
        A new exception with no traceback anywhere in its chain.
    """
    return _detached(error, {})


def _detached(error: BaseException, done: dict[int, BaseException]) -> BaseException:
    found = done.get(id(error))
    if found is not None:  # an exception chain can loop back on itself
        return found
    fresh = _bare_copy(error)
    done[id(error)] = fresh
    fresh.__traceback__ = None
    fresh.__cause__ = None if error.__cause__ is None else _detached(error.__cause__, done)
    fresh.__context__ = None if error.__context__ is None else _detached(error.__context__, done)
    fresh.__suppress_context__ = error.__suppress_context__
    return fresh


def _bare_copy(error: BaseException) -> BaseException:
    """Copy the type, arguments and attributes of an exception, and nothing else."""
    try:
        # Rebuilds through the class's constructor, which also restores what
        # it derives from the arguments (an OSError's errno and filename).
        fresh = copy.copy(error)
    except Exception:  # a constructor that does not take back its own args
        fresh = error
    if fresh is not error:
        return fresh
    cls = type(error)
    fresh = cls.__new__(cls, *error.args)
    fresh.args = error.args
    if hasattr(error, "__dict__"):
        fresh.__dict__.update(vars(error))
    return fresh
