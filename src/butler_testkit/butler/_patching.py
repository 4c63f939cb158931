"""Replace functions everywhere they are bound, and put every binding back exactly."""

from __future__ import annotations

__all__ = ("FunctionPatch", "NamePatcher")

import dataclasses
import importlib
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any


@dataclasses.dataclass(frozen=True)
class FunctionPatch:
    """One function to replace, where it is defined and wherever it was imported.

    Parameters
    ----------
    module : `str`
        The module that defines the function (or the class holding it).
    name : `str`
        Its name there: ``"makeTestRepo"``, or ``"Butler.makeRepo"`` for a
        static or class method.
    replacement : `~collections.abc.Callable`
        The function to bind instead (a plain function; it is wrapped in the
        original's `staticmethod` or `classmethod` when the original is one).
    """

    module: str
    name: str
    replacement: Callable[..., Any]

    @property
    def owner_path(self) -> tuple[str, ...]:
        """Attribute names from the module down to the namespace holding the binding."""
        return tuple(self.name.split(".")[:-1])

    @property
    def attribute(self) -> str:
        """The bound name in its owner."""
        return self.name.split(".")[-1]


@dataclasses.dataclass(frozen=True)
class _Binding:
    namespace: Any  # a module or a class
    name: str
    original: Any
    replacement: Any


class NamePatcher:
    """Swap functions for replacements in every module that holds them, reversibly.

    `install` binds each replacement where its original is defined and under
    every name in every loaded module that refers to the original (``from
    lsst.daf.butler.tests import makeTestRepo`` made before the patch is
    installed keeps working). `uninstall` puts the originals back, including
    in modules imported while the patch was on that picked up a replacement.

    What is bound is a copy of each replacement function made by `install`,
    so that a module holding the replacement function itself (the module
    defining it, or one importing it from there) is left alone.
    """

    def __init__(self, patches: Iterable[FunctionPatch]) -> None:
        self._patches = tuple(patches)
        self._bindings: list[_Binding] = []
        self._originals: dict[str, Callable[..., Any]] = {}
        self._installed = False

    @property
    def installed(self) -> bool:
        """Whether the replacements are bound."""
        return self._installed

    def original(self, module: str, name: str) -> Callable[..., Any]:
        """Return the original function of a patch, callable as the caller would.

        Parameters
        ----------
        module : `str`
            The patch's module.
        name : `str`
            The patch's name.

        Returns
        -------
        function : `~collections.abc.Callable`
            The function that was bound before `install` (unwrapped from
            `staticmethod`; a class method comes bound to its class).

        Raises
        ------
        KeyError
            Raised if no such patch is installed.
        """
        return self._originals[f"{module}:{name}"]

    def install(self) -> None:
        """Bind every replacement.

        Raises
        ------
        RuntimeError
            Raised if already installed.
        AttributeError
            Raised, with nothing changed, if a patched name does not exist.
        """
        if self._installed:
            raise RuntimeError("The patches are already installed.")
        homes: list[tuple[FunctionPatch, Any, Any, Any]] = []
        for patch in self._patches:
            owner: Any = importlib.import_module(patch.module)
            for part in patch.owner_path:
                owner = getattr(owner, part)
            raw = vars(owner).get(patch.attribute)
            if raw is None:
                raise AttributeError(f"{patch.module}.{patch.name} does not exist; nothing was patched.")
            # A copy of its own, so that the names bound to it can be told
            # from names a module bound to the replacement itself.
            replacement = _own_copy(patch.replacement)
            homes.append((patch, owner, raw, replacement))
        bindings: list[_Binding] = []
        seen: set[tuple[int, str]] = set()
        by_function: dict[int, tuple[Any, Any]] = {}
        for patch, owner, raw, replacement in homes:
            bindings.append(_Binding(owner, patch.attribute, raw, _rewrap(raw, replacement)))
            seen.add((id(owner), patch.attribute))
            function = _unwrap(raw)
            by_function[id(function)] = (function, replacement)
            self._originals[f"{patch.module}:{patch.name}"] = getattr(owner, patch.attribute)
        for _module_name, namespace in _loaded_modules():
            for name, value in list(vars(namespace).items()):
                found = by_function.get(id(value))
                if found is not None and found[0] is value and (id(namespace), name) not in seen:
                    seen.add((id(namespace), name))
                    bindings.append(_Binding(namespace, name, value, found[1]))
        for binding in bindings:
            setattr(binding.namespace, binding.name, binding.replacement)
        self._bindings = bindings
        self._installed = True

    def uninstall(self) -> None:
        """Put back every original binding; a no-op if not installed."""
        if not self._installed:
            return
        restore = {id(_unwrap(b.replacement)): _unwrap(b.original) for b in self._bindings}
        replacements = {id(_unwrap(b.replacement)): _unwrap(b.replacement) for b in self._bindings}
        for binding in reversed(self._bindings):
            setattr(binding.namespace, binding.name, binding.original)
        # Modules imported while the patch was on hold the replacements too.
        for _module_name, namespace in _loaded_modules():
            for name, value in list(vars(namespace).items()):
                replacement = replacements.get(id(value))
                if replacement is not None and replacement is value:
                    setattr(namespace, name, restore[id(value)])
        self._bindings = []
        self._originals = {}
        self._installed = False

    def bound_names(self) -> list[str]:
        """Return where the replacements are bound (``module.name``), for reports.

        Returns
        -------
        names : `list` [`str`]
            One entry per binding, in installation order.
        """
        return [f"{_namespace_name(binding.namespace)}.{binding.name}" for binding in self._bindings]


def _own_copy(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return a distinct function object with the same code, defaults, signature and name."""
    if not isinstance(function, types.FunctionType):
        raise TypeError(f"A replacement must be a Python function; got {function!r}.")
    copy = types.FunctionType(
        function.__code__,
        function.__globals__,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copy.__kwdefaults__ = None if function.__kwdefaults__ is None else dict(function.__kwdefaults__)
    copy.__annotations__ = dict(function.__annotations__)
    copy.__dict__.update(function.__dict__)
    copy.__doc__ = function.__doc__
    copy.__qualname__ = function.__qualname__
    copy.__module__ = function.__module__
    return copy


def _rewrap(raw: Any, replacement: Callable[..., Any]) -> Any:
    if isinstance(raw, staticmethod):
        return staticmethod(replacement)
    if isinstance(raw, classmethod):
        return classmethod(replacement)
    return replacement


def _unwrap(raw: Any) -> Any:
    if isinstance(raw, staticmethod | classmethod):
        return raw.__func__
    return raw


def _loaded_modules() -> Iterator[tuple[str, types.ModuleType]]:
    for name, module in list(sys.modules.items()):
        if isinstance(module, types.ModuleType):
            yield name, module


def _namespace_name(namespace: Any) -> str:
    if isinstance(namespace, types.ModuleType):
        return namespace.__name__
    return f"{namespace.__module__}.{namespace.__qualname__}"
