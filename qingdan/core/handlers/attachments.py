"""附件: a photo or document attached to a hazard or a measure, checked before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

from .. import commands as cmd
from ..base import Record
from ..domain import Hazard
from ..errors import InvalidCommand
from ..errors import show as _show
from ..files import Limits, check_size, clean_name, inspect
from ..records import Measure
from .base import Handler


class AttachmentCommands(Handler):
    limits: Limits | None = None  # None: from the environment at each attach

    def attach(self, number: str, c: cmd.Attach) -> str:
        limits = self.limits or Limits.from_env()
        name = c.name
        if c.path is not None:
            data, name = read_file(Path(c.path), limits), name or Path(c.path).name
        else:
            data = bytes(c.data or b"")
        item = inspect(data, name, limits)
        record = self.uow.get(Record, number)
        if not isinstance(record, Hazard | Measure):
            raise InvalidCommand(f"{_show(number)} 不是问题隐患或制度措施，不能添加附件")
        with self.uow.staged(item.sha256, data):
            self.uow.act(type(record), number, "attach", c, kind=c.kind, **item.fields())
        return item.sha256


def read_file(path: Path, limits: Limits) -> bytes:
    """The file's bytes, its size checked before it is read; a clear message when it cannot be."""
    shown = clean_name(path.name, None) or str(path)
    try:
        if not path.is_file():
            raise InvalidCommand(f"找不到文件“{_show(str(path))}”" if not path.exists()
                                 else f"“{_show(str(path))}”不是文件")
        check_size(os.path.getsize(path), shown, limits)
        with path.open("rb") as stream:
            data = stream.read(limits.max_bytes + 1)
    except OSError as error:
        raise InvalidCommand(f"无法读取文件“{_show(str(path))}”：{error.strerror or error}") from None
    check_size(len(data), shown, limits)
    return data
