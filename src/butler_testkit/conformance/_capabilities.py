"""What a datastore under test declares it can do, and the markers that gate tests on it."""

from __future__ import annotations

__all__ = (
    "INGEST_TRANSFER_MODES",
    "UNDECLARED_HINT",
    "Capabilities",
    "capability_names",
    "declared",
    "lacks",
    "requires",
)

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from .._constants import CAPABILITY_MARKER

INGEST_TRANSFER_MODES: tuple[str, ...] = (
    "auto",
    "copy",
    "move",
    "link",
    "symlink",
    "hardlink",
    "relsymlink",
    "direct",
)
"""The ingest transfer modes the suite knows how to exercise."""

UNDECLARED_HINT = (
    "declare it in a 'conformance' section of a target file, or in the datastore class's "
    "conformance_declaration"
)
"""How to declare a capability, for the reason a test on an undeclared one is skipped."""

_NOT_CAPABILITIES = ("unknown",)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What a datastore under test can do, declared by whoever tests it.

    Every capability is absent unless declared: the suite never assumes
    one. A test that needs a capability the datastore lacks is skipped with
    a reason naming it, so the report shows what went untested; a test that
    needs a capability to be absent (an operation the datastore refuses)
    runs. A capability may also be ``unknown`` (see `partial`): then every
    test on it is skipped, whichever way round, so that a datastore that
    declares nothing is never failed for doing more than the minimum.

    Parameters
    ----------
    ephemeral : `bool`
        Nothing outlives the process: ``isEphemeral`` is true, ``roots``
        maps every name to `None`, ``setConfigRoot`` leaves a configuration
        alone, and a clone sees its original's datasets without any registry.
    persistent_artifacts : `bool`
        Datasets are artifacts under a root URI (files): ``setConfigRoot``
        writes the root, ``forget`` leaves the artifact in place, and
        ``emptyTrash`` returns the URIs it deleted.
    ingest_transfer_modes : `frozenset` [`str`]
        Transfer modes ``ingest`` accepts, among `INGEST_TRANSFER_MODES`.
    disassembly : `bool`
        Composites are written one artifact per component, so a composite's
        URIs are its components'.
    artifact_retrieval : `bool`
        ``retrieveArtifacts`` copies datasets' artifacts to a directory.
    zip_ingest : `bool`
        ``ingest_zip`` accepts a zip of artifacts.
    records_export : `bool`
        ``export_records`` of a dataset, passed to ``import_records`` of a
        fresh datastore, makes the dataset readable there.
    file_transfers : `bool`
        Datasets leave and enter as files: ``export`` describes a file per
        dataset, ``get_file_info_for_transfer`` names them, and
        ``transfer_from`` another datastore of the same configuration copies
        datasets in.
    predicted_uris : `bool`
        ``getURIs(ref, predict=True)`` names where a dataset that is not
        stored would go, with the fragment ``predicted``.
    refuses_reput : `bool`
        Putting a dataset ID that is already stored raises
        `FileExistsError` and leaves the stored dataset alone.
    copies_on_get : `bool`
        ``get`` returns a new object every time, so mutating it never
        changes what is stored (as reading a file does).
    correct_nested_rollback : `bool`
        An exception raised in a nested transaction and propagated through
        the enclosing one rolls both back, and the enclosing transaction is
        current again after any failure (daf_butler's base class gets this
        wrong).
    thread_safe : `bool`
        Concurrent ``put``, ``get``, ``trash`` and ``emptyTrash`` from
        several threads never raise and never lose data.
    uri_scheme : `str` or `None`
        Scheme of the URI of a stored dataset (``mem``, ``file``, ...);
        `None` if the datastore promises none.
    unknown : `frozenset` [`str`]
        Capabilities not declared either way (not a capability itself): a
        test needing one, or needing its absence, is skipped with a reason
        saying how to declare it.

    Raises
    ------
    TypeError
        Raised if a value has the wrong type.
    ValueError
        Raised for an unknown ingest transfer mode or an empty scheme, or
        for an ``unknown`` name that is no capability or is also given a
        value.
    """

    ephemeral: bool = False
    persistent_artifacts: bool = False
    ingest_transfer_modes: frozenset[str] = frozenset()
    disassembly: bool = False
    artifact_retrieval: bool = False
    zip_ingest: bool = False
    records_export: bool = False
    file_transfers: bool = False
    predicted_uris: bool = False
    refuses_reput: bool = False
    copies_on_get: bool = False
    correct_nested_rollback: bool = False
    thread_safe: bool = False
    uri_scheme: str | None = None
    unknown: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._check_unknown()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in _NOT_CAPABILITIES:
                continue
            if field.name == "ingest_transfer_modes":
                object.__setattr__(self, field.name, _transfer_modes(value))
            elif field.name == "uri_scheme":
                if value is not None and (not isinstance(value, str) or not value):
                    raise ValueError(
                        f"Capability 'uri_scheme' must be a non-empty str or None; got {value!r}."
                    )
            elif not isinstance(value, bool):
                raise TypeError(f"Capability {field.name!r} must be True or False; got {value!r}.")

    def _check_unknown(self) -> None:
        given: object = self.unknown
        if isinstance(given, str) or not isinstance(given, Iterable):
            raise TypeError(f"Capabilities 'unknown' must be a collection of names; got {given!r}.")
        unknown = frozenset(given)
        object.__setattr__(self, "unknown", unknown)
        for name in sorted(unknown):
            _check_name(name)
        defaults = {field.name: field.default for field in dataclasses.fields(self)}
        valued = sorted(name for name in unknown if getattr(self, name) != defaults[name])
        if valued:
            raise ValueError(f"Capabilities {valued} are given a value and declared unknown at once.")

    @classmethod
    def partial(cls, **values: Any) -> Capabilities:
        """Declare some capabilities and leave every other one unknown.

        Parameters
        ----------
        **values : `object`
            The capabilities declared, present or absent.

        Returns
        -------
        capabilities : `Capabilities`
            With ``unknown`` holding every capability not given.

        Raises
        ------
        TypeError
            Raised if a value has the wrong type.
        ValueError
            Raised for a name that is no capability.
        """
        for name in values:
            _check_name(name)
        return cls(**values, unknown=frozenset(capability_names()) - set(values))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Capabilities:
        """Build capabilities from a mapping, as read from a configuration file.

        Parameters
        ----------
        mapping : `~collections.abc.Mapping` [`str`, `object`]
            Capability names and values; names not given are absent.

        Returns
        -------
        capabilities : `Capabilities`
            The capabilities.

        Raises
        ------
        TypeError
            Raised if ``mapping`` is not a mapping or a value has the wrong
            type.
        ValueError
            Raised for an unknown capability name, listing the known ones.
        """
        if not isinstance(mapping, Mapping):
            raise TypeError(f"Capabilities must be a mapping of names to values; got {mapping!r}.")
        unknown = sorted(set(mapping) - set(capability_names()))
        if unknown:
            raise ValueError(
                f"Unknown capabilities {unknown}; the capabilities are {', '.join(capability_names())}."
            )
        return cls(**mapping)

    def declares(self, name: str) -> bool:
        """Return whether a capability is declared, present or absent.

        Parameters
        ----------
        name : `str`
            A capability name (see `capability_names`).

        Returns
        -------
        declared : `bool`
            `False` only for a name in ``unknown``.

        Raises
        ------
        ValueError
            Raised if ``name`` is not a capability.
        """
        _check_name(name)
        return name not in self.unknown

    def has(self, name: str) -> bool:
        """Return whether a capability is present.

        Parameters
        ----------
        name : `str`
            A capability name (see `capability_names`).

        Returns
        -------
        present : `bool`
            `True` for a true flag, a non-empty set of transfer modes or a
            URI scheme; `False` for an absent or unknown capability.

        Raises
        ------
        ValueError
            Raised if ``name`` is not a capability.
        """
        _check_name(name)
        return bool(getattr(self, name))

    def present(self) -> list[str]:
        """Return the names of the capabilities that are present.

        Returns
        -------
        names : `list` [`str`]
            In declaration order.
        """
        return [name for name in capability_names() if self.has(name)]

    def to_dict(self) -> dict[str, Any]:
        """Return the capabilities as JSON-ready values.

        Returns
        -------
        values : `dict` [`str`, `object`]
            Every declared capability (an unknown one is left out);
            transfer modes as a sorted list.
        """
        values = {name: getattr(self, name) for name in capability_names() if name not in self.unknown}
        if "ingest_transfer_modes" in values:
            values["ingest_transfer_modes"] = sorted(self.ingest_transfer_modes)
        return values


def capability_names() -> tuple[str, ...]:
    """Return the names of every capability, in declaration order.

    Returns
    -------
    names : `tuple` [`str`, ...]
        The fields of `Capabilities`, less ``unknown``.
    """
    return tuple(
        field.name for field in dataclasses.fields(Capabilities) if field.name not in _NOT_CAPABILITIES
    )


def _transfer_modes(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(
            f"Capability 'ingest_transfer_modes' must be a collection of mode names; got {value!r}."
        )
    modes = frozenset(value)
    unknown = sorted(map(repr, modes - set(INGEST_TRANSFER_MODES)))
    if unknown:
        raise ValueError(
            f"Unknown ingest transfer modes {', '.join(unknown)}; the modes are "
            f"{', '.join(INGEST_TRANSFER_MODES)}."
        )
    return modes


def requires(name: str, *, param: str | None = None) -> pytest.MarkDecorator:
    """Mark a conformance test as needing a capability.

    Parameters
    ----------
    name : `str`
        The capability.
    param : `str`, optional
        For a set-valued capability (``ingest_transfer_modes``): the test
        parameter whose value must be in the set.

    Returns
    -------
    marker : `pytest.MarkDecorator`
        The ``butler_capability`` marker; when the capability is absent the
        test is skipped with a reason naming it.

    Raises
    ------
    ValueError
        Raised if ``name`` is not a capability.
    """
    _check_name(name)
    return _capability_marker(name, present=True, param=param)


def lacks(name: str, *, param: str | None = None) -> pytest.MarkDecorator:
    """Mark a conformance test as applying only when a capability is absent.

    Parameters
    ----------
    name : `str`
        The capability, e.g. ``zip_ingest`` for "``ingest_zip`` raises
        `NotImplementedError`".
    param : `str`, optional
        For a set-valued capability (``ingest_transfer_modes``): the test
        parameter whose value must be missing from a set that is not empty
        (e.g. "a transfer mode the datastore does not support is refused").

    Returns
    -------
    marker : `pytest.MarkDecorator`
        The ``butler_capability`` marker; when the capability is present (or
        holds the parameter's value) the test is skipped with a reason
        naming it.

    Raises
    ------
    ValueError
        Raised if ``name`` is not a capability.
    """
    _check_name(name)
    return _capability_marker(name, present=False, param=param)


def declared(name: str) -> pytest.MarkDecorator:
    """Mark a conformance test as needing a capability declared, present or absent.

    Parameters
    ----------
    name : `str`
        The capability, e.g. ``ephemeral`` for "``isEphemeral`` is what was
        declared".

    Returns
    -------
    marker : `pytest.MarkDecorator`
        The ``butler_capability`` marker; when the capability is unknown the
        test is skipped with a reason naming it.

    Raises
    ------
    ValueError
        Raised if ``name`` is not a capability.
    """
    _check_name(name)
    return _capability_marker(name, present=None, param=None)


def _capability_marker(name: str, *, present: bool | None, param: str | None) -> pytest.MarkDecorator:
    return pytest.mark.__getattr__(CAPABILITY_MARKER)(name, present=present, param=param)


def _check_name(name: str) -> None:
    if name not in capability_names():
        known = ", ".join(capability_names())
        raise ValueError(f"Unknown capability {name!r}; the capabilities are {known}.")
