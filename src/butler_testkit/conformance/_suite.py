"""`DatastoreConformance`: the one class to subclass to test a datastore."""

from __future__ import annotations

__all__ = ("DatastoreConformance",)

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from lsst.daf.butler.datastore import Datastore

from .. import _seeds
from ..factories import CATALOGUE, installed_storage_classes
from ._areas import (
    ChainTests,
    CompositeTests,
    ConcurrencyTests,
    ConstraintTests,
    ConstructionTests,
    ConversionTests,
    DeletionTests,
    ExistenceTests,
    PutGetTests,
    RecordTests,
    ResourceTests,
    StatefulTests,
    TransactionTests,
    TransferTests,
)
from ._capabilities import Capabilities
from ._factory import DatastoreFactory
from ._gating import RESULT_PROPERTY, capability_skip_reason, check_divergences, divergence_for
from ._refs import ConformanceRefs
from ._samples import SAMPLE_STORAGE_CLASSES
from ._views import StoredStateView


class DatastoreConformance(
    ConstructionTests,
    PutGetTests,
    CompositeTests,
    ConversionTests,
    ExistenceTests,
    DeletionTests,
    TransactionTests,
    ConstraintTests,
    TransferTests,
    ChainTests,
    RecordTests,
    ConcurrencyTests,
    ResourceTests,
    StatefulTests,
):
    """The datastore conformance suite: subclass it to test a datastore.

    A subclass whose name starts with ``Test`` overrides two fixtures, and
    may override two more:

    - ``datastore_factory`` (required): a `DatastoreFactory`, called for
      every datastore a test needs, each fresh and empty;
    - ``capabilities`` (required): a `Capabilities` saying what the
      datastore can do; a test needing a capability it lacks is skipped
      with a reason naming the capability;
    - ``divergences`` (optional): a mapping from a test name (``test_x``)
      or test id (``test_x[param]``) to a one-line reason; each such test
      becomes a strict expected failure, so a test that unexpectedly passes
      fails;
    - ``stored_state_view`` (optional): a `StoredStateView` reading what
      the datastore holds behind its API; tests that need one are skipped
      without it.

    Each test installs butler-testkit's storage-class catalogue (``Btk*``)
    and the suite's own storage classes (``BtkConformance*``) for its
    duration and makes its own references; a file-backed datastore needs a
    formatter for every catalogue storage class
    (`butler_testkit.factories.FORMATTERS`) and for the suite's own that are
    written (`butler_testkit.conformance.SAMPLE_FORMATTERS`).

    Examples
    --------
    In a test module of the datastore's own package::

        import pytest
        from lsst.daf.butler.datastore import Datastore, DatastoreConfig

        from butler_testkit.conformance import Capabilities, DatastoreConformance
        from butler_testkit.conformance import make_bridge_manager


        class TestMyDatastore(DatastoreConformance):
            @pytest.fixture
            def datastore_factory(self):
                def make(*, constraints=None):
                    config = {"cls": "mypackage.MyDatastore"}
                    if constraints is not None:
                        config["constraints"] = constraints
                    return Datastore.fromConfig(DatastoreConfig(config), make_bridge_manager())

                return make

            @pytest.fixture
            def capabilities(self):
                return Capabilities(ephemeral=True, predicted_uris=True, uri_scheme="mem")
    """

    conformance_name: ClassVar[str | None] = None
    """Name of the datastore in the conformance report; the class name if `None`."""

    @pytest.fixture
    def datastore_factory(self) -> DatastoreFactory:
        """Make fresh datastores under test; a subclass must override this fixture."""
        raise NotImplementedError(
            f"{type(self).__name__} must override the datastore_factory fixture of DatastoreConformance "
            "with one returning a callable (constraints=None) -> Datastore."
        )

    @pytest.fixture
    def capabilities(self) -> Capabilities:
        """Say what the datastore under test can do; a subclass must override this fixture."""
        raise NotImplementedError(
            f"{type(self).__name__} must override the capabilities fixture of DatastoreConformance "
            "with one returning a butler_testkit.conformance.Capabilities."
        )

    @pytest.fixture
    def divergences(self) -> Mapping[str, str]:
        """Map the tests the datastore is known to fail to the reason; none by default."""
        return {}

    @pytest.fixture
    def stored_state_view(self) -> StoredStateView | None:
        """Read what the datastore holds behind its API; none by default."""
        return None

    @pytest.fixture(autouse=True)
    def _conformance_gate(self, request: pytest.FixtureRequest) -> None:
        """Record the test for the report; skip it or expect it to fail as declared."""
        item = request.node
        info: dict[str, Any] = {
            "suite": type(self).conformance_name or type(self).__name__,
            "area": _area_of(type(self), request.function.__name__),
            "test": item.name,
        }
        # Recorded before the implementer's fixtures run, so that a failing
        # one is reported against the test, not lost.
        slot = len(item.user_properties)
        item.user_properties.append((RESULT_PROPERTY, json.dumps(info)))
        capabilities = request.getfixturevalue("capabilities")
        reason = capability_skip_reason(item, capabilities)
        divergences = check_divergences(request.getfixturevalue("divergences"), _test_names(type(self)))
        info.update(capabilities=capabilities.to_dict(), divergences=dict(divergences))
        item.user_properties[slot] = (RESULT_PROPERTY, json.dumps(info))
        if reason is not None:
            pytest.skip(reason)
        divergence = divergence_for(item, divergences)
        if divergence is not None:
            request.applymarker(pytest.mark.xfail(strict=True, reason=f"declared divergence: {divergence}"))

    @pytest.fixture(autouse=True)
    def _conformance_storage_classes(self, _conformance_gate: None) -> Iterator[None]:
        """Install the catalogue and the suite's own storage classes for the test; take them back after."""
        with installed_storage_classes({**CATALOGUE, **SAMPLE_STORAGE_CLASSES}):
            yield

    @pytest.fixture
    def datastore(self, datastore_factory: DatastoreFactory) -> Datastore:
        """Return a fresh datastore under test, without constraints."""
        return datastore_factory()

    @pytest.fixture
    def refs(self, request: pytest.FixtureRequest) -> ConformanceRefs:
        """Make resolved references, the same on every run of the test."""
        session = _seeds.session_seed(request.config.getoption("butler_seed", None))
        return ConformanceRefs(_seeds.derive_seed(session, request.node.nodeid, "conformance"), session)

    @pytest.fixture
    def stored_state(self, stored_state_view: StoredStateView | None) -> StoredStateView:
        """Return the back-door view of stored state, skipping the test without one."""
        if stored_state_view is None:
            pytest.skip("needs a stored-state view (the stored_state_view fixture)")
        if not isinstance(stored_state_view, StoredStateView):
            raise TypeError(
                "The stored_state_view fixture must return a StoredStateView (stored_ids and "
                f"trashed_ids methods) or None; got {stored_state_view!r}."
            )
        return stored_state_view


def _test_names(cls: type) -> set[str]:
    return {name for name in dir(cls) if name.startswith("test")}


def _area_of(cls: type, name: str) -> str:
    # The area of a test is the conformance_area of the class defining it.
    for klass in cls.__mro__:
        if name in vars(klass):
            area = vars(klass).get("conformance_area")
            return area if isinstance(area, str) else "other"
    return "other"
