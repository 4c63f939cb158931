"""Datastores named on a command line, for ``butler-testkit check`` and ``butler-testkit bench``.

One parser turns a built-in name, a configuration file or a class path into
a `TargetSpec`; each command keeps its own built-in targets, shipped as
YAML in the format users write their own files in.
"""

from ._spec import (
    CONFIG_SUFFIXES,
    CONFORMANCE_SECTION,
    TargetError,
    TargetSpec,
    import_datastore_class,
    parse_target,
    read_builtin_targets,
    read_target_file,
)

__all__ = (
    "CONFIG_SUFFIXES",
    "CONFORMANCE_SECTION",
    "TargetError",
    "TargetSpec",
    "import_datastore_class",
    "parse_target",
    "read_builtin_targets",
    "read_target_file",
)
