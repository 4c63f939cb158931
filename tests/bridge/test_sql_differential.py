"""The registry fakes against daf_butler's SQL managers on SQLite and PostgreSQL.

A stateful test runs the same random sequences of bridge and opaque-table
operations against three registries and requires the same observable results
after every step: what each call returns or raises, what the bridges hold and
have trashed, and the rows of the records table. Where the engines differ,
the difference is named below (and in docs/bridge.md), and pinned by a test
of its own so that the table cannot go stale.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from lsst.daf.butler import DatasetIdGenEnum, DatasetType
from lsst.daf.butler.datastore import DatastoreTransaction
from lsst.daf.butler.datastore.stored_file_info import NULLSTR, StoredFileInfo
from lsst.daf.butler.datastores.fileDatastore import FileDatastore
from lsst.daf.butler.registry.interfaces import FakeDatasetRef

from butler_testkit import ConstraintViolationError, InMemoryBridgeManager, SchemaMismatchError
from butler_testkit.butler import PostgresUnavailableError, create_test_repository, postgres_registries

ENGINES = ("sqlite", "postgresql")
DATASTORES = ("files_a", "files_b")
TABLE = "differential_records"
KNOWN = 4
"""Datasets the registry knows; two more are unknown to it."""

IntegrityError = sqlalchemy.exc.IntegrityError
DataError = sqlalchemy.exc.DataError
StatementError = sqlalchemy.exc.StatementError

EQUIVALENT_ERRORS: dict[type[BaseException], dict[str, tuple[type[BaseException], ...]]] = {
    # A primary-key, unique or foreign-key violation.
    ConstraintViolationError: {"sqlite": (IntegrityError,), "postgresql": (IntegrityError,)},
    # A NOT NULL column without a value: IntegrityError on both, or
    # SQLAlchemy's StatementError when another row of the call has the
    # column. A string longer than a short String column: SQLite's CHECK
    # constraint (IntegrityError), PostgreSQL's VARCHAR (DataError). An
    # integer beyond 64 bits: the sqlite3 module's OverflowError,
    # PostgreSQL's DataError. A row given to delete() without a column it
    # deletes by: KeyError from daf_butler's Database.delete.
    SchemaMismatchError: {
        "sqlite": (IntegrityError, StatementError, OverflowError, KeyError),
        "postgresql": (IntegrityError, StatementError, DataError, KeyError),
    },
}
"""Exception classes that mean the same refusal: what the fakes raise, and what each engine raises.

