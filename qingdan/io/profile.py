"""The township's profile: its name, the 填报单位, who reviews and fills in the forms, a phone number
and its departments — what the titles and the foot of every form print.

For now it comes from a TOML file (``--profile FILE`` or ``$QINGDAN_PROFILE``) or, failing that,
from the ``--township`` setting alone::

    name = "南阳镇"
    unit = "南阳镇安全生产委员会办公室"      # 填报单位 (default: {name}安全生产委员会办公室)
    reviewer = "李强"                       # 审核人
    preparer = "王明"                       # 填表人
    phone = "0571-12345678"                 # 联系电话
    departments = ["镇安监局", "镇消防救援站"]

The writers take a :class:`Profile` object and never read files or settings themselves, so when the
profile is kept in the ledger (as events, like everything else) only where it is read changes.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qingdan.core.errors import InvalidCommand

DEFAULT_TOWNSHIP = "南阳镇"
PROFILE_ENV = "QINGDAN_PROFILE"
FIELDS = {"name": "乡镇名称", "unit": "填报单位", "reviewer": "审核人", "preparer": "填表人",
          "phone": "联系电话", "departments": "部门"}


@dataclass(frozen=True)
class Profile:
    """Who a form is from. Blank signature fields print as blanks to be signed by hand."""

    name: str = DEFAULT_TOWNSHIP
    unit: str | None = None
    reviewer: str | None = None
    preparer: str | None = None
    phone: str | None = None
    departments: tuple[str, ...] = field(default_factory=tuple)

    @property
    def filing_unit(self) -> str:
        """The 填报单位 printed under the title."""
        return self.unit or f"{self.name}安全生产委员会办公室"

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "") -> Profile:
        unknown = sorted(set(data) - set(FIELDS))
        where = f"{source}：" if source else ""
        if unknown:
            allowed = "、".join(f"{k}（{v}）" for k, v in FIELDS.items())
            raise InvalidCommand(f"{where}不认识的设置 {'、'.join(unknown)}；可用：{allowed}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "departments":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise InvalidCommand(f"{where}departments（部门）应为文字列表，如 [\"镇安监局\"]")
                values[key] = tuple(v.strip() for v in value if v.strip())
            elif not isinstance(value, str):
                raise InvalidCommand(f"{where}{key}（{FIELDS[key]}）应为文字，如 {key} = \"…\"")
            elif value.strip():
                values[key] = value.strip()[:100]
        return cls(**values)


def load_profile(path: str | os.PathLike[str] | None = None, *, township: str | None = None) -> Profile:
    """The profile from ``path`` (or ``$QINGDAN_PROFILE``); without a file, just the township's name.

    ``township`` (the ``--township`` setting when given explicitly) names the township even if the
    file says otherwise."""
    path = path or os.environ.get(PROFILE_ENV) or None
    profile = Profile(name=township or DEFAULT_TOWNSHIP)
    if path is not None:
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise InvalidCommand(f"找不到乡镇信息文件 {file}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidCommand(f"无法读取乡镇信息文件 {file}：{error}") from None
        except tomllib.TOMLDecodeError as error:
            raise InvalidCommand(f"乡镇信息文件 {file} 格式有误（TOML）：{error}") from None
        profile = Profile.from_mapping(data, source=file.name)
        if township:
            profile = Profile(**{**profile.__dict__, "name": township})
    return profile
