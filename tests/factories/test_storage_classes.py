"""The catalogue and its scoped installation."""

from __future__ import annotations

import pytest
from lsst.daf.butler import StorageClass, StorageClassFactory

from butler_testkit.factories import (
    CATALOGUE,
    FORMATTERS,
    STORAGE_CLASS_PREFIX,
    StorageClassScope,
    installed_storage_classes,
)


def _table() -> dict[str, StorageClass]:
    return dict(StorageClassFactory()._storageClasses)


def _assert_restored(before: dict[str, StorageClass]) -> None:
    after = _table()
    assert after.keys() == before.keys()
    assert all(after[name] is storage_class for name, storage_class in before.items())


def test_every_catalogue_name_has_the_prefix():
    assert all(name.startswith(STORAGE_CLASS_PREFIX) for name in CATALOGUE)


def test_every_catalogue_storage_class_has_a_formatter():
    assert set(FORMATTERS) == set(CATALOGUE)


def test_catalogue_storage_classes_import(storage_classes):
    factory = StorageClassFactory()
    for name in CATALOGUE:
        storage_class = factory.getStorageClass(name)
        assert storage_class.pytype is not None
        storage_class.delegate()


def test_installation_is_undone_exactly():
    before = _table()
    with installed_storage_classes() as scope:
        assert isinstance(scope, StorageClassScope)
        scope.factory.registerStorageClass(StorageClass("BtkScratch", pytype=dict))
        assert "BtkScratch" in scope and "BtkMetrics" in scope
    _assert_restored(before)


def test_installation_is_undone_when_the_block_raises():
    before = _table()
    with pytest.raises(RuntimeError, match="boom"), installed_storage_classes() as scope:
        scope.define({"BtkScratch": {"pytype": "dict"}})
        raise RuntimeError("boom")
    _assert_restored(before)


def test_scopes_nest():
    before = _table()
    with installed_storage_classes({"BtkOuter": {"pytype": "dict"}}):
        outer = _table()
        with installed_storage_classes({"BtkInner": {"pytype": "list"}}) as inner:
            assert "BtkOuter" in inner and "BtkInner" in inner
        _assert_restored(outer)
    _assert_restored(before)


def test_redefinition_inside_a_scope_does_not_leak():
    factory = StorageClassFactory()
    with installed_storage_classes({"BtkRedefined": {"pytype": "dict"}}):
        assert factory.getStorageClass("BtkRedefined").pytype is dict
    with installed_storage_classes({"BtkRedefined": {"pytype": "list"}}):
        assert factory.getStorageClass("BtkRedefined").pytype is list
    assert "BtkRedefined" not in factory


def test_redefine_replaces_a_storage_class_for_the_rest_of_the_scope(storage_classes):
    before = _table()
    with installed_storage_classes() as scope:
        original = scope["BtkDict"]
        redefined = scope.redefine("BtkDict", {"pytype": "list"})
        assert scope["BtkDict"] is redefined and redefined.pytype is list
        assert scope["BtkDict"] != original
    _assert_restored(before)
    assert StorageClassFactory().getStorageClass("BtkDict").pytype is dict


def test_redefining_an_unknown_storage_class_is_a_key_error():
    with installed_storage_classes() as scope, pytest.raises(KeyError, match="'BtkNope'"):
        scope.redefine("BtkNope", {"pytype": "dict"})


def test_a_failed_redefinition_keeps_the_old_definition():
    with installed_storage_classes() as scope:
        original = scope["BtkDict"]
        table = _table()
        with pytest.raises(ImportError):
            scope.redefine("BtkDict", {"pytype": "no.such.module.Type"})
        assert scope["BtkDict"] is original
        _assert_restored(table)


def test_a_conflicting_definition_is_a_value_error_and_changes_nothing():
    with installed_storage_classes() as scope:
        table = _table()
        with pytest.raises(ValueError, match="BtkDict"):
            scope.define({"BtkNew": {"pytype": "dict"}, "BtkDict": {"pytype": "list"}})
        _assert_restored(table)
    before = _table()
    with (
        installed_storage_classes(),
        pytest.raises(ValueError, match="BtkDict"),
        installed_storage_classes({"BtkDict": {"pytype": "list"}}),
    ):
        pass  # pragma: no cover - never entered
    _assert_restored(before)


@pytest.mark.parametrize(
    ("definitions", "error"),
    [
        (["BtkDict"], TypeError),
        ({"BtkBad": "dict"}, TypeError),
        ({"BtkBad": {"pytype": "no.such.module.Type"}}, ImportError),
        ({"BtkBad": {"pytype": "dict", "delegate": "no.such.Delegate"}}, ImportError),
        ({"BtkBad": {"pytype": "dict", "paramters": ["slice"]}}, ValueError),
    ],
)
def test_bad_definitions_raise_typed_errors_and_change_nothing(definitions, error):
    before = _table()
    with pytest.raises(error), installed_storage_classes(definitions):
        pass  # pragma: no cover - never entered
    _assert_restored(before)


def test_installing_the_catalogue_again_reuses_its_storage_classes():
    with installed_storage_classes() as first:
        metrics = first["BtkMetrics"]
    with installed_storage_classes() as second:
        assert second["BtkMetrics"] is metrics
        assert second["BtkMetrics"].components["data"] is second["BtkList"]
