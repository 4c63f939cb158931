"""The throwaway PostgreSQL server and the test repositories made on it."""

from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy
from lsst.daf.butler import Butler, DatasetType

from butler_testkit.butler import (
    PostgresServer,
    PostgresUnavailableError,
    RepositorySpec,
    create_test_repository,
    find_postgres_binaries,
    postgres_registries,
    resolve_registry,
    throwaway_postgres_server,
)
from butler_testkit.butler import _postgresql as postgresql_module
from butler_testkit.butler._pg_reaper import is_running


@pytest.fixture(scope="module")
def server() -> PostgresServer:
    try:
        return throwaway_postgres_server()
    except PostgresUnavailableError as err:
        pytest.skip(str(err))


def _databases(server: PostgresServer) -> set[str]:
    engine = sqlalchemy.create_engine(server.url, poolclass=sqlalchemy.NullPool)
    with engine.connect() as connection:
        names = connection.execute(sqlalchemy.text("SELECT datname FROM pg_database")).scalars().all()
    engine.dispose()
    return set(names)


def _port_of(server: PostgresServer) -> int:
    port = sqlalchemy.engine.make_url(server.tcp_url).port
    assert port is not None
    return port


# The server


def test_the_server_runs_on_a_loopback_port_as_a_non_root_account(server):
    assert server.owned and server.running and server.pid is not None
    url = sqlalchemy.engine.make_url(server.tcp_url)
    assert url.host == "127.0.0.1" and url.password
    with socket.create_connection(("127.0.0.1", _port_of(server)), timeout=5):
        pass
    status = Path(f"/proc/{server.pid}/status")
    if os.geteuid() == 0 and status.exists():
        uid_line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        real_uid = uid_line.split()[1]
        assert real_uid != "0"
    assert "btree_gist" in _available_extensions(server)
    assert url.password not in repr(server)


