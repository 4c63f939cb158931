"""Mutants of a class's method bodies: small, plausible bugs made from its source, never written to disk.

A mutant is the module's source with one change inside one method of the
class (a flipped comparison, a dropped statement, ...). It is identified by a
key that does not depend on line numbers (class, method, operator, and a digest
of the changed code and its statement), so that a list of equivalent mutants
survives edits elsewhere in the module.
"""

from __future__ import annotations

__all__ = (
    "OPERATORS",
    "Mutant",
    "MutationSourceError",
    "class_source",
    "generate_mutants",
)

import ast
import dataclasses
import hashlib
import importlib
import importlib.machinery
import inspect
from collections.abc import Iterator, Sequence
from pathlib import Path

OPERATORS: tuple[str, ...] = (
    "compare",
    "boolean",
    "not",
    "constant",
    "return-none",
    "statement-pass",
    "if-body-pass",
    "else-body-pass",
    "raise-removed",
)
"""The mutation operators, each a kind of bug a test should notice:

- ``compare``: one comparison flipped (``==``/``!=``, ``<``/``>=``, ``>``/``<=``,
  ``in``/``not in``, ``is``/``is not``);
- ``boolean``: ``and`` and ``or`` swapped;
- ``not``: a ``not`` removed;
- ``constant``: ``True``/``False`` swapped, ``0``/``1`` swapped;
- ``return-none``: ``return X`` made ``return None``;
- ``statement-pass``: a statement replaced by ``pass``;
- ``if-body-pass``, ``else-body-pass``: the body of an ``if`` or of its
  ``else`` replaced by ``pass``;
- ``raise-removed``: a ``raise`` statement removed.
"""

_FLIPPED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}

# Statements that only log below warning level change nothing a caller can
# rely on; they are not mutated (nor is anything inside them).
_QUIET_LOG_METHODS = frozenset({"debug", "info", "verbose", "trace"})
_LOGGER_NAMES = frozenset({"log", "_log", "logger", "_logger", "LOG", "_LOG"})

_SNIPPET_LENGTH = 70

# Dropping these changes nothing, or does not compile.
_NOT_DROPPED = (ast.Pass, ast.Global, ast.Nonlocal)


