"""Installing storage classes for a scope, and taking them back exactly."""

from __future__ import annotations

__all__ = ("StorageClassScope", "installed_storage_classes")

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from lsst.daf.butler import StorageClass, StorageClassConfig, StorageClassFactory

from ._catalogue import CATALOGUE

# Parsing a StorageClassConfig merges daf_butler's default definitions and
# costs tens of milliseconds; a fixture installs the same catalogue before
# every test. Definitions that only refer to each other build the same
# StorageClass objects every time, so they are built once per process.
_built: dict[str, tuple[StorageClass, ...]] = {}
_built_lock = threading.Lock()

_DEFINITION_KEYS = frozenset(
    {"pytype", "inheritsFrom", "components", "derivedComponents", "parameters", "delegate", "converters"}
)


def _definitions_key(definitions: Mapping[str, Mapping[str, Any]]) -> str:
    return json.dumps(definitions, sort_keys=True, default=str)


def _is_self_contained(definitions: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether every storage class the definitions refer to is among them."""
    for definition in definitions.values():
        referenced = [
            *definition.get("components", {}).values(),
            *definition.get("derivedComponents", {}).values(),
        ]
        if "inheritsFrom" in definition:
            referenced.append(definition["inheritsFrom"])
        if any(name not in definitions for name in referenced):
            return False
    return True


def _plain(definitions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    # Config takes ownership of what it is given; hand it fresh containers.
    plain: dict[str, Any] = json.loads(json.dumps(definitions, default=str))
    return plain


def _register(factory: StorageClassFactory, definitions: Mapping[str, Mapping[str, Any]]) -> None:
    """Register definitions; the caller restores the factory on failure."""
    if not isinstance(definitions, Mapping) or not all(
        isinstance(name, str) and isinstance(value, Mapping) for name, value in definitions.items()
    ):
        raise TypeError(
            "Storage-class definitions must map names to definition mappings "
            f"(as in daf_butler's 'storageClasses' config); got {definitions!r}."
        )
    for name, definition in definitions.items():
        # daf_butler ignores keys it does not know: a misspelt "parameters"
        # would silently define a storage class without them.
        unknown = set(definition) - _DEFINITION_KEYS
        if unknown:
            raise ValueError(
                f"Storage class {name!r} has unknown definition keys {sorted(unknown)}; "
                f"the keys are {sorted(_DEFINITION_KEYS)}."
            )
    key = _definitions_key(definitions)
    built = _built.get(key)
    if built is not None:
        for storage_class in built:
            factory.registerStorageClass(storage_class)
        return
    factory.addFromConfig(StorageClassConfig({"storageClasses": _plain(definitions)}))
    for name in definitions:
        # daf_butler imports types on first use; a typo would otherwise
        # surface in some later, unrelated call.
        storage_class = factory.getStorageClass(name)
        storage_class.pytype  # noqa: B018
        storage_class.delegateClass  # noqa: B018
    if _is_self_contained(definitions):
        with _built_lock:
            _built[key] = tuple(factory.getStorageClass(name) for name in definitions)


class StorageClassScope:
    """The storage classes installed for one scope (a test, a ``with`` block).

    Made by `installed_storage_classes` and the ``butler_storage_classes``
    fixture; everything done through it is undone when the scope ends.

    Parameters
    ----------
    factory : `~lsst.daf.butler.StorageClassFactory`
        The process-wide factory.
    """

    def __init__(self, factory: StorageClassFactory) -> None:
        self._factory = factory

    @property
    def factory(self) -> StorageClassFactory:
        """The process-wide `~lsst.daf.butler.StorageClassFactory`."""
        return self._factory

    def __getitem__(self, name: str) -> StorageClass:
        return self._factory.getStorageClass(name)

    def __contains__(self, name: object) -> bool:
        return name in self._factory

    def define(self, definitions: Mapping[str, Mapping[str, Any]]) -> None:
        """Add storage classes for the rest of the scope.

        Parameters
        ----------
        definitions : `~collections.abc.Mapping`
            Definitions by name, in daf_butler's ``storageClasses`` config
            form; they may refer to storage classes already installed.

        Raises
        ------
        TypeError
            Raised if ``definitions`` is not a mapping of mappings.
        ValueError
            Raised if a definition has an unknown key or a name is already
            defined differently; nothing is added.
        ImportError
            Raised if a Python type or delegate cannot be imported; nothing
            is added.
        """
        factory = self._factory
        with factory._lock:
            _register_or_restore(factory, definitions, dict(factory._storageClasses))

    def redefine(self, name: str, definition: Mapping[str, Any]) -> StorageClass:
        """Replace one storage class for the rest of the scope.

        Parameters
        ----------
        name : `str`
            The storage class to replace; it must be installed.
        definition : `~collections.abc.Mapping`
            Its new definition, in daf_butler's config form.

        Returns
        -------
        storage_class : `~lsst.daf.butler.StorageClass`
            The new definition, as registered.

        Raises
        ------
        KeyError
            Raised if no storage class of that name is installed.
        TypeError, ValueError, ImportError
            Raised if the definition is invalid or names a type that cannot
            be imported; the old one stays.

        Notes
        -----
        Composites already registered keep the component definitions they
        were built with; redefine a composite after its components.
        """
        factory = self._factory
        with factory._lock:
            if name not in factory._storageClasses:
                raise KeyError(f"Cannot redefine storage class {name!r}: it is not installed.")
            saved = dict(factory._storageClasses)
            del factory._storageClasses[name]
            _register_or_restore(factory, {name: definition}, saved)
            return factory.getStorageClass(name)


def _register_or_restore(
    factory: StorageClassFactory,
    definitions: Mapping[str, Mapping[str, Any]],
    saved: Mapping[str, StorageClass],
) -> None:
    """Register definitions, all or none: on any failure the factory holds ``saved`` again."""
    try:
        _register(factory, definitions)
    except BaseException:
        _restore(factory, saved)
        raise


def _restore(factory: StorageClassFactory, saved: Mapping[str, StorageClass]) -> None:
    # The factory has no public way to take a definition back; put its
    # table, under its own lock, back to what it was.
    with factory._lock:
        factory._storageClasses.clear()
        factory._storageClasses.update(saved)


@contextlib.contextmanager
def installed_storage_classes(
    definitions: Mapping[str, Mapping[str, Any]] = CATALOGUE,
) -> Iterator[StorageClassScope]:
    """Register storage classes for the duration of a ``with`` block.

    Parameters
    ----------
    definitions : `~collections.abc.Mapping`, optional
        Storage-class definitions by name; the catalogue by default.

    Yields
    ------
    scope : `StorageClassScope`
        Access to the installed storage classes, and a way to define or
        redefine more for the rest of the block.

    Raises
    ------
    TypeError
        Raised if ``definitions`` is not a mapping of mappings.
    ValueError
        Raised if a definition has an unknown key, or conflicts with a
        storage class already registered under the same name (daf_butler's
        own check).
    ImportError
        Raised if a Python type or delegate cannot be imported.

    Notes
    -----
    On exit, normal or not, the factory holds exactly the storage-class
    objects it held on entry, so that nothing a test defines or redefines
    leaks into another test. Scopes nest.
    """
    factory = StorageClassFactory()
    with factory._lock:
        saved = dict(factory._storageClasses)
        _register_or_restore(factory, definitions, saved)
    try:
        yield StorageClassScope(factory)
    finally:
        _restore(factory, saved)
