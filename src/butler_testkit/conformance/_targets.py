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
import importlib
import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from lsst.daf.butler import Config
from lsst.daf.butler.datastore import Datastore, DatastoreConfig

from ..factories import file_datastore_config
from ..factories._bridges import make_bridge_manager
from ._areas.put_get import CALLS_WITH_A_BAD_REF
from ._capabilities import INGEST_TRANSFER_MODES, Capabilities, capability_names
from ._factory import DatastoreFactory
from ._samples import SAMPLE_FORMATTERS
from ._suite import DatastoreConformance
from ._views import InMemoryStateView, StoredStateView, UpstreamInMemoryStateView

OURS = "butler_testkit.InMemoryDatastore"
UPSTREAM_IN_MEMORY = "lsst.daf.butler.datastores.inMemoryDatastore.InMemoryDatastore"
UPSTREAM_CHAINED = "lsst.daf.butler.datastores.chainedDatastore.ChainedDatastore"

CONFORMANCE_SECTION = "conformance"
"""Section of a target configuration file holding its capabilities and divergences."""


class TargetError(ValueError):
    """A conformance target cannot be resolved: unknown name, bad file or class."""


ConfigMaker = Callable[[Path], Mapping[str, Any]]


@dataclasses.dataclass(frozen=True)
class ConformanceTarget:
    """A datastore the suite can run against, with what it declares.

    Parameters
    ----------
    name : `str`
        Label of the target in reports.
    description : `str`
        One line saying what the datastore is.
    make_config : `~collections.abc.Callable`
        Given a fresh, empty directory, returns the datastore configuration
        (at least ``cls``); the directory is also given as ``butlerRoot``.
    capabilities : `Capabilities`
        What the datastore can do.
    divergences : `~collections.abc.Mapping` [`str`, `str`]
        Tests it is known to fail, each with a one-line reason.
    stored_state_view : `StoredStateView` or `None`
        A back-door view of its stored state, if there is one.
    """

    name: str
    description: str
    make_config: ConfigMaker
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

        def make(*, constraints: Mapping[str, Any] | None = None) -> Datastore:
            root = directory / f"{self.name}-{next(numbers)}"
            root.mkdir(parents=True)
            config = dict(self.make_config(root))
            if constraints is not None:
                config["constraints"] = dict(constraints)
            return Datastore.fromConfig(DatastoreConfig(config), make_bridge_manager(), butlerRoot=str(root))

        return make


def _in_memory(_: Path) -> Mapping[str, Any]:
    return {"cls": OURS}


def _upstream_in_memory(_: Path) -> Mapping[str, Any]:
    return {"cls": UPSTREAM_IN_MEMORY}


def _file(root: Path) -> Mapping[str, Any]:
    config = file_datastore_config(root / "files").toDict()
    config["formatters"].update(SAMPLE_FORMATTERS)
    return config


def _chained(root: Path) -> Mapping[str, Any]:
    return {"cls": UPSTREAM_CHAINED, "datastores": [dict(_file(root)), {"cls": OURS}]}


# Where the in-memory child of the chain hides what the file child does.
_NOT_IN_CHAINED = frozenset(
    {
        "test_emptying_an_empty_selection_removes_nothing",
        "test_trashing_an_unknown_dataset_does_not_doom_a_later_put",
        "test_a_none_component_comes_back_as_none",
    }
)

# The operations of the not-a-reference test that reach attribute access in
# every upstream datastore before anything could check the argument: all but
# remove(), which on our registry fakes reaches a bridge that checks it.
_ATTRIBUTE_ACCESS = sorted(set(CALLS_WITH_A_BAD_REF) - {"remove"})

# Divergences shared by every upstream target, because they come from
# daf_butler's base classes.
_UPSTREAM_ANY = {
    "test_an_argument_that_is_not_a_reference_raises_type_error": (
        "anything passed as a reference reaches attribute access, so it raises AttributeError "
        "(or ValueError), not TypeError"
    ),
    "test_lookup_keys_include_the_rejected_names": (
        "Constraints.getLookupKeys unions the accept keys with themselves, so reject keys are never reported"
    ),
    "test_a_forget_in_a_failed_transaction_is_undone": (
        "a datastore transaction does not undo forget (in a Butler, the registry's rollback restores "
        "a FileDatastore's records)"
    ),
}

