"""Floors only go down: the package's imports, read from the source, keep its layers.

Every import counts, whether it runs at import time, inside a function, only
for the type checker, or through a package's lazy ``_LAZY`` table: each is a
dependency a reader has to follow.
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator

import pytest

SOURCE = pathlib.Path(__file__).parents[1] / "src"
PACKAGE = "butler_testkit"

# The layer of every unit (a subpackage or a top-level module): a unit may
# import only itself and units of lower layers, never a sibling of its own
# layer (siblings stay independent, so no cycle can run through them).
LAYERS = {
    # Leaves: standard library only, usable from anywhere.
    "_version": 0,
    "_lazy": 0,
    "_seeds": 0,
    "_constants": 0,
    # The coverage plugin a subprocess loads by name: pytest and coverage.py only.
    "_pytest_coverage": 0,
    # daf_butler only.
    "bridge": 1,
    "datastore": 1,
    "targets": 1,
    # Test data, built on the bridge fakes and the datastore.
    "factories": 2,
    # What is built from those.
    "butler": 3,
    "conformance": 3,
    "strategies": 3,
    # What measures or serves the test repositories: the benchmarks, and one
    # pytest-free engine behind both test front ends.
    "bench": 4,
    "engine": 4,
    # The pytest side of the fast-repository switch, below the plugin that registers it.
    "_pytest_fast_repos": 4,
    # Thin adapters.
    "pytest_plugin": 5,
    "unittest": 5,
    "cli": 5,
    # The package itself re-exports the public names of everything.
    "": 6,
}

# Imports that break the rules today and are on their way out: each is
# (importing module, imported module), with why it is tolerated. Neither
# counts for the checks below.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted((SOURCE / PACKAGE).rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _resolve(module: str, level: int, target: str | None) -> str:
    """Turn a relative import inside ``module`` into an absolute module name."""
    if level == 0:
        return target or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """Yield every module of ours that ``module`` imports, with the line."""
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node.level, node.module)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule if submodule in MODULES else base), node.lineno
        elif (
            isinstance(node, ast.Assign)
            and any(isinstance(target, ast.Name) and target.id == "_LAZY" for target in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            # lazy_attributes() imports these, relative to the package.
            for value in node.value.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    relative = value.value
                    level = len(relative) - len(relative.lstrip("."))
                    yield _resolve(module, level, relative.lstrip(".") or None), node.lineno


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        graph[module] = {
            imported
            for imported, _ in _imports(module)
            if imported in MODULES and imported != module and (module, imported) not in KNOWN_EXCEPTIONS
        }
    return graph


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_unit_has_a_layer():
    assert {_unit(module) for module in MODULES} <= set(LAYERS)


def test_no_import_cycles():
    graph = _graph()
    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = lowlink[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    lowlink[node] = min(lowlink[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert not cycles, cycles


def _violations() -> Iterator[str]:
    for module in MODULES:
        unit = _unit(module)
        for imported, line in _imports(module):
            if imported != PACKAGE and not imported.startswith(f"{PACKAGE}."):
                continue
            if (module, imported) in KNOWN_EXCEPTIONS:
                continue
            where = f"{module} (line {line}) imports {imported}"
            other = _unit(imported)
            if other != unit and LAYERS[other] >= LAYERS[unit]:
                yield f"{where}: {other or PACKAGE} is not below {unit or PACKAGE}"
            private = [part for part in imported.split(".")[2:] if part.startswith("_")]
            if other != unit and private and imported in MODULES and _is_package(f"{PACKAGE}.{other}"):
                yield f"{where}: a private module of another subpackage"


def test_no_upward_or_sideways_imports_and_no_private_modules_of_another_subpackage():
    violations = list(_violations())
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ..factories._bridges import make_bridge_manager", "private module"),
        ("from ..pytest_plugin import CAPABILITY_MARKER", "is not below"),
        ("from ..butler import create_test_repository", "is not below"),
    ],
)
def test_the_check_catches_what_it_is_for(tmp_path, monkeypatch, source, expected):
    # A conformance module that imports what it must not: the check fails.
    path = tmp_path / "_probe.py"
    path.write_text(source + "\n")
    monkeypatch.setitem(MODULES, f"{PACKAGE}.conformance._probe", path)
    assert any(expected in violation for violation in _violations())
