"""Commands as validated at the boundary (pydantic, ``extra="forbid"``).

A command that fails validation raises :class:`InvalidCommand` with a message in Chinese naming the
field, and nothing is written.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import text as _text
from . import vocabulary as words
from .clock import EARLIEST, LATEST
from .errors import InvalidCommand
from .errors import show as _show
from .files import clean_name
from .labels import (
    ATTACHMENT_KINDS,
    COMMAND_FIELD_LABELS,
    ESCALATION_LEVELS,
    LEVELS,
    MEASURE_KINDS,
    RECHECK_METHODS,
    SOURCES,
    VERIFY_METHODS,
    describe_schema,
)

FIELD_LABELS = COMMAND_FIELD_LABELS


ALLOWED_CONTROLS = _text.ALLOWED_CONTROLS


def _check_text(value: str) -> None:
    _text.check_text(value)  # the one rule: qingdan.core.text


def _check_date(value: date) -> None:
    if isinstance(value, datetime):
        value = value.date()
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"日期 {value} 不合理（应在 {EARLIEST.year} 年至 {LATEST.year} 年之间）")


class Command(BaseModel):
    # Built at import, not deferred like the rows: FastAPI reads a deferred model under its Body()
    # marker wrongly (pydantic warns that the alias has no effect, once per command route).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True,
                              json_schema_extra=describe_schema)

    on: date | None = None
    actor: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("on", mode="before")
    @classmethod
    def _no_datetime(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.date()
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _sane(cls, value: Any) -> Any:
        """No control characters in any text, no date outside 1990–2099, in any field."""
        items = value if isinstance(value, tuple | list) else (value,)
        for item in items:
            if isinstance(item, str):
                _check_text(item)
            elif isinstance(item, date):
                _check_date(item)
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(str(key))
                if isinstance(item, str):
                    _check_text(item)
                elif isinstance(item, date):
                    _check_date(item)
        return value


def _nonblank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("不能为空")
    return value


class ReportHazard(Command):
    campaign: str = Field(min_length=1, max_length=50)
    unit: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    level: Literal[LEVELS] = "一般"  # type: ignore[valid-type]
    found_on: date | None = None
    category: str | None = Field(default=None, max_length=100)
    village: str | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=200)
    source: Literal[SOURCES] = "自查"  # type: ignore[valid-type]
    inspectors: tuple[str, ...] = ()
    unit_number: str | None = Field(default=None, pattern=r"^U-\d{5}$")
    number: str | None = Field(default=None, max_length=60)  # keep an existing number (import)

    @field_validator("level", mode="before")
    @classmethod
    def _level_word(cls, value: Any) -> Any:
        return words.canonical(words.LEVEL_WORDS, value)  # 重大隐患 → 重大

    @field_validator("source", mode="before")
    @classmethod
    def _source_word(cls, value: Any) -> Any:
        return words.canonical(words.SOURCE_WORDS, value)  # 执法检查 → 检查


def _whole_days(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"应为工作日数（整数），收到“{value}”")
    return value


def _one_deadline(command: Any) -> Any:
    if command.deadline is not None and command.deadline_working_days is not None:
        raise ValueError("整改期限只能填写日期或工作日数中的一项，不能同时填写")
    return command


class PlanRectification(Command):
    responsible_unit: str | None = Field(default=None, max_length=200)
    responsible_person: str | None = Field(default=None, max_length=100)
    measures: str | None = Field(default=None, max_length=2000)
    funds: float | None = Field(default=None, ge=0, le=1_000_000)
    deadline: date | None = None
    #: the deadline as working days after ``on`` (instead of ``deadline``); recorded with its rule
    deadline_working_days: int | None = Field(
        default=None, ge=1, le=250, description="整改期限（工作日数）")
    contingency: str | None = Field(default=None, max_length=2000)

    _blank = field_validator("responsible_unit", "responsible_person", "measures", "contingency")(
        _nonblank)
    _days = field_validator("deadline_working_days", mode="before")(_whole_days)
    _one = model_validator(mode="after")(_one_deadline)


class Escalate(Command):
    supervisor: str = Field(min_length=1, max_length=200)
    level: Literal[ESCALATION_LEVELS] = Field("镇", description="督办级别")  # type: ignore[valid-type]
    doc_no: str | None = Field(default=None, max_length=100)

    @field_validator("level", mode="before")
    @classmethod
    def _level_word(cls, value: Any) -> Any:
        return words.canonical(words.ESCALATION_WORDS, value)  # 市级 → 市


class RequestExtension(Command):
    deadline: date | None = None
    #: the new deadline as working days after the deadline in force (instead of ``deadline``)
    deadline_working_days: int | None = Field(
        default=None, ge=1, le=250, description="延期工作日数")
    reason: str = Field(min_length=1, max_length=2000)

    _days = field_validator("deadline_working_days", mode="before")(_whole_days)

    @model_validator(mode="after")
    def _one(self) -> RequestExtension:
        _one_deadline(self)
        if self.deadline is None and self.deadline_working_days is None:
            raise ValueError("延期须填写延至的日期或延期的工作日数")
        return self


class DecideExtension(Command):
    approved: bool


class ReportProgress(Command):
    text: str = Field(min_length=1, max_length=2000)


class CompleteRectification(Command):
    cost: float | None = Field(default=None, ge=0, le=1_000_000)


class Verify(Command):
    passed: bool
    inspector: str = Field(min_length=1, max_length=100)
    method: Literal[VERIFY_METHODS] = "政府验收"  # type: ignore[valid-type]

    @field_validator("method", mode="before")
    @classmethod
    def _method_word(cls, value: Any) -> Any:
        return words.canonical(words.VERIFY_METHOD_WORDS, value)  # 专家评审 → 专家


class Close(Command):
    pass


class Reopen(Command):
    reason: str = Field(min_length=1, max_length=2000)


class Recheck(Command):
    passed: bool
    inspector: str = Field(min_length=1, max_length=100)
    method: Literal[RECHECK_METHODS] = "现场复查"  # type: ignore[valid-type]


class Correct(Command):
    field: str
    value: Any
    reason: str = Field(min_length=1, max_length=2000)


class Withdraw(Command):
    reason: str = Field(min_length=1, max_length=2000)


class AddMeasure(Command):
    campaign: str = Field(min_length=1, max_length=50)
    title: str = Field(min_length=1, max_length=500)
    department: str = Field(min_length=1, max_length=200)
    kind: Literal[MEASURE_KINDS] = "制度"  # type: ignore[valid-type]
    due: date | None = None
    number: str | None = Field(default=None, max_length=60)  # keep an existing number (import)


class IssueMeasure(Command):
    doc_no: str = Field(min_length=1, max_length=100)


class ImplementMeasure(Command):
    pass


class ReviseMeasure(Command):
    reason: str = Field(min_length=1, max_length=2000)
    title: str | None = Field(default=None, min_length=1, max_length=500)
    doc_no: str | None = Field(default=None, min_length=1, max_length=100)


class RepealMeasure(Command):
    reason: str = Field(min_length=1, max_length=2000)


class Attach(Command):
    """A file to attach: ``path`` (read by the ledger) or ``data`` (its bytes), exactly one."""

    path: str | None = Field(default=None, max_length=4096)
    data: bytes | None = Field(default=None, repr=False)
    name: str | None = Field(default=None, max_length=255)
    kind: Literal[ATTACHMENT_KINDS] = "其他"  # type: ignore[valid-type]

    @field_validator("path", mode="before")
    @classmethod
    def _path_text(cls, value: Any) -> Any:
        return str(value) if hasattr(value, "__fspath__") else value

    @field_validator("name", mode="before")
    @classmethod
    def _plain_name(cls, value: Any) -> Any:
        """A file name as a phone or browser sends it: cut to a plain name, never refused for it."""
        return (clean_name(value, None) or None) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> Attach:
        if (self.path is None) == (self.data is None):
            raise ValueError("请给出文件路径（path）或文件内容（data）中的一项")
        return self


#: a period of a recurring task: 2021, 2021-H1, 2021-Q3, 2021-05
TASK_PERIOD = r"^\d{4}(-H[12]|-Q[1-4]|-(0[1-9]|1[0-2]))?$"


class ReportTaskProgress(Command):
    text: str = Field(min_length=1, max_length=2000)
    percent: float | None = Field(default=None, ge=0, le=100)
    period: str | None = Field(default=None, pattern=TASK_PERIOD, description="周期（每年/每半年/每季度/每月的任务）")


class CompleteTask(Command):
    period: str | None = Field(default=None, pattern=TASK_PERIOD, description="周期（每年/每半年/每季度/每月的任务）")


class RegisterUnit(Command):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=50)
    village: str | None = Field(default=None, max_length=100)
    credit_code: str | None = Field(default=None, pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
    attributes: dict[str, Any] | None = None
    number: str | None = Field(default=None, max_length=60)  # keep an existing number (import)


class SetUnitAttributes(Command):
    attributes: dict[str, Any] = Field(min_length=1)


class CloseUnit(Command):
    reason: str = Field(min_length=1, max_length=2000)


class RecordIndicator(Command):
    value: float = Field(allow_inf_nan=False)


class SetProfile(Command):
    """The township profile printed on every form (a second call replaces the whole profile)."""

    name: str = Field(min_length=1, max_length=50, description="乡镇名称")
    unit: str | None = Field(default=None, max_length=100, description="填报单位")
    reviewer: str | None = Field(default=None, max_length=50, description="审核人")
    preparer: str | None = Field(default=None, max_length=50, description="填表人")
    phone: str | None = Field(default=None, max_length=50, description="联系电话")
    departments: tuple[str, ...] = Field(default=(), max_length=200, description="部门")

    @field_validator("departments", mode="after")
    @classmethod
    def _departments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
        if any(len(v) > 50 for v in names):
            raise ValueError("部门名称过长（最多 50 字）")
        return names

    def profile(self) -> dict[str, Any]:
        """The profile as the event stores it (blank fields as None)."""
        return {"name": self.name, "unit": self.unit or None, "reviewer": self.reviewer or None,
                "preparer": self.preparer or None, "phone": self.phone or None,
                "departments": list(self.departments)}


class SubmitReport(Command):
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    campaign: str | None = None
    as_of: date | None = None
    resubmit_reason: str | None = Field(default=None, min_length=1, max_length=2000)


def validate(model: type[Command], **kwargs: Any) -> Any:
    """Validate a command's arguments; raise :class:`InvalidCommand` with every problem listed."""
    try:
        return model(**kwargs)
    except ValidationError as error:
        raise InvalidCommand(describe(error)) from None


