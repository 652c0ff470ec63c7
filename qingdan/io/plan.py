"""What a 台账 row asks of the ledger: the commands that create its record, or that take the record
already in the ledger from where it stands to where the row says it is.

New record: 登记 on 排查日期; the 五到位 columns as a plan (same day); 挂牌督办 if it says so; 整改完成
on 完成日期, 验收通过 on 验收日期, 销号 on 销号日期 (a missing earlier date is filled from a later one).

Record already in the ledger (a monthly update of an exported 台账): each difference becomes the event
that expresses it —

- a lifecycle step forward (整改完成, 验收, 销号, 撤销; a measure's 印发, 落实, 废止), dated from the row;
- a part of the 五到位 the ledger lacks, while the hazard is open: a plan; one it has with another
  value (整改期限, 责任单位 …) or another correctable field (单位名称 on a numbered row, 村（居）, 等级 …):
  a correction whose reason names the file and row; 挂牌督办: an escalation;
- a closed hazard the row shows open again: 反销号, then the steps after it;

and anything no event can express is an error for that row, saying what to do instead: a date of a
step already taken that differs, a step backwards (整改完成 → 整改中), a 专项 or 排查日期 that differs,
a withdrawn record, a measure's 责任部门 or 完成时限. Changes a row gives no date for (corrections,
a plan, an escalation, 反销号) take the import's date — but never later than the first dated step
of the row, nor earlier than the record's last step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from qingdan.core.labels import (
    HAZARD_CORRECTABLE,
    HAZARD_FIELD_LABELS,
    MEASURE_FIELD_LABELS,
    MEASURE_STATUS_LABELS,
)
from qingdan.io.cells import PLAN_FIELDS, STAGES, Wanted

DEFAULT_SUPERVISOR = "镇安委会"
DEFAULT_INSPECTOR = "台账导入"
STAGE_LABELS = {"open": "待整改", "rectifying": "整改中", "completed": "待验收", "verified": "已验收待销号",
                "closed": "已销号", "withdrawn": "已撤销"}
MEASURE_ORDER = {"planned": 0, "issued": 1, "implemented": 2, "repealed": 3}


@dataclass
class Step:
    method: str
    kwargs: dict[str, Any]
    column: str = ""


@dataclass
class Planned:
    """One row's part of the import: a new record, an update of one in the ledger, or no change."""

    wanted: Wanted
    action: str  # new | updated | unchanged
    number: str | None
    create: dict[str, Any] | None = None
    steps: list[Step] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    status: str = ""  # the record's status afterwards (a stage, or a measure status)

    kind = property(lambda self: self.wanted.kind)
    sheet = property(lambda self: self.wanted.sheet)
    row = property(lambda self: self.wanted.row)
    label = property(lambda self: self.wanted.label)
    headers = property(lambda self: self.wanted.headers)
    key = property(lambda self: self.wanted.key)


class Problems:
    """The errors of one row, under the sheet's own column names."""

    def __init__(self, wanted: Wanted) -> None:
        self.wanted = wanted
        self.found: list[tuple[str, str]] = []  # (column as written, reason)

    def __call__(self, key: str, reason: str) -> None:
        self.found.append((self.wanted.column(key), reason))

    def __bool__(self) -> bool:
        return bool(self.found)


def _label(key: str, kind: str = "hazards") -> str:
    return (HAZARD_FIELD_LABELS if kind == "hazards" else MEASURE_FIELD_LABELS).get(key, key)


def _shown(value: Any) -> str:
    if value is None or value == ():
        return "（空）"
    if isinstance(value, tuple | list):
        return "、".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# -- new records -----------------------------------------------------------------------------------


def new_hazard(w: Wanted, problems: Problems) -> Planned:
    f = w.fields
    create = {"campaign": w.campaign, "level": f.get("level", "一般"),
              **{k: f.get(k) for k in ("unit", "description", "found_on", "category", "village", "location")},
              "inspectors": f.get("inspectors", ()), "note": w.note}
    if "source" in f:
        create["source"] = f["source"]
    if w.number:
        create["number"] = w.number
    planned = Planned(w, "new", w.number, create)
    found_on = f["found_on"]
    parts = {k: f[k] for k in PLAN_FIELDS if k in f}
    if parts:
        planned.steps.append(Step("plan_rectification", {**parts, "on": found_on}, "整改措施"))
    if w.escalation:
        planned.steps.append(Step("escalate", _escalation(w, None) | {"on": found_on}, "挂牌督办"))
    stage = w.stage or "open"
    if stage == "rectifying" and not parts:
        problems("status", "整改状态为整改中，但整改责任单位、责任人、整改措施、资金、期限、预案都未填写")
    if stage == "withdrawn":
        on = w.dates.get("withdrawn_on") or max([found_on, *w.dates.values()])
        planned.steps.append(Step("withdraw", {"reason": w.note or "台账标注为已撤销", "on": on}, "整改状态"))
    else:
        planned.steps += _forward(w, STAGES[stage], -1, problems)
    planned.status = stage
    return planned


