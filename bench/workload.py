"""A deterministic synthetic workload: the commands a township (or many) would enter over 2020-07..2022-12.

The mix follows the demo and the seed: hazards through their lives (plan, escalation of 重大, extension,
progress, completion, failed and passed verification, 销号, some 反销号 and 撤销, back-dated
corrections recorded weeks later, late entries), 制度措施 through issue / implement / revise / repeal,
units registered with the campaigns' attributes and changing them over time, task progress and
indicator readings. Several townships make a county or a city slice: they share the campaigns and
tasks but have their own villages, units and hazards.

The workload is generated month by month (a heap holds the steps of lives still in progress), so a
1M-event city never sits in memory as a list. Each step is ``Step(day, method, args, kwargs)``:
``day`` is the recording day (the clock is set to it), ``kwargs["on"]`` the effective date. Records
created earlier are referred to by a :class:`Ref` handle that the executor resolves to the number the
ledger returned.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from qingdan.core.spec import period_label

START = date(2020, 7, 1)
END = date(2022, 12, 31)

# How much of a township's activity goes to each campaign (专项 heavier than the 专题).
CAMPAIGN_WEIGHTS = {
    "fire": 25, "construction": 14, "hazchem": 12, "enterprise": 12, "road": 9, "waste": 8,
    "transport": 8, "general": 6, "study": 6,
}
HAZARDS_PER_MONTH = 45  # one township, before the phase factor
PHASE_FACTOR = {2020: 1.4, 2021: 1.0, 2022: 0.75, 2023: 0.75}  # 排查整治 peaks in 2020, 巩固提升 calmer
UNITS_AT_START = 150
SOURCES = ("自查", "检查", "督查", "督导组移交", "举报", "其他")
SHOPS = ("农贸市场", "五金店", "饭店", "宾馆", "加油站", "化工厂", "物流园", "建筑工地", "小区", "学校",
         "卫生院", "养殖场", "汽修厂", "仓库", "码头", "超市")
LOCATIONS = ("东侧疏散通道", "配电房", "仓库", "厨房", "二楼楼梯间", "储罐区", "围墙边", "装卸区",
             "值班室", "地下室")
DESCRIPTIONS = ("疏散通道堆放杂物", "灭火器过期", "电线私拉乱接", "安全出口锁闭", "未设置警示标志",
                "防护栏缺失", "应急照明损坏", "危险品混存", "消防栓被遮挡", "作业人员未持证上岗",
                "边坡防护不到位", "危废贮存超期")
PEOPLE = ("王明", "李强", "张建国", "刘芳", "陈静", "杨帆", "赵磊", "黄勇", "周敏", "吴刚")
GENERIC_KINDS = ("企业", "规模以上工业企业", "规模以下工业企业", "社会单位")


@dataclass(frozen=True)
class Ref:
    """A record created by an earlier step (the executor maps it to the ledger's number)."""

    kind: str
    key: int


@dataclass(order=True)
class Step:
    day: date
    seq: int
    method: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())
    kwargs: dict[str, Any] = field(compare=False, default_factory=dict)
    creates: Ref | None = field(compare=False, default=None)


@dataclass(frozen=True)
class Scale:
    name: str
    townships: int
    rate: float = 1.0  # multiplies every per-township rate (the quick size uses a small one)
    start: date = START
    end: date = END


SCALES = {
    "quick": Scale("quick", 1, rate=0.15, end=date(2021, 3, 31)),
    "township": Scale("township", 1),
    "county": Scale("county", 10),
    "city": Scale("city", 100),
}


def month_starts(start: date, end: date) -> list[date]:
    out, d = [], date(start.year, start.month, 1)
    while d <= end:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def month_end(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1) - timedelta(days=1)


