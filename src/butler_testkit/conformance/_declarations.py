"""What a datastore declares to the conformance suite, and where the declaration comes from.

One format everywhere: the ``conformance`` section of a target file, the
built-in targets' file, and a datastore class's ``conformance_declaration``
attribute all hold ``capabilities``, ``divergences`` and
``stored_state_view``.
"""

from __future__ import annotations

__all__ = ("DECLARATION_ATTRIBUTE", "SECTION_KEYS", "Declaration", "class_declaration")

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from lsst.daf.butler.datastore import Datastore

from ..targets import CONFORMANCE_SECTION, TargetError, TargetSpec
from ._capabilities import Capabilities
from ._views import StoredStateView

DECLARATION_ATTRIBUTE = "conformance_declaration"
"""Class attribute by which a datastore class declares itself, in the ``conformance`` section's format."""

SECTION_KEYS = ("capabilities", "divergences", "stored_state_view")
"""What a ``conformance`` section may hold."""


@dataclasses.dataclass(frozen=True)
class Declaration:
    """What a datastore under test declares.

    Parameters
    ----------
    capabilities : `Capabilities`
        What it can do (and what is unknown).
    divergences : `~collections.abc.Mapping` [`str`, `str`], optional
        Tests it is known to fail, each with a one-line reason.
    stored_state_view : `StoredStateView` or `None`, optional
        A back-door view of its stored state.
    """

    capabilities: Capabilities
    divergences: Mapping[str, str] = dataclasses.field(default_factory=dict)
    stored_state_view: StoredStateView | None = None

    @classmethod
    def from_mapping(cls, section: object, where: str) -> Declaration:
        """Read a ``conformance`` section.

        Parameters
        ----------
        section : `object`
            The section: a mapping with any of `SECTION_KEYS`.
            ``capabilities`` maps capability names to values (or is a
            `Capabilities`), and every capability it leaves out is declared
            absent; ``divergences`` maps test names or ids to one-line
            reasons; ``stored_state_view`` is the import path of a
            `StoredStateView` class (or a view).
        where : `str`
            Where the section was found, for messages.

        Returns
        -------
        declaration : `Declaration`
            What the section declares.

        Raises
        ------
        TargetError
            Raised for anything malformed, saying what and where.
        """
        if not isinstance(section, Mapping) or set(section) - set(SECTION_KEYS):
            raise TargetError(
                f"The {CONFORMANCE_SECTION!r} section of {where} may hold "
                f"{', '.join(map(repr, SECTION_KEYS))} only; got {section!r}."
            )
        capabilities = section.get("capabilities") or {}
        if not isinstance(capabilities, Capabilities):
            try:
                capabilities = Capabilities.from_mapping(capabilities)
            except (TypeError, ValueError) as err:
                raise TargetError(f"Bad capabilities in {where}: {err}") from err
        divergences = section.get("divergences") or {}
        if not isinstance(divergences, Mapping) or not all(
            isinstance(key, str) and isinstance(reason, str) and reason.strip() and "\n" not in reason.strip()
            for key, reason in divergences.items()
        ):
            raise TargetError(
                f"The divergences of {where} must map test names to one-line reasons; got {divergences!r}."
            )
        view = _stored_state_view(section.get("stored_state_view"), where)
        return cls(capabilities, dict(divergences), view)

    @classmethod
    def undeclared(cls, datastore_class: type[Datastore]) -> Declaration:
        """Declare nothing about a class but what it says of itself.

        Parameters
        ----------
        datastore_class : `type` [`~lsst.daf.butler.datastore.Datastore`]
            The class.

        Returns
        -------
        declaration : `Declaration`
            ``ephemeral`` from the class's ``isEphemeral``; every other
            capability unknown, so that the tests on them are skipped.
        """
        return cls(Capabilities.partial(ephemeral=bool(datastore_class.isEphemeral)))


def class_declaration(datastore_class: type[Datastore], builtins: Mapping[str, TargetSpec]) -> Declaration:
    """Return what a datastore class declares, by itself or by inheritance.

    Parameters
    ----------
    datastore_class : `type` [`~lsst.daf.butler.datastore.Datastore`]
        The class, run with no configuration.
    builtins : `~collections.abc.Mapping` [`str`, `TargetSpec`]
        The built-in targets: one that runs a class with no configuration
        declares that class (and its subclasses).

    Returns
    -------
    declaration : `Declaration`
        From the nearest class in the method resolution order that has a
        ``conformance_declaration`` attribute or is a built-in target's
        class; with neither, `Declaration.undeclared`.

    Raises
    ------
    TargetError
        Raised if a declaration is malformed.
    """
    declared_by_builtins = {}
    for name, spec in builtins.items():
        if set(spec.config) == {"cls"} and spec.declaration is not None:
            declared_by_builtins[spec.datastore_class()] = (name, spec.declaration)
    for klass in datastore_class.__mro__:
        if DECLARATION_ATTRIBUTE in vars(klass):
            where = f"{klass.__module__}.{klass.__qualname__}.{DECLARATION_ATTRIBUTE}"
            return Declaration.from_mapping(vars(klass)[DECLARATION_ATTRIBUTE], where)
        if klass in declared_by_builtins:
            name, section = declared_by_builtins[klass]
            return Declaration.from_mapping(section, f"the built-in target {name!r}")
    return Declaration.undeclared(datastore_class)


def _stored_state_view(value: object, where: str) -> StoredStateView | None:
    if value is None or isinstance(value, StoredStateView):
        return value
    if not isinstance(value, str):
        raise TargetError(f"The stored_state_view of {where} must be a class path; got {value!r}.")
    module_name, _, class_name = value.rpartition(".")
    try:
        view: Any = getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, ValueError, TypeError) as err:
        raise TargetError(f"Cannot make the stored_state_view {value!r} of {where}: {err}") from err
    if not isinstance(view, StoredStateView):
        raise TargetError(
            f"The stored_state_view {value!r} of {where} is not a StoredStateView "
            "(stored_ids and trashed_ids methods)."
        )
    return view