def _forward(w: Wanted, want: int, current: int, problems: Problems) -> list[Step]:
    """The dated steps from stage ``current`` (−1: a new record, or one just reopened) to ``want``."""
    d = w.dates
    steps: list[Step] = []
    # The verifier is the row's 验收人, else its first 检查人员: a person of the row, never whoever runs
    # the import (so an admin importing history does not "verify their own rectification").
    inspector = w.verifier or (w.fields.get("inspectors") or (DEFAULT_INSPECTOR,))[0]
    label = w.status_word or STAGE_LABELS.get(w.stage or "", "")
    completed = d.get("completed_on")
    verified = d.get("verified_on")
    closed = d.get("closed_on")
    if want == STAGES["completed"] and current < want and completed is None:
        problems("completed_on", f"整改状态为“{label}”，请填写完成日期")
        return steps
    if want == STAGES["verified"] and current < want and (verified or completed) is None:
        problems("verified_on", "整改状态为已验收，请填写验收日期")
        return steps
    if want == STAGES["closed"] and current < want and (closed or verified or completed) is None:
        problems("closed_on", "整改状态为已销号，请填写销号日期")
        return steps
    close_on = closed or verified or completed
    verify_on = verified or (close_on if want >= STAGES["closed"] else completed)
    complete_on = completed or verify_on
    if want >= STAGES["completed"] and current < STAGES["completed"]:
        steps.append(Step("complete_rectification", {"cost": w.cost, "on": complete_on}, "完成日期"))
    if want >= STAGES["verified"] and current < STAGES["verified"]:
        steps.append(Step("verify", {"passed": True, "inspector": inspector, "on": verify_on}, "验收日期"))
    if want >= STAGES["closed"] and current < STAGES["closed"]:
        steps.append(Step("close", {"on": close_on}, "销号日期"))
    return steps


def _escalation(w: Wanted, h: Any) -> dict[str, Any]:
    e = w.escalation or {}
    had = h is not None and h.escalated
    return {"supervisor": e.get("supervisor") or (h.supervisor if had else DEFAULT_SUPERVISOR),
            "level": e.get("level") or (h.escalation_level if had else "镇"),
            "doc_no": e.get("doc_no") if e.get("doc_no") is not None else (h.escalation_doc_no if had else None)}


def new_measure(w: Wanted, today: date, problems: Problems) -> Planned:
    f, d = w.fields, w.dates
    status = w.stage or "planned"
    dated = [d[k] for k in ("issued_on", "implemented_on", "repealed_on") if k in d]
    due = f.get("due")
    on = d.get("added_on") or (min(dated) if dated else None) or (min(due, today) if due else today)
    create = {"campaign": w.campaign, "title": f["title"], "department": f["department"],
              "kind": f.get("kind", "制度"), "due": due, "on": on}
    if w.number:
        create["number"] = w.number
    planned = Planned(w, "new", w.number, create, status=status)
    planned.steps += _measure_forward(w, status, -1, on, problems)
    return planned


def _measure_forward(w: Wanted, status: str, current: int, on: date, problems: Problems) -> list[Step]:
    f, d = w.fields, w.dates
    steps: list[Step] = []
    want = MEASURE_ORDER[status]
    label = w.status_word or MEASURE_STATUS_LABELS.get(status, "")
    doc_no = f.get("doc_no")
    if current < 1 and (status == "issued" or doc_no and status != "planned"):
        if not doc_no:
            problems("doc_no", f"状态为“{label}”，请填写文号")
        else:
            steps.append(Step("issue_measure", {"doc_no": doc_no, "on": d.get("issued_on") or on}, "印发日期"))
    if current < 2 and (status == "implemented" or "implemented_on" in d and want >= 2):
        if "implemented_on" not in d:
            problems("implemented_on", f"状态为“{label}”，请填写落实日期")
        else:
            steps.append(Step("implement_measure", {"on": d["implemented_on"]}, "落实日期"))
    if current < 3 and status == "repealed":
        if "repealed_on" not in d:
            problems("repealed_on", f"状态为“{label}”，请填写废止日期")
        else:
            steps.append(Step("repeal_measure", {"reason": "台账标注为已废止", "on": d["repealed_on"]}, "废止日期"))
    return steps


# -- records already in the ledger -----------------------------------------------------------------


def stage_of(h: Any) -> str:
    if h.status == "closed":
        return "closed"
    if h.status == "awaiting_verification":
        return "verified" if h.verified_on else "completed"
    return "rectifying" if h.status == "rectifying" else "open"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return tuple(a or ()) == tuple(b or ())
    return a == b


