"""The datastore conformance suite: `DatastoreConformance`, `Capabilities`, targets and the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ..factories import make_bridge_manager
    from ..targets import TargetError
    from ._capabilities import INGEST_TRANSFER_MODES, Capabilities, capability_names, lacks, requires
    from ._check import CheckResult, format_check, run_check
    from ._coverage import (
        CoverageUnavailableError,
        FunctionCoverage,
        ModuleCoverage,
        TargetCoverage,
        target_datastore_class,
    )
    from ._declarations import DECLARATION_ATTRIBUTE, Declaration, class_declaration
    from ._factory import DatastoreFactory
    from ._report import ConformanceResults, SuiteResult, TestResult, load_report, write_report
    from ._reporter import ConformanceReporter
    from ._samples import SAMPLE_FORMATTERS, SAMPLE_STORAGE_CLASSES
    from ._suite import DatastoreConformance
    from ._targets import (
        BUILTIN_TARGETS,
        ConformanceTarget,
        conformance_class,
        resolve_target,
        targets_markdown,
    )
    from ._views import InMemoryStateView, StoredStateView, UpstreamInMemoryStateView

__all__ = (
    "BUILTIN_TARGETS",
    "DECLARATION_ATTRIBUTE",
    "INGEST_TRANSFER_MODES",
    "SAMPLE_FORMATTERS",
    "SAMPLE_STORAGE_CLASSES",
    "Capabilities",
    "CheckResult",
    "ConformanceReporter",
    "ConformanceResults",
    "ConformanceTarget",
    "CoverageUnavailableError",
    "DatastoreConformance",
    "DatastoreFactory",
    "Declaration",
    "FunctionCoverage",
    "InMemoryStateView",
    "ModuleCoverage",
    "StoredStateView",
    "SuiteResult",
    "TargetCoverage",
    "TargetError",
    "TestResult",
    "UpstreamInMemoryStateView",
    "capability_names",
    "class_declaration",
    "conformance_class",
    "format_check",
    "lacks",
    "load_report",
    "make_bridge_manager",
    "requires",
    "resolve_target",
    "run_check",
    "target_datastore_class",
    "targets_markdown",
    "write_report",
)

# The pytest plugin registers the reporter (through this package) at
# start-up; the suite imports daf_butler, so every name is loaded on first
# use, as in the top-level package.
_LAZY = {
    "INGEST_TRANSFER_MODES": "._capabilities",
    "Capabilities": "._capabilities",
    "capability_names": "._capabilities",
    "lacks": "._capabilities",
    "requires": "._capabilities",
    "CheckResult": "._check",
    "format_check": "._check",
    "run_check": "._check",
    "CoverageUnavailableError": "._coverage",
    "FunctionCoverage": "._coverage",
    "ModuleCoverage": "._coverage",
    "TargetCoverage": "._coverage",
    "target_datastore_class": "._coverage",
    "DatastoreFactory": "._factory",
    "DECLARATION_ATTRIBUTE": "._declarations",
    "Declaration": "._declarations",
    "class_declaration": "._declarations",
    "ConformanceReporter": "._reporter",
    "ConformanceResults": "._report",
    "SuiteResult": "._report",
    "TestResult": "._report",
    "load_report": "._report",
    "write_report": "._report",
    "DatastoreConformance": "._suite",
    "SAMPLE_FORMATTERS": "._samples",
    "SAMPLE_STORAGE_CLASSES": "._samples",
    "BUILTIN_TARGETS": "._targets",
    "ConformanceTarget": "._targets",
    "TargetError": "..targets",
    "conformance_class": "._targets",
    "resolve_target": "._targets",
    "targets_markdown": "._targets",
    "InMemoryStateView": "._views",
    "StoredStateView": "._views",
    "UpstreamInMemoryStateView": "._views",
    "make_bridge_manager": "..factories",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
