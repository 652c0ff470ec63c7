"""Read models: the rows queries return and plugins read from a :class:`Snapshot`.

Field names are the public contract; they are what JSON output and host systems see.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .labels import (  # noqa: F401  (re-exported: their old home)
    FIVE_PART_LABELS,
    FIVE_PARTS,
    HAZARD_STATUS_LABELS,
    MEASURE_STATUS_LABELS,
    TASK_STATUS_LABELS,
    describe_schema,
)


def json_default(value: Any) -> Any:
    """What ``json.dumps(..., default=)`` writes for the values rows and events hold that JSON has
    no type for: dates as ISO text, sets and tuples as lists, models as their JSON form."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=describe_schema, defer_build=True)


class AttachmentRow(Row):
    """A file attached to a hazard or measure (``Ledger.attach``); ``Ledger.attachment(sha256)``
    gives its bytes. ``taken_at`` and ``gps`` are a photo's EXIF time (the camera's clock) and
    position; ``warning`` says when something about it deserves a look (a photo taken before the
    hazard was found)."""

    sha256: str
    size: int
    media_type: str
    name: str
    kind: str
    on: date
    actor: str | None = None
    note: str | None = None
    recorded_at: datetime | None = None
    taken_at: datetime | None = None
    gps: tuple[float, float] | None = None
    width: int | None = None
    height: int | None = None
    warning: str | None = None

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


class HazardRow(Row):
    """One line of the 问题隐患清单 as of a date."""

    number: str
    campaign: str
    unit: str
    unit_number: str | None = None
    village: str | None = None
    location: str | None = None
    category: str | None = None
    level: str = "一般"
    source: str = "自查"
    found_on: date
    inspectors: tuple[str, ...] = ()
    description: str
    responsible_unit: str | None = None
    responsible_person: str | None = None
    measures: str | None = None
    funds: float | None = None
    deadline: date | None = None
    #: how the deadline was counted, when in working days: ``15个工作日（至2020-10-21）``
    deadline_rule: str | None = None
    contingency: str | None = None
    escalated: bool = False
    escalated_on: date | None = None
    escalation_level: str | None = None
    supervisor: str | None = None
    escalation_doc_no: str | None = None
    extension_pending: date | None = None
    status: str = "reported"
    overdue: bool = False
    five_in_place: bool = False
    missing_parts: tuple[str, ...] = FIVE_PARTS
    completed_on: date | None = None
    cost: float | None = None
    verified_on: date | None = None
    closed_on: date | None = None
    withdrawn_on: date | None = None
    reopened: int = 0
    last_progress_on: date | None = None
    note: str | None = None
    #: the day a 回头看 re-inspection of the closed hazard passed (``Ledger.recheck``)
    rechecked_on: date | None = None
    #: the photos and documents attached by ``as_of`` (``Ledger.attach``), in the order attached
    attachments: tuple[AttachmentRow, ...] = ()

    @property
    def status_label(self) -> str:
        return HAZARD_STATUS_LABELS[self.status]


class MeasureRow(Row):
    """One line of the 制度措施清单 as of a date."""

    number: str
    campaign: str
    title: str
    kind: str = "制度"
    department: str
    due: date | None = None
    added_on: date
    status: str = "planned"
    doc_no: str | None = None
    issued_on: date | None = None
    implemented_on: date | None = None
    repealed_on: date | None = None
    revisions: int = 0
    overdue: bool = False
    #: the issued document and other files attached by ``as_of`` (``Ledger.attach``)
    attachments: tuple[AttachmentRow, ...] = ()

    @property
    def status_label(self) -> str:
        return MEASURE_STATUS_LABELS[self.status]


class TaskRow(Row):
    """A 重点任务 of a campaign with its progress as of a date."""

    id: str
    campaign: str
    title: str
    lead_departments: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    responsible_departments: tuple[str, ...] = ()
    due: date | None = None
    source: str = ""
    inferred: str | None = None
    recurrence: str | None = None
    #: the period of a recurring task (``2021``, ``2021-H1``, ``2021-Q3``, ``2021-05``); None for a one-off
    period: str | None = None
    status: str = "not_started"
    percent: float | None = None
    last_progress: str | None = None
    last_progress_on: date | None = None
    completed_on: date | None = None
    overdue: bool = False


class UnitRow(Row):
    """A 监管对象 with its attributes as of a date."""

    number: str
    name: str
    kind: str
    village: str | None = None
    credit_code: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    registered_on: date
    closed_on: date | None = None
    #: why it was closed (注销/关停 …), when it is
    closed_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.closed_on is None


class IndicatorReading(Row):
    """The latest reported value of a target that is read rather than computed."""

    target_id: str
    value: float
    on: date
    recorded_at: datetime
    actor: str | None = None