class MutationSourceError(ValueError):
    """The class to mutate cannot be found, or its source cannot be read."""


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One change to one method of a class, and the module source that has it.

    Attributes
    ----------
    module : `str`
        Name of the module the class is defined in.
    class_name : `str`
        Name of the class.
    method : `str`
        The method changed (its name in the class body).
    operator : `str`
        One of `OPERATORS`.
    line : `int`
        Line of the change relative to the method's ``def`` line (0 is the
        ``def`` line itself).
    original : `str`
        The code changed, on one line (shortened if long).
    mutated : `str`
        What it became, on one line.
    key : `str`
        Identity that survives edits elsewhere in the module: class, method,
        operator and a digest of the statement, the code changed and the
        replacement, with ``~N`` appended for the N-th identical change in
        the method.
    source : `str`
        The whole module's source with the change.
    statement_lines : `tuple` [`int`, `int`]
        First and last line (absolute, in the original source) of the part
        of the innermost enclosing statement that runs before its body: a
        test that executed none of them cannot have seen the change.
    """

    module: str
    class_name: str
    method: str
    operator: str
    line: int
    original: str
    mutated: str
    key: str
    source: str
    statement_lines: tuple[int, int]

    def check_syntax(self) -> str | None:
        """Say whether the mutated module compiles.

        Returns
        -------
        problem : `str` or `None`
            The compiler's complaint, or `None` if it compiles.
        """
        try:
            compile(self.source, f"<mutant {self.label}>", "exec", dont_inherit=True)
        except SyntaxError as err:
            return f"{err.msg} (line {err.lineno})"
        return None

    @property
    def label(self) -> str:
        """The key with the line relative to the method, for people to read."""
        return f"{self.key}@+{self.line}"


def class_source(class_path: str) -> tuple[str, str, Path, str]:
    """Find the module of a class and read its source, without importing the module.

    Parameters
    ----------
    class_path : `str`
        ``package.module.Class``, or a re-exported name such as
        ``butler_testkit.InMemoryDatastore`` (then the class is imported to
        find the module that defines it).

    Returns
    -------
    module : `str`
        Name of the module defining the class.
    class_name : `str`
        Name of the class.
    path : `pathlib.Path`
        The module's source file.
    source : `str`
        Its text.

    Raises
    ------
    MutationSourceError
        Raised if the class or its source file cannot be found.
    """
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name.isidentifier():
        raise MutationSourceError(f"{class_path!r} is not a class path such as package.module.Class.")
    origin = _module_file(module_name)
    if origin is None or not origin.endswith(".py"):
        raise MutationSourceError(f"Module {module_name!r} of {class_path!r} has no Python source file.")
    path = Path(origin)
    source = path.read_text()
    if _find_class(ast.parse(source), class_name) is not None:
        return module_name, class_name, path, source
    # A re-exported name: ask the class where it lives.
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
        defining = inspect.getmodule(cls)
    except (ImportError, AttributeError) as err:
        raise MutationSourceError(f"Cannot import {class_path!r}: {err}") from err
    if not isinstance(cls, type) or defining is None or defining.__name__ == module_name:
        raise MutationSourceError(f"{class_path!r} is not a class defined in Python source.")
    return class_source(f"{defining.__name__}.{cls.__name__}")


def _module_file(module_name: str) -> str | None:
    """Locate a module's file without importing it or its packages (daf_butler takes seconds)."""
    parts = module_name.split(".")
    search: list[str] | None = None
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        spec = importlib.machinery.PathFinder.find_spec(name, search)
        if spec is None:
            return None
        if depth == len(parts):
            return spec.origin
        if spec.submodule_search_locations is None:
            return None
        search = list(spec.submodule_search_locations)
    return None


def _find_class(tree: ast.Module, class_name: str) -> ast.ClassDef | None:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return node
    return None


def generate_mutants(class_path: str, operators: Sequence[str] = OPERATORS) -> list[Mutant]:
    """Make every mutant of the method bodies of a class.

    Parameters
    ----------
    class_path : `str`
        The class, as ``package.module.Class`` (see `class_source`).
    operators : `~collections.abc.Sequence` [`str`], optional
        The operators to apply; all by default.

    Returns
    -------
    mutants : `list` [`Mutant`]
        In source order, each different from the original and from every
        other mutant (not yet parsed: see `Mutant.check_syntax`). Statements that only log below warning
        level, docstrings and f-strings are left alone.

    Raises
    ------
    MutationSourceError
        Raised if the class cannot be found.
    ValueError
        Raised for an unknown operator.
    """
    unknown = sorted(set(operators) - set(OPERATORS))
    if unknown:
        raise ValueError(f"Unknown mutation operators {unknown}; the operators are {', '.join(OPERATORS)}.")
    module, class_name, path, source = class_source(class_path)
    tree = ast.parse(source)
    cls = _find_class(tree, class_name)
    if cls is None:  # class_source found it; the file changed under us
        raise MutationSourceError(f"Class {class_name!r} is not defined in {path}.")
    text = _SourceText(source)
    mutants: list[Mutant] = []
    seen_sources = {source}
    seen_keys: dict[str, int] = {}
    for method in cls.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for change in _changes(method, set(operators)):
            mutated_source = text.splice(change)
            if mutated_source in seen_sources:
                continue
            seen_sources.add(mutated_source)
            base = f"{class_name}.{method.name}:{change.operator}:{change.digest()}"
            occurrence = seen_keys.get(base, 0)
            seen_keys[base] = occurrence + 1
            mutants.append(
                Mutant(
                    module=module,
                    class_name=class_name,
                    method=method.name,
                    operator=change.operator,
                    line=change.start[0] - method.lineno,
                    original=_one_line(change.original),
                    mutated=_one_line(change.replacement),
                    key=base if occurrence == 0 else f"{base}~{occurrence}",
                    source=mutated_source,
                    statement_lines=change.statement_lines,
                )
            )
    return mutants


