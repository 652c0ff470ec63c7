"""The township's profile: its name, the 填报单位, who reviews and fills in the forms, a phone number
and its departments — what the titles and the foot of every form print.

It is kept in the ledger (``ledger.set_profile``, ``qingdan profile set FILE``: events like every
other fact, so it has a history and ``verify`` covers it). A TOML file of the same fields sets it,
and may stand in for it for one export (``--profile FILE`` or ``$QINGDAN_PROFILE``)::

    name = "南阳镇"
    unit = "南阳镇安全生产委员会办公室"      # 填报单位 (default: {name}安全生产委员会办公室)
    reviewer = "李强"                       # 审核人
    preparer = "王明"                       # 填表人
    phone = "0571-12345678"                 # 联系电话
    departments = ["镇安监局", "镇消防救援站"]

The writers take a :class:`Profile` (the core's :class:`~qingdan.core.rows.TownshipProfile`) and
never read files, settings or the ledger themselves.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from qingdan.core.errors import InvalidCommand
from qingdan.core.labels import TOWNSHIP_FIELD_LABELS as FIELDS
from qingdan.core.rows import TownshipProfile as Profile

__all__ = ["DEFAULT_TOWNSHIP", "FIELDS", "PROFILE_ENV", "Profile", "load_profile", "profile_fields",
           "read_profile_file"]

DEFAULT_TOWNSHIP = "南阳镇"
PROFILE_ENV = "QINGDAN_PROFILE"


def profile_fields(data: dict[str, Any], *, source: str = "") -> dict[str, Any]:
    """A profile file's settings, checked (the keyword arguments of ``ledger.set_profile``)."""
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
    return values


def read_profile_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked settings of a TOML profile file (clear Chinese errors for a missing or bad file)."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InvalidCommand(f"找不到乡镇信息文件 {file}") from None
    except IsADirectoryError:
        raise InvalidCommand(f"乡镇信息文件 {file} 是一个文件夹") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidCommand(f"无法读取乡镇信息文件 {file}：{error}") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidCommand(f"乡镇信息文件 {file} 格式有误（TOML）：{error}") from None
    return profile_fields(data, source=file.name)


def load_profile(path: str | os.PathLike[str] | None = None, *, township: str | None = None,
                 stored: Profile | None = None) -> Profile:
    """The profile a form prints: from ``path`` (or ``$QINGDAN_PROFILE``) when given, else the one
    ``stored`` in the ledger, else just the township's name.

    ``township`` (the ``--township`` setting when given explicitly) names the township whatever the
    file or the ledger says."""
    path = path or os.environ.get(PROFILE_ENV) or None
    if path is not None:
        fields = read_profile_file(path)
        profile = Profile(**{"name": DEFAULT_TOWNSHIP, **fields})
    elif stored is not None:
        profile = stored
    else:
        profile = Profile(name=township or DEFAULT_TOWNSHIP)
    if township and profile.name != township:
        profile = profile.model_copy(update={"name": township})
    return profile
