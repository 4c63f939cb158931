"""PostgreSQL servers for test registries: a throwaway local one, or an existing one."""

from __future__ import annotations

__all__ = (
    "POSTGRES_DRIVER",
    "PostgresServer",
    "PostgresUnavailableError",
    "find_postgres_binaries",
    "stop_throwaway_postgres_server",
    "throwaway_postgres_server",
)

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

POSTGRES_DRIVER = "psycopg"
"""The SQLAlchemy driver of the URLs we make (psycopg 3, the ``postgresql`` extra)."""

# Where Debian and Ubuntu install each server version's programs.
_DEBIAN_ROOT = Path("/usr/lib/postgresql")
# The superuser initdb creates; the servers are ours alone.
_SUPERUSER = "postgres"
# The database every cluster has, to connect to when managing the others.
_MAINTENANCE_DATABASE = "postgres"
# Unix socket paths are limited to about 107 bytes on Linux.
_MAX_SOCKET_DIRECTORY = 90
_START_ATTEMPTS = 4
_INITDB_OPTIONS = (
    # The socket is in a private directory; TCP needs the password.
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
)
# Replaced at every start (see PostgresServer._set_password), so a cached
# cluster shares no secret between servers.
_INITIAL_PASSWORD = "butler-testkit-initial"
# Bump when a cached cluster is no longer what _new_cluster would make.
_CLUSTER_FORMAT = 1
# Only for the test server: durability buys nothing for data thrown away at
# the end, and waiting for the disk is most of what small transactions cost.
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    # Every copy of a template is written to the log; dropping a database
    # checkpoints, which recycles it. This bounds it in between (the
    # directory may be in memory).
    "max_wal_size": "128MB",
}
# Where the throwaway server's files go when there is room: a file system in
# memory. The data is thrown away at the end, and on a busy disk writing it
# out is most of what copying a template database costs (a copy took a
# second or more on a shared disk, a few hundredths of one in memory).
_MEMORY_FILE_SYSTEMS = ("/dev/shm",)
_MEMORY_ROOM = 1 << 30
_INSTALL_HINT = (
    "Install the server (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install "
    "postgresql-server`; macOS: `brew install postgresql`; conda: `conda install -c conda-forge "
    "postgresql`), or use a server you already run by giving its URL instead of `postgresql` "
    "(e.g. pytest --butler-registry=postgresql://user@host/dbname)."
)


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL cannot be used here: no server binaries, no driver, or it would not start.

    The message says what is missing and how to get it; tests that need
    PostgreSQL report it as their skip reason.
    """


def find_postgres_binaries() -> Path:
    """Return the directory holding the PostgreSQL server programs.

    Returns
    -------
    directory : `pathlib.Path`
        A directory with ``initdb`` and ``postgres``: the one on ``PATH``,
        else ``pg_config --bindir``, else the newest Debian-style
        ``/usr/lib/postgresql/VERSION/bin`` (Debian does not put the server
        programs on ``PATH``).

    Raises
    ------
    PostgresUnavailableError
        Raised if no such directory is found.
    """
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            bindir = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(bindir))
    debian = _DEBIAN_ROOT
    if debian.is_dir():
        versions = sorted(
            (path for path in debian.iterdir() if path.name.isdigit()), key=lambda path: int(path.name)
        )
        candidates.extend(path / "bin" for path in reversed(versions))
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    raise PostgresUnavailableError(
        "PostgreSQL's server programs (initdb, postgres) were not found on PATH, through pg_config "
        f"or in /usr/lib/postgresql/*/bin. {_INSTALL_HINT}"
    )


def require_driver() -> None:
    """Check that the PostgreSQL driver our URLs name is installed.

    Raises
    ------
    PostgresUnavailableError
        Raised if ``psycopg`` cannot be imported.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError as err:
        raise PostgresUnavailableError(
            f"The PostgreSQL driver psycopg (3) is not installed ({err}); install it with "
            "`pip install 'butler-testkit[postgresql]'`."
        ) from None


