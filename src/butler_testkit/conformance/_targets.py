"""Datastores to check: the built-in targets, class paths and configuration files."""

from __future__ import annotations

__all__ = (
    "BUILTIN_TARGETS",
    "ConformanceTarget",
    "TargetError",
    "conformance_class",
    "resolve_target",
    "targets_markdown",
)

import dataclasses
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from lsst.daf.butler.datastore import Datastore

from ..factories import make_bridge_manager
from ..targets import TargetError, TargetSpec, parse_target, read_builtin_targets
from ._capabilities import INGEST_TRANSFER_MODES, Capabilities, capability_names
from ._declarations import Declaration, class_declaration
from ._factory import DatastoreFactory
from ._suite import DatastoreConformance
from ._views import StoredStateView

_BUILTIN_SPECS = read_builtin_targets(__package__ or "butler_testkit.conformance", "builtin_targets.yaml")


@dataclasses.dataclass(frozen=True)
class ConformanceTarget:
    """A datastore the suite can run against, with what it declares.

    Parameters
    ----------
    name : `str`
        Label of the target in reports.
    description : `str`
        One line saying what the datastore is.
    config : `~collections.abc.Mapping` [`str`, `object`]
        The datastore configuration (at least ``cls``); ``<butlerRoot>``
        stands for the fresh directory each datastore is given.
    capabilities : `Capabilities`
        What the datastore can do.
    divergences : `~collections.abc.Mapping` [`str`, `str`]
        Tests it is known to fail, each with a one-line reason.
    stored_state_view : `StoredStateView` or `None`
        A back-door view of its stored state, if there is one.
    """

    name: str
    description: str
    config: Mapping[str, Any]
    capabilities: Capabilities
    divergences: Mapping[str, str] = dataclasses.field(default_factory=dict)
    stored_state_view: StoredStateView | None = None

    def factory(self, directory: Path) -> DatastoreFactory:
        """Return a factory of fresh datastores, each in its own directory.

        Parameters
        ----------
        directory : `pathlib.Path`
            Directory to make the datastores' directories in.

        Returns
        -------
        factory : `DatastoreFactory`
            Makes a new datastore on every call, with its own bridge
            manager: file datastores of one registry would share one records
            table.
        """
        numbers = itertools.count(1)
        spec = TargetSpec(self.name, self.description, self.config, "builtin")

        def make(*, constraints: Mapping[str, Any] | None = None) -> Datastore:
            root = directory / f"{self.name}-{next(numbers)}"
            root.mkdir(parents=True)
            made = spec
            if constraints is not None:
                made = dataclasses.replace(spec, config={**self.config, "constraints": dict(constraints)})
            return made.create(root, make_bridge_manager())

        return make


def _conformance_target(spec: TargetSpec) -> ConformanceTarget:
    """Attach to a parsed target what it declares.

    A target's own ``conformance`` section wins. A class path with none
    takes its class's declaration (its ``conformance_declaration``, or a
    built-in target's for a subclass of that target's class); a
    configuration file with none declares nothing, whatever its class,
    since its configuration may change what the class does.
    """
    if spec.declaration is not None:
        where = f"the built-in target {spec.name!r}" if spec.origin == "builtin" else spec.description
        declaration = Declaration.from_mapping(spec.declaration, where)
    elif spec.origin == "class":
        declaration = class_declaration(spec.datastore_class(), _BUILTIN_SPECS)
    else:
        declaration = Declaration.undeclared(spec.datastore_class())
    return ConformanceTarget(
        spec.name,
        spec.description,
        spec.config,
        declaration.capabilities,
        declaration.divergences,
        declaration.stored_state_view,
    )


BUILTIN_TARGETS: Mapping[str, ConformanceTarget] = {
    name: _conformance_target(spec) for name, spec in _BUILTIN_SPECS.items()
}
"""The targets known by name: ``inmemory`` (ours, the default), ``upstream-inmemory``, ``file``
and ``chained``, declared in the package's ``builtin_targets.yaml``."""