def _available_extensions(server: PostgresServer) -> set[str]:
    engine = sqlalchemy.create_engine(server.tcp_url, poolclass=sqlalchemy.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT name FROM pg_available_extensions")).scalars()
        names = set(rows)
    engine.dispose()
    return names


def test_the_tcp_port_needs_the_password(server):
    url = sqlalchemy.engine.make_url(server.tcp_url).set(password="wrong")
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    with pytest.raises(sqlalchemy.exc.OperationalError, match="password authentication failed"):
        engine.connect()
    engine.dispose()


def test_missing_binaries_are_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(postgresql_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgresql_module, "_DEBIAN_ROOT", tmp_path / "nothing")
    with pytest.raises(PostgresUnavailableError, match=r"apt-get install postgresql.*URL"):
        find_postgres_binaries()
    with pytest.raises(PostgresUnavailableError, match="apt-get install postgresql"):
        PostgresServer.start()


def test_a_missing_driver_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(PostgresUnavailableError, match=r"butler-testkit\[postgresql\]"):
        PostgresServer.start()


def test_registry_choices_are_checked(monkeypatch):
    # The library reads no environment: that is the test front ends' default.
    monkeypatch.setenv("BUTLER_TESTKIT_REGISTRY", "postgresql")
    assert resolve_registry() == "sqlite"
    assert resolve_registry("PostgreSQL") == "postgresql"
    assert resolve_registry("postgresql://me@db.example/x") == "postgresql+psycopg://me@db.example/x"
    assert resolve_registry("postgresql+psycopg2://me@db/x") == "postgresql+psycopg2://me@db/x"
    with pytest.raises(ValueError, match=r"--butler-registry must be 'sqlite', 'postgresql'"):
        resolve_registry("oracle", source="--butler-registry")
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        resolve_registry("sqlite:///x.db")
    with pytest.raises(ValueError, match="registry must be"):
        create_test_repository("/nonexistent/never-made", registry="mysql")
    with pytest.raises(TypeError, match="registry must be a str"):
        resolve_registry(5)  # type: ignore[arg-type]


def test_a_server_that_cannot_start_is_not_tried_again(monkeypatch):
    process_server = postgresql_module._ProcessServer()
    attempts = []

    def fail(**keywords):
        attempts.append(keywords)
        raise PostgresUnavailableError("no server here; install it")

    monkeypatch.setattr(postgresql_module.PostgresServer, "start", staticmethod(fail))
    for _ in range(3):
        with pytest.raises(PostgresUnavailableError, match="no server here"):
            process_server.get()
    assert len(attempts) == 1
    process_server.stop()  # forgets the failure: the next call tries again
    with pytest.raises(PostgresUnavailableError):
        process_server.get()
    assert len(attempts) == 2


_SESSION = """
import json, os, signal, sys
from pathlib import Path
from butler_testkit.butler import throwaway_postgres_server

server = throwaway_postgres_server()
info = {{"pid": server.pid, "directory": str(server.directory), "tcp_url": server.tcp_url,
        "reaper": server._reaper.pid}}
Path({report!r}).write_text(json.dumps(info))
ending = {ending!r}
if ending == "sigkill":
    os.kill(os.getpid(), signal.SIGKILL)
elif ending == "sigterm":
    os.kill(os.getpid(), signal.SIGTERM)
elif ending == "interrupted":
    raise KeyboardInterrupt
"""


def _assert_nothing_left(report: Path) -> None:
    info = json.loads(report.read_text())
    deadline = time.monotonic() + 60
    while (is_running(info["reaper"]) or is_running(info["pid"])) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_running(info["pid"]), "the server process is still running"
    assert not is_running(info["reaper"]), "the reaper is still running"
    directory = Path(info["directory"])
    assert not directory.exists(), f"{directory} (data, socket, lock file) is still there"
    port = sqlalchemy.engine.make_url(info["tcp_url"]).port
    assert not list(Path(directory.parent).glob(f".s.PGSQL.{port}*"))
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


@pytest.mark.parametrize("ending", ["exit", "interrupted", "sigterm", "sigkill"])
def test_a_process_leaves_no_server_behind_however_it_ends(server, tmp_path, ending):
    report = tmp_path / "server.json"
    script = _SESSION.format(report=str(report), ending=ending)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert report.exists(), result.stderr
    _assert_nothing_left(report)


def test_a_pytest_session_leaves_no_server_or_database_directory_behind(server, pytester):
    report = pytester.path / "server.json"
    pytester.makepyfile(
        textwrap.dedent(
            f"""
            import json
            from pathlib import Path
            from butler_testkit.butler import create_test_repository, throwaway_postgres_server

            def test_uses_postgresql(tmp_path):
                with create_test_repository(tmp_path / "repo", registry="postgresql") as repo:
                    repo.butler.registry.insertDimensionData("instrument", {{"name": "Cam"}})
                server = throwaway_postgres_server()
                info = {{"pid": server.pid, "directory": str(server.directory),
                        "tcp_url": server.tcp_url, "reaper": server._reaper.pid}}
                Path({str(report)!r}).write_text(json.dumps(info))
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    _assert_nothing_left(report)


# Repositories on it


def test_each_repository_is_its_own_database_dropped_at_close(server, tmp_path):
    registries = postgres_registries("postgresql")
    with (
        create_test_repository(tmp_path / "a", registry="postgresql") as first,
        create_test_repository(tmp_path / "b", registry="postgresql") as second,
    ):
        first.butler.registry.insertDimensionData("instrument", {"name": "OnlyInA"})
        assert list(second.butler.registry.queryDimensionRecords("instrument")) == []
        names = {sqlalchemy.engine.make_url(repo.registry_url).database for repo in (first, second)}
        assert names <= _databases(server)
        assert first.registry_dialect == "postgresql"
    registries.wait_until_idle()
    assert not names & _databases(server)


def test_a_butler_opened_by_the_code_under_test_sees_the_same_registry(server, tmp_path):
    with create_test_repository(tmp_path / "repo", registry="postgresql", run="in") as repo:
        repo.butler.registry.insertDimensionData("instrument", {"name": "Cam"})
        dataset_type = DatasetType("plain", repo.butler.dimensions.conform(["instrument"]), "BtkDict")
        repo.butler.registry.registerDatasetType(dataset_type)
        ref = repo.butler.put({"a": 1}, dataset_type, instrument="Cam")
        with Butler.from_config(str(repo.root), writeable=True, run="out") as theirs:
            assert theirs.get(ref) == {"a": 1}
            theirs.put({"b": 2}, dataset_type, instrument="Cam")
        restored = pickle.loads(pickle.dumps(repo.butler))
        with restored:
            assert len(list(restored.registry.queryDatasets("plain", collections=...))) == 2
        leaked = Butler.from_config(str(repo.root))
        list(leaked.registry.queryDimensionRecords("instrument"))
        assert repo.open_connection_count() >= 2
    assert repo.open_connection_count() == 0


def test_registry_data_and_seeding_come_from_the_template(server, tmp_path):
    spec = RepositorySpec(registry_data=("resource://lsst.daf.butler/tests/registry_data/base.yaml",))
    for name in ("first", "second"):
        with create_test_repository(tmp_path / name, spec=spec, registry="postgresql") as repo:
            records = repo.butler.registry.queryDimensionRecords("instrument")
            assert [record.name for record in records] == ["Cam1"]
            repo.butler.registry.insertDimensionData("instrument", {"name": f"Extra-{name}"})


def test_postgresql_refuses_what_sqlite_lets_through(server, tmp_path):
    # PostgreSQL text cannot hold a NUL character; SQLite stores it.
    record = {"name": "Cam\x00era"}
    with create_test_repository(tmp_path / "sqlite", registry="sqlite") as repo:
        repo.butler.registry.insertDimensionData("instrument", record)
    with create_test_repository(tmp_path / "pg", registry="postgresql") as repo:
        with pytest.raises(sqlalchemy.exc.DataError, match="NUL"):
            repo.butler.registry.insertDimensionData("instrument", record)
        assert list(repo.butler.registry.queryDimensionRecords("instrument")) == []


def test_an_existing_server_is_used_by_url_and_left_clean(server, tmp_path):
    url = server.tcp_url  # stands for a server someone else runs
    registries = postgres_registries(resolve_registry(url))
    assert not registries.server.owned
    with create_test_repository(tmp_path / "repo", registry=url) as repo:
        repo.butler.registry.insertDimensionData("instrument", {"name": "Cam"})
        assert sqlalchemy.engine.make_url(repo.registry_url).port == _port_of(server)
    made_here = registries.databases()
    assert len(made_here) >= 2  # the template and a spare copy at least
    registries.close()
    assert not made_here & _databases(server)
    registries.server.stop()  # not ours: still running
    assert server.running


def test_the_server_keeps_its_files_in_memory_when_there_is_room(server, monkeypatch, tmp_path):
    memory = postgresql_module._memory_directory()
    if memory is not None:
        assert server.directory is not None and server.directory.parent == Path(memory)
    # Not a file system in memory (or without room): the usual temporary directory.
    monkeypatch.setattr(postgresql_module, "_MEMORY_FILE_SYSTEMS", (str(tmp_path),))
    assert postgresql_module._memory_directory() is None
    monkeypatch.setattr(postgresql_module, "_MEMORY_FILE_SYSTEMS", ("/dev/shm",))
    monkeypatch.setattr(postgresql_module, "_MEMORY_ROOM", 1 << 60)
    assert postgresql_module._memory_directory() is None


def test_spare_copies_grow_with_how_often_a_template_is_used(server, tmp_path):
    from butler_testkit.butler import _pg_repository

    # Registries of this test's own (on the server as if someone else ran
    # it, so that closing them drops everything), with no other test's
    # repositories counted.
    registries = _pg_repository.PostgresRegistries(PostgresServer.existing(server.tcp_url))
    try:
        spec = RepositorySpec()
        template, template_database = registries.template(spec)

        def spares() -> int:
            registries.wait_until_idle()
            return len(registries._ready.get(template_database, ()))

        copies = [registries.new_copy(template, template_database)]
        assert spares() == 1  # used once: one spare
        copies += [registries.new_copy(template, template_database) for _ in range(4)]
        assert spares() == registries.spares == 3
        names = {copy.name for copy in copies}
        assert len(names) == 5 and names <= registries.databases()
        for copy in copies:
            copy.close()
        assert spares() == 3 and not names & registries.databases()
    finally:
        registries.close()
    assert not registries.databases() & _databases(server)
