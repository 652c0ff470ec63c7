"""Evaluating 整治目标, running checks and building projections against a snapshot.

The states of a target (see ``docs/targets.md``):

``no_data``  its measure returned ``None`` (nothing to measure yet), or no indicator reading is dated on
             or before ``as_of``; also the state of a target whose measure raised.
``met``      the value satisfies the comparator against the goal (whatever the date).
``missed``   not met and ``as_of`` is after the due date.
``on_track`` not met, not yet due, and the value is at least where a straight line from 0 at the start
             to the goal at the due date stands on ``as_of`` (for ``<=`` goals the mirror line, from
             twice the goal down to the goal).
``at_risk``  not met, not yet due, and behind that line.

Plugin code is isolated: :func:`evaluate_targets`, :func:`run_checks` and :func:`build_projections`
catch what a plugin's function raises and return it as an :class:`EvaluationError` next to the results
of the others. The small builders at the end (``share_of_units`` …) are generic rules that campaign
plugins share instead of each keeping a copy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import PluginError
from .labels import TARGET_STATE_LABELS
from .rows import HazardRow, TargetStatus, UnitRow
from .spec import Campaign, Check, Finding, Projection, Snapshot, Target

STATES = ("met", "on_track", "at_risk", "missed", "no_data")
STATE_LABELS = TARGET_STATE_LABELS
CLOSED_STATUSES = frozenset({"closed", "withdrawn"})


@dataclass(frozen=True)
class EvaluationError:
    """A plugin function (measure, check, projection build) that raised or returned the wrong thing."""

    kind: str  # "target" | "check" | "projection"
    id: str
    campaign: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.id}（{self.campaign}）出错：{self.message}"


def compare(value: float, goal: float, comparator: str) -> bool:
    """Whether ``value`` satisfies ``comparator goal`` (``==`` allows float rounding)."""
    if comparator == ">=":
        return value >= goal or math.isclose(value, goal)
    if comparator == "<=":
        return value <= goal or math.isclose(value, goal)
    if comparator == "==":
        return math.isclose(value, goal, rel_tol=1e-9, abs_tol=1e-9)
    raise ValueError(f"unknown comparator {comparator!r}")


def target_value(target: Target, snapshot: Snapshot) -> float | None:
    """The target's value as of the snapshot: its measure, else its latest indicator reading."""
    if target.measure is not None:
        value = target.measure(snapshot)
        return None if value is None else float(value)
    reading = snapshot.indicator(target.id)
    if reading is None or reading.on > snapshot.as_of:
        return None
    return float(reading.value)


def expected_on(target: Target, as_of: date, start: date | None) -> float | None:
    """Where the straight line from the start to the goal at the due date stands on ``as_of``.

    ``>=`` goals run from 0 up to the goal; ``<=`` goals run from twice the goal down to it (there is
    no line to a goal of 0, so ``None``). ``==`` goals use whichever side the value is on, so this
    returns the ``>=`` line; callers mirror it. ``None`` when the start is unknown.
    """
    if start is None:
        return None
    span = (target.due - start).days
    fraction = 1.0 if span <= 0 else min(max((as_of - start).days / span, 0.0), 1.0)
    if target.comparator == "<=":
        if target.goal <= 0:
            return None
        return target.goal * (2.0 - fraction)
    return target.goal * fraction


def evaluate_target(
    target: Target, snapshot: Snapshot, campaign: Campaign | None = None
) -> TargetStatus:
    """The :class:`TargetStatus` of one target as of ``snapshot.as_of``.

    A measure that raises propagates; use :func:`evaluate_targets` to isolate plugins from each
    other. ``campaign`` supplies the start of the on-track line when the target has no ``start``.
    """
    value = target_value(target, snapshot)
    state = _state(target, value, snapshot.as_of, target.start or (campaign.start if campaign else None))
    return _status(target, value, state)


def _state(target: Target, value: float | None, as_of: date, start: date | None) -> str:
    if value is None:
        return "no_data"
    if compare(value, target.goal, target.comparator):
        return "met"
    if as_of > target.due:
        return "missed"
    comparator = target.comparator
    if comparator == "==":
        comparator = ">=" if value < target.goal else "<="
    line = expected_on(target.model_copy(update={"comparator": comparator}), as_of, start)
    if line is None:
        return "at_risk"
    ahead = value >= line if comparator == ">=" else value <= line
    return "on_track" if ahead or math.isclose(value, line) else "at_risk"


def _status(target: Target, value: float | None, state: str) -> TargetStatus:
    return TargetStatus(
        id=target.id,
        campaign=target.campaign,
        title=target.title,
        value=value,
        goal=target.goal,
        comparator=target.comparator,
        unit=target.unit,
        due=target.due,
        state=state,
        source=target.source,
        inferred=target.inferred,
    )