@dataclasses.dataclass(frozen=True)
class _Change:
    operator: str
    start: tuple[int, int]  # (line, column) of the replaced text, column in UTF-8 bytes
    end: tuple[int, int]
    original: str
    replacement: str
    statement: str  # the innermost statement, unparsed: part of the identity
    statement_lines: tuple[int, int]

    def digest(self) -> str:
        text = "\0".join((self.statement, self.original, self.replacement))
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:10]


class _SourceText:
    """The module's lines, to splice a change in place and keep every other line where it was."""

    def __init__(self, source: str) -> None:
        self._lines = source.splitlines(keepends=True)

    def splice(self, change: _Change) -> str:
        (first, first_col), (last, last_col) = change.start, change.end
        head = self._lines[first - 1].encode()[:first_col].decode()
        tail = self._lines[last - 1].encode()[last_col:].decode()
        # Blank lines keep the lines below at their numbers.
        middle = change.replacement + "\n" * (last - first)
        return "".join([*self._lines[: first - 1], head, middle, tail, *self._lines[last:]])


def _one_line(code: str) -> str:
    flat = " ".join(code.split())
    return flat if len(flat) <= _SNIPPET_LENGTH else flat[: _SNIPPET_LENGTH - 3] + "..."


def _is_quiet_log(statement: ast.stmt) -> bool:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    func = statement.value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in _QUIET_LOG_METHODS
        and isinstance(func.value, ast.Name)
        and func.value.id in _LOGGER_NAMES
    )