def resolve_target(spec: str) -> ConformanceTarget:
    """Turn a command-line target into a `ConformanceTarget`.

    Parameters
    ----------
    spec : `str`
        A built-in name (`BUILTIN_TARGETS`); a datastore configuration file
        (``.yaml``, ``.yml`` or ``.json``, with ``cls``, optionally under a
        ``datastore`` key, and an optional ``conformance`` section with
        ``capabilities``, ``divergences`` and ``stored_state_view``); or the
        import path of a datastore class, which declares what its
        ``conformance_declaration`` attribute says, else what the built-in
        target of a class it derives from declares, else nothing but
        ``ephemeral`` (its ``isEphemeral``).

    Returns
    -------
    target : `ConformanceTarget`
        The target.

    Raises
    ------
    TargetError
        Raised if ``spec`` is none of these, or names a file or class that
        cannot be used, saying why.
    """
    if spec in BUILTIN_TARGETS:
        return BUILTIN_TARGETS[spec]
    return _conformance_target(parse_target(spec, _BUILTIN_SPECS, kind="conformance target"))


def conformance_class(target: ConformanceTarget) -> type[DatastoreConformance]:
    """Return a `DatastoreConformance` subclass testing a target.

    Parameters
    ----------
    target : `ConformanceTarget`
        The datastore and what it declares.

    Returns
    -------
    suite : `type` [`DatastoreConformance`]
        A class named ``TestConformance`` (pytest collects it when bound to
        a module-level name starting with ``Test``), reported under the
        target's name.
    """

    class TestConformance(DatastoreConformance):
        conformance_name = target.name

        @pytest.fixture
        def datastore_factory(self, tmp_path: Path) -> DatastoreFactory:
            """Make the target's datastores under the test's temporary directory."""
            return target.factory(tmp_path)

        @pytest.fixture
        def capabilities(self) -> Capabilities:
            """Return the target's capabilities."""
            return target.capabilities

        @pytest.fixture
        def divergences(self) -> Mapping[str, str]:
            """Return the target's declared divergences."""
            return target.divergences

        @pytest.fixture
        def stored_state_view(self) -> StoredStateView | None:
            """Return the target's stored-state view, if any."""
            return target.stored_state_view

    return TestConformance


def targets_markdown(targets: Mapping[str, ConformanceTarget] = BUILTIN_TARGETS) -> str:
    """Tabulate targets' capabilities and declared divergences, as the documentation publishes them.

    Parameters
    ----------
    targets : `~collections.abc.Mapping` [`str`, `ConformanceTarget`], optional
        The targets; the built-in ones by default.

    Returns
    -------
    markdown : `str`
        A table of capabilities (rows) by target (columns), then every
        target's declared divergences with their reasons.
    """
    names = list(targets)
    lines = [
        "| capability | " + " | ".join(f"`{name}`" for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for capability in capability_names():
        cells = [_capability_cell(_value(targets[name].capabilities, capability)) for name in names]
        lines.append(f"| `{capability}` | " + " | ".join(cells) + " |")
    counts = [str(len(targets[name].divergences)) for name in names]
    lines.append("| declared divergences | " + " | ".join(counts) + " |")
    for name in names:
        target = targets[name]
        lines += ["", f"**`{name}`**: {target.description}.", ""]
        if not target.divergences:
            lines.append("No declared divergence.")
        lines += [f"- `{test}`: {reason}." for test, reason in sorted(target.divergences.items())]
    return "\n".join(lines) + "\n"


_UNKNOWN = object()


def _value(capabilities: Capabilities, name: str) -> object:
    return getattr(capabilities, name) if capabilities.declares(name) else _UNKNOWN


def _capability_cell(value: object) -> str:
    if value is _UNKNOWN:
        return "?"
    if isinstance(value, bool):
        return "yes" if value else "-"
    if isinstance(value, frozenset):
        return ", ".join(mode for mode in INGEST_TRANSFER_MODES if mode in value) or "-"
    return "-" if value is None else f"`{value}`"