class Workload:
    """The commands of ``scale.townships`` townships, in recording order, one month at a time."""

    def __init__(self, catalogue: Any, scale: Scale, *, seed: int = 20200701,
                 township_offset: int = 0, tasks: bool = True) -> None:
        self.catalogue = catalogue
        self.scale = scale
        self.rng = random.Random(seed)
        self.seq = 0
        self.refs = 0
        self.heap: list[Step] = []
        self.with_tasks = tasks
        self.campaigns = [c for c in CAMPAIGN_WEIGHTS if c in catalogue.campaigns
                          and catalogue.campaigns[c].start <= scale.end]
        self.weights = [CAMPAIGN_WEIGHTS[c] for c in self.campaigns]
        specs = catalogue.unit_attributes()
        self.attributes = specs
        kinds: set[str] = set(GENERIC_KINDS)
        for spec in specs.values():
            kinds.update(spec.unit_kinds)
        self.unit_kinds = sorted(kinds)
        self.townships = [f"T{township_offset + i:03d}" for i in range(scale.townships)]
        self.villages = {t: [f"{t}第{k + 1}村" for k in range(12)] for t in self.townships}
        self.units: dict[str, list[tuple[Ref, str, date]]] = {t: [] for t in self.townships}

    # -- plumbing ----------------------------------------------------------------------------

    def _push(self, day: date, command: str, /, *args: Any, creates: Ref | None = None,
              **kwargs: Any) -> None:
        if day > self.scale.end:
            return
        self.seq += 1
        heapq.heappush(self.heap, Step(day, self.seq, command, args, kwargs, creates))

    def _ref(self, kind: str) -> Ref:
        self.refs += 1
        return Ref(kind, self.refs)

    def _count(self, rate: float) -> int:
        """A count with mean ``rate`` (deterministic rounding through the generator)."""
        whole = int(rate)
        return whole + (self.rng.random() < rate - whole)

    def _day_in(self, month: date) -> date:
        last = min(month_end(month), self.scale.end)
        first = max(month, self.scale.start)
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    def months(self) -> Iterator[tuple[date, list[Step]]]:
        """(first day of month, the month's steps in recording order), from start to end."""
        if self.with_tasks:
            self._tasks_and_indicators()
        for month in month_starts(self.scale.start, self.scale.end):
            for township in self.townships:
                self._township_month(township, month)
            last = min(month_end(month), self.scale.end)
            steps = []
            while self.heap and self.heap[0].day <= last:
                steps.append(heapq.heappop(self.heap))
            yield month, steps

    # -- generation --------------------------------------------------------------------------

    def _township_month(self, township: str, month: date) -> None:
        rng, rate = self.rng, self.scale.rate
        new_units = UNITS_AT_START / 3 if month < date(2020, 10, 1) else 2
        for _ in range(self._count(new_units * rate)):
            self._unit(township, self._day_in(month))
        hazards = HAZARDS_PER_MONTH * PHASE_FACTOR[month.year] * rate
        for _ in range(self._count(hazards)):
            self._hazard(township, self._day_in(month))
        for _ in range(self._count(2 * rate)):
            self._measure(township, self._day_in(month))
        # Attribute changes of registered units (a fraction each month), a few closures.
        units = self.units[township]
        if units:
            for _ in range(self._count(len(units) * 0.15)):
                ref, kind, registered = rng.choice(units)
                day = max(self._day_in(month), registered)
                attrs = self._attributes(kind, day, changes=True)
                if attrs:
                    self._push(day, "set_unit_attributes", ref, attributes=attrs, on=day)
            if rng.random() < 0.3 * rate and len(units) > 10:
                ref, kind, registered = units.pop(rng.randrange(len(units)))
                day = max(min(month_end(month), self.scale.end), registered)  # after this month's changes
                self._push(day, "close_unit", ref, reason="企业关停", on=day)

    def _applicable(self, kind: str) -> list[Any]:
        return [s for s in self.attributes.values()
                if kind in s.unit_kinds or (not s.unit_kinds and kind in GENERIC_KINDS)]

    def _value(self, spec: Any, day: date) -> Any:
        rng = self.rng
        if spec.type == "bool":
            return rng.random() < 0.6
        if spec.type == "choice":
            return rng.choice(spec.choices)
        if spec.type == "date":
            return day - timedelta(days=rng.randrange(0, 200))
        if spec.type == "int":
            return rng.randrange(0, 20)
        if spec.type == "float":
            return round(rng.uniform(10, 500), 1)
        return rng.choice(("HW08", "HW49", "HW17"))

    def _attributes(self, kind: str, day: date, *, changes: bool = False) -> dict[str, Any]:
        specs = self._applicable(kind)
        if not specs:
            return {}
        n = self.rng.randint(1, 2) if changes else min(len(specs), self.rng.randint(2, 5))
        chosen = self.rng.sample(specs, min(n, len(specs)))
        return {s.name: self._value(s, day) for s in chosen}

    def _unit(self, township: str, day: date) -> None:
        rng = self.rng
        kind = rng.choice(self.unit_kinds)
        ref = self._ref("unit")
        village = rng.choice(self.villages[township])
        name = f"{village}{rng.choice(SHOPS)}{ref.key}"
        self._push(day, "register_unit", creates=ref, name=name, kind=kind, village=village,
                   attributes=self._attributes(kind, day), on=day)
        self.units[township].append((ref, kind, day))

    def _measure(self, township: str, day: date) -> None:
        rng = self.rng
        campaign = rng.choices(self.campaigns, self.weights)[0]
        spec = self.catalogue.campaigns[campaign]
        departments = (*spec.lead_departments, *spec.departments) or ("镇安委办",)
        ref = self._ref("measure")
        due = day + timedelta(days=rng.randint(30, 120))
        self._push(day, "add_measure", creates=ref, campaign=campaign, department=rng.choice(departments),
                   title=f"{township}{spec.name}制度{ref.key}", kind=rng.choice(("制度", "机制", "方案", "标准")),
                   due=due, on=day)
        if rng.random() < 0.8:
            issued = day + timedelta(days=rng.randint(5, 40))
            self._push(issued, "issue_measure", ref, doc_no=f"{township}发〔{issued.year}〕{ref.key}号", on=issued)
            last = issued
            if rng.random() < 0.15:
                revised = issued + timedelta(days=rng.randint(20, 200))
                self._push(revised, "revise_measure", ref, reason="根据上级文件修订",
                           title=f"{township}{spec.name}制度{ref.key}（修订）", on=revised)
                last = revised
            if rng.random() < 0.7:
                done = last + timedelta(days=rng.randint(10, 60))
                self._push(done, "implement_measure", ref, on=done)
                last = done
            if rng.random() < 0.03:
                repealed = last + timedelta(days=rng.randint(30, 300))
                self._push(repealed, "repeal_measure", ref, reason="已被新制度替代", on=repealed)

    def _hazard(self, township: str, found: date) -> None:
        rng = self.rng
        campaign = rng.choices(self.campaigns, self.weights)[0]
        spec = self.catalogue.campaigns[campaign]
        ref = self._ref("hazard")
        major = rng.random() < 0.05
        village = rng.choice(self.villages[township])
        units = [u for u in self.units[township] if u[2] <= found]
        unit_number = None
        if units and rng.random() < 0.5:
            unit_ref, _, _ = rng.choice(units)
            unit, unit_number = f"单位{unit_ref.key}", unit_ref
        else:
            unit = f"{village}{rng.choice(SHOPS)}"
        # Recording day r never goes backwards along the life; effective days of status steps
        # never go backwards either; annotations may be back-dated.
        r = found + timedelta(days=rng.randint(1, 20)) if rng.random() < 0.15 else found
        categories = spec.hazard_categories
        self._push(r, "report_hazard", creates=ref, campaign=campaign, unit=unit,
                   unit_number=unit_number, village=village, location=rng.choice(LOCATIONS),
                   category=rng.choice(categories) if categories else None,
                   level="重大" if major else "一般", source=rng.choice(SOURCES),
                   found_on=found, inspectors=tuple(rng.sample(PEOPLE, rng.randint(1, 2))),
                   description=rng.choice(DESCRIPTIONS))

        def step(e: date, lag: int = 0) -> date:
            nonlocal r
            r = max(r, e + timedelta(days=lag))
            return r

        if rng.random() < 0.03:
            e = found + timedelta(days=rng.randint(1, 10))
            self._push(step(e), "withdraw", ref, reason="重复登记", on=e)
            return
        if rng.random() < 0.06:  # back-dated correction, recorded weeks later
            field, value = rng.choice((("location", "西侧配电房（更正）"), ("description", "核实后：应急照明损坏"),
                                       ("village", rng.choice(self.villages[township]) + "（更正）")))
            cr = max(found + timedelta(days=rng.randint(7, 60)), r)
            self._push(cr, "correct", ref, field=field, value=value, reason="核实后更正", on=found)
        planned = found + timedelta(days=rng.randint(0, 10))
        deadline = planned + timedelta(days=rng.randint(20, 90))
        parts = {"responsible_unit": unit, "responsible_person": rng.choice(PEOPLE),
                 "measures": "立即整改，落实专人负责", "funds": round(rng.uniform(0.1, 20), 1),
                 "deadline": deadline, "contingency": "现场应急处置方案"}
        if major or rng.random() < 0.7:
            self._push(step(planned), "plan_rectification", ref, **parts, on=planned)
        else:
            names = list(parts)
            first = set(rng.sample(names, rng.randint(1, 4))) | {"deadline"}
            self._push(step(planned), "plan_rectification", ref,
                       **{k: v for k, v in parts.items() if k in first}, on=planned)
            if rng.random() < 0.4:
                later = planned + timedelta(days=rng.randint(2, 15))
                rest = {k: v for k, v in parts.items() if k not in first}
                if rest:
                    self._push(step(later), "plan_rectification", ref, **rest, on=later)
        if major or rng.random() < 0.03:
            e = planned + timedelta(days=rng.randint(0, 5))
            self._push(step(e), "escalate", ref, supervisor=f"{township}镇安委会",
                       level="市" if major and rng.random() < 0.3 else "镇",
                       doc_no=f"{township}安委督〔{e.year}〕{ref.key}号", on=e)
        completed = planned + timedelta(days=rng.randint(10, (deadline - planned).days + 15))
        if rng.random() < 0.08 and deadline - timedelta(days=3) > planned:
            asked = max(deadline - timedelta(days=3), r)
            if asked < completed:
                new_deadline = deadline + timedelta(days=30)
                self._push(step(asked), "request_extension", ref, deadline=new_deadline,
                           reason="工程量大，需协调资金", on=asked)
                decided = asked + timedelta(days=2)
                self._push(step(decided), "decide_extension", ref, approved=rng.random() < 0.8,
                           on=decided)
                completed = max(completed, decided)
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            span = (completed - planned).days
            e = planned + timedelta(days=rng.randint(0, max(span - 1, 0)))
            lag = rng.choice((0, 0, 3, 15))  # some progress is entered late (back-dated)
            if e + timedelta(days=lag) <= completed and e >= planned:
                self._push(max(e + timedelta(days=lag), r), "report_progress", ref,
                           text="整改进行中", on=e)
        self._push(step(completed), "complete_rectification", ref,
                   cost=round(rng.uniform(0.1, 20), 1), on=completed)
        verified = completed + timedelta(days=rng.randint(1, 7))
        if rng.random() < 0.1:
            self._push(step(verified), "verify", ref, passed=False, inspector=rng.choice(PEOPLE), on=verified)
            completed = verified + timedelta(days=rng.randint(3, 15))
            self._push(step(completed), "complete_rectification", ref, on=completed)
            verified = completed + timedelta(days=rng.randint(1, 5))
        self._push(step(verified), "verify", ref, passed=True, inspector=rng.choice(PEOPLE),
                   method=rng.choice(("自评", "专家", "政府验收")), on=verified)
        closed = verified + timedelta(days=rng.randint(0, 5))
        self._push(step(closed), "close", ref, on=closed)
        if rng.random() < 0.04:  # 回头看 finds it not fixed
            reopened = closed + timedelta(days=rng.randint(60, 200))
            self._push(step(reopened), "reopen", ref, reason="回头看发现问题反弹", on=reopened)
            completed = reopened + timedelta(days=rng.randint(10, 30))
            self._push(step(completed), "complete_rectification", ref, on=completed)
            verified = completed + timedelta(days=2)
            self._push(step(verified), "verify", ref, passed=True, inspector=rng.choice(PEOPLE), on=verified)
            self._push(step(verified), "close", ref, on=verified)

    def _tasks_and_indicators(self) -> None:
        """Progress on every 重点任务 and readings of reported targets (shared by the townships)."""
        rng, n = self.rng, self.scale.townships
        reports = max(1, min(24, round(2 * n * self.scale.rate)))
        for task in self.catalogue.tasks.values():
            if task.campaign not in self.campaigns:
                continue
            start = max(self.catalogue.campaigns[task.campaign].start, self.scale.start)
            stop = min(task.due or self.scale.end, self.scale.end)
            if stop <= start:
                continue
            span = (stop - start).days
            for k in range(reports):
                e = start + timedelta(days=span * (k + 1) // (reports + 1))
                period = {"period": period_label(task.recurrence, e)} if task.recurrence else {}
                self._push(e, "report_task_progress", task.id, text="按计划推进",
                           percent=round(100 * (k + 1) / (reports + 1), 1), on=e, **period)
            if task.due and task.due <= self.scale.end and rng.random() < 0.7:
                self._push(task.due, "complete_task", task.id, on=task.due)
        readings = max(1, min(30, round(3 * n * self.scale.rate)))
        for target in self.catalogue.targets.values():
            if target.measure is not None or target.campaign not in self.campaigns:
                continue
            start = max(self.catalogue.campaigns[target.campaign].start, self.scale.start)
            span = (self.scale.end - start).days
            for k in range(readings):
                e = start + timedelta(days=span * (k + 1) // (readings + 1))
                self._push(e, "record_indicator", target.id, value=float(rng.randint(1, 50)), on=e)
