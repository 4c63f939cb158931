"""One pytest-free engine behind the pytest fixtures and the unittest mixins.

`OPTIONS` declares every option once (its validator, default, help, pytest
marker key, unittest class attribute and command-line or ini option);
`ButlerTestEngine` builds what a test gets from those options. The pytest
plugin and `butler_testkit.unittest` only find a test's options and hand
them over, so both take the same options and give the same objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._engine import ButlerTestEngine
    from ._options import (
        ARGUMENTS,
        DATASTORE_KEYS,
        KEYWORDS,
        MARKERS,
        OPTIONS,
        Given,
        Marker,
        Option,
        configure_session,
        option,
        options_from_attributes,
        options_from_markers,
        resolve_options,
        restore_session,
        session_options,
    )

__all__ = (
    "ARGUMENTS",
    "DATASTORE_KEYS",
    "KEYWORDS",
    "MARKERS",
    "OPTIONS",
    "ButlerTestEngine",
    "Given",
    "Marker",
    "Option",
    "configure_session",
    "option",
    "options_from_attributes",
    "options_from_markers",
    "resolve_options",
    "restore_session",
    "session_options",
)

# The pytest plugin reads the option table at start-up; the engine imports
# daf_butler, which takes seconds, so every name is loaded on first use.
_LAZY = {
    "ButlerTestEngine": "._engine",
    "ARGUMENTS": "._options",
    "DATASTORE_KEYS": "._options",
    "KEYWORDS": "._options",
    "MARKERS": "._options",
    "OPTIONS": "._options",
    "Given": "._options",
    "Marker": "._options",
    "Option": "._options",
    "configure_session": "._options",
    "option": "._options",
    "options_from_attributes": "._options",
    "options_from_markers": "._options",
    "resolve_options": "._options",
    "restore_session": "._options",
    "session_options": "._options",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
