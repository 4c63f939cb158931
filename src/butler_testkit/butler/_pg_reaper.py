"""Stop a throwaway PostgreSQL server once the process that started it is gone.

Run as a script (``python -I _pg_reaper.py DIRECTORY``) with its standard
input the read end of a pipe whose write end only the owning process holds.
The read returns end-of-file when that process exits, however it exits
(normal exit, an exception, ``SIGTERM``, ``SIGKILL``): then the server whose
data directory is under ``DIRECTORY`` is shut down at once and ``DIRECTORY``
(data, socket, lock file and log) is removed. After a normal stop the owner
has done both already, and this finds nothing to do.

This file imports nothing from its package, so that starting it costs a
bare interpreter, not daf_butler.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

# How long a shut-down server may take to go before it is killed outright.
_GRACE_SECONDS = 20.0
_POLL_SECONDS = 0.05


def server_pid(directory: Path) -> int | None:
    """Return the process id of the server whose data is under ``directory``.

    Parameters
    ----------
    directory : `pathlib.Path`
        The server's directory (its data directory is ``data`` inside it).

    Returns
    -------
    pid : `int` or `None`
        The postmaster's process id from its lock file, or `None` if there is
        none (never started, or already stopped).
    """
    try:
        first_line = (directory / "data" / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first_line)
    except (OSError, ValueError):
        return None


def is_running(pid: int) -> bool:
    """Return whether process ``pid`` exists and is not a zombie.

    Parameters
    ----------
    pid : `int`
        Process id.

    Returns
    -------
    running : `bool`
        The answer. A zombie (exited, not yet reaped by its new parent) is
        not running.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return False
        # No /proc (macOS): ask the kernel.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def shut_down(directory: Path) -> None:
    """Shut down the server under ``directory`` at once and remove the directory.

    Parameters
    ----------
    directory : `pathlib.Path`
        The server's directory.
    """
    pid = server_pid(directory)
    if pid is not None and is_running(pid):
        # Immediate shutdown: the data is thrown away, so nothing is flushed.
        _signal(pid, signal.SIGQUIT)
        deadline = time.monotonic() + _GRACE_SECONDS
        while is_running(pid) and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
        if is_running(pid):
            _signal(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def main(argv: list[str]) -> int:
    """Wait for end-of-file on standard input, then clean up.

    Parameters
    ----------
    argv : `list` [`str`]
        ``[DIRECTORY]``.

    Returns
    -------
    status : `int`
        0, or 2 for a bad command line.
    """
    if len(argv) != 1:
        print("usage: _pg_reaper.py DIRECTORY", file=sys.stderr)
        return 2
    # A terminal's Ctrl-C is for the owner, which stops the server itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin.buffer.read()
    shut_down(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
