"""What the datastore benchmark runs: built-in targets, class paths, files, and their registries."""

from __future__ import annotations

__all__ = (
    "BUILTIN_TARGETS",
    "DEFAULT_TARGETS",
    "REGISTRIES",
    "BenchTarget",
    "BenchTargetError",
    "blaming",
    "resolve_target",
)

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lsst.daf.butler.datastore import Datastore
from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager
from lsst.daf.butler.tests import DummyRegistry

from ..bridge import InMemoryRegistry
from ..targets import TargetSpec, parse_target, read_builtin_targets

_BUILTIN_SPECS = read_builtin_targets(__package__ or "butler_testkit.bench", "builtin_targets.yaml")

BUILTIN_TARGETS: Mapping[str, Mapping[str, Any]] = {
    name: spec.config for name, spec in _BUILTIN_SPECS.items()
}
"""The configuration of each target known by name, from the package's ``builtin_targets.yaml``."""

DEFAULT_TARGETS = ("ours-reference", "ours-copy", "upstream")
"""The targets measured when none is given, in this order."""

REGISTRIES: Mapping[str, Callable[[], DatastoreRegistryBridgeManager]] = {
    "dummy": lambda: DummyRegistry().getDatastoreBridgeManager(),
    "fakes": lambda: InMemoryRegistry().getDatastoreBridgeManager(),
}
"""Bridge managers a target can run on: ``TARGET@dummy`` (the default,
daf_butler's ``DummyRegistry``) or ``TARGET@fakes`` (our `InMemoryRegistry`)."""


class BenchTargetError(RuntimeError):
    """A benchmark target could not be built or failed an operation."""


@contextlib.contextmanager
def blaming(label: str, operation: str) -> Iterator[None]:
    """Turn any failure inside the block into a `BenchTargetError` naming target and operation.

    Parameters
    ----------
    label : `str`
        The target.
    operation : `str`
        What it was doing.

    Yields
    ------
    None
        Nothing: the block runs as it is.
    """
    try:
        yield
    except Exception as err:
        raise BenchTargetError(
            f"benchmark target {label!r} failed in {operation}: {type(err).__name__}: {err}"
        ) from err


@dataclasses.dataclass(frozen=True)
class BenchTarget:
    """A datastore to benchmark.

    Parameters
    ----------
    label : `str`
        Column heading in the report.
    config : `~collections.abc.Mapping`
        Datastore configuration (at least ``cls``).
    registry : `str`, optional
        Key of `REGISTRIES`: the bridge manager the datastore is built on.
    """

    label: str
    config: Mapping[str, Any]
    registry: str = "dummy"

    def create(self, root: str) -> Datastore:
        """Build a fresh, empty datastore.

        Parameters
        ----------
        root : `str`
            Directory a file-backed datastore may write under.

        Returns
        -------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            The datastore, on a bridge manager of its own.
        """
        with blaming(self.label, "construction"):
            spec = TargetSpec(self.label, self.label, self.config, "builtin")
            return spec.create(root, REGISTRIES[self.registry]())


def resolve_target(spec: str) -> BenchTarget:
    """Turn a command-line target into a `BenchTarget`.

    Parameters
    ----------
    spec : `str`
        A built-in name (see `BUILTIN_TARGETS`), a datastore configuration
        file (YAML or JSON, with ``cls``), or the import path of a datastore
        class; optionally followed by ``@`` and a key of `REGISTRIES`
        (``file@fakes``) to choose the bridge manager, ``dummy`` by default.

    Returns
    -------
    target : `BenchTarget`
        The target.

    Raises
    ------
    butler_testkit.targets.TargetError
        Raised if ``spec`` is none of these (a `ValueError`).
    """
    parsed = parse_target(spec, _BUILTIN_SPECS, kind="benchmark target", registries=REGISTRIES)
    return BenchTarget(parsed.name, parsed.config, parsed.registry or "dummy")
