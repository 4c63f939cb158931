"""What a datastore declares: its own attribute, a built-in ancestor's, or nothing (unknown, skipped)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import ClassVar

import pytest
from lsst.daf.butler.datastores.inMemoryDatastore import InMemoryDatastore as UpstreamInMemoryDatastore

from butler_testkit import InMemoryDatastore
from butler_testkit.conformance import (
    BUILTIN_TARGETS,
    Capabilities,
    InMemoryStateView,
    TargetError,
    UpstreamInMemoryStateView,
    resolve_target,
)


class Unchanged(InMemoryDatastore):
    """Our datastore, subclassed and left alone."""


class Declaring(InMemoryDatastore):
    """A subclass that says what it does itself."""

    conformance_declaration: ClassVar = {
        "capabilities": {"ephemeral": True, "uri_scheme": "mem"},
        "divergences": {"test_each_get_returns_a_new_object": "hands out what it stores"},
    }


class InheritsTheDeclaration(Declaring):
    """A subclass of a declaring class: the nearest declaration wins."""


class UpstreamSubclass(UpstreamInMemoryDatastore):
    """daf_butler's in-memory datastore, subclassed and left alone."""


class Malformed(InMemoryDatastore):
    conformance_declaration: ClassVar = {"capabilities": {"teleports": True}}


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def test_a_subclass_of_a_built_in_target_inherits_its_declaration():
    ours = resolve_target(_path(Unchanged))
    assert ours.capabilities == BUILTIN_TARGETS["inmemory"].capabilities
    assert isinstance(ours.stored_state_view, InMemoryStateView)
    upstream = resolve_target(_path(UpstreamSubclass))
    assert upstream.capabilities == BUILTIN_TARGETS["upstream-inmemory"].capabilities
    assert upstream.divergences == BUILTIN_TARGETS["upstream-inmemory"].divergences
    assert isinstance(upstream.stored_state_view, UpstreamInMemoryStateView)


def test_a_class_declaration_wins_over_an_inherited_one_and_is_inherited_itself():
    for cls in (Declaring, InheritsTheDeclaration):
        target = resolve_target(_path(cls))
        assert target.capabilities == Capabilities(ephemeral=True, uri_scheme="mem")
        assert target.divergences == {"test_each_get_returns_a_new_object": "hands out what it stores"}
        assert target.stored_state_view is None


def test_a_malformed_class_declaration_is_refused_saying_where():
    with pytest.raises(TargetError, match=r"Malformed.conformance_declaration.*teleports"):
        resolve_target(_path(Malformed))


def test_a_class_that_declares_nothing_leaves_every_capability_unknown_but_ephemeral():
    target = resolve_target("lsst.daf.butler.datastores.fileDatastore.FileDatastore")
    assert target.capabilities == Capabilities.partial(ephemeral=False)
    assert not any(target.capabilities.declares(name) for name in ("zip_ingest", "uri_scheme"))


def test_partial_capabilities():
    capabilities = Capabilities.partial(ephemeral=True, uri_scheme="mem")
    assert capabilities.declares("uri_scheme") and not capabilities.declares("zip_ingest")
    assert not capabilities.has("zip_ingest")
    assert capabilities.to_dict() == {"ephemeral": True, "uri_scheme": "mem"}
    assert Capabilities.from_mapping({}).unknown == frozenset()
    with pytest.raises(ValueError, match="given a value and declared unknown"):
        Capabilities(zip_ingest=True, unknown={"zip_ingest"})
    with pytest.raises(ValueError, match="Unknown capability 'teleports'"):
        Capabilities(unknown={"teleports"})
    with pytest.raises(ValueError, match="Unknown capability 'teleports'"):
        Capabilities.partial(teleports=True)


PACKAGE = textwrap.dedent(
    """
    from butler_testkit import InMemoryDatastore
    from butler_testkit.conformance import Capabilities


    class Sub(InMemoryDatastore):
        pass


    class BrokenExists(InMemoryDatastore):
        def exists(self, ref):
            return True


    class Undeclared(InMemoryDatastore):
        # Says nothing of what it can do beyond being ephemeral.
        conformance_declaration = {"capabilities": Capabilities.partial(ephemeral=True)}
    """
)


def _check(directory, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "butler_testkit.cli", "check", *args],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(directory)},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def user_package(tmp_path):
    """A user's package in a directory of its own, importable only through PYTHONPATH."""
    (tmp_path / "my_pkg").mkdir()
    (tmp_path / "my_pkg" / "__init__.py").write_text(PACKAGE)
    return tmp_path


def test_an_unchanged_subclass_of_our_datastore_conforms_by_class_path(user_package):
    completed = _check(user_package, "my_pkg.Sub", "-n", "2")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "butler-testkit check: OK: Sub conforms" in completed.stdout


def test_a_subclass_that_breaks_exists_does_not(user_package):
    completed = _check(user_package, "my_pkg.BrokenExists", "-k", "exist and not random")
    assert completed.returncode == 1
    assert "BrokenExists: " in completed.stdout and "DOES NOT CONFORM" in completed.stdout


def test_an_unknown_capability_is_neither_required_nor_refused(user_package):
    # The tests that expect an undeclared operation to be refused are skipped,
    # saying how to declare it, rather than failing a datastore that does more.
    completed = _check(user_package, "my_pkg.Undeclared", "-k", "not_implemented or no_records_are_exported")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "capability zip_ingest is not declared" in completed.stdout
    assert "conformance_declaration" in completed.stdout