def _server_user(user: str | None) -> pwd.struct_passwd | None:
    """Return the account to run the server as: `None` for ourselves."""
    if user is None and os.geteuid() != 0:
        return None
    # initdb and postgres refuse to run as root.
    names = [user] if user is not None else [_SUPERUSER, "nobody"]
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresUnavailableError(
        f"PostgreSQL refuses to run as root and there is no account {' or '.join(names)!r} to run it as; "
        "create one (Debian's postgresql package creates 'postgres') or run the tests as another user."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """A PostgreSQL server that test registries are created on.

    Use `start` for a throwaway local server or `existing` for one you run;
    `throwaway_postgres_server` gives the process's throwaway server.

    Parameters
    ----------
    url : `str`
        SQLAlchemy URL of the server's maintenance database (a database the
        server always has, connected to when creating or dropping others).

    Notes
    -----
    A throwaway server lives in a private temporary directory (data
    directory, Unix socket, lock file and log), listens on a free loopback
    port with a random password, and runs with durability off. When the
    process runs as root it runs as the ``postgres`` account (``nobody`` if
    there is none), which owns the directory: ``initdb`` refuses root.
    `stop` shuts it down and removes the directory; so does a small reaper
    process, started with the server, when the process that started the
    server exits without calling `stop` (killed with ``SIGKILL``, say).
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._tcp_url = url
        self._socket_directory = ""
        self._directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        self._reaper_pipe: int | None = None
        self._owner_pid = os.getpid()
        self._lock = threading.Lock()

    # Construction

    @classmethod
    def existing(cls, url: str) -> PostgresServer:
        """Return a handle on a server that is already running.

        Parameters
        ----------
        url : `str`
            SQLAlchemy URL of a database on it, e.g.
            ``postgresql://user:password@host:5432/dbname``. The account must
            be allowed to create databases, and ``btree_gist`` must be
            available. A URL that names no driver gets ``psycopg``.

        Returns
        -------
        server : `PostgresServer`
            The server; `stop` leaves it running.

        Raises
        ------
        ValueError
            Raised if ``url`` is not a PostgreSQL URL.
        """
        import sqlalchemy

        try:
            parsed = sqlalchemy.engine.make_url(url)
        except sqlalchemy.exc.ArgumentError as err:
            raise ValueError(f"{url!r} is not a database URL: {err}") from None
        if parsed.get_backend_name() != "postgresql":
            raise ValueError(f"{url!r} is not a PostgreSQL URL (it names {parsed.get_backend_name()!r}).")
        if "+" not in parsed.drivername:
            parsed = parsed.set(drivername=f"postgresql+{POSTGRES_DRIVER}")
        return cls(parsed.render_as_string(hide_password=False))

    @classmethod
    def start(cls, *, user: str | None = None, timeout: float = 60.0) -> PostgresServer:
        """Start a throwaway server in a new temporary directory.

        The directory is in a file system held in memory (``/dev/shm``)
        when there is one with a gigabyte free, else in the usual temporary
        directory (``$TMPDIR``).

        Parameters
        ----------
        user : `str`, optional
            Account to run the server as; by default the current one, or
            ``postgres`` when running as root.
        timeout : `float`, optional
            Seconds to wait for the server to accept connections.

        Returns
        -------
        server : `PostgresServer`
            The running server. Call `stop` when done (or use it as a
            context manager); if the process exits first, the server is
            stopped and its directory removed all the same.

        Raises
        ------
        PostgresUnavailableError
            Raised if the server programs or the driver are missing, or the
            server does not start (the message quotes its log).
        """
        require_driver()
        binaries = find_postgres_binaries()
        account = _server_user(user)
        directory = Path(tempfile.mkdtemp(prefix="btk-pg-", dir=_memory_directory()))
        server = cls("")
        server._directory = directory
        try:
            if account is not None:
                os.chown(directory, account.pw_uid, account.pw_gid)
            server._start_reaper()
            password = secrets.token_hex(16)
            _new_cluster(binaries, directory, account)
            port = server._launch(binaries, account, timeout)
            server._set_password(port, password)
        except BaseException:
            server._stop_owned()
            raise
        server._tcp_url = (
            f"postgresql+{POSTGRES_DRIVER}://{_SUPERUSER}:{password}@127.0.0.1:{port}/{_MAINTENANCE_DATABASE}"
        )
        if server._socket_directory:
            # Only the owner can reach the private socket, so it needs no
            # password, and connecting through it costs half as much.
            server._url = (
                f"postgresql+{POSTGRES_DRIVER}://{_SUPERUSER}@/{_MAINTENANCE_DATABASE}"
                f"?host={server._socket_directory}&port={port}"
            )
        else:
            server._url = server._tcp_url
        return server

    def _start_reaper(self) -> None:
        assert self._directory is not None
        read_end, write_end = os.pipe()  # neither end is inherited by other children
        try:
            self._reaper = subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).with_name("_pg_reaper.py")), str(self._directory)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Out of the terminal's process group: Ctrl-C is for the owner.
                start_new_session=True,
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        self._reaper_pipe = write_end

    def _launch(self, binaries: Path, account: pwd.struct_passwd | None, timeout: float) -> int:
        """Start the postmaster on a free port; return the port."""
        assert self._directory is not None
        directory = self._directory
        socket_directory = str(directory) if len(str(directory)) <= _MAX_SOCKET_DIRECTORY else ""
        self._socket_directory = socket_directory
        log_path = directory / "server.log"
        for _ in range(_START_ATTEMPTS):
            port = _free_port()
            settings = {**_SERVER_SETTINGS, "unix_socket_directories": socket_directory}
            command = [str(binaries / "postgres"), "-D", str(directory / "data"), "-p", str(port)]
            for name, value in settings.items():
                command += ["-c", f"{name}={value}"]
            with log_path.open("ab") as log:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=directory,
                    start_new_session=True,
                    **_as_account(account),
                )
            self._process = process
            if self._wait_until_ready(process, timeout):
                return port
            log_text = log_path.read_text(errors="replace")
            if "Address already in use" not in log_text and "could not bind" not in log_text:
                break
            # Another program took the port between our probe and the bind.
            log_path.write_text("")
        raise PostgresUnavailableError(
            f"The PostgreSQL server in {directory} did not start; its log ends with:\n"
            + _tail(log_path.read_text(errors="replace"))
        )

    def _set_password(self, port: int, password: str) -> None:
        """Give the superuser a password of this server's own, through the private socket."""
        import psycopg

        host = self._socket_directory or "127.0.0.1"
        # Without the socket, the password is still the one initdb was given.
        with psycopg.connect(
            host=host,
            port=port,
            user=_SUPERUSER,
            password=None if self._socket_directory else _INITIAL_PASSWORD,
            dbname=_MAINTENANCE_DATABASE,
            autocommit=True,
        ) as connection:
            connection.execute(
                psycopg.sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    psycopg.sql.Identifier(_SUPERUSER), psycopg.sql.Literal(password)
                )
            )

    def _wait_until_ready(self, process: subprocess.Popen[bytes], timeout: float) -> bool:
        assert self._directory is not None
        lock_file = self._directory / "data" / "postmaster.pid"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                lines = lock_file.read_text().splitlines()
                # The eighth line is the server's status once it has one.
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    return True
            time.sleep(0.02)
        _terminate(process)
        return False

    # Use

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server's maintenance database.

        For a throwaway server, through its Unix socket in its private
        directory when the platform allows (no password needed: only this
        account can reach it), else as `tcp_url`.
        """
        return self._url

    @property
    def tcp_url(self) -> str:
        """The same through TCP: the loopback port, with the account's password."""
        return self._tcp_url

    def database_url(self, database: str) -> str:
        """Return the SQLAlchemy URL of another database on this server.

        Parameters
        ----------
        database : `str`
            Database name.

        Returns
        -------
        url : `str`
            The URL, with the same account and password.
        """
        import sqlalchemy

        return (
            sqlalchemy.engine.make_url(self._url).set(database=database).render_as_string(hide_password=False)
        )

    @property
    def owned(self) -> bool:
        """Whether this process started the server (and `stop` shuts it down)."""
        return self._directory is not None

    @property
    def directory(self) -> Path | None:
        """The throwaway server's directory (data, socket, log); `None` for an existing server."""
        return self._directory

    @property
    def pid(self) -> int | None:
        """Process id of the throwaway server while it runs, else `None`."""
        process = self._process
        if process is None or process.poll() is not None:
            return None
        return process.pid

    @property
    def running(self) -> bool:
        """Whether the throwaway server is running (always `True` for an existing one)."""
        return not self.owned or self.pid is not None

    def stop(self) -> None:
        """Shut down a throwaway server and remove its directory; leave an existing one alone.

        Safe to call more than once, and does nothing in a process forked
        from the one that started the server.
        """
        if os.getpid() != self._owner_pid:
            return
        with self._lock:
            self._stop_owned()

    def _stop_owned(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # Fast shutdown: open connections are closed, nothing waits for clients.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _terminate(process)
        elif process is not None:
            process.wait()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        pipe, self._reaper_pipe = self._reaper_pipe, None
        if pipe is not None:
            os.close(pipe)  # the reaper wakes, finds nothing left, and exits
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            try:
                reaper.wait(timeout=30)
            except subprocess.TimeoutExpired:
                reaper.kill()
                reaper.wait()

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        import sqlalchemy

        shown = (
            sqlalchemy.engine.make_url(self._url).render_as_string(hide_password=True) if self._url else ""
        )
        kind = "throwaway" if self.owned else "existing"
        state = "" if self.running else ", stopped"
        return f"PostgresServer({shown!r}, {kind}{state})"


def _memory_directory() -> str | None:
    """Return a writable directory in memory with room for a server, or `None` for the default."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    in_memory = {
        fields[1] for fields in (line.split() for line in mounts) if len(fields) > 2 and fields[2] == "tmpfs"
    }
    for candidate in _MEMORY_FILE_SYSTEMS:
        if candidate not in in_memory or not os.access(candidate, os.W_OK | os.X_OK):
            continue
        with contextlib.suppress(OSError):
            stats = os.statvfs(candidate)
            if stats.f_bavail * stats.f_frsize >= _MEMORY_ROOM:
                return candidate
    return None


def _as_account(account: pwd.struct_passwd | None) -> dict[str, Any]:
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _new_cluster(binaries: Path, directory: Path, account: pwd.struct_passwd | None) -> None:
    """Put a new cluster in ``directory / "data"``: a copy of the cached one, or made by initdb.

    initdb takes seconds; copying its output takes a fraction of that. The
    cluster is cached unconfigured (port, password and settings are given
    at start), under the template cache directory.
    """
    from ._template import cache_directory

    data = directory / "data"
    try:
        cached = cache_directory() / f"postgres-cluster-{_cluster_key(binaries)}"
    except OSError:  # pragma: no cover - an unusable cache only costs time
        cached = None
    if cached is not None and cached.is_dir():
        shutil.copytree(cached, data, symlinks=True)
        _give(data, account)
        data.chmod(0o700)
        return
    _initdb(binaries, directory, account)
    if cached is not None:
        building = cached.with_name(f"{cached.name}.building-{secrets.token_hex(4)}")
        try:
            shutil.copytree(data, building, symlinks=True)
            os.rename(building, cached)
        except OSError:
            pass  # another process cached one first, or the cache is read-only
        finally:
            shutil.rmtree(building, ignore_errors=True)


def _cluster_key(binaries: Path) -> str:
    import hashlib

    initdb = (binaries / "initdb").resolve()
    info = initdb.stat()
    text = f"{_CLUSTER_FORMAT}|{initdb}|{info.st_size}|{info.st_mtime_ns}|{_INITDB_OPTIONS}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _give(tree: Path, account: pwd.struct_passwd | None) -> None:
    """Make ``account`` the owner of everything under ``tree``."""
    if account is None:
        return
    os.chown(tree, account.pw_uid, account.pw_gid)
    for root, directories, files in os.walk(tree):
        for name in directories + files:
            os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid, follow_symlinks=False)


def _initdb(binaries: Path, directory: Path, account: pwd.struct_passwd | None) -> None:
    password_file = directory / "password"
    password_file.write_text(_INITIAL_PASSWORD + "\n")
    if account is not None:
        os.chown(password_file, account.pw_uid, account.pw_gid)
    password_file.chmod(0o600)
    command = [
        str(binaries / "initdb"),
        "--pgdata",
        str(directory / "data"),
        "--username",
        _SUPERUSER,
        "--pwfile",
        str(password_file),
        *_INITDB_OPTIONS,
    ]
    try:
        result = subprocess.run(
            command,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            **_as_account(account),
        )
    finally:
        password_file.unlink()
    if result.returncode != 0:
        raise PostgresUnavailableError(
            f"initdb failed (exit status {result.returncode}):\n{_tail(result.stdout + result.stderr)}"
        )


def _terminate(process: subprocess.Popen[bytes]) -> None:
    for signum in (signal.SIGQUIT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class _ProcessServer:
    """The process's throwaway server, started on first use and stopped at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: PostgresServer | None = None
        self._registered = False
        # Why the server could not be had, kept so that every test that asks
        # for it is told at once rather than trying (and waiting) again.
        self._unavailable: tuple[int, PostgresUnavailableError] | None = None

    def get(self) -> PostgresServer:
        with self._lock:
            if self._unavailable is not None and self._unavailable[0] == os.getpid():
                raise PostgresUnavailableError(str(self._unavailable[1]))
            server = self._server
            if server is None or not server.running or server._owner_pid != os.getpid():
                try:
                    server = self._server = PostgresServer.start()
                except PostgresUnavailableError as err:
                    self._unavailable = (os.getpid(), err)
                    raise
                if not self._registered:
                    atexit.register(self.stop)
                    self._registered = True
            return server

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            self._unavailable = None
        if server is not None:
            server.stop()


_PROCESS_SERVER = _ProcessServer()


def throwaway_postgres_server() -> PostgresServer:
    """Return this process's throwaway PostgreSQL server, starting it on first use.

    Returns
    -------
    server : `PostgresServer`
        The same server on every call until it is stopped; it is stopped at
        interpreter exit (and by its reaper if the process dies first).

    Raises
    ------
    PostgresUnavailableError
        Raised if the server programs or the driver are missing, or the
        server does not start; then again, at once, on every later call
        until `stop_throwaway_postgres_server`.

    Notes
    -----
    One server per process, so one per pytest-xdist worker: each worker's
    server lives and dies with that worker, which is what makes the cleanup
    simple and certain (a reaper watches one process, nothing is counted
    across processes), and the workers never wait on one another (creating
    a database from a template needs the template to have no other
    connection). Starting one costs about two seconds, once per worker.
    """
    return _PROCESS_SERVER.get()


def stop_throwaway_postgres_server() -> None:
    """Stop this process's throwaway server now, if it was started.

    The next `throwaway_postgres_server` call starts a new one (or tries
    again, after a failure to start).
    """
    _PROCESS_SERVER.stop()