# FileDatastore with the catalogue's composites disassembled, on our registry
# fakes.
_NOT_A_REFERENCE = "test_an_argument_that_is_not_a_reference_raises_type_error"
_UPSTREAM_FILE = {
    **{test: reason for test, reason in _UPSTREAM_ANY.items() if test != _NOT_A_REFERENCE},
    **{
        f"{_NOT_A_REFERENCE}[{operation}]": _UPSTREAM_ANY[_NOT_A_REFERENCE] for operation in _ATTRIBUTE_ACCESS
    },
    "test_emptying_an_empty_selection_removes_nothing": "emptyTrash(refs=[]) empties the whole trash",
    "test_a_trash_in_a_failed_transaction_is_undone": (
        "trash moves the bridge's rows at once, as the SQL bridge does; only a registry transaction "
        "(as in a Butler) undoes it"
    ),
    "test_putting_a_component_reference_is_refused_and_stores_nothing": (
        "put accepts a component reference and stores it as a dataset of its own"
    ),
    "test_a_none_component_comes_back_as_none": (
        "disassembly writes no file for a None component, so reading it raises FileNotFoundError"
    ),
    "test_a_model_put_as_the_composite_is_converted": (
        "a composite is disassembled before it is converted, so putting a convertible type raises TypeError"
    ),
    "test_get_returns_the_python_type_of_the_storage_class": (
        "a composite is disassembled before it is converted, so putting a convertible type raises TypeError"
    ),
    "test_reading_as_the_model_returns_a_model": (
        "a disassembled composite cannot be read as a storage class without its components "
        "(UnknownComponentError)"
    ),
    "test_reading_as_a_dictionary_returns_a_dict": (
        "a disassembled composite cannot be read as a storage class without its components "
        "(UnknownComponentError)"
    ),
    "test_an_overridden_reference_reads_as_the_storage_class_argument_does": (
        "a disassembled composite cannot be read as a storage class without its components "
        "(UnknownComponentError)"
    ),
    "test_reading_converted_changes_nothing_stored": (
        "a disassembled composite cannot be read as a storage class without its components "
        "(UnknownComponentError)"
    ),
    "test_validating_something_that_is_not_an_entity_raises": (
        "anything validated reaches attribute access, so it raises AttributeError"
    ),
    "test_a_parameter_of_a_component_applies_to_it_not_to_the_composite": (
        "a component only the read storage class defines is taken from the whole dataset, read with "
        "the parameters, so they apply to the composite"
    ),
}

_UPSTREAM_IN_MEMORY = {
    **_UPSTREAM_ANY,
    "test_emptying_an_empty_selection_removes_nothing": "emptyTrash(refs=[]) empties the whole trash",
    "test_trashing_an_unknown_dataset_does_not_doom_a_later_put": (
        "trash records IDs it does not hold, so the next emptyTrash deletes a later put of them"
    ),
    "test_random_operation_sequences_agree_with_a_model": (
        "trash records IDs it does not hold, so the next emptyTrash deletes a later put of them"
    ),
    "test_putting_a_component_reference_is_refused_and_stores_nothing": (
        "put stores a component reference under its parent's ID"
    ),
    "test_putting_none_raises_type_error": "put stores None whatever the storage class",
    "test_a_clone_and_its_original_share_the_trash_for_life": (
        "emptyTrash rebinds the trash, so after the first one a clone and its original have separate trashes"
    ),
    "test_a_dataset_stored_again_gets_the_same_uri": "URIs embed id() of the stored object",
    "test_forget_releases_the_stored_object": "forget drops the record but keeps the object",
    "test_forget_leaves_no_bookkeeping": "forget drops the record but keeps the object",
    "test_rolling_back_a_put_logs_no_warning": (
        "undoing a put trashes inside the rollback, which logs 'caught while unrolling' at WARNING"
    ),
    "test_validation_rejects_a_storage_class_it_cannot_handle": "validateConfiguration is a no-op",
    "test_validating_something_that_is_not_an_entity_raises": "validateConfiguration is a no-op",
}

_UPSTREAM_CHAINED = {
    **{test: reason for test, reason in _UPSTREAM_FILE.items() if test not in _NOT_IN_CHAINED},
    "test_putting_a_component_reference_is_refused_and_stores_nothing": (
        "the FileDatastore child stores a component reference before the in-memory child refuses it"
    ),
    "test_a_trash_in_a_failed_transaction_is_undone": (
        "its transactions do not reach its children, which commit their trash at once"
    ),
    "test_transfer_from_refuses_what_the_constraints_reject": (
        "transfer_from applies its children's constraints, not its own"
    ),
}

# FileDatastore refuses a re-put, but with the bridge's unique-constraint
# error (ConstraintViolationError here, IntegrityError on SQL), not
# FileExistsError: refuses_reput is not declared, so the re-put tests (and the stateful
# rule that re-puts) are skipped rather than failing as one.
_FILE_CAPABILITIES = Capabilities(
    persistent_artifacts=True,
    ingest_transfer_modes=frozenset(INGEST_TRANSFER_MODES),
    disassembly=True,
    artifact_retrieval=True,
    zip_ingest=True,
    records_export=True,
    file_transfers=True,
    predicted_uris=True,
    copies_on_get=True,
    uri_scheme="file",
)

