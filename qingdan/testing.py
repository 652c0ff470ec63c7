"""Test helpers for plugin authors: an in-memory :class:`StaticSnapshot` and a contract test class.

Every built-in campaign passes :class:`CampaignPluginContract`; an external plugin package subclasses
it the same way::

    from qingdan.testing import CampaignPluginContract
    import qingdan_gas

    class TestGasPlugin(CampaignPluginContract):
        plugin = qingdan_gas
        source_pattern = r"燃气"          # what your citations must match (built-ins: 附件|总体方案)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from .core.plugins import Catalogue, create_plugin_manager
from .core.rows import HazardRow, IndicatorReading, MeasureRow, TaskRow, UnitRow
from .core.spec import AttributeSpec, Campaign, Check, Finding, Projection, Snapshot, Target
from .core.targets import STATES, build_projection, evaluate_target

__all__ = [
    "CampaignPluginContract",
    "StaticReport",
    "StaticSnapshot",
    "make_hazard",
    "make_task",
    "make_unit",
    "sample_snapshot",
]


@dataclass(frozen=True)
class StaticReport:
    """A 两个清单 submission as :meth:`Snapshot.reports` returns it (the attributes checks may read)."""

    period: str
    submitted_on: date
    campaign: str | None = None
    as_of: date | None = None
    number: str | None = None


class StaticSnapshot(Snapshot):
    """A complete in-memory :class:`Snapshot` built from given rows.

    The rows are taken as they stood on ``as_of``, with the filtering any snapshot does: hazards found
    after ``as_of``, measures added after it, units registered after it or closed on or before it, and
    readings or reports dated after it are left out. ``indicators`` maps a target id to a reading, a
    list of readings, or a bare number (read as reported on ``as_of``).
    """

    def __init__(
        self,
        as_of: date,
        hazards: Iterable[HazardRow] = (),
        measures: Iterable[MeasureRow] = (),
        tasks: Iterable[TaskRow] = (),
        units: Iterable[UnitRow] = (),
        indicators: Mapping[str, Any] | None = None,
        reports: Iterable[Any] = (),
        known_at: datetime | None = None,
    ) -> None:
        self.as_of = as_of
        self.known_at = known_at
        self._hazards = tuple(hazards)
        self._measures = tuple(measures)
        self._tasks = tuple(tasks)
        self._units = tuple(units)
        self._readings: dict[str, list[IndicatorReading]] = {}
        for target_id, value in (indicators or {}).items():
            self._readings[target_id] = [_reading(target_id, item, as_of) for item in _as_list(value)]
        self._reports = tuple(reports)

    def hazards(self, campaign: str | None = None) -> Sequence[HazardRow]:
        return [
            h for h in self._hazards
            if h.found_on <= self.as_of and (campaign is None or h.campaign == campaign)
        ]

    def measures(self, campaign: str | None = None) -> Sequence[MeasureRow]:
        return [
            m for m in self._measures
            if m.added_on <= self.as_of and (campaign is None or m.campaign == campaign)
        ]

    def tasks(self, campaign: str | None = None) -> Sequence[TaskRow]:
        return [t for t in self._tasks if campaign is None or t.campaign == campaign]

    def units(self, kind: str | None = None, **attributes: Any) -> Sequence[UnitRow]:
        return [
            unit
            for unit in self._units
            if unit.registered_on <= self.as_of
            and (unit.closed_on is None or unit.closed_on > self.as_of)
            and (kind is None or unit.kind == kind)
            and all(unit.attributes.get(name) == value for name, value in attributes.items())
        ]

    def indicator(self, target_id: str) -> IndicatorReading | None:
        readings = [r for r in self._readings.get(target_id, ()) if r.on <= self.as_of]
        if self.known_at is not None:
            readings = [r for r in readings if r.recorded_at <= self.known_at]
        if not readings:
            return None
        return max(readings, key=lambda r: (r.on, r.recorded_at))

    def reports(self) -> Sequence[Any]:
        return [r for r in self._reports if _report_date(r) <= self.as_of]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _reading(target_id: str, item: Any, as_of: date) -> IndicatorReading:
    if isinstance(item, IndicatorReading):
        return item
    return IndicatorReading(
        target_id=target_id,
        value=float(item),
        on=as_of,
        recorded_at=datetime.combine(as_of, datetime.min.time(), tzinfo=UTC),
    )


def _report_date(report: Any) -> date:
    return getattr(report, "as_of", None) or report.submitted_on


# -- hand-built rows for tests ------------------------------------------------------------------

_counter = {"unit": 0}


def make_unit(
    kind: str,
    number: str | None = None,
    *,
    name: str | None = None,
    village: str | None = "东兴村",
    registered_on: date = date(2020, 7, 1),
    closed_on: date | None = None,
    **attributes: Any,
) -> UnitRow:
    """A :class:`UnitRow` with the given attributes (keyword names are the Chinese attribute names)."""
    if number is None:
        _counter["unit"] += 1
        number = f"U-{_counter['unit']:05d}"
    return UnitRow(number=number, name=name or f"{kind}{number[-3:]}", kind=kind, village=village,
                   attributes=attributes, registered_on=registered_on, closed_on=closed_on)


def make_hazard(campaign: str, number: str, **fields: Any) -> HazardRow:
    """A :class:`HazardRow` with sensible defaults for the fields a test does not care about."""
    defaults: dict[str, Any] = {
        "unit": "某单位",
        "found_on": date(2020, 8, 10),
        "description": "示例隐患",
    }
    return HazardRow(number=number, campaign=campaign, **{**defaults, **fields})


def make_task(task_id: str, campaign: str, **fields: Any) -> TaskRow:
    """A :class:`TaskRow` (progress of a 重点任务) with defaults."""
    return TaskRow(id=task_id, campaign=campaign, title=fields.pop("title", task_id), **fields)


# -- plausible data generated from a campaign's own declarations ---------------------------------

_VILLAGES = ("东兴村", "南阳村", "新港居委会")


def sample_attribute_values(spec: AttributeSpec, as_of: date) -> list[Any]:
    """Plausible values of one declared attribute, including the edge cases checks care about."""
    if spec.type == "bool":
        return [True, False]
    if spec.type == "choice":
        return list(spec.choices) or ["示例"]
    if spec.type == "int":
        return [0, 1, 6, 12]
    if spec.type == "float":
        return [0.0, 120.0, 800.0]
    if spec.type == "date":
        return [as_of - timedelta(days=days) for days in (10, 200, 400, 800)]
    return ["示例"]


def sample_units(campaign: Campaign, as_of: date) -> list[UnitRow]:
    """Units of every kind the campaign declares, cycling through every value of every attribute.

    One extra unit carries no attributes at all, and one was closed before ``as_of``.
    """
    kinds = list(dict.fromkeys(k for a in campaign.unit_attributes for k in a.unit_kinds)) or ["企业"]
    values = {a.name: sample_attribute_values(a, as_of) for a in campaign.unit_attributes}
    count = max([len(kinds) * 2, 6, *(len(v) * 2 for v in values.values())])
    registered = min(campaign.start, as_of)
    units = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        attributes = {
            spec.name: values[spec.name][(i + j) % len(values[spec.name])]
            for j, spec in enumerate(campaign.unit_attributes)
        }
        units.append(
            UnitRow(
                number=f"U-{i + 1:05d}",
                name=f"示例单位{i + 1}",
                kind=kind,
                village=_VILLAGES[i % len(_VILLAGES)],
                attributes=attributes,
                registered_on=registered,
            )
        )
    units.append(
        UnitRow(number=f"U-{count + 1:05d}", name="无属性单位", kind=kinds[0], registered_on=registered)
    )
    units.append(
        UnitRow(
            number=f"U-{count + 2:05d}",
            name="已注销单位",
            kind=kinds[0],
            attributes={a.name: values[a.name][0] for a in campaign.unit_attributes},
            registered_on=registered,
            closed_on=registered,
        )
    )
    return units


def sample_hazards(campaign: Campaign, as_of: date, other_campaign: str = "other") -> list[HazardRow]:
    """Hazards of every category, level and status, plus a few of another campaign."""
    categories = list(campaign.hazard_categories) or [None]
    statuses = ("reported", "rectifying", "awaiting_verification", "closed", "withdrawn")
    found = max(min(campaign.start, as_of), as_of - timedelta(days=120))
    hazards = []
    for i in range(max(len(categories), len(statuses)) * 2):
        status = statuses[i % len(statuses)]
        level = "重大" if i % 3 == 0 else "一般"
        deadline = found + timedelta(days=30 if i % 2 else 365)
        hazards.append(
            HazardRow(
                number=f"H-{campaign.id}-{found.year}-{i + 1:04d}",
                campaign=campaign.id,
                unit=f"示例单位{i + 1}",
                unit_number=f"U-{i + 1:05d}",
                village=_VILLAGES[i % len(_VILLAGES)],
                category=categories[i % len(categories)],
                level=level,
                found_on=found,
                description="示例隐患",
                deadline=deadline,
                escalated=i % 4 == 0,
                status=status,
                overdue=status not in {"closed", "withdrawn", "awaiting_verification"}
                and deadline < as_of,
                five_in_place=i % 2 == 0,
                missing_parts=() if i % 2 == 0 else ("funds", "contingency"),
                closed_on=as_of if status == "closed" else None,
            )
        )
    for i in range(3):
        hazards.append(
            HazardRow(
                number=f"H-{other_campaign}-{found.year}-{i + 1:04d}",
                campaign=other_campaign,
                unit="其他专项单位",
                level="重大",
                found_on=found,
                description="其他专项的隐患",
                deadline=found,
                status="reported",
                overdue=True,
            )
        )
    return hazards


def sample_snapshot(
    campaign: Campaign, targets: Sequence[Target], as_of: date
) -> StaticSnapshot:
    """A populated snapshot for ``campaign`` on ``as_of``: units, hazards, tasks, readings, reports."""
    tasks = [
        TaskRow(
            id=task.id,
            campaign=task.campaign,
            title=task.title,
            lead_departments=task.lead_departments,
            departments=task.departments,
            due=task.due,
            source=task.source,
            status=("not_started", "in_progress", "done")[i % 3],
            completed_on=as_of if i % 3 == 2 else None,
            overdue=bool(task.due and task.due < as_of and i % 3 != 2),
        )
        for i, task in enumerate(campaign.tasks)
    ]
    measures = [
        MeasureRow(
            number=f"M-{campaign.id}-{as_of.year}-0001",
            campaign=campaign.id,
            title="示例制度",
            department=(campaign.lead_departments or ("示例部门",))[0],
            added_on=min(campaign.start, as_of),
        )
    ]
    indicators = {
        target.id: [
            target.goal / 2,
            IndicatorReading(
                target_id=target.id,
                value=target.goal,
                on=as_of + timedelta(days=1),
                recorded_at=datetime.combine(as_of, datetime.min.time(), tzinfo=UTC),
            ),
        ]
        for target in targets
        if target.measure is None
    }
    first = date(campaign.start.year, campaign.start.month, 1)
    reports = [
        StaticReport(period=f"{first.year}-{first.month:02d}", submitted_on=first + timedelta(days=30)),
        StaticReport(
            period=f"{first.year}-{first.month:02d}",
            submitted_on=first + timedelta(days=20),
            campaign=campaign.id,
        ),
    ]
    return StaticSnapshot(
        as_of,
        hazards=sample_hazards(campaign, as_of),
        measures=measures,
        tasks=tasks,
        units=sample_units(campaign, as_of),
        indicators=indicators,
        reports=reports,
    )


# -- the contract ---------------------------------------------------------------------------------


class CampaignPluginContract:
    """The contract every campaign plugin passes. Subclass it and set :attr:`plugin`.

    Override :attr:`source_pattern` to say what your ``source`` citations must contain (built-ins cite
    the seed: ``附件3 一、整治目标``, ``总体方案 三（二）``), and :attr:`due_allowance` if a due date may
    fall that long after the campaign's end (e.g. a final report).
    """

    plugin: ClassVar[Any] = None
    source_pattern: ClassVar[str] = r"附件\s*[1-8]|总体方案"
    due_allowance: ClassVar[timedelta] = timedelta(0)
    id_pattern: ClassVar[str] = r"^{campaign}[._][a-z0-9_.]+$"

    # -- helpers --------------------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        assert self.plugin is not None, "set `plugin` to the plugin module or object under test"
        catalogue = Catalogue.from_plugin_manager(create_plugin_manager(load=(), extra=[self.plugin]))
        assert not catalogue.errors, [str(error) for error in catalogue.errors]
        return catalogue

    def campaign(self) -> Campaign:
        campaigns = list(self.catalogue().campaigns.values())
        assert len(campaigns) == 1, f"a campaign plugin declares exactly one campaign, got {campaigns}"
        return campaigns[0]

    def as_of_dates(self, campaign: Campaign) -> list[date]:
        middle = campaign.start + (campaign.end - campaign.start) / 2
        return [campaign.start, middle, campaign.end, campaign.end + timedelta(days=45)]

    def snapshots(self) -> list[StaticSnapshot]:
        campaign, catalogue = self.campaign(), self.catalogue()
        targets = list(catalogue.targets.values())
        empty = [StaticSnapshot(d) for d in self.as_of_dates(campaign)]
        return empty + [sample_snapshot(campaign, targets, d) for d in self.as_of_dates(campaign)]

    def _cited(self, what: str, source: str) -> None:
        assert source and source.strip(), f"{what} has no source"
        assert re.search(self.source_pattern, source), (
            f"{what}: source {source!r} does not match {self.source_pattern!r}"
        )

    def _prefixed(self, what: str, item_id: str, campaign: Campaign) -> None:
        pattern = self.id_pattern.format(campaign=re.escape(campaign.id))
        assert re.match(pattern, item_id), f"{what} id {item_id!r} is not prefixed with {campaign.id!r}"

    # -- the tests ------------------------------------------------------------------------------

    def test_plugin_registers_without_unknown_hooks(self) -> None:
        pm = create_plugin_manager(load=(), extra=[self.plugin])
        hooks = {caller.name for caller in pm.get_hookcallers(self.plugin) or ()}
        assert "qingdan_campaign" in hooks

    def test_campaign_is_valid(self) -> None:
        campaign = self.campaign()
        assert isinstance(campaign, Campaign)
        assert Campaign.model_validate(campaign.model_dump()) == campaign
        assert campaign.start < campaign.end
        assert campaign.lead_departments, "a campaign names its lead departments"
        self._cited(f"campaign {campaign.id}", campaign.source)
        for phase in campaign.phases:
            self._cited(f"phase {phase.id}", phase.source)
            assert campaign.start <= phase.start <= phase.end <= campaign.end, phase
        for attribute in campaign.unit_attributes:
            if attribute.type == "choice":
                assert attribute.choices, f"choice attribute {attribute.name} has no choices"
        assert len({a.name for a in campaign.unit_attributes}) == len(campaign.unit_attributes)
        assert len(set(campaign.hazard_categories)) == len(campaign.hazard_categories)

    def test_tasks_are_cited_and_led(self) -> None:
        campaign = self.campaign()
        ids = [task.id for task in campaign.tasks]
        assert len(ids) == len(set(ids)), "task ids are unique"
        for task in campaign.tasks:
            assert task.campaign == campaign.id, task.id
            self._prefixed("task", task.id, campaign)
            self._cited(f"task {task.id}", task.source)
            assert task.title.strip()
            assert task.lead_departments, f"task {task.id} has no lead department"

    def test_targets_checks_projections_are_cited_unique_and_prefixed(self) -> None:
        campaign, catalogue = self.campaign(), self.catalogue()
        for kind, items in (
            ("target", catalogue.targets.values()),
            ("check", catalogue.checks.values()),
        ):
            for item in items:
                self._cited(f"{kind} {item.id}", item.source)
        for kind, store in (
            ("target", catalogue.targets),
            ("check", catalogue.checks),
            ("projection", catalogue.projections),
        ):
            for item_id, item in store.items():
                assert item.campaign == campaign.id, f"{kind} {item_id} belongs to {item.campaign}"
                self._prefixed(kind, item_id, campaign)

    def test_due_dates_fall_within_the_campaign(self) -> None:
        campaign, catalogue = self.campaign(), self.catalogue()
        latest = campaign.end + self.due_allowance
        for task in campaign.tasks:
            if task.due is not None:
                assert campaign.start <= task.due <= latest, f"task {task.id} due {task.due}"
        for target in catalogue.targets.values():
            assert campaign.start <= target.due <= latest, f"target {target.id} due {target.due}"
            if target.start is not None:
                assert target.start < target.due

    def test_targets_evaluate_on_empty_and_populated_snapshots(self) -> None:
        campaign, catalogue = self.campaign(), self.catalogue()
        for snapshot in self.snapshots():
            for target in catalogue.targets.values():
                status = evaluate_target(target, snapshot, campaign)
                assert status.state in STATES
                if status.value is not None and target.unit == "%":
                    assert 0.0 <= status.value <= 100.0, (target.id, status.value)

    def test_checks_run_and_return_findings_of_their_campaign(self) -> None:
        campaign, catalogue = self.campaign(), self.catalogue()
        for snapshot in self.snapshots():
            for check in catalogue.checks.values():
                findings = list(check.run(snapshot))
                for finding in findings:
                    assert isinstance(finding, Finding), (check.id, finding)
                    assert finding.check == check.id
                    if campaign.kind != "总体":  # 总体 rules report on every campaign's hazards
                        assert finding.campaign == campaign.id, (check.id, finding)
                    assert finding.subject and finding.message

    def test_projections_build_rows_with_their_declared_columns(self) -> None:
        catalogue = self.catalogue()
        for snapshot in self.snapshots():
            for projection in catalogue.projections.values():
                assert projection.columns, projection.id
                assert len(set(projection.columns)) == len(projection.columns)
                for row in build_projection(projection, snapshot):
                    assert list(row) == list(projection.columns)

    def test_contributes_checks_and_projections(self) -> None:
        catalogue = self.catalogue()
        assert catalogue.checks, "a campaign plugin contributes at least one check"
        assert all(isinstance(c, Check) for c in catalogue.checks.values())
        assert all(isinstance(p, Projection) for p in catalogue.projections.values())