def update_hazard(w: Wanted, h: Any, *, on: date, reason: str, campaign_names: dict[str, str],
                  problems: Problems) -> Planned:
    """The events that take hazard ``h`` (a ``HazardRow``) to where row ``w`` says it is."""
    planned = Planned(w, "unchanged", h.number, status=stage_of(h))
    if w.campaign_given and w.campaign and w.campaign != h.campaign:
        problems("campaign", f"与台账中 {h.number} 的专项（{campaign_names.get(h.campaign, h.campaign)}）不同；专项不能更改")
    if w.fields.get("found_on") not in (None, h.found_on):
        problems("found_on", f"与台账中 {h.number} 的排查日期 {h.found_on} 不同；排查日期不能更改，如登记错误请撤销后重新登记")
    corrections: list[tuple[str, Any, Any]] = []
    parts: dict[str, Any] = {}
    for key in HAZARD_CORRECTABLE:
        if key not in w.fields or key == "unit_number":
            continue
        new, old = w.fields[key], getattr(h, key)
        if _same(new, old):
            continue
        if key in PLAN_FIELDS and old is None and h.status in ("reported", "rectifying"):
            parts[key] = new
        else:
            corrections.append((key, old, new))
        planned.changes.append(f"{_label(key)}：{_shown(old)} → {_shown(new)}")
    escalate = None
    if w.escalation:
        wanted = _escalation(w, h)
        if not h.escalated or (wanted["supervisor"], wanted["level"], wanted["doc_no"]) != (
                h.supervisor, h.escalation_level, h.escalation_doc_no):
            escalate = wanted
            before = f"{h.escalation_level}级（{h.supervisor}）" if h.escalated else "否"
            planned.changes.append(f"挂牌督办：{before} → {wanted['level']}级（{wanted['supervisor']}）")
    elif w.not_escalated and h.escalated:
        problems("escalated", f"台账中 {h.number} 已挂牌督办（{h.supervisor}），不能取消挂牌")
    if w.note is not None and w.note != (h.note or None):
        planned.warnings.append("备注与台账不同，未导入（备注在登记隐患时记录，之后不能更改）")
    if h.status == "withdrawn":
        if planned.changes or (w.stage not in (None, "withdrawn")):
            problems("status", f"{h.number} 已于 {h.withdrawn_on} 撤销，不能再更改")
        planned.changes.clear()
        return planned
    steps, reopen = _transition(w, h, problems, planned)
    dated = [s.kwargs["on"] for s in steps if s.kwargs.get("on")]
    floor = max(d for d in (h.found_on, h.completed_on, h.verified_on, h.closed_on) if d is not None)
    undated = max(min([on, *dated]), floor if (reopen or h.status == "reported") else h.found_on)
    for key, _, new in corrections:
        value = list(new) if isinstance(new, tuple) else new
        planned.steps.append(Step("correct", {"field": key, "value": value, "reason": reason, "on": undated},
                                  _label(key)))
    if reopen:
        planned.steps.append(Step("reopen", {"reason": reason, "on": undated}, "整改状态"))
    if parts:
        planned.steps.append(Step("plan_rectification", {**parts, "on": undated}, "整改措施"))
    if escalate:
        if h.status == "closed" and not reopen:
            problems("escalated", f"{h.number} 已销号，不能再挂牌督办")
        planned.steps.append(Step("escalate", escalate | {"on": undated}, "挂牌督办"))
    if w.stage == "rectifying" and h.status == "reported" and not parts:
        problems("status", "整改状态为整改中，但整改责任单位、责任人、整改措施、资金、期限、预案都未填写")
    planned.steps += steps
    if w.cost is not None and not any(s.method == "complete_rectification" for s in steps) \
            and h.completed_on is not None and not _same(w.cost, h.cost):
        problems("cost", f"与台账中的实际整改费用（{_shown(h.cost)}）不同；费用在整改完成时登记，之后不能更改")
    if planned.steps:
        planned.action = "updated"
    return planned