BUILTIN_TARGETS: Mapping[str, ConformanceTarget] = {
    target.name: target
    for target in (
        ConformanceTarget(
            "inmemory",
            "butler_testkit.InMemoryDatastore, copy isolation (the default)",
            _in_memory,
            Capabilities(
                ephemeral=True,
                ingest_transfer_modes=frozenset({"auto", "copy", "move"}),
                artifact_retrieval=True,
                zip_ingest=True,
                records_export=True,
                file_transfers=True,
                predicted_uris=True,
                refuses_reput=True,
                copies_on_get=True,
                correct_nested_rollback=True,
                thread_safe=True,
                uri_scheme="mem",
            ),
            stored_state_view=InMemoryStateView(),
        ),
        ConformanceTarget(
            "upstream-inmemory",
            "daf_butler's InMemoryDatastore",
            _upstream_in_memory,
            Capabilities(ephemeral=True, predicted_uris=True, uri_scheme="mem"),
            _UPSTREAM_IN_MEMORY,
            stored_state_view=UpstreamInMemoryStateView(),
        ),
        ConformanceTarget(
            "file",
            "daf_butler's FileDatastore on a temporary directory, with the catalogue's formatters",
            _file,
            _FILE_CAPABILITIES,
            _UPSTREAM_FILE,
        ),
        ConformanceTarget(
            "chained",
            "daf_butler's ChainedDatastore of a FileDatastore and butler_testkit.InMemoryDatastore",
            _chained,
            _FILE_CAPABILITIES,
            _UPSTREAM_CHAINED,
        ),
    )
}
"""The targets known by name: ``inmemory`` (ours, the default), ``upstream-inmemory``, ``file``
and ``chained``."""


def resolve_target(spec: str) -> ConformanceTarget:
    """Turn a command-line target into a `ConformanceTarget`.

    Parameters
    ----------
    spec : `str`
        A built-in name (`BUILTIN_TARGETS`); a datastore configuration file
        (``.yaml``, ``.yml`` or ``.json``, with ``cls``, optionally under a
        ``datastore`` key, and an optional ``conformance`` section with
        ``capabilities`` and ``divergences``); or the import path of a
        datastore class (its capabilities are all absent except
        ``ephemeral``, which is the class's ``isEphemeral``).

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
    path = Path(spec)
    if path.suffix in {".yaml", ".yml", ".json"} or path.is_file():
        return _file_target(path)
    if "." in spec and all(part.isidentifier() for part in spec.split(".")):
        return _class_target(spec)
    raise TargetError(
        f"Unknown conformance target {spec!r}: give one of {', '.join(BUILTIN_TARGETS)}, a datastore "
        "config file (.yaml, .yml or .json) or a datastore class path such as package.module.MyDatastore."
    )


def _class_target(path: str) -> ConformanceTarget:
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as err:
        raise TargetError(f"Cannot import datastore class {path!r}: {err}") from err
    if not (isinstance(cls, type) and issubclass(cls, Datastore)):
        raise TargetError(f"{path!r} is not a Datastore subclass.")
    return ConformanceTarget(
        class_name,
        f"{path} with no configuration",
        lambda _: {"cls": path},
        Capabilities(ephemeral=bool(cls.isEphemeral)),
    )


def _file_target(path: Path) -> ConformanceTarget:
    if not path.is_file():
        raise TargetError(f"Datastore configuration file {str(path)!r} does not exist.")
    try:
        content = Config(str(path.resolve())).toDict()
    except Exception as err:
        raise TargetError(f"Cannot read datastore configuration file {str(path)!r}: {err}") from err
    config = dict(content.get("datastore", content))
    section = config.pop(CONFORMANCE_SECTION, None) or content.get(CONFORMANCE_SECTION) or {}
    if not isinstance(section, Mapping) or set(section) - {"capabilities", "divergences"}:
        raise TargetError(
            f"The {CONFORMANCE_SECTION!r} section of {str(path)!r} may hold 'capabilities' and "
            f"'divergences' only; got {section!r}."
        )
    if "cls" not in config:
        raise TargetError(f"Datastore configuration file {str(path)!r} has no 'cls'.")
    try:
        capabilities = Capabilities.from_mapping(section.get("capabilities") or {})
    except (TypeError, ValueError) as err:
        raise TargetError(f"Bad capabilities in {str(path)!r}: {err}") from err
    divergences = section.get("divergences") or {}
    if not isinstance(divergences, Mapping) or not all(
        isinstance(key, str) and isinstance(reason, str) and reason.strip()
        for key, reason in divergences.items()
    ):
        raise TargetError(
            f"The divergences of {str(path)!r} must map test names to one-line reasons; got {divergences!r}."
        )
    return ConformanceTarget(
        path.stem,
        f"{config['cls']} configured by {path.name}",
        lambda _: config,
        capabilities,
        dict(divergences),
    )


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
        cells = [_capability_cell(getattr(targets[name].capabilities, capability)) for name in names]
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


def _capability_cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "-"
    if isinstance(value, frozenset):
        return ", ".join(mode for mode in INGEST_TRANSFER_MODES if mode in value) or "-"
    return "-" if value is None else f"`{value}`"