Any other exception must be of the same class on every registry."""


@dataclasses.dataclass(frozen=True)
class Difference:
    """A behaviour in which the registries differ on purpose or by nature."""

    name: str
    what: str
    outcomes: dict[str, str]
    """Per registry (``fakes``, ``sqlite``, ``postgresql``): ``"stored"``,
    ``"kept"``, ``"undone"`` or the name of the exception raised."""


DIFFERENCES = (
    Difference(
        "integer-beyond-32-bits",
        "an Integer (32-bit) column given 2**40",
        {"fakes": "SchemaMismatchError", "sqlite": "stored", "postgresql": "DataError"},
    ),
    Difference(
        "nul-in-text",
        "a text value with a NUL character",
        {"fakes": "SchemaMismatchError", "sqlite": "stored", "postgresql": "DataError"},
    ),
    Difference(
        "empty-short-string",
        'an empty string in a short String column (such as "component")',
        {"fakes": "SchemaMismatchError", "sqlite": "IntegrityError", "postgresql": "stored"},
    ),
    Difference(
        "datastore-transaction-only",
        "an opaque-table write given a DatastoreTransaction that rolls back, outside a registry transaction",
        {"fakes": "undone", "sqlite": "kept", "postgresql": "kept"},
    ),
    Difference(
        "statement-after-failure",
        "a write after a failed write was caught, inside one registry transaction",
        {"fakes": "stored", "sqlite": "stored", "postgresql": "InternalError"},
    ),
)
"""Every difference between the registries the differential test allows (and docs/bridge.md lists)."""


_ID_NAMESPACE = uuid.UUID("5f0c3b4e-9a1d-4c51-8e6f-2b7d9c1a0e34")


class Registry:
    """One registry under test: its bridges, its records table, its transactions."""

    name: str
    table: Any

    def bridge(self, datastore: str) -> Any:
        raise NotImplementedError()

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError()

    def trashed(self, datastore: str) -> set[uuid.UUID]:
        raise NotImplementedError()

    def bridge_state(self) -> set[tuple[str, str, uuid.UUID]]:
        """Return ``(held or trashed, datastore, dataset ID)`` for every bridge row."""
        raise NotImplementedError()

    def reset(self) -> None:
        raise NotImplementedError()


class FakeRegistry(Registry):
    """Our fakes, with the same dataset table as the SQL registries."""

    def __init__(self, known: set[uuid.UUID]) -> None:
        self.name = "fakes"
        self._known = known
        self.reset()

    def reset(self) -> None:
        self.manager = InMemoryBridgeManager(datasets=self._known)
        self.bridges = {name: self.manager.register(name) for name in DATASTORES}
        self.table = self.manager.opaque.register(TABLE, FileDatastore.makeTableSpec())

    def bridge(self, datastore: str) -> Any:
        return self.bridges[datastore]

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return self.manager.transaction()

    def trashed(self, datastore: str) -> set[uuid.UUID]:
        return set(self.bridges[datastore].trashed_ids)

    def bridge_state(self) -> set[tuple[str, str, uuid.UUID]]:
        return {
            (state, name, dataset_id)
            for name, bridge in self.bridges.items()
            for state, ids in (("held", bridge.inserted_ids), ("trashed", bridge.trashed_ids))
            for dataset_id in ids
        }


class SqlRegistry(Registry):
    """daf_butler's managers on a test repository's SQL registry."""

    def __init__(self, engine: str, root: Path) -> None:
        self.name = engine
        self.repository = create_test_repository(root, registry=engine)
        butler = self.repository.butler
        dataset_type = DatasetType("differential", butler.dimensions.empty, "StructuredDataDict")
        butler.registry.registerDatasetType(dataset_type)
        registry: Any = butler._registry
        for index in range(KNOWN):
            butler.registry.registerRun(f"run{index}")
        self.known = {
            ref.id
            for index in range(KNOWN)
            for ref in registry.insertDatasets(
                dataset_type, [{}], run=f"run{index}", idGenerationMode=DatasetIdGenEnum.DATAID_TYPE_RUN
            )
        }
        managers = registry._managers
        self._db = registry._db
        self._tables = managers.datastores._tables
        self.bridges = {name: managers.datastores.register(name, ephemeral=False) for name in DATASTORES}
        self.table = managers.opaque.register(TABLE, FileDatastore.makeTableSpec())

    def bridge(self, datastore: str) -> Any:
        return self.bridges[datastore]

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return self._db.transaction(savepoint=True)

    def trashed(self, datastore: str) -> set[uuid.UUID]:
        trash = self._tables.dataset_location_trash
        query = sqlalchemy.select(trash.columns.dataset_id).where(trash.columns.datastore_name == datastore)
        with self._db.query(query) as result:
            return set(result.scalars())

    def bridge_state(self) -> set[tuple[str, str, uuid.UUID]]:
        held, trash = self._tables.dataset_location, self._tables.dataset_location_trash
        query = sqlalchemy.union_all(
            sqlalchemy.select(
                sqlalchemy.literal("held"), held.columns.datastore_name, held.columns.dataset_id
            ),
            sqlalchemy.select(
                sqlalchemy.literal("trashed"), trash.columns.datastore_name, trash.columns.dataset_id
            ),
        )
        with self._db.query(query) as result:
            return {(state, name, dataset_id) for state, name, dataset_id in result}

    def reset(self) -> None:
        with self._db.transaction():
            self._db.deleteWhere(self._tables.dataset_location, sqlalchemy.true())
            self._db.deleteWhere(self._tables.dataset_location_trash, sqlalchemy.true())
        self.table.delete([])

    def close(self) -> None:
        self.repository.close()


def _postgresql_unavailable() -> str | None:
    try:
        postgres_registries("postgresql")
    except PostgresUnavailableError as err:
        return str(err)
    return None


@pytest.fixture(scope="module")
def sql_registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SqlRegistry]]:
    """The SQL registries: SQLite always, PostgreSQL where it can be had."""
    from butler_testkit.factories import installed_storage_classes

    engines = [engine for engine in ENGINES if engine == "sqlite" or _postgresql_unavailable() is None]
    registries: dict[str, SqlRegistry] = {}
    with installed_storage_classes():
        for engine in engines:
            registries[engine] = SqlRegistry(engine, tmp_path_factory.mktemp(f"differential-{engine}"))
    yield registries
    for registry in registries.values():
        registry.close()


@pytest.fixture
def registries(sql_registries: dict[str, SqlRegistry]) -> list[Registry]:
    """The fakes first, then each SQL registry, all empty."""
    known = {frozenset(registry.known) for registry in sql_registries.values()}
    assert len(known) == 1, "the dataset IDs must be the same in every registry"
    fakes = FakeRegistry(set(sql_registries["sqlite"].known))
    for registry in sql_registries.values():
        registry.reset()
    return [fakes, *sql_registries.values()]


def test_postgresql_takes_part():
    reason = _postgresql_unavailable()
    if reason is not None:
        pytest.skip(f"the differential tests ran on SQLite only: {reason}")


# What is observed


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one call did: its normalized result, or the exception it raised."""

    result: Any = None
    error: BaseException | None = None