def evaluate_targets(
    targets: Iterable[Target],
    snapshot: Snapshot,
    campaigns: Mapping[str, Campaign] | None = None,
) -> tuple[list[TargetStatus], list[EvaluationError]]:
    """Evaluate every target; a measure that raises gives ``no_data`` plus an error, not an exception."""
    campaigns = campaigns or {}
    statuses: list[TargetStatus] = []
    errors: list[EvaluationError] = []
    for target in targets:
        try:
            statuses.append(evaluate_target(target, snapshot, campaigns.get(target.campaign)))
        except Exception as exc:
            statuses.append(_status(target, None, "no_data"))
            errors.append(EvaluationError("target", target.id, target.campaign, _describe(exc)))
    return statuses, errors


def run_checks(
    checks: Iterable[Check], snapshot: Snapshot
) -> tuple[list[Finding], list[EvaluationError]]:
    """Run every check; a check that raises (or yields a non-Finding) is an error, the rest still run."""
    findings: list[Finding] = []
    errors: list[EvaluationError] = []
    for check in checks:
        try:
            produced = list(check.run(snapshot) or ())
        except Exception as exc:
            errors.append(EvaluationError("check", check.id, check.campaign, _describe(exc)))
            continue
        bad = [item for item in produced if not isinstance(item, Finding)]
        if bad:
            errors.append(
                EvaluationError("check", check.id, check.campaign, f"返回了非 Finding 对象：{bad[0]!r}")
            )
        findings.extend(item for item in produced if isinstance(item, Finding))
    return findings, errors


def build_projection(projection: Projection, snapshot: Snapshot) -> list[dict[str, Any]]:
    """Build one projection's rows, each with exactly the declared columns, in column order.

    Raises :class:`PluginError` naming the projection if a row's keys differ from its columns.
    """
    rows = []
    for row in projection.build(snapshot) or ():
        if set(row) != set(projection.columns):
            extra = sorted(set(row) - set(projection.columns))
            missing = sorted(set(projection.columns) - set(row))
            raise PluginError(
                f"专题表“{projection.id}”的行与声明的列不符：多出 {extra}，缺少 {missing}"
            )
        rows.append({column: row[column] for column in projection.columns})
    return rows


def build_projections(
    projections: Iterable[Projection], snapshot: Snapshot
) -> tuple[dict[str, list[dict[str, Any]]], list[EvaluationError]]:
    """Build every projection; one that raises is an error and the others are still built."""
    tables: dict[str, list[dict[str, Any]]] = {}
    errors: list[EvaluationError] = []
    for projection in projections:
        try:
            tables[projection.id] = build_projection(projection, snapshot)
        except Exception as exc:
            errors.append(EvaluationError("projection", projection.id, projection.campaign, _describe(exc)))
    return tables, errors


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# -- generic rules shared by campaign plugins -----------------------------------------------------

UnitPredicate = Callable[[UnitRow], bool]


def attribute(unit: UnitRow, name: str, default: Any = None) -> Any:
    """A unit's attribute value, ``default`` when it was never set."""
    value = unit.attributes.get(name)
    return default if value is None else value


def has(name: str, *values: Any) -> UnitPredicate:
    """Predicate: the unit's attribute ``name`` is one of ``values`` (``True`` if none given)."""
    wanted = values or (True,)
    return lambda unit: attribute(unit, name) in wanted


def of_kind(*kinds: str) -> UnitPredicate:
    """Predicate: the unit is of one of ``kinds``."""
    return lambda unit: unit.kind in kinds


def all_of(*predicates: UnitPredicate) -> UnitPredicate:
    return lambda unit: all(predicate(unit) for predicate in predicates)


def any_of(*predicates: UnitPredicate) -> UnitPredicate:
    return lambda unit: any(predicate(unit) for predicate in predicates)


def share_of_units(
    snapshot: Snapshot, among: UnitPredicate, done: UnitPredicate
) -> float | None:
    """Percentage of the active units matching ``among`` that also match ``done``.

    ``None`` when no unit matches ``among``: a rate of nothing is no data, not 0 % or 100 %.
    """
    population = [unit for unit in snapshot.units() if among(unit)]
    if not population:
        return None
    return 100.0 * sum(1 for unit in population if done(unit)) / len(population)


def share_measure(among: UnitPredicate, done: UnitPredicate) -> Callable[[Snapshot], float | None]:
    """A target ``measure`` computing :func:`share_of_units`."""

    def measure(snapshot: Snapshot) -> float | None:
        return share_of_units(snapshot, among, done)

    return measure