def describe(error: ValidationError) -> str:
    model = globals().get(error.title)
    return describe_errors(error.errors(), model if isinstance(model, type) else None)


def describe_errors(errors: Any, model: type[BaseModel] | None = None) -> str:
    """pydantic's error items (from a command model, or from a web request) as one Chinese line.

    A field is named by its own description on ``model`` when it has one (``Escalate.level`` is the
    督办级别, not the 隐患等级), else by the label of its name."""
    problems = []
    for item in errors:
        names = [str(part) for part in item["loc"] if not isinstance(part, int)
                 and part not in ("body", "query", "path", "header")]
        name = names[0] if names else ""
        field = model.model_fields.get(name) if model is not None else None
        label = (field.description if field is not None and field.description else None) \
            or FIELD_LABELS.get(name, name)
        given = _show(item.get("input"))
        kind = item["type"]
        if kind == "extra_forbidden":
            reason = "不是这个命令的参数"
        elif kind == "missing":
            reason = "必须填写"
        elif kind == "json_invalid":
            reason = "请求内容不是有效的 JSON"
        elif kind in ("model_attributes_type", "dict_type", "model_type"):
            reason = "请求内容应为 JSON 对象（{…}）"
        elif kind == "literal_error":
            expected = item.get("ctx", {}).get("expected", "")
            reason = f"应为 {expected.replace(' or ', '、').replace(', ', '、').replace(chr(39), '')} 之一，收到“{given}”"
        elif kind.startswith("date") or kind.startswith("datetime"):
            reason = f"不是有效日期：“{given}”（应为 YYYY-MM-DD）"
        elif kind in ("string_too_short", "value_error") and not str(item.get("input") or "x").strip():
            reason = "不能为空"
        elif kind == "value_error":
            reason = str(item.get("ctx", {}).get("error", item["msg"]))
        elif kind == "string_too_short":
            reason = "不能为空"
        elif kind == "string_too_long":
            reason = f"过长（最多 {item.get('ctx', {}).get('max_length')} 字）"
        elif kind == "string_pattern_mismatch":
            reason = f"格式不对：“{given}”"
        elif kind in ("greater_than_equal", "greater_than"):
            reason = f"不能小于 {item.get('ctx', {}).get('ge', item.get('ctx', {}).get('gt'))}，收到 {given}"
        elif kind in ("less_than_equal", "less_than"):
            reason = f"不能大于 {item.get('ctx', {}).get('le', item.get('ctx', {}).get('lt'))}，收到 {given}"
        elif kind.startswith(("float", "int", "decimal")) or kind == "finite_number":
            reason = f"应为数值，收到“{given}”"
        elif kind.startswith("bool"):
            reason = f"应为是/否，收到“{given}”"
        else:
            reason = f"{item['msg']}（收到“{given}”）"
        problems.append(f"{label}：{reason}" if label else reason)
    return "；".join(problems)
