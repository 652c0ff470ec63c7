"""Writing a file all at once: a temporary file in the same folder, then a rename onto the target.

A reader (or a clerk opening the workbook) sees either the old file or the whole new one, never half
of it; when writing fails the temporary file is removed and the target is left as it was::

    with atomic_write(path, "w", encoding="utf-8") as stream:
        stream.write(text)

:class:`StagedFile` is the same in two steps, for a file that must appear only if something else
succeeds (a submission's workbook: written before the submission is recorded, put in place after).
:func:`check_output_path` says, before anything is done, why a path cannot be written (its folder
is missing, it is a folder, it is a symbolic link) in a sentence a clerk can act on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from qingdan.core.errors import InvalidCommand, show


class OutputPathError(InvalidCommand):
    """A file cannot be written there (missing folder, a folder, no permission); nothing was written."""


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """The path to write, or :class:`OutputPathError` saying why not.

    A symbolic link is refused, never followed: on a shared PC a link planted where a clerk writes
    the month's workbook would otherwise have qingdan overwrite whatever file it points to.
    """
    if not str(path).strip():
        raise OutputPathError("未给出要写入的文件名")
    try:
        return _checked(Path(path), path)
    except OSError as error:  # a name too long, a path through a file …
        raise OutputPathError(f"无法写入 {show(str(path), 80)}：{error.strerror or error}") from None


def _checked(target: Path, path: str | os.PathLike[str]) -> Path:
    """:func:`check_output_path` without its guard against the file system's own errors."""
    if target.is_symlink():
        raise OutputPathError(f"无法写入 {path}：这是一个符号链接（快捷方式），为安全起见不写入它所指的文件。"
                              "请写出实际的文件路径，或先删除该链接")
    if target.is_dir():
        raise OutputPathError(f"无法写入 {path}：这是一个文件夹，不是文件。请写出文件名，如 {Path(path) / '清单.xlsx'}")
    folder = target.parent
    if not folder.exists():
        raise OutputPathError(f"无法写入 {path}：文件夹 {folder} 不存在。请先建立该文件夹，或换一个已有的文件夹")
    if not folder.is_dir():
        raise OutputPathError(f"无法写入 {path}：{folder} 是一个文件，不是文件夹")
    if target.exists() and not target.is_file():
        raise OutputPathError(f"无法写入 {path}：它不是普通文件")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"无法写入 {path}：没有在文件夹 {folder} 中写文件的权限")
    return target


def temporary_path(target: Path) -> Path:
    """A fresh, hidden name beside ``target`` (same folder, so the rename stays on one file system)."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


class StagedFile:
    """A file written in full beside its target now, and put in place (or thrown away) later.

    For a file that must appear only if something else succeeds (the workbook of a submission
    appears only once the submission is recorded)::

        staged = StagedFile(path)            # checks the path first
        with staged.open("wb") as stream:    # may be called again: each write replaces the last
            ...
        staged.commit()                      # rename onto the target; or staged.discard()

    Until :meth:`commit` the target is untouched; :meth:`discard` (also after a failed write)
    removes the temporary file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.target = check_output_path(path)
        self.temporary: Path | None = None

    @contextmanager
    def open(self, mode: str = "w", *, encoding: str | None = None,
             newline: str | None = None) -> Iterator[IO[Any]]:
        if mode not in ("w", "wb"):
            raise ValueError(f"StagedFile.open: mode must be 'w' or 'wb', not {mode!r}")
        self.discard()
        temporary = temporary_path(self.target)
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except PermissionError:
            raise OutputPathError(f"无法写入 {self.path}：没有在文件夹 {self.target.parent} 中写文件的权限") from None
        except OSError as error:
            raise OutputPathError(f"无法写入 {self.path}：{error.strerror or error}") from None
        self.temporary = temporary
        try:
            if mode == "wb":
                stream: IO[Any] = os.fdopen(fd, "wb")
            else:
                stream = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
            with stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
        except BaseException as error:
            self.discard()
            if isinstance(error, OSError) and not isinstance(error, OutputPathError):
                raise OutputPathError(f"写入 {self.path} 失败：{error.strerror or error}；原有文件（如有）未改动") from error
            raise

    def commit(self) -> Path:
        """Put the written file in place of the target (keeping the replaced file's permissions)."""
        if self.temporary is None:
            raise RuntimeError("StagedFile.commit: nothing was written")
        try:
            if self.target.exists():
                try:
                    os.chmod(self.temporary, self.target.stat().st_mode & 0o7777)
                except OSError:
                    pass
            os.replace(self.temporary, self.target)
        except OSError as error:
            self.discard()
            raise OutputPathError(f"写入 {self.path} 失败：{error.strerror or error}；原有文件（如有）未改动") from error
        self.temporary = None
        return self.target

    def discard(self) -> None:
        """Remove the temporary file, if any; the target stays as it was."""
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)
            self.temporary = None


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = None,
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """A stream onto a temporary file beside ``path``; renamed onto ``path`` when the block ends well.

    ``mode``: ``"w"`` (text; ``encoding`` defaults to UTF-8) or ``"wb"``. If the block raises (or
    writing fails) the temporary file is removed, ``path`` is untouched and the error propagates
    (an operating-system error as :class:`OutputPathError`, in Chinese). The new file gets the
    permissions of the file it replaces (a new one: the usual umask ones).
    """
    staged = StagedFile(path)
    try:
        with staged.open(mode, encoding=encoding, newline=newline) as stream:
            yield stream
        staged.commit()
    finally:
        staged.discard()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_write(path, "wb") as stream:
        stream.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    with atomic_write(path, "w", encoding=encoding) as stream:
        stream.write(text)