def count_measure(among: UnitPredicate, *,
                  population: UnitPredicate | None = None) -> Callable[[Snapshot], float | None]:
    """A target ``measure`` counting active units matching ``among``.

    0 is a real value only when some unit of ``population`` (default: any unit) is registered;
    otherwise ``None`` (no data): a count of nothing is not a goal of 0 met.
    """

    def measure(snapshot: Snapshot) -> float | None:
        units = [unit for unit in snapshot.units() if population is None or population(unit)]
        if not units:
            return None
        return float(sum(1 for unit in units if among(unit)))

    return measure


def live_hazards(
    snapshot: Snapshot, campaign: str | None, where: Callable[[HazardRow], bool] = lambda h: True
) -> list[HazardRow]:
    """The campaign's hazards that are not withdrawn (``campaign=None``: every campaign's)."""
    return [
        hazard
        for hazard in snapshot.hazards(campaign=campaign)
        if hazard.status != "withdrawn" and (campaign is None or hazard.campaign == campaign)
        and where(hazard)
    ]


def hazard_closure_measure(
    campaign: str, where: Callable[[HazardRow], bool] = lambda h: True
) -> Callable[[Snapshot], float | None]:
    """A target ``measure``: percentage of the campaign's (non-withdrawn) hazards that are closed."""

    def measure(snapshot: Snapshot) -> float | None:
        hazards = live_hazards(snapshot, campaign, where)
        if not hazards:
            return None
        return 100.0 * sum(1 for h in hazards if h.status == "closed") / len(hazards)

    return measure


def unit_label(unit: UnitRow) -> str:
    """How a finding names a unit: ``U-00012 某某化工（东兴村）``."""
    village = f"（{unit.village}）" if unit.village else ""
    return f"{unit.number} {unit.name}{village}"


def unit_findings(
    check_id: str,
    campaign: str,
    severity: str,
    where: UnitPredicate,
    message: Callable[[UnitRow], str],
) -> Callable[[Snapshot], Iterable[Finding]]:
    """A check ``run`` yielding one finding per active unit matching ``where``."""

    def run(snapshot: Snapshot) -> Iterable[Finding]:
        return [
            Finding(
                check=check_id,
                campaign=campaign,
                subject=unit.number,
                message=f"{unit_label(unit)}：{message(unit)}",
                severity=severity,
            )
            for unit in snapshot.units()
            if where(unit)
        ]

    return run


def as_date(value: Any) -> date | None:
    """A date attribute as a :class:`date` (stored rows may carry ISO text); ``None`` if not a date."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def days_since(snapshot: Snapshot, value: Any) -> int | None:
    """Days from ``value`` (a date, or ISO text) to ``as_of``; ``None`` if there is no date."""
    day = as_date(value)
    return None if day is None else (snapshot.as_of - day).days


def sort_rows(rows: Sequence[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: tuple(str(row[key]) for key in keys))


def months(first: date, last: date) -> list[tuple[int, int]]:
    """Every (year, month) from ``first``'s month to ``last``'s month inclusive."""
    result, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        result.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def monthly_report_run(
    check_id: str,
    campaign: str,
    *,
    first: date,
    last: date,
    covers: Callable[[Any], bool],
    due_day: int = 25,
    what: str = "两个清单",
) -> Callable[[Snapshot], Iterable[Finding]]:
    """A check ``run``: one finding per month from ``first`` to ``last`` whose report is late or missing.

    A month's report is due by day ``due_day`` of that month; a month is judged only once that day has
    passed (or a report for it exists). ``covers(report)`` says which submissions count (reports have
    ``period`` 'YYYY-MM', ``submitted_on`` and ``campaign``); the earliest that counts is used.
    """

    def run(snapshot: Snapshot) -> Iterable[Finding]:
        submitted: dict[str, date] = {}
        for report in snapshot.reports():
            if not covers(report):
                continue
            period, on = str(report.period), as_date(report.submitted_on)
            if on is not None and (period not in submitted or on < submitted[period]):
                submitted[period] = on
        findings = []
        for year, month in months(first, min(last, snapshot.as_of)):
            period, deadline = f"{year}-{month:02d}", date(year, month, due_day)
            on = submitted.get(period)
            if on is None and snapshot.as_of > deadline:
                message, severity = f"{period} 月{what}未报送（应于 {deadline} 前报送）", "严重"
            elif on is not None and on > deadline:
                message, severity = f"{period} 月{what}于 {on} 报送，晚于 {deadline}", "警告"
            else:
                continue
            findings.append(Finding(check=check_id, campaign=campaign, subject=f"报送 {period}",
                                    message=message, severity=severity))
        return findings

    return run
