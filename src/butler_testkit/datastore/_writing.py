"""Writing files into a directory a caller gave: all or none, and never outside it."""

from __future__ import annotations

__all__ = ("remove_file", "write_atomically", "write_files")

import contextlib
import os
import stat
import uuid
from collections.abc import Callable, Sequence

from lsst.resources import ResourcePath

from ._listing import first_few

PlannedFile = tuple[ResourcePath, bytes]


def write_files(
    root: ResourcePath,
    planned: Sequence[PlannedFile],
    overwrite: bool,
    *,
    replacing: Sequence[PlannedFile] = (),
) -> None:
    """Write files inside ``root``, all or none.

    Every file lands inside ``root``: a path that leads out of it, through
    ``..`` or a symbolic link to a directory elsewhere, is refused, and an
    existing symbolic link at a file's path is an existing file (with
    ``overwrite`` it is replaced by the file, never written through).

    Parameters
    ----------
    root : `lsst.resources.ResourcePath`
        The directory the caller gave.
    planned : `~collections.abc.Sequence` [`tuple` [`lsst.resources.ResourcePath`, `bytes`]]
        Each file and its contents.
    overwrite : `bool`
        Whether existing files among ``planned`` may be replaced.
    replacing : `~collections.abc.Sequence` [`tuple` [`lsst.resources.ResourcePath`, `bytes`]], optional
        Files written as well, replacing whatever is there whatever
        ``overwrite`` says (an index of what was written).

    Raises
    ------
    FileExistsError
        Raised if a file of ``planned`` exists and ``overwrite`` is `False`.
    ValueError
        Raised if a file would land outside ``root``.
    IsADirectoryError, NotADirectoryError
        Raised if a file's path is a directory, or goes through a file.

    Notes
    -----
    Everything is checked before anything is written. If writing fails
    part-way, the files created are removed (with the directories made for
    them), and the files replaced get their old contents (or links) back
    before the error propagates.
    """
    files = [(target, data, overwrite) for target, data in planned]
    files += [(target, data, True) for target, data in replacing]
    if root.scheme == "file":
        _write_local(root.ospath, files)
    else:
        _write_resources(root, files)


def _write_local(root: str, files: list[tuple[ResourcePath, bytes, bool]]) -> None:
    root = os.path.abspath(root)
    real_root = os.path.realpath(root)
    existing = []
    for target, _, replace in files:
        path = target.ospath
        _check_inside(root, real_root, path)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(
                f"{target} is a directory, where a file would be written; nothing was written."
            )
        if not replace:
            existing.append(target)
    _refuse_existing(existing)
    undo: list[Callable[[], None]] = []
    try:
        for target, data, _ in files:
            undo.append(_write_local_file(target.ospath, data))
    except BaseException:
        for step in reversed(undo):
            step()
        raise


def _refuse_existing(existing: Sequence[object]) -> None:
    if existing:
        raise FileExistsError(
            f"{first_few(existing)} already exist(s); nothing was written (overwrite=False)."
        )


def _check_inside(root: str, real_root: str, path: str) -> None:
    """Refuse a path that leads out of ``root``, lexically or through a symbolic link."""
    path = os.path.abspath(path)
    if os.path.commonpath([root, path]) != root or path == root:
        raise ValueError(f"{path} is outside the directory {root}; nothing was written.")
    # The deepest directory that exists already decides where the file goes:
    # the ones below it will be made, as real directories.
    ancestor = os.path.dirname(path)
    while not os.path.lexists(ancestor) and ancestor != root:
        ancestor = os.path.dirname(ancestor)
    real = os.path.realpath(ancestor)
    if os.path.commonpath([real_root, real]) != real_root:
        raise ValueError(
            f"{path} would be written outside the directory {root}: {ancestor} leads to {real} "
            "(a symbolic link); nothing was written."
        )
    if os.path.lexists(ancestor) and not os.path.isdir(ancestor):
        raise NotADirectoryError(
            f"{path} goes through {ancestor}, which is not a directory; nothing was written."
        )


def _write_local_file(path: str, data: bytes) -> Callable[[], None]:
    """Write one file in place of whatever is at ``path``; return what undoes it."""
    made = _missing_directories(os.path.dirname(path))
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is None:
        before: Callable[[], None] = _nothing
    elif stat.S_ISLNK(mode):
        before = _link_restorer(path, os.readlink(path))
    else:
        with open(path, "rb") as stream:
            before = _content_restorer(path, stream.read())
    try:
        # Replacing the entry rather than opening it never follows a link.
        write_atomically(path, data)
    except BaseException:
        _remove_directories(made)
        raise

    def undo() -> None:
        remove_file(path)
        before()
        _remove_directories(made)

    return undo


def _nothing() -> None:
    return


def _link_restorer(path: str, target: str) -> Callable[[], None]:
    return lambda: os.symlink(target, path)


def _content_restorer(path: str, content: bytes) -> Callable[[], None]:
    return lambda: write_atomically(path, content)


def _missing_directories(directory: str) -> list[str]:
    """Return the directories that writing into ``directory`` will make, deepest first."""
    missing = []
    while directory and not os.path.lexists(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return missing


def _remove_directories(directories: list[str]) -> None:
    for directory in directories:
        with contextlib.suppress(OSError):  # not empty: someone else wrote there meanwhile
            os.rmdir(directory)


def _write_resources(root: ResourcePath, files: list[tuple[ResourcePath, bytes, bool]]) -> None:
    """Write files through lsst.resources, for a root that is not a local directory (no links there)."""
    for target, _, _ in files:
        if target.relative_to(root) is None:
            raise ValueError(f"{target} is outside the directory {root}; nothing was written.")
    existing = [target for target, _, replace in files if not replace and target.exists()]
    _refuse_existing(existing)
    # What each file held before (None: it did not exist), so that a
    # failure part-way puts every file back as it was.
    written: list[tuple[ResourcePath, bytes | None]] = []
    try:
        for target, data, _ in files:
            before = target.read() if target.exists() else None
            target.write(data, overwrite=True)
            written.append((target, before))
    except BaseException:
        for target, before in reversed(written):
            if before is None:
                target.remove()
            else:
                target.write(before, overwrite=True)
        raise


def write_atomically(path: str, data: bytes) -> None:
    """Write a file that readers never see half written, replacing whatever entry is at ``path``.

    Parameters
    ----------
    path : `str`
        The file; missing directories are made.
    data : `bytes`
        Its contents.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{uuid.uuid4().hex}.tmp"
    try:
        with open(temporary, "xb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        remove_file(temporary)
        raise


def remove_file(path: str) -> None:
    """Remove a file (or link) if it is there.

    Parameters
    ----------
    path : `str`
        The file.
    """
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
