"""Side-by-side benchmarks: ``butler-testkit bench``.

Suites (`SUITES`): ``datastores`` times datastore operations against
upstream's, ``objects`` times put and get of kinds of objects in every
isolation mode, ``repositories`` times a fresh test repository against
``makeTestRepo``, ``downstream`` runs a downstream package's own tests with
and without ``--butler-fast-repos``. The datastore operations are declared once
(`OPERATION_TABLE`), and so are the suites and the built-in targets
(``builtin_targets.yaml``, in the format of a target file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ._datastore_report import LINEARITY_LIMIT, REGISTRY_LEAST_RATIO, format_report
    from ._datastores import BenchReport, run_bench
    from ._objects import (
        FLOORS,
        KINDS,
        OBJECT_DATASTORES,
        OBJECT_TARGETS,
        Floor,
        ObjectKind,
        ObjectReport,
        ObjectTarget,
        format_object_report,
        run_object_bench,
    )
    from ._operations import (
        DERIVED_ROWS,
        MEASUREMENTS,
        MEMORY,
        OPERATION_TABLE,
        OPERATIONS,
        SNAPSHOT,
        TRASH_AND_EMPTY,
        DerivedRow,
        Operation,
    )
    from ._repositories import (
        ROWS,
        RepositoryBenchReport,
        RepositoryRow,
        format_repository_report,
        run_repository_bench,
    )
    from ._suites import SUITES, BenchSuite, SuiteResult, add_common_arguments, suite
    from ._targets import (
        BUILTIN_TARGETS,
        DEFAULT_TARGETS,
        REGISTRIES,
        BenchTarget,
        BenchTargetError,
        resolve_target,
    )

__all__ = (
    "BUILTIN_TARGETS",
    "DEFAULT_TARGETS",
    "DERIVED_ROWS",
    "FLOORS",
    "KINDS",
    "LINEARITY_LIMIT",
    "MEASUREMENTS",
    "MEMORY",
    "OBJECT_DATASTORES",
    "OBJECT_TARGETS",
    "OPERATIONS",
    "OPERATION_TABLE",
    "REGISTRIES",
    "REGISTRY_LEAST_RATIO",
    "ROWS",
    "SNAPSHOT",
    "SUITES",
    "TRASH_AND_EMPTY",
    "BenchReport",
    "BenchSuite",
    "BenchTarget",
    "BenchTargetError",
    "DerivedRow",
    "Floor",
    "ObjectKind",
    "ObjectReport",
    "ObjectTarget",
    "Operation",
    "RepositoryBenchReport",
    "RepositoryRow",
    "SuiteResult",
    "add_common_arguments",
    "format_object_report",
    "format_report",
    "format_repository_report",
    "resolve_target",
    "run_bench",
    "run_object_bench",
    "run_repository_bench",
    "suite",
)

# The command builds its parser from the suites table; the measurements
# import daf_butler, which takes seconds, so every name is loaded on first use.
_LAZY = {
    "LINEARITY_LIMIT": "._datastore_report",
    "REGISTRY_LEAST_RATIO": "._datastore_report",
    "format_report": "._datastore_report",
    "BenchReport": "._datastores",
    "run_bench": "._datastores",
    "FLOORS": "._objects",
    "KINDS": "._objects",
    "OBJECT_DATASTORES": "._objects",
    "OBJECT_TARGETS": "._objects",
    "Floor": "._objects",
    "ObjectKind": "._objects",
    "ObjectReport": "._objects",
    "ObjectTarget": "._objects",
    "format_object_report": "._objects",
    "run_object_bench": "._objects",
    "DERIVED_ROWS": "._operations",
    "MEASUREMENTS": "._operations",
    "MEMORY": "._operations",
    "OPERATION_TABLE": "._operations",
    "OPERATIONS": "._operations",
    "SNAPSHOT": "._operations",
    "TRASH_AND_EMPTY": "._operations",
    "DerivedRow": "._operations",
    "Operation": "._operations",
    "ROWS": "._repositories",
    "RepositoryBenchReport": "._repositories",
    "RepositoryRow": "._repositories",
    "format_repository_report": "._repositories",
    "run_repository_bench": "._repositories",
    "SUITES": "._suites",
    "BenchSuite": "._suites",
    "SuiteResult": "._suites",
    "add_common_arguments": "._suites",
    "suite": "._suites",
    "BUILTIN_TARGETS": "._targets",
    "DEFAULT_TARGETS": "._targets",
    "REGISTRIES": "._targets",
    "BenchTarget": "._targets",
    "BenchTargetError": "._targets",
    "resolve_target": "._targets",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