def _transition(w: Wanted, h: Any, problems: Problems, planned: Planned) -> tuple[list[Step], bool]:
    """The dated lifecycle steps from ``h``'s stage to ``w``'s, and whether it must be reopened first."""
    current = stage_of(h)
    want = w.stage
    if want is None or want == current or (want == "open" and current in ("open", "rectifying")) \
            or (want == "rectifying" and current == "rectifying"):
        _same_dates(w, h, STAGES[current], problems)
        return [], False
    if want == "withdrawn":
        planned.changes.append(f"整改状态：{STAGE_LABELS[current]} → 已撤销")
        planned.status = "withdrawn"
        on = w.dates.get("withdrawn_on") or max(d for d in (h.found_on, h.completed_on, h.verified_on,
                                                            h.closed_on, *w.dates.values()) if d is not None)
        return [Step("withdraw", {"reason": w.note or "台账标注为已撤销", "on": on}, "整改状态")], False
    rank, now = STAGES[want], STAGES[current]
    reopen = current == "closed" and rank < now
    if not reopen and rank < now and not (want == "rectifying" and current == "open"):
        label = w.status_word or STAGE_LABELS[want]
        if current == "verified" and want == "completed":
            problems("verified_on", f"台账中 {h.number} 已于 {h.verified_on} 验收通过，表中未填验收日期；验收不能撤回")
        else:
            problems("status", f"台账中 {h.number} 已于 {h.completed_on} 整改完成（{STAGE_LABELS[current]}），表中为“{label}”；"
                               "整改完成后不能退回，如验收未通过请用 qingdan hazard verify --failed 登记")
        return [], False
    if not reopen:
        _same_dates(w, h, now, problems)
    elif min(w.dates.get(k) or date.max for k in ("completed_on", "verified_on", "closed_on")) < h.closed_on:
        problems("status", f"台账中 {h.number} 已于 {h.closed_on} 销号，表中的日期早于销号日期；如需反销号后重新整改，"
                           "请填写反销号之后的日期")
        return [], True
    planned.changes.append(f"整改状态：{STAGE_LABELS[current]} → {STAGE_LABELS[want]}" + ("（反销号）" if reopen else ""))
    planned.status = want
    if want == "rectifying" and current == "open":
        return [], reopen
    return _forward(w, rank, -1 if reopen else now, problems), reopen


def _same_dates(w: Wanted, h: Any, reached: int, problems: Problems) -> None:
    """Dates of steps the ledger has already recorded must be the ledger's."""
    for key, stage in (("completed_on", "completed"), ("verified_on", "verified"), ("closed_on", "closed")):
        if reached >= STAGES[stage] and key in w.dates and getattr(h, key) not in (None, w.dates[key]):
            problems(key, f"与台账中 {h.number} 的{_label(key)} {getattr(h, key)} 不同；已登记的日期不能更改，"
                          "如确有错误请先反销号（qingdan hazard reopen）再按实际日期登记")


def update_measure(w: Wanted, m: Any, *, on: date, reason: str, campaign_names: dict[str, str],
                   problems: Problems) -> Planned:
    planned = Planned(w, "unchanged", m.number, status=m.status)
    if w.campaign_given and w.campaign and w.campaign != m.campaign:
        problems("campaign", f"与台账中 {m.number} 的专项（{campaign_names.get(m.campaign, m.campaign)}）不同；专项不能更改")
    for key in ("kind", "department", "due"):
        if key in w.fields and not _same(w.fields[key], getattr(m, key)):
            problems(key, f"与台账中 {m.number} 的{_label(key, 'measures')}（{_shown(getattr(m, key))}）不同；"
                          f"{_label(key, 'measures')}登记后不能更改")
    revise: dict[str, Any] = {}
    if w.fields.get("title") not in (None, m.title):
        revise["title"] = w.fields["title"]
    if m.doc_no is not None and w.fields.get("doc_no") not in (None, m.doc_no):
        revise["doc_no"] = w.fields["doc_no"]
    for key, value in revise.items():
        planned.changes.append(f"{_label(key, 'measures')}：{_shown(getattr(m, key))} → {_shown(value)}")
    for key in ("issued_on", "implemented_on", "repealed_on"):
        if key in w.dates and getattr(m, key) not in (None, w.dates[key]):
            problems(key, f"与台账中 {m.number} 的{_label(key, 'measures')} {getattr(m, key)} 不同；已登记的日期不能更改")
    if m.status == "repealed" and (revise or w.stage not in (None, "repealed")):
        problems("status", f"{m.number} 已于 {m.repealed_on} 废止，不能再更改")
        return planned
    if revise:
        planned.steps.append(Step("revise_measure", {**revise, "reason": reason, "on": on}, "制度措施名称"))
    want = w.stage
    if want is not None and want != m.status:
        if MEASURE_ORDER[want] < MEASURE_ORDER[m.status]:
            problems("status", f"台账中 {m.number} 为{MEASURE_STATUS_LABELS[m.status]}，表中为“{w.status_word}”；状态不能退回")
        else:
            planned.steps += _measure_forward(w, want, MEASURE_ORDER[m.status], on, problems)
            planned.changes.append(f"状态：{MEASURE_STATUS_LABELS[m.status]} → {MEASURE_STATUS_LABELS[want]}")
            planned.status = want
    if planned.steps:
        planned.action = "updated"
    return planned
