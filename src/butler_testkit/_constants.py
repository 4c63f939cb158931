"""Names shared by the pytest front end and the conformance suite.

Pure standard library and no imports of ours: the pytest plugin reads these
at start-up, and the conformance suite, which sits below the plugin, reads
them too.
"""

from __future__ import annotations

__all__ = (
    "CAPABILITY_MARKER",
    "CONFORMANCE_PROPERTY",
    "DATASTORE_MARKER",
    "DATA_IDS_MARKER",
    "DEFAULT_INSTRUMENT",
    "FAULTS_MARKER",
    "INSTRUMENT_NAMES",
    "REGISTRY_ENVIRONMENT_VARIABLE",
    "REPOSITORY_MARKER",
)

DATASTORE_MARKER = "butler_datastore"
"""Marker configuring the ``butler_datastore`` fixture."""

FAULTS_MARKER = "butler_faults"
"""Marker wrapping the ``butler_datastore`` fixture with a fault plan."""

DATA_IDS_MARKER = "butler_data_ids"
"""Marker choosing the instrument of the ``butler_data_ids`` and ``butler_refs`` fixtures."""

REPOSITORY_MARKER = "butler_repo"
"""Marker declaring what the ``butler_repo`` and ``butler`` fixtures' repository holds."""

CAPABILITY_MARKER = "butler_capability"
"""Marker gating a conformance test on a capability (``butler_testkit.conformance.requires``)."""

CONFORMANCE_PROPERTY = "butler_conformance"
"""``user_properties`` entry by which a conformance test reaches the report (and xdist's controller)."""

INSTRUMENT_NAMES = ("GenericCam", "HSC", "LSSTCam")
"""The instrument presets (``butler_testkit.factories.INSTRUMENTS``), named
here so that option parsing imports nothing heavy."""

DEFAULT_INSTRUMENT = "GenericCam"
"""The instrument preset used when nothing chooses one."""

REGISTRY_ENVIRONMENT_VARIABLE = "BUTLER_TESTKIT_REGISTRY"
"""Environment variable giving the registry of test repositories when no option does."""
