"""The mutant's side of a mutation run: load the mutated module, and run only the tests that can see it.

Imported at interpreter start-up (by a ``sitecustomize`` module the mutation
run puts first on ``PYTHONPATH``) and loaded as a pytest plugin. It imports
nothing but the standard library, so that nothing loads the module under test
before the mutant is in place, and it never writes a file.

Environment:

- ``BUTLER_TESTKIT_MUTANT``: a JSON file with ``module`` (the name),
  ``source`` (the mutated text) and ``loaded`` (a file to create when the
  mutant is loaded, so that the run can tell it was); that module is then
  built from the text whenever it is imported, in this process and in its
  subprocesses;
- ``BUTLER_TESTKIT_SELECTED_TESTS``: a file of pytest node IDs, one a line;
  every other collected test is deselected.
"""

from __future__ import annotations

__all__ = ("MUTANT_VARIABLE", "SELECTION_VARIABLE", "install_from_environment")

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

MUTANT_VARIABLE = "BUTLER_TESTKIT_MUTANT"
SELECTION_VARIABLE = "BUTLER_TESTKIT_SELECTED_TESTS"


class _MutantLoader(importlib.abc.Loader):
    def __init__(self, source: str, origin: str, loaded: str | None) -> None:
        self._source = source
        self._origin = origin
        self._loaded = loaded

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        # Compiled under the original file's name, so that tracebacks and
        # anything locating files next to the module still work.
        code = compile(self._source, self._origin, "exec", dont_inherit=True)
        if self._loaded:
            with open(self._loaded, "a"):
                pass
        exec(code, module.__dict__)


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module: str, source: str, loaded: str | None) -> None:
        self._module = module
        self._source = source
        self._loaded = loaded

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self._module:
            return None
        original = importlib.machinery.PathFinder.find_spec(fullname, path)
        if original is None or original.origin is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, original.origin, loader=_MutantLoader(self._source, original.origin, self._loaded)
        )


def install_from_environment() -> bool:
    """Put the mutant named by the environment in place of its module.

    Returns
    -------
    installed : `bool`
        Whether a mutant was named (and its module is not imported yet).

    Raises
    ------
    RuntimeError
        Raised if the module was imported before the mutant could replace it.
    """
    path = os.environ.get(MUTANT_VARIABLE)
    if not path:
        return False
    with open(path) as stream:
        mutant = json.load(stream)
    module = mutant["module"]
    if module in sys.modules:
        raise RuntimeError(f"{module} was imported before its mutant could be installed.")
    sys.meta_path.insert(0, _MutantFinder(module, mutant["source"], mutant.get("loaded")))
    return True


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Deselect every test not named in the selection file, if there is one."""
    path = os.environ.get(SELECTION_VARIABLE)
    if not path:
        return
    with open(path) as stream:
        wanted = {line.strip() for line in stream if line.strip()}
    kept = [item for item in items if item.nodeid in wanted]
    deselected = [item for item in items if item.nodeid not in wanted]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
