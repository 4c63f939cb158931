"""A fork server for mutation runs: import the heavy libraries once, then fork one process per mutant.

Starting pytest with daf_butler, numpy, Faker and Hypothesis costs seconds of
processor per process, most of a mutant's run. The server imports them once
(never the module being mutated: it refuses to serve if one of them did),
then forks a child per request; the child installs its mutant, runs pytest in
its own process group with its output in a file, and exits with pytest's
status. Standard library only, and single-threaded, so that forking is safe.

Protocol, one JSON object per line: the server first writes ``{"ready": true}``
(or ``{"error": ...}`` and exits); each request ``{"id", "argv", "cwd", "env",
"output"}`` on its standard input is answered with ``{"id", "pid"}`` when the
child starts and ``{"id", "status"}`` when it ends. At the end of its input
it kills the children still running and exits.
"""

from __future__ import annotations

__all__ = ("serve",)

import contextlib
import importlib
import json
import os
import select
import signal
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

_POLL_SECONDS = 0.05


def _say(message: Mapping[str, Any]) -> None:
    # Straight to the file descriptor: nothing buffered may be inherited by a child.
    os.write(1, (json.dumps(message) + "\n").encode())


def _run_pytest(argv: Sequence[str]) -> int:
    """Run ``python -m pytest ARGS`` or ``pytest ARGS`` in this process."""
    arguments = list(argv[1:])
    if arguments[:2] == ["-m", "pytest"]:
        arguments = arguments[2:]
    import pytest

    return int(pytest.main(arguments))


def _child(request: Mapping[str, Any]) -> None:
    """Become the mutant's run; never returns."""
    status = 3
    try:
        os.setpgid(0, 0)
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        from butler_testkit.bench._mutation_hook import install_from_environment

        install_from_environment()
        status = _run_pytest(request["argv"])
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 3
    except BaseException:
        traceback.print_exc()
        status = 3
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def serve(preload: Sequence[str], forbidden: str) -> None:
    """Import the preloaded modules, then fork a child for every request until the input ends.

    Parameters
    ----------
    preload : `~collections.abc.Sequence` [`str`]
        Modules to import before forking.
    forbidden : `str`
        The module under mutation: if a preloaded module imported it, the
        server reports an error and exits, since a child could not replace it.
    """
    for name in preload:
        try:
            importlib.import_module(name)
        except ImportError as err:
            _say({"error": f"cannot preload {name}: {err}"})
            return
    if forbidden in sys.modules:
        _say({"error": f"preloading imported {forbidden}, the module under mutation"})
        return
    _say({"ready": True})
    children: dict[int, Any] = {}
    pending = b""
    open_input = True
    while open_input or children:
        if open_input:
            readable, _, _ = select.select([0], [], [], _POLL_SECONDS)
            if readable:
                data = os.read(0, 65536)
                if not data:
                    open_input = False
                    for pid in children:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(pid, signal.SIGKILL)
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        request = json.loads(line)
                        pid = os.fork()
                        if pid == 0:
                            _child(request)
                        children[pid] = request["id"]
                        _say({"id": request["id"], "pid": pid})
        else:
            select.select([], [], [], _POLL_SECONDS)
        while children:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            identifier = children.pop(pid, None)
            if identifier is not None:
                _say({"id": identifier, "status": os.waitstatus_to_exitcode(wait_status)})


if __name__ == "__main__":
    serve(sys.argv[2:], sys.argv[1])
