"""The record kinds: for each, the one place that says how a folded record becomes its row, which
columns the view indexes it by, how the view stores it, which departments it belongs to and what a
clerk calls it.

The view's catch-up, the reference fold over the whole log, the policy checkpoint and the messages
all dispatch on a record's kind through :data:`KINDS`; adding a kind is adding an entry here.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import ConfigDict, TypeAdapter

from .clock import CST
from .labels import KIND_LABELS, deadline_rule_label
from .rows import (
    AttachmentRow,
    HazardRow,
    IndicatorReading,
    MeasureRow,
    ReportRow,
    TownshipProfile,
    UnitRow,
)

if TYPE_CHECKING:
    from .base import Record
    from .domain import Hazard
    from .records import Indicator, Measure, Report, Task, Township, Unit

# -- row builders: a folded record as the public row ----------------------------------------------


def attachment_rows(record: Any, earliest: date | None = None) -> tuple[AttachmentRow, ...]:
    """A record's attachments as rows; a photo taken before ``earliest`` (the day the hazard was
    found) carries a warning."""
    found = []
    for item in getattr(record, "attachments", ()):
        row = AttachmentRow(**{**item, "recorded_at": item["recorded_at"].astimezone(CST)})
        if earliest is not None and row.taken_at is not None and row.taken_at.date() < earliest:
            row = row.model_copy(update={"warning": f"照片拍摄于 {row.taken_at.date()}（相机时间），"
                                                    f"早于排查日期 {earliest}，请核实"})
        found.append(row)
    return tuple(found)


def hazard_row(h: Hazard, as_of: date) -> HazardRow:
    missing = h.missing_parts()
    return HazardRow(
        number=h.number, campaign=h.campaign, unit=h.unit, unit_number=h.unit_number,
        village=h.village, location=h.location, category=h.category, level=h.level,
        source=h.source, found_on=h.found_on, inspectors=tuple(h.inspectors),
        description=h.description, responsible_unit=h.responsible_unit,
        responsible_person=h.responsible_person, measures=h.measures, funds=h.funds,
        deadline=h.deadline, deadline_rule=deadline_rule_label(h.deadline_rule, h.deadline),
        contingency=h.contingency, escalated=h.escalated, escalated_on=h.escalated_on,
        escalation_level=h.escalation_level, supervisor=h.supervisor,
        escalation_doc_no=h.escalation_doc_no, extension_pending=h.extension_pending,
        status=h.status, overdue=h.is_overdue(as_of), five_in_place=not missing,
        missing_parts=missing, completed_on=h.completed_on, cost=h.cost,
        verified_on=h.verified_on, closed_on=h.closed_on, withdrawn_on=h.withdrawn_on,
        reopened=h.reopened, last_progress_on=h.last_progress_on, note=h.note,
        rechecked_on=getattr(h, "rechecked_on", None), attachments=attachment_rows(h, h.found_on),
    )


def measure_row(m: Measure, as_of: date) -> MeasureRow:
    return MeasureRow(
        number=m.number, campaign=m.campaign, title=m.title, kind=m.kind,
        department=m.department, due=m.due, added_on=m.added_on, status=m.status,
        doc_no=m.doc_no, issued_on=m.issued_on, implemented_on=m.implemented_on,
        repealed_on=m.repealed_on, revisions=m.revisions, overdue=m.is_overdue(as_of),
        attachments=attachment_rows(m),
    )


def unit_row(u: Unit) -> UnitRow:
    return UnitRow(
        number=u.number, name=u.name, kind=u.kind, village=u.village,
        credit_code=u.credit_code, attributes=dict(u.attributes),
        registered_on=u.registered_on, closed_on=u.closed_on,
        closed_reason=getattr(u, "closed_reason", None) if u.closed_on else None,
    )


def township_profile(t: Township) -> TownshipProfile:
    return TownshipProfile(**t.profile, set_on=t.set_on, actor=t.set_by)


def task_state(t: Task | None) -> dict[str, Any]:
    """The ledger part of a task row (the plugin supplies title, departments and due)."""
    if t is None:
        return {"status": "not_started"}
    return {
        "status": t.status, "percent": t.percent, "last_progress": t.last_progress,
        "last_progress_on": t.last_progress_on, "completed_on": t.completed_on,
    }


def indicator_reading(i: Indicator | None) -> IndicatorReading | None:
    if i is None:
        return None
    latest = i.latest()
    if latest is None:
        return None
    on, value, recorded_at, actor = latest
    return IndicatorReading(target_id=i.number, value=value, on=on, recorded_at=recorded_at.astimezone(CST),
                            actor=actor)


def report_rows(r: Report) -> list[ReportRow]:
    """Every submission of a report record, the original first."""
    return [ReportRow(
        number=r.number, period=r.period, campaign=r.campaign, submission=index,
        submitted_on=s["on"], submitted_at=s["recorded_at"].astimezone(CST), actor=s["actor"],
        resubmit_reason=s["reason"],
        **{name: s[name] for name in r.SUBMISSION_FIELDS if name != "known_at"},
        known_at=s["known_at"].astimezone(CST),
        resubmissions=len(r.submissions) - 1,
    ) for index, s in enumerate(r.submissions, 1)]


# -- how the view stores values JSON cannot type ------------------------------------------------

# A unit's attributes are ``dict[str, Any]``: a date attribute would come back from JSON as text,
# unlike the reference fold's ``date``; a task's state is a plain dict. The view stores them tagged
# with their type, independent of which plugin declared them, and :func:`decode_typed` gives back
# exactly what the fold gave. Public row JSON stays ordinary.
def encode_typed(value: Any) -> Any:
    """``value`` as JSON data tagged with its type: ``["date", "2020-08-01"]``, ``["int", 3]`` …"""
    if value is None:
        return ["none", None]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", value]
    if isinstance(value, float):
        return ["float", repr(value)]  # exact, and inf/nan survive
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, date):
        return ["date", value.isoformat()]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, UUID):
        return ["uuid", str(value)]
    if isinstance(value, tuple | list):
        return [type(value).__name__, [encode_typed(v) for v in value]]
    if isinstance(value, dict):
        return ["dict", {str(k): encode_typed(v) for k, v in value.items()}]
    raise TypeError(f"the view cannot store a value of type {type(value).__name__}: {value!r}")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "none": lambda _: None, "bool": bool, "int": int, "float": float, "str": str,
    "datetime": datetime.fromisoformat, "date": date.fromisoformat, "decimal": Decimal,
    "uuid": UUID, "tuple": lambda items: tuple(decode_typed(v) for v in items),
    "list": lambda items: [decode_typed(v) for v in items],
    "dict": lambda items: {k: decode_typed(v) for k, v in items.items()},
}


def decode_typed(data: Any) -> Any:
    """The value :func:`encode_typed` encoded, with its Python type."""
    tag, payload = data
    return _DECODERS[tag](payload)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


REPORT_ROWS = TypeAdapter(list[ReportRow], config=ConfigDict(defer_build=True))


def _unit_state(row: UnitRow) -> str:
    return _json({**row.model_dump(mode="json", exclude={"attributes"}),
                  "attributes_typed": encode_typed(row.attributes)})


def _unit_from_state(state: str) -> UnitRow:
    data = json.loads(state)
    if "attributes_typed" in data:
        data["attributes"] = decode_typed(data.pop("attributes_typed"))
    return UnitRow.model_validate(data)


def _task_from_state(state: str) -> tuple[str, dict[str, Any]]:
    data = json.loads(state)
    return data["number"], decode_typed(data["typed"]) if "typed" in data else data


# -- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of record and everything the layers above need to know about it."""

    name: str
    #: ``module:Class`` of the aggregate, imported when first needed: a read of the view (a list,
    #: a record as of a date) never needs the aggregates and their event classes
    topic: str
    key_prefix: str  # aggregate ids come from ``key_prefix + number``
    #: the folded record as its row (a row model, a list of rows, or a plain state) as of a date
    row: Callable[[Any, date], Any]
    #: the view's index columns (campaign, status, village, department, level) of a row
    index: Callable[[Any, Any], dict[str, Any]]
    #: the row as the view stores it, and back
    encode: Callable[[Any], str]
    decode: Callable[[str], Any]
    #: the departments a record belongs to (the policy checkpoint), given the catalogue
    departments: Callable[[Any, Any], tuple[str, ...]] = lambda record, catalogue: ()

    @property
    def label(self) -> str:
        return KIND_LABELS[self.name]

    @property
    def cls(self) -> type[Record]:
        return _resolve(self.topic)

    def key(self, number: str) -> str:
        return self.key_prefix + number


