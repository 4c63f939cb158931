"""Why the fast-repository switch hands a call to daf_butler's own function."""

from __future__ import annotations

__all__ = ("Fallback",)


class Fallback(Exception):  # noqa: N818 - a decision, not an error: never escapes the switch
    """The fast path cannot honour this call; daf_butler's own function must serve it.

    Raised before the fast path has changed anything, so that the original
    function sees exactly the state the caller left.

    Parameters
    ----------
    reason : `str`
        What the fast path cannot honour, as listed in the report
        (e.g. ``"outfile given"``).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
