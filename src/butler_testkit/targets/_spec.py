"""Datastores named on a command line: a built-in name, a configuration file or a class path."""

from __future__ import annotations

__all__ = (
    "CONFIG_SUFFIXES",
    "CONFORMANCE_SECTION",
    "TargetError",
    "TargetSpec",
    "import_datastore_class",
    "parse_target",
    "read_builtin_targets",
    "read_target_file",
)

import dataclasses
import importlib
import importlib.resources
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

from lsst.daf.butler import Config
from lsst.daf.butler.datastore import Datastore, DatastoreConfig
from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager
from lsst.daf.butler.repo_relocation import BUTLER_ROOT_TAG

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
"""Suffixes that make a target a configuration file, whether it exists or not."""

CONFORMANCE_SECTION = "conformance"
"""Section of a target file that declares what the datastore can do (capabilities, divergences)."""

_DATASTORE_SECTION = "datastore"
_DESCRIPTION = "description"


class TargetError(ValueError):
    """A target cannot be resolved: unknown name, bad file or class."""


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    """A datastore to build, as a target names it, with what it declares.

    Parameters
    ----------
    name : `str`
        Label of the target in reports.
    description : `str`
        One line saying what the datastore is.
    config : `~collections.abc.Mapping` [`str`, `object`]
        Datastore configuration, at least ``cls``; ``<butlerRoot>`` in it
        stands for the directory each datastore is given.
    origin : ``"builtin"``, ``"file"`` or ``"class"``
        How the target was named.
    declaration : `~collections.abc.Mapping` [`str`, `object`] or `None`, optional
        The target's ``conformance`` section (capabilities, divergences, a
        stored-state view), `None` if it has none.
    registry : `str` or `None`, optional
        The bridge manager asked for with an ``@name`` suffix, if any.
    """

    name: str
    description: str
    config: Mapping[str, Any]
    origin: Literal["builtin", "file", "class"]
    declaration: Mapping[str, Any] | None = None
    registry: str | None = None

    def datastore_class(self) -> type[Datastore]:
        """Import the class the configuration names.

        Returns
        -------
        cls : `type` [`~lsst.daf.butler.datastore.Datastore`]
            The datastore class.

        Raises
        ------
        TargetError
            Raised if it cannot be imported or is not a datastore.
        """
        return import_datastore_class(str(self.config["cls"]))

    def create(self, root: str | Path, bridge_manager: DatastoreRegistryBridgeManager) -> Datastore:
        """Build a fresh datastore.

        Parameters
        ----------
        root : `str` or `pathlib.Path`
            Its directory, which ``<butlerRoot>`` in the configuration
            stands for.
        bridge_manager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
            What it is built on.

        Returns
        -------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            The datastore.

        Notes
        -----
        ``<butlerRoot>`` is replaced in the configuration before the
        datastore sees it (as well as given as its ``butlerRoot``), so that
        its configuration names where it really is: a datastore rebuilt from
        its own configuration finds the same files, and two datastores whose
        names derive from their roots are told apart.
        """
        config = _with_root(self.config, str(root))
        return Datastore.fromConfig(DatastoreConfig(config), bridge_manager, butlerRoot=str(root))


def _with_root(value: Any, root: str) -> Any:
    """Replace ``<butlerRoot>`` in every string of a configuration."""
    if isinstance(value, str):
        return value.replace(BUTLER_ROOT_TAG, root)
    if isinstance(value, Mapping):
        return {key: _with_root(item, root) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_with_root(item, root) for item in value]
    return value


def import_datastore_class(path: str) -> type[Datastore]:
    """Import a datastore class from its import path.

    Parameters
    ----------
    path : `str`
        ``package.module.ClassName``.

    Returns
    -------
    cls : `type` [`~lsst.daf.butler.datastore.Datastore`]
        The class.

    Raises
    ------
    TargetError
        Raised if it cannot be imported or is not a `Datastore` subclass.
    """
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as err:
        raise TargetError(f"Cannot import datastore class {path!r}: {err}") from err
    if not (isinstance(cls, type) and issubclass(cls, Datastore)):
        raise TargetError(f"{path!r} is not a Datastore subclass.")
    return cls


