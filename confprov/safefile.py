"""Files are what they seem: how confprov writes into a workspace and reads what it is given.

A workspace may be shared, copied from someone else or prepared by an attacker with symbolic links
at the paths confprov writes (``inventory`` pointing at ``/etc``, ``runs/x/summary.json`` at
``~/.bashrc``). So every write here:

* goes through directories that are real directories, never links (:func:`real_dir`);
* creates a file with ``O_EXCL | O_NOFOLLOW`` (:func:`create`), or writes a temporary file with
  an unpredictable name beside the target and renames it over the target (:func:`replace`):
  ``rename`` replaces a link planted at the target instead of following it, and readers see the
  old file or the new one, never half of one.

And every input file is checked to be a regular file before it is opened (:func:`read_input`): a
directory, a FIFO (which would block ``open`` forever) or a device is refused at once, with the
path and what to give instead.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from confprov.exceptions import InputError, Problem


def _refuse(path: Path, message: str) -> InputError:
    return InputError([Problem(str(path), None, None, message)])


def refuse_link(path: Path) -> None:
    """Refuse ``path`` if it is a symbolic link (absent is fine)."""
    if path.is_symlink():
        raise _refuse(
            path,
            f"is a symbolic link (to {path.readlink()}): confprov never writes through a link; "
            "remove it (or move the real folder here)",
        )


def real_dir(base: Path, *parts: str, mode: int = 0o755) -> Path:
    """``base/parts…``, each part made if absent and refused if it is a link or not a folder.

    ``base`` itself is the workspace the operator named: it may be reached through links.
    """
    path = base
    for part in parts:
        path = path / part
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode)
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            refuse_link(path)
        if not stat.S_ISDIR(info.st_mode):
            raise _refuse(path, "is not a folder: move this file away")
    return path


def create(path: Path | str, data: bytes, mode: int = 0o644) -> None:
    """A new file; refused (FileExistsError) if anything, a link included, is at ``path``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def append(path: Path, mode: int = 0o600) -> BinaryIO:
    """``path`` opened to add to as it goes (a log written while a session runs, which
    :func:`replace` cannot do: a log must hold what happened even if the process dies).

    Never through a link (``O_NOFOLLOW``: a link planted at ``path`` is refused, ELOOP), in a
    real folder; created with ``mode`` when absent, appended to when present.
    """
    folder = path.parent
    if folder.is_symlink() or not folder.is_dir():
        raise _refuse(folder, "is not a real folder (a link, or absent)")
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, mode)
    except OSError as exc:
        if path.is_symlink():
            refuse_link(path)
        raise exc from None
    return os.fdopen(fd, "ab")


def replace(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write ``path`` all at once: a temporary file, synced, renamed over the target.

    The temporary name is unpredictable and created exclusively (``mkstemp``), in the target's
    own folder (so the rename stays on one file system), which must be a real folder.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = path.parent
    if folder.is_symlink() or not folder.is_dir():
        raise _refuse(folder, "is not a real folder (a link, or absent)")
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def check_input(path: Path, what: str) -> None:
    """Refuse, without opening it, an input that is not a regular file (a link to one is fine)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise _refuse(path, f"{what} not found") from None
    except OSError as exc:
        raise _refuse(path, f"{what} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise _refuse(path, f"{what} is a folder, not a file: name the file inside it")
    if not stat.S_ISREG(info.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or socket"
        raise _refuse(path, f"{what} is {kind}, not a regular file")


def read_input(path: Path, what: str) -> bytes:
    """The bytes of an input file, after :func:`check_input`.

    Opened with ``O_NONBLOCK`` too: a FIFO swapped in after the check still cannot hang us.
    """
    check_input(path, what)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise _refuse(path, f"{what} is not a regular file")
        return fh.read()


def inside(workspace: Path, relative: str) -> Path | None:
    """``workspace/relative`` resolved, or None when it leads outside the workspace."""
    root = workspace.resolve()
    path = (root / relative).resolve()
    return path if path == root or root in path.parents else None