def _columns(campaign: Any = None, status: Any = None, village: Any = None, department: Any = None,
             level: Any = None) -> dict[str, Any]:
    return {"campaign": campaign, "status": status, "village": village, "department": department,
            "level": level}


def _task_departments(record: Any, catalogue: Any) -> tuple[str, ...]:
    spec = catalogue.tasks.get(record.number.split("@")[0])
    return spec.all_departments if spec else ()


KINDS: tuple[Kind, ...] = (
    Kind("hazard", "qingdan.core.domain:Hazard", "", hazard_row,
         lambda h, row: _columns(row.campaign, row.status, row.village, row.responsible_unit, row.level),
         lambda row: row.model_dump_json(), lambda state: HazardRow.model_validate_json(state),
         lambda h, catalogue: tuple(d for d in (h.responsible_unit,) if d)),
    Kind("measure", "qingdan.core.records:Measure", "", measure_row,
         lambda m, row: _columns(row.campaign, row.status, None, row.department),
         lambda row: row.model_dump_json(), lambda state: MeasureRow.model_validate_json(state),
         lambda m, catalogue: (m.department,)),
    Kind("task", "qingdan.core.records:Task", "task:", lambda t, as_of: (t.number, task_state(t)),
         lambda t, row: _columns(t.campaign, row[1]["status"]),
         lambda row: _json({"number": row[0], "typed": encode_typed(row[1])}), _task_from_state,
         _task_departments),
    Kind("unit", "qingdan.core.records:Unit", "", lambda u, as_of: unit_row(u),
         lambda u, row: _columns(None, "closed" if row.closed_on else "active", row.village, row.kind),
         _unit_state, _unit_from_state),
    Kind("indicator", "qingdan.core.records:Indicator", "indicator:", lambda i, as_of: indicator_reading(i),
         lambda i, reading: _columns(i.campaign),
         lambda reading: reading.model_dump_json() if reading else "null",
         lambda state: None if state == "null" else IndicatorReading.model_validate_json(state)),
    Kind("report", "qingdan.core.records:Report", "", lambda r, as_of: report_rows(r),
         lambda r, rows: _columns(r.campaign, r.period),
         lambda rows: REPORT_ROWS.dump_json(rows).decode(), REPORT_ROWS.validate_json),
    Kind("township", "qingdan.core.records:Township", "", lambda t, as_of: township_profile(t), lambda t, row: _columns(),
         lambda row: row.model_dump_json(), lambda state: TownshipProfile.model_validate_json(state)),
    Kind("policy", "qingdan.core.records:AccessPolicy", "policy:", lambda p, as_of: {"number": p.number, "grants": p.grants},
         lambda p, row: _columns(), _json, json.loads),
)
BY_NAME = {kind.name: kind for kind in KINDS}


@functools.cache
def _resolve(topic: str) -> type[Record]:
    module, _, name = topic.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


@functools.cache
def _by_class() -> dict[type, Kind]:
    return {kind.cls: kind for kind in KINDS}


def kind_of_class(cls: type) -> Kind:
    by_class = _by_class()
    for klass in cls.__mro__:
        if klass in by_class:
            return by_class[klass]
    raise TypeError(f"no record kind for {cls.__name__}")


def kind_of(record: Record) -> Kind:
    return kind_of_class(type(record))


def kind_label(cls: type) -> str:
    try:
        return kind_of_class(cls).label
    except TypeError:
        return cls.__name__


def serialise(record: Record, as_of: date) -> tuple[str, dict[str, Any], str]:
    """(kind, index columns, stored state) of a folded record, effective from ``as_of``."""
    kind = kind_of(record)
    row = kind.row(record, as_of)
    return kind.name, kind.index(record, row), kind.encode(row)