def _is_docstring(statement: ast.stmt, body: list[ast.stmt]) -> bool:
    return (
        statement is body[0]
        and isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _header_lines(statement: ast.stmt) -> tuple[int, int]:
    """Lines of a statement that run before any of its bodies."""
    end = statement.end_lineno or statement.lineno
    for field in ("body", "handlers", "orelse", "finalbody", "cases"):
        children = getattr(statement, field, None)
        if children:
            end = min(end, children[0].lineno - 1)
    first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
    return first, max(first, end)


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    return (node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0)  # type: ignore[attr-defined]


def _changes(method: ast.FunctionDef | ast.AsyncFunctionDef, operators: set[str]) -> Iterator[_Change]:
    body = method.body
    last = body[-1]
    if isinstance(last, ast.Return) and (last.value is None or _is_none(last.value)):
        # Falling off the end returns None too: dropping it changes nothing.
        body = body[:-1]
    yield from _body_changes(body, operators)


def _body_changes(body: list[ast.stmt], operators: set[str]) -> Iterator[_Change]:
    for statement in body:
        if _is_docstring(statement, body) or _is_quiet_log(statement):
            continue
        yield from _statement_changes(statement, operators)


def _statement_changes(
    statement: ast.stmt, operators: set[str], *, is_elif: bool = False
) -> Iterator[_Change]:
    unparsed = ast.unparse(statement)
    lines = _header_lines(statement)

    def change(operator: str, node: ast.AST, replacement: str, original: str | None = None) -> _Change:
        start, end = _span(node)
        return _Change(
            operator,
            start,
            end,
            ast.unparse(node) if original is None else original,
            replacement,
            unparsed,
            lines,
        )

    if isinstance(statement, ast.Raise):
        if "raise-removed" in operators:
            yield change("raise-removed", statement, "pass")
    elif not isinstance(statement, _NOT_DROPPED) and not is_elif and "statement-pass" in operators:
        yield change("statement-pass", statement, "pass")
    returned = statement.value if isinstance(statement, ast.Return) else None
    if returned is not None and not _is_none(returned) and "return-none" in operators:
        yield change("return-none", returned, "None")
    # A body of one statement is that statement's own mutant (statement-pass
    # or raise-removed), so only longer bodies are dropped whole.
    if isinstance(statement, ast.If):
        if "if-body-pass" in operators and len(statement.body) > 1:
            yield _body_change("if-body-pass", statement.body, unparsed, lines)
        drops_else = "else-body-pass" in operators and not _has_elif(statement)
        if drops_else and len(statement.orelse) > 1:
            yield _body_change("else-body-pass", statement.orelse, unparsed, lines)
    # Expressions of this statement that belong to it, not to a body.
    for expression in _own_expressions(statement):
        for node in _walk_expression(expression):
            for operator, replacement in _expression_mutations(node, operators):
                yield change(operator, node, replacement)
    for field in ("body", "orelse", "finalbody"):
        children = getattr(statement, field, None)
        if field == "orelse" and isinstance(statement, ast.If) and _has_elif(statement):
            # An elif has no statement of its own to drop: only its parts change.
            yield from _statement_changes(statement.orelse[0], operators, is_elif=True)
        elif isinstance(children, list) and children and isinstance(children[0], ast.stmt):
            yield from _body_changes(children, operators)
    for handler in getattr(statement, "handlers", []):
        if handler.type is not None:
            for node in _walk_expression(handler.type):
                for operator, replacement in _expression_mutations(node, operators):
                    yield change(operator, node, replacement)
        yield from _body_changes(handler.body, operators)


def _has_elif(statement: ast.If) -> bool:
    # The If of an "elif" starts at the "elif" keyword, in the column of the
    # parent's "if"; an "if" nested under "else:" is indented further.
    orelse = statement.orelse
    return len(orelse) == 1 and isinstance(orelse[0], ast.If) and orelse[0].col_offset == statement.col_offset


def _is_none(expression: ast.expr) -> bool:
    return isinstance(expression, ast.Constant) and expression.value is None


def _body_change(operator: str, body: list[ast.stmt], unparsed: str, lines: tuple[int, int]) -> _Change:
    start = (body[0].lineno, body[0].col_offset)
    last = body[-1]
    end = (last.end_lineno or last.lineno, last.end_col_offset or 0)
    original = "; ".join(ast.unparse(statement).splitlines()[0] for statement in body)
    return _Change(operator, start, end, original, "pass", unparsed, lines)


def _own_expressions(statement: ast.stmt) -> Iterator[ast.expr]:
    """Expressions of a statement outside its bodies (and outside nested definitions)."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return
    for field, value in ast.iter_fields(statement):
        if field in ("body", "orelse", "finalbody", "handlers", "cases"):
            continue
        if isinstance(value, ast.expr):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.expr):
                    yield item
                elif isinstance(item, ast.withitem):
                    yield item.context_expr
                elif isinstance(item, ast.keyword):
                    yield item.value


def _walk_expression(expression: ast.expr) -> Iterator[ast.expr]:
    """Every sub-expression, outside f-strings and lambdas' bodies are included."""
    if isinstance(expression, ast.JoinedStr):
        return
    yield expression
    for child in ast.iter_child_nodes(expression):
        if isinstance(child, ast.expr):
            yield from _walk_expression(child)
        elif isinstance(child, ast.comprehension):
            for part in (child.target, child.iter, *child.ifs):
                yield from _walk_expression(part)
        elif isinstance(child, ast.keyword):
            yield from _walk_expression(child.value)


def _expression_mutations(node: ast.expr, operators: set[str]) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.Compare) and "compare" in operators:
        for index, op in enumerate(node.ops):
            flipped = _FLIPPED.get(type(op))
            if flipped is None:
                continue
            ops = list(node.ops)
            ops[index] = flipped()
            yield "compare", f"({ast.unparse(ast.Compare(node.left, ops, node.comparators))})"
    elif isinstance(node, ast.BoolOp) and "boolean" in operators:
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolean", f"({ast.unparse(ast.BoolOp(other, node.values))})"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and "not" in operators:
        yield "not", f"({ast.unparse(node.operand)})"
    elif isinstance(node, ast.Constant) and "constant" in operators:
        value = node.value
        if value is True or value is False:
            yield "constant", repr(not value)
        elif type(value) is int and value in (0, 1):
            yield "constant", repr(1 - value)