def parse_target(
    spec: str,
    builtins: Mapping[str, TargetSpec],
    *,
    kind: str,
    registries: Collection[str] = (),
) -> TargetSpec:
    """Turn a target named on a command line into a `TargetSpec`.

    Parameters
    ----------
    spec : `str`
        A key of ``builtins``; a datastore configuration file (`read_target_file`);
        or the import path of a datastore class (built with no other
        configuration); followed, when ``registries`` are given, by an
        optional ``@`` and one of them.
    builtins : `~collections.abc.Mapping` [`str`, `TargetSpec`]
        The targets known by name.
    kind : `str`
        What the command calls a target (``conformance target``), for
        messages.
    registries : `~collections.abc.Collection` [`str`], optional
        Names a target may end with after an ``@``; none by default.

    Returns
    -------
    target : `TargetSpec`
        The target, with ``registry`` set from the suffix.

    Raises
    ------
    TargetError
        Raised if ``spec`` is none of these, or names a file or class that
        cannot be used, or an unknown registry, saying why.
    """
    base, at, registry = spec.rpartition("@")
    if registries and at and registry.isidentifier():
        if registry not in registries:
            raise TargetError(
                f"Unknown registry {registry!r} in {kind} {spec!r}: "
                f"give one of {', '.join(registries)} after the '@'."
            )
        target = parse_target(base, builtins, kind=kind)
        return dataclasses.replace(target, name=f"{target.name}@{registry}", registry=registry)
    if spec in builtins:
        return builtins[spec]
    path = Path(spec)
    if path.suffix in CONFIG_SUFFIXES or path.is_file():
        return read_target_file(path)
    if "." in spec and all(part.isidentifier() for part in spec.split(".")):
        import_datastore_class(spec)
        return TargetSpec(spec.rsplit(".", 1)[1], f"{spec} with no configuration", {"cls": spec}, "class")
    raise TargetError(
        f"Unknown {kind} {spec!r}: give one of {', '.join(builtins)}, a datastore config file "
        "(.yaml, .yml or .json) or a datastore class path such as package.module.MyDatastore."
    )


def read_target_file(path: Path) -> TargetSpec:
    """Read a target configuration file.

    Parameters
    ----------
    path : `pathlib.Path`
        A YAML or JSON file: a datastore configuration with ``cls``, either
        at the top or under a ``datastore`` key; an optional ``conformance``
        section (beside ``datastore``, or inside the configuration); and,
        beside a ``datastore`` key, an optional one-line ``description``.

    Returns
    -------
    target : `TargetSpec`
        Named after the file's stem.

    Raises
    ------
    TargetError
        Raised if the file does not exist, cannot be read, or has no
        ``cls``.
    """
    if not path.is_file():
        raise TargetError(f"Datastore configuration file {str(path)!r} does not exist.")
    try:
        content = Config(str(path.resolve())).toDict()
    except Exception as err:
        raise TargetError(f"Cannot read datastore configuration file {str(path)!r}: {err}") from err
    return _target_from_content(path.stem, content, "file", f"{str(path)!r}", default_description=path.name)


def read_builtin_targets(package: str, resource: str) -> dict[str, TargetSpec]:
    """Read the built-in targets a package ships as data.

    Parameters
    ----------
    package : `str`
        The package holding the file.
    resource : `str`
        The file: a YAML mapping of target names to entries, each in the
        format of a target configuration file (with a ``datastore`` key).

    Returns
    -------
    targets : `dict` [`str`, `TargetSpec`]
        The targets, in the file's order.

    Raises
    ------
    TargetError
        Raised if an entry is malformed.
    """
    text = importlib.resources.files(package).joinpath(resource).read_text(encoding="utf-8")
    # Read as daf_butler reads the users' files.
    content = Config.fromString(text).toDict()
    where = f"{package}/{resource}"
    if not isinstance(content, Mapping):
        raise TargetError(f"The built-in targets of {where} must be a mapping of names to targets.")
    return {
        name: _target_from_content(name, entry, "builtin", f"{name!r} in {where}")
        for name, entry in content.items()
    }


def _target_from_content(
    name: str,
    content: object,
    origin: Literal["builtin", "file", "class"],
    where: str,
    default_description: str | None = None,
) -> TargetSpec:
    if not isinstance(content, Mapping):
        raise TargetError(f"Target {where} must be a mapping with 'cls'; got {content!r}.")
    nested = _DATASTORE_SECTION in content
    config = dict(content[_DATASTORE_SECTION] if nested else content)
    declaration = config.pop(CONFORMANCE_SECTION, None)
    if nested:
        declaration = content.get(CONFORMANCE_SECTION, declaration)
        unknown = sorted(set(content) - {_DATASTORE_SECTION, CONFORMANCE_SECTION, _DESCRIPTION})
        if unknown:
            raise TargetError(
                f"Target {where} may hold {_DATASTORE_SECTION!r}, {CONFORMANCE_SECTION!r} and "
                f"{_DESCRIPTION!r} beside each other; got {unknown}."
            )
    if "cls" not in config:
        raise TargetError(f"Datastore configuration {where} has no 'cls'.")
    if declaration is not None and not isinstance(declaration, Mapping):
        raise TargetError(
            f"The {CONFORMANCE_SECTION!r} section of {where} must be a mapping; got {declaration!r}."
        )
    description = content.get(_DESCRIPTION) if nested else None
    if description is None:
        description = f"{config['cls']}" + (
            f" configured by {default_description}" if default_description else ""
        )
    return TargetSpec(name, str(description), config, origin, declaration)
