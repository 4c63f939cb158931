"""Naming a few of many things in an error message."""

from __future__ import annotations

__all__ = ("first_few",)

from collections.abc import Sequence

_SHOWN = 3


def first_few(items: Sequence[object], shown: int = _SHOWN) -> str:
    """Return the first few of ``items``, and how many more there are.

    Parameters
    ----------
    items : `~collections.abc.Sequence`
        What a message is about; each is shown with `str`.
    shown : `int`, optional
        How many to show.

    Returns
    -------
    text : `str`
        ``"a, b, c"`` or ``"a, b, c and 4 more"``: a message stays short
        however many datasets or files a bulk call was given.
    """
    text = ", ".join(str(item) for item in items[:shown])
    if len(items) > shown:
        text += f" and {len(items) - shown} more"
    return text