def _row_key(row: Any) -> tuple[Any, ...]:
    return tuple(row[column] for column in ("dataset_id", "component", "path", "file_size", "checksum"))


def _rows(rows: Any) -> list[tuple[Any, ...]]:
    return sorted((_row_key(row) for row in rows), key=repr)


def _call(action: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(result=action())
    except Exception as err:
        return Outcome(error=err)


def _same_error(fake_error: BaseException, engine: str, sql_error: BaseException) -> bool:
    equivalent = EQUIVALENT_ERRORS.get(type(fake_error))
    if equivalent is not None:
        return isinstance(sql_error, equivalent[engine])
    return type(sql_error) is type(fake_error)


def check_same(outcomes: dict[str, Outcome], what: str) -> None:
    """Fail unless every SQL registry did what the fakes did (allowing the equivalent errors)."""
    fake = outcomes["fakes"]
    for engine, sql in outcomes.items():
        if engine == "fakes":
            continue
        if fake.error is None and sql.error is None:
            assert sql.result == fake.result, (
                f"{what}: {engine} returned {sql.result!r}, fakes {fake.result!r}"
            )
        elif fake.error is None or sql.error is None or not _same_error(fake.error, engine, sql.error):
            raise AssertionError(
                f"{what}: the fakes {'raised ' + repr(fake.error) if fake.error else 'succeeded'}, "
                f"{engine} {'raised ' + repr(sql.error) if sql.error else 'succeeded'}"
            )


# Operations, as data: each is run on every registry


_COMPONENTS = st.sampled_from([NULLSTR, "summary", "data"])
_PATHS = st.sampled_from(["run/a.json", "run/b.json", "run/shared.zip"])
_SIZES = st.sampled_from([None, 0, 10, 2**62])


def _too_long(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "component": "c" * 33}


def _too_big(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "file_size": 2**70}


def _without_path(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "path"}


def _rows_strategy(ids: list[uuid.UUID]) -> st.SearchStrategy[list[dict[str, Any]]]:
    good = st.fixed_dictionaries(
        {
            "dataset_id": st.sampled_from(ids),
            "component": _COMPONENTS,
            "path": _PATHS,
            "formatter": st.just("lsst.daf.butler.formatters.json.JsonFormatter"),
            "storage_class": st.just("StructuredDataDict"),
            "checksum": st.sampled_from([None, "abc"]),
            "file_size": _SIZES,
        }
    )
    # What every registry refuses: too long, too big, missing.
    bad = st.one_of(good.map(_too_long), good.map(_too_big), good.map(_without_path))
    return st.lists(st.one_of(good, good, good, bad), min_size=1, max_size=4)


@dataclasses.dataclass(frozen=True)
class Op:
    """One operation, with its arguments, that can run on any registry."""

    kind: str
    arguments: tuple[Any, ...]

    def run(self, registry: Registry) -> Any:
        kind, arguments = self.kind, self.arguments
        if kind in ("insert", "ensure", "replace"):
            getattr(registry.table, kind)(*[dict(row) for row in arguments[0]])
            return None
        if kind == "delete":
            columns, rows = arguments
            registry.table.delete(columns, *[dict(row) for row in rows])
            return None
        if kind == "fetch":
            return _rows(registry.table.fetch(**arguments[0]))
        if kind in ("bridge_insert", "bridge_ensure", "forget", "moveToTrash"):
            datastore, ids = arguments
            bridge = registry.bridge(datastore)
            refs = [FakeDatasetRef(dataset_id) for dataset_id in ids]
            if kind == "moveToTrash":
                bridge.moveToTrash(refs, transaction=None)
            else:
                getattr(bridge, kind.removeprefix("bridge_"))(refs)
            return None
        if kind == "emptyTrash":
            return _empty_trash(registry, *arguments)
        if kind == "check":
            datastore, ids = arguments
            return registry.bridge(datastore).check(ids)
        raise AssertionError(f"unknown operation {kind}")


class _BodyError(Exception):
    """Raised inside an ``emptyTrash`` or transaction block on purpose."""


def _empty_trash(
    registry: Registry,
    datastore: str,
    selected: tuple[uuid.UUID, ...] | None,
    record_column: str | None,
    dry_run: bool,
    body_raises: bool,
) -> Any:
    with registry.bridge(datastore).emptyTrash(
        registry.table,
        record_class=StoredFileInfo,
        record_column=record_column,
        selected_ids=None if selected is None else list(selected),
        dry_run=dry_run,
    ) as (matches, to_keep):
        found = sorted((ref.id, info.component, info.path) for ref, info in matches)
        if body_raises:
            raise _BodyError("the with-body failed")
    return found, to_keep


def _as_rows(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(rows)


def _write(arguments: tuple[str, tuple[dict[str, Any], ...]]) -> Op:
    kind, rows = arguments
    return Op(kind, (rows,))


def _delete(arguments: tuple[tuple[str, ...], tuple[dict[str, Any], ...]]) -> Op:
    return Op("delete", arguments)


def _fetch(where: dict[str, Any]) -> Op:
    return Op("fetch", (where,))


def _bridge(arguments: tuple[str, str, tuple[uuid.UUID, ...]]) -> Op:
    kind, datastore, ids = arguments
    return Op(kind, (datastore, ids))


def _empty(arguments: tuple[Any, ...]) -> Op:
    return Op("emptyTrash", arguments)


def _by_id(dataset_id: uuid.UUID) -> dict[str, Any]:
    return {"dataset_id": dataset_id}


def _by_ids(ids: tuple[uuid.UUID, ...]) -> dict[str, Any]:
    return {"dataset_id": list(ids)}


def _by_path(path: str) -> dict[str, Any]:
    return {"path": path}


@functools.cache
def _operations(ids: tuple[uuid.UUID, ...]) -> st.SearchStrategy[Op]:
    """Every operation the machine runs, over these dataset IDs (built once: strategies are costly)."""
    id_lists = st.lists(st.sampled_from(ids), max_size=4).map(tuple)
    datastores = st.sampled_from(DATASTORES)
    rows = _rows_strategy(list(ids)).map(_as_rows)
    delete_columns = st.sampled_from([(), ("dataset_id",), ("dataset_id", "component"), ("path",)])
    wheres = st.one_of(
        st.sampled_from(ids).map(_by_id),
        id_lists.map(_by_ids),
        _PATHS.map(_by_path),
        st.just({"path": "run/%"}),
        st.just({}),
    )
    return st.one_of(
        st.tuples(st.sampled_from(["insert", "ensure", "replace"]), rows).map(_write),
        st.tuples(delete_columns, rows).map(_delete),
        wheres.map(_fetch),
        st.tuples(
            st.sampled_from(["bridge_insert", "bridge_ensure", "forget", "moveToTrash"]), datastores, id_lists
        ).map(_bridge),
        st.tuples(
            datastores,
            st.one_of(st.none(), id_lists),
            st.sampled_from([None, "path"]),
            st.booleans(),
            st.booleans(),
        ).map(_empty),
    )


class RegistryMachine(RuleBasedStateMachine):
    """Drives the fakes and the SQL registries in step, comparing everything."""

    registries: ClassVar[list[Registry]] = []
    ids: ClassVar[tuple[uuid.UUID, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        for registry in self.registries:
            registry.reset()

    def _run(self, op: Op, what: str) -> None:
        check_same({registry.name: _call(lambda r=registry: op.run(r)) for registry in self.registries}, what)

    @rule(data=st.data())
    def operation(self, data: st.DataObject) -> None:
        op = data.draw(_operations(self.ids), label="op")
        self._run(op, f"{op.kind}{op.arguments}")

    @rule(datastore=st.sampled_from(DATASTORES))
    def check(self, datastore: str) -> None:
        self._run(Op("check", (datastore, self.ids)), f"check on {datastore}")

    @rule(data=st.data(), raise_at_end=st.booleans(), nested=st.booleans())
    def transaction(self, data: st.DataObject, raise_at_end: bool, nested: bool) -> None:
        operations = _operations(self.ids)
        ops = data.draw(st.lists(operations, max_size=4), label="ops")
        inner = data.draw(st.lists(operations, max_size=2), label="inner")

        def block(registry: Registry) -> Any:
            results = []
            with registry.transaction():
                # An operation that fails ends the block: its error rolls the
                # whole transaction back (on PostgreSQL nothing else could run).
                results.extend(op.run(registry) for op in ops)
                if nested:
                    with contextlib.suppress(_BodyError), registry.transaction():
                        results.extend(op.run(registry) for op in inner)
                        raise _BodyError("the inner block failed")
                if raise_at_end:
                    raise _BodyError("the transaction failed")
            return results

        what = f"transaction({ops}, nested rolled back {inner if nested else []}, raise={raise_at_end})"
        check_same({registry.name: _call(lambda r=registry: block(r)) for registry in self.registries}, what)

    @invariant()
    def same_state(self) -> None:
        check_same({r.name: _call(r.bridge_state) for r in self.registries}, "datasets held and trashed")
        check_same({r.name: _call(lambda r=r: _rows(r.table.fetch())) for r in self.registries}, "records")


def test_the_fakes_behave_as_sql_on_random_operation_sequences(registries):
    sqlite = registries[1]
    assert isinstance(sqlite, SqlRegistry)
    ids = sorted(sqlite.known)
    unknown = [uuid.uuid5(_ID_NAMESPACE, f"unknown{index}") for index in range(2)]

    class Machine(RegistryMachine):
        pass

    Machine.registries = registries
    Machine.ids = tuple(ids + unknown)
    run_state_machine_as_test(
        Machine,
        settings=settings(
            settings.default,
            stateful_step_count=10,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )


# The named differences, each pinned


def _outcome_name(action: Callable[[], Any]) -> str:
    try:
        action()
    except Exception as err:
        return type(err).__name__
    return "stored"


def _numbers_table(registry: Registry) -> Any:
    from lsst.daf.butler import ddl

    spec = ddl.TableSpec(
        fields=[
            ddl.FieldSpec("key", dtype=sqlalchemy.BigInteger, primaryKey=True),
            ddl.FieldSpec("medium", dtype=sqlalchemy.Integer, nullable=True),
        ]
    )
    if isinstance(registry, FakeRegistry):
        return registry.manager.opaque.register("differential_numbers", spec)
    assert isinstance(registry, SqlRegistry)
    table = registry.repository.butler._registry._managers.opaque.register("differential_numbers", spec)
    table.delete([])
    return table


def _a_row(dataset_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    return {
        "dataset_id": dataset_id,
        "component": NULLSTR,
        "path": "run/a.json",
        "formatter": "f",
        "storage_class": "StructuredDataDict",
        "checksum": None,
        "file_size": 1,
        **values,
    }


def _observe(difference: Difference, registry: Registry) -> str:
    dataset_id = uuid.uuid5(_ID_NAMESPACE, "difference")
    if difference.name == "integer-beyond-32-bits":
        return _outcome_name(lambda: _numbers_table(registry).insert({"key": 1, "medium": 2**40}))
    if difference.name == "nul-in-text":
        return _outcome_name(lambda: registry.table.insert(_a_row(dataset_id, path="run/a\x00.json")))
    if difference.name == "empty-short-string":
        return _outcome_name(lambda: registry.table.insert(_a_row(dataset_id, component="")))
    if difference.name == "datastore-transaction-only":
        transaction = DatastoreTransaction()
        registry.table.insert(_a_row(dataset_id), transaction=transaction)
        transaction.rollback()
        return "kept" if list(registry.table.fetch(dataset_id=dataset_id)) else "undone"
    if difference.name == "statement-after-failure":
        registry.table.insert(_a_row(dataset_id))

        def insert_after_a_failure() -> None:
            with registry.transaction():
                with contextlib.suppress(ConstraintViolationError, IntegrityError):
                    registry.table.insert(_a_row(dataset_id))  # the primary key is taken
                registry.table.insert(_a_row(uuid.uuid5(_ID_NAMESPACE, "after")))

        return _outcome_name(insert_after_a_failure)
    raise AssertionError(f"no observation for {difference.name}")


@pytest.mark.parametrize("difference", DIFFERENCES, ids=lambda difference: difference.name)
def test_each_named_difference_is_real(registries, difference):
    observed = {}
    for registry in registries:
        registry.reset()
        try:
            observed[registry.name] = _observe(difference, registry)
        finally:
            registry.reset()
    expected = {name: outcome for name, outcome in difference.outcomes.items() if name in observed}
    assert observed == expected, difference.what
