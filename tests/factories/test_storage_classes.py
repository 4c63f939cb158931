"""The catalogue and its scoped installation."""

from __future__ import annotations

from lsst.daf.butler import StorageClass, StorageClassFactory

from butler_testkit.factories import CATALOGUE, STORAGE_CLASS_PREFIX, installed_storage_classes


def test_every_catalogue_name_has_the_prefix():
    assert all(name.startswith(STORAGE_CLASS_PREFIX) for name in CATALOGUE)


def test_catalogue_storage_classes_import(storage_classes):
    factory = StorageClassFactory()
    for name in CATALOGUE:
        storage_class = factory.getStorageClass(name)
        assert storage_class.pytype is not None
        storage_class.delegate()


def test_installation_is_undone_exactly():
    factory = StorageClassFactory()
    before = dict(factory._storageClasses)
    with installed_storage_classes():
        factory.registerStorageClass(StorageClass("BtkScratch", pytype=dict))
        assert "BtkScratch" in factory and "BtkMetrics" in factory
    assert factory._storageClasses == before
    assert all(factory._storageClasses[name] is value for name, value in before.items())


def test_redefinition_inside_a_scope_does_not_leak():
    factory = StorageClassFactory()
    with installed_storage_classes({"BtkRedefined": {"pytype": "dict"}}):
        assert factory.getStorageClass("BtkRedefined").pytype is dict
    with installed_storage_classes({"BtkRedefined": {"pytype": "list"}}):
        assert factory.getStorageClass("BtkRedefined").pytype is list
    assert "BtkRedefined" not in factory