class TownshipProfile(Row):
    """Who the forms are from: the township, its 填报单位, who signs them, a phone, its departments."""

    name: str
    unit: str | None = None
    reviewer: str | None = None
    preparer: str | None = None
    phone: str | None = None
    departments: tuple[str, ...] = ()
    #: when it was set in the ledger, and by whom (None for a profile read from a file)
    set_on: date | None = None
    actor: str | None = None

    @property
    def filing_unit(self) -> str:
        """The 填报单位 printed under the title (default: the township's 安委办)."""
        return self.unit or f"{self.name}安全生产委员会办公室"


class TwoLists(Row):
    """The 两个清单 as they stood at ``as_of``, as known at ``known_at``."""

    as_of: date
    known_at: datetime | None = None
    hazards: tuple[HazardRow, ...] = ()
    measures: tuple[MeasureRow, ...] = ()


class HistoryEntry(Row):
    """One stored event as a person reads it."""

    number: str
    version: int
    type: str
    on: date
    recorded_at: datetime
    actor: str | None = None
    note: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class LoggedEvent(HistoryEntry):
    """One stored event in log order, as the event feed and ``export --format jsonl`` give it:
    a history entry with its log ``position`` (``number`` None for a record whose number is unknown)."""

    number: str | None  # type: ignore[assignment]
    position: int


class TargetStatus(Row):
    """Where a 整治目标 stands as of a date (see docs for the meaning of each state)."""

    id: str
    campaign: str
    title: str
    value: float | None
    goal: float
    comparator: str
    unit: str
    due: date
    state: str
    source: str = ""
    #: why the date (or goal) is inferred where the clause states none
    inferred: str | None = None


class DueItem(Row):
    """Something with a date by which it must be done, as of a date: an open hazard's 整改期限, a
    重点任务's or a planned 制度措施's 完成时限. ``days_left`` and ``working_days_left`` are negative
    once it is overdue; ``working_days_left`` is None where the calendar does not know the years."""

    kind: str  # hazard | task | measure
    number: str  # the task id for a task
    campaign: str
    title: str
    department: str | None = None
    due: date
    days_left: int
    working_days_left: int | None = None
    status: str
    level: str | None = None  # a hazard's 隐患等级

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


class ReminderNotice(Row):
    """The notice a 安委办 sends one responsible department: what is overdue and what falls due
    within ``within_days`` as of ``as_of``, with the text to send."""

    department: str
    as_of: date
    within_days: int
    overdue_items: tuple[DueItem, ...] = ()
    due_items: tuple[DueItem, ...] = ()
    text: str


#: The fields of each list a report digest hashed when digests were first recorded (version 1 of
#: the Report events, which did not say). Frozen: a field added to the rows later is not in it.
DIGEST_FIELDS_V1: dict[str, tuple[str, ...]] = {
    "hazards": ("number", "campaign", "unit", "unit_number", "village", "location", "category", "level",
                "source", "found_on", "inspectors", "description", "responsible_unit",
                "responsible_person", "measures", "funds", "deadline", "contingency", "escalated",
                "escalation_level", "supervisor", "escalation_doc_no", "extension_pending", "status",
                "overdue", "five_in_place", "missing_parts", "completed_on", "cost", "verified_on",
                "closed_on", "withdrawn_on", "reopened", "note"),
    "measures": ("number", "campaign", "title", "kind", "department", "due", "added_on", "status",
                 "doc_no", "issued_on", "implemented_on", "repealed_on", "revisions", "overdue"),
}


def digest_fields() -> dict[str, tuple[str, ...]]:
    """The fields a new submission's digest hashes (and records that it hashed): all of today's."""
    return {"hazards": tuple(HazardRow.model_fields), "measures": tuple(MeasureRow.model_fields)}


class ReportRow(Row):
    """One 两个清单 submission for a period: what was handed in, when, by whom, and its digest.

    ``submission`` counts the submissions of one period (and campaign) from 1, the original;
    a later one carries its ``resubmit_reason``. ``known_at`` is the recorded time of the last event
    the lists include (``position``): the lists handed in are exactly what the ledger held then.
    """

    number: str
    period: str
    campaign: str | None = None
    submission: int = 1
    submitted_on: date
    submitted_at: datetime | None = None
    actor: str | None = None
    resubmit_reason: str | None = None
    as_of: date
    position: int
    chain: str
    digest: str
    hazard_count: int
    measure_count: int
    known_at: datetime
    #: the fields of each list the digest hashed, as the submission recorded them
    digest_fields: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(DIGEST_FIELDS_V1))
    resubmissions: int = 0
