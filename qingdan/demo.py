"""A deterministic, realistic demo ledger of 南阳镇 (the seed's township), 2020-07 to 2022-12.

Everything is generated from one seeded random generator and recorded month by month with a clock
that follows the story: units with the attributes the campaigns declare, hazards with the lives they
have in a real township (immediate fixes, 重大 hazards escalated, extensions granted and refused,
overdue ones, failed verifications, 回头看 reopenings, back-dated corrections, withdrawals, entries
made late), measures through their statuses, task progress, indicator readings, and the monthly
两个清单 submitted by the 25th — a few late, a couple missing, so the checks have something to find.

Nothing here names a campaign: the story is built from whatever campaigns the catalogue holds.

The demo never overwrites a ledger it did not make. When the story is recorded it leaves a marker
in the ledger (table ``qd_demo``: the last event's position and the hash-chain head then, sealed
with a hash of both). Only a ledger whose marker is intact and whose log has not grown since is
replaced; anything else that exists at the path (a real ledger, another program's database, a
file that is not SQLite, an empty file, a folder) is refused with :class:`NotADemoLedger`. A
SQLite demo is built in a temporary file beside the target and renamed onto it once complete, so
a failed build leaves the previous demo (or nothing) in place.
"""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import qingdan
from qingdan.core.domain import CST
from qingdan.core.errors import InvalidCommand, QingdanError

START, END = date(2020, 7, 1), date(2022, 12, 31)
VILLAGES = ("南阳村", "东港村", "西湖村", "北塘村", "新河村", "红星村", "永丰村", "沿海社区")
BRANDS = ("恒达", "宏远", "鑫盛", "华泰", "永兴", "东方", "金港", "顺发", "通达", "海蓝", "瑞丰", "博远",
          "新华", "长江", "明珠", "天成", "富源", "联兴", "中和", "安泰")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙朱马胡郭林何高罗"
GIVEN = ("建国", "国强", "海燕", "志明", "丽华", "伟", "敏", "军", "秀英", "晓东", "春生", "桂芳", "德明", "小平")
INSPECTORS = ("镇安监局 王明", "镇安监局 李强", "镇消防救援站 陈刚", "镇建设局 周伟", "镇生态环境办 吴敏",
              "镇农业农村局 徐军", "镇派出所 孙涛")
DEPARTMENTS_FALLBACK = ("镇安委办",)
SCALES = {"small": 0.1, "full": 1.0}
#: Relative weights of hazards per campaign kind; 专题 campaigns find fewer physical hazards.
KIND_WEIGHT = {"专项": 10, "专题": 4, "总体": 1}
DESCRIPTIONS = (
    "{c}：安全管理制度未建立或未落实", "{c}：隐患排查治理台账不全", "{c}：现场存在违规作业行为",
    "{c}：安全警示标志缺失", "{c}：应急物资配备不足", "{c}：从业人员未经安全培训",
    "{c}：设施设备老化、未定期检测", "{c}：安全责任未落实到岗位",
)
MEASURE_TITLES = ("{n}隐患排查治理制度", "{n}联合执法工作机制", "{n}专项整治实施方案", "{n}安全风险分级管控办法",
                  "{n}隐患举报奖励办法", "{n}应急处置工作预案", "{n}安全检查标准", "{n}挂牌督办工作制度")


#: How many closed 重大 hazards carry photos before and after (attachments in the demo).
PHOTOS = 6


def demo_photo(number: str, kind: str) -> bytes:
    """A small, made-up "photo" (a PNG drawn from the number): the same bytes for the same hazard."""
    import io

    from PIL import Image, ImageDraw

    seed = sum(number.encode()) % 200
    image = Image.new("RGB", (160, 120), (200, 190 - seed // 4, 150) if kind == "整改前" else (150, 200, 160 + seed // 4))
    draw = ImageDraw.Draw(image)
    for i in range(4):
        draw.rectangle((10 + i * 35, 30 + (seed + i * 13) % 40, 35 + i * 35, 110), outline=(60, 60, 60), width=2)
    if kind == "整改前":
        draw.line((5, 115, 155, 5), fill=(180, 40, 40), width=4)
    stream = io.BytesIO()
    image.save(stream, format="PNG", optimize=False)
    return stream.getvalue()


class DemoClock:
    """Recorded times that follow the story: set before each action, one millisecond per event."""

    def __init__(self) -> None:
        self.current = datetime(2020, 7, 1, 8, 30, tzinfo=CST)

    def __call__(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = max(self.current, moment)


@dataclass(order=True)
class Action:
    """Something that happens in the story: recorded at ``recorded``; ``run(ledger)`` does it."""

    recorded: datetime
    seq: int
    run: Callable[[Any], Any] = field(compare=False)
    what: str = field(compare=False, default="")


@dataclass
class DemoResult:
    url: str
    hazards: int = 0
    measures: int = 0
    units: int = 0
    events: int = 0
    reports: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # commands the ledger refused (a demo bug)


class _Handle:
    """The number of a record created earlier in the story (known once its creation has run)."""

    number: str = ""


def _at(day: date, rng: random.Random, delay_days: int = 0) -> datetime:
    """A working-hours moment on ``day`` (plus a delay): when a clerk typed it in."""
    minutes = rng.randint(8 * 60 + 30, 17 * 60 + 30)
    return datetime.combine(day + timedelta(days=delay_days), time(minutes // 60, minutes % 60), tzinfo=CST)


class Story:
    """Builds the list of actions; :func:`build_demo` replays them month by month."""

    def __init__(self, catalogue: Any, seed: int, scale: float) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.catalogue = catalogue
        self.campaigns = [c for c in catalogue.campaigns.values() if c.start <= END and c.end >= START]
        self.actions: list[Action] = []
        # campaign -> (handle, name, kind, village, registered on)
        self.units: dict[str, list[tuple[_Handle, str, str, str, date]]] = {}
        self.counts = {"hazards": 0, "measures": 0, "units": 0}
        self.photographed = 0  # closures that attach 整改前/整改后 photos (the first few)

    def add(self, recorded: datetime, run: Callable[[Any], Any], what: str = "") -> datetime:
        recorded = min(recorded, datetime.combine(END, time(23, 0), tzinfo=CST))
        self.actions.append(Action(recorded, len(self.actions), run, what))
        return recorded

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    # -- units -----------------------------------------------------------------------------

    def unit_name(self, kind: str, village: str, n: int) -> str:
        brand = self.rng.choice(BRANDS)
        rules = (("群租", f"{village}{n}号出租房"), ("出租", f"{village}{n}号出租房"),
                 ("综合体", f"{brand}广场"), ("地下", f"{brand}地下商场"), ("高层", f"{brand}大厦"),
                 ("小区", f"{brand}花园"), ("住宅", f"{brand}花园"), ("校车", f"{brand}幼儿园校车"),
                 ("路段", f"县道X{100 + n}{village}段"), ("道路", f"县道X{100 + n}{village}段"),
                 ("桥", f"{village}{n}号桥"), ("渔", f"南渔{10000 + n}"), ("船", f"南航{2000 + n}"),
                 ("港", f"{brand}码头"), ("铁路", f"金温铁路{village}段"), ("工地", f"{brand}项目工地"),
                 ("施工", f"{brand}项目工地"), ("农房", f"{village}{n}号民房"), ("房屋", f"{village}{n}号楼"),
                 ("医疗", f"{village}卫生室"), ("维修", f"{brand}汽车维修厂"), ("加油", f"{brand}加油站"),
                 ("燃气", f"{brand}燃气站"), ("村", f"{village}"), ("化", f"{brand}化工有限公司"),
                 ("企业", f"{brand}实业有限公司"), ("单位", f"{brand}实业有限公司"))
        for word, name in rules:
            if word in kind:
                return name
        return f"{brand}{kind}"

    def attribute_value(self, spec: Any) -> Any:
        rng = self.rng
        if spec.type == "bool":
            return rng.random() < 0.6
        if spec.type == "choice":
            return rng.choice(spec.choices)
        if spec.type == "int":
            return rng.randint(0, 12)
        if spec.type == "float":
            return round(rng.uniform(20, 500), 1)
        if spec.type == "date":
            return date(2019, 7, 1) + timedelta(days=rng.randint(0, 540))
        return None

    def plan_units(self) -> None:
        specs = self.catalogue.unit_attributes()
        for campaign in self.campaigns:
            kinds = list(dict.fromkeys(k for a in campaign.unit_attributes for k in a.unit_kinds))
            for kind in kinds:
                for n in range(1, max(1, round(self.rng.randint(3, 7) * self.scale)) + 1):
                    village = self.rng.choice(VILLAGES)
                    name = self.unit_name(kind, village, n)
                    attributes = {}
                    for spec in specs.values():
                        if spec.unit_kinds and kind not in spec.unit_kinds:
                            continue
                        value = self.attribute_value(spec)
                        if value is not None:
                            attributes[spec.name] = value
                    handle = _Handle()
                    day = START + timedelta(days=self.rng.randint(0, 60))

                    def register(ledger: Any, h: _Handle = handle, name: str = name, kind: str = kind,
                                 village: str = village, attributes: dict = attributes, day: date = day) -> None:
                        h.number = ledger.register_unit(name=name, kind=kind, village=village,
                                                        attributes=attributes, on=day)

                    self.add(_at(day, self.rng), register, f"登记单位 {name}")
                    self.units.setdefault(campaign.id, []).append((handle, name, kind, village, day))
                    self.counts["units"] += 1
                    # Attributes improve as the campaign goes on (automation put in use, plans made …).
                    improving = {k: True for k, v in attributes.items()
                                 if v is False and specs[k].type == "bool" and self.rng.random() < 0.5}
                    later = day
                    if improving:
                        later = day + timedelta(days=self.rng.randint(90, 700))
                        if later <= END:
                            self.add(_at(later, self.rng, self.rng.choice((0, 0, 3))),
                                     lambda ledger, h=handle, a=improving, d=later:
                                     ledger.set_unit_attributes(h.number, attributes=a, on=d),
                                     f"变更属性 {name}")
                    if self.rng.random() < 0.03:
                        closed = later + timedelta(days=self.rng.randint(30, 400))
                        if closed <= END:
                            self.add(_at(closed, self.rng), lambda ledger, h=handle, d=closed:
                                     ledger.close_unit(h.number, reason="关停", on=d), f"注销 {name}")

    # -- hazards ---------------------------------------------------------------------------

    def monthly_hazards(self, year: int, month: int) -> int:
        if (year, month) == (2020, 7):
            base = 20
        elif year == 2020:
            base = 85  # 排查整治: the big sweep
        elif year == 2021:
            base = 50  # 集中攻坚
        else:
            base = 32  # 巩固提升
        return max(1, round(base * self.scale * self.rng.uniform(0.8, 1.2)))

    def plan_hazards(self) -> None:
        weights = [KIND_WEIGHT.get(c.kind, 5) for c in self.campaigns]
        day = START
        while day <= END:
            year, month = day.year, day.month
            last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
            for _ in range(self.monthly_hazards(year, month)):
                campaign = self.rng.choices(self.campaigns, weights)[0]
                found = date(year, month, self.rng.randint(1, last.day))
                self.plan_hazard(campaign, min(found, END))
            day = last + timedelta(days=1)

    def plan_hazard(self, campaign: Any, found: date) -> None:
        rng = self.rng
        self.counts["hazards"] += 1
        handle = _Handle()
        category = rng.choice(campaign.hazard_categories) if campaign.hazard_categories else None
        unit_pool = [u for u in self.units.get(campaign.id, ()) if u[4] < found]
        if unit_pool and rng.random() < 0.6:
            unit_handle, unit, _, village, _ = rng.choice(unit_pool)
        else:
            unit_handle, village = None, rng.choice(VILLAGES)
            unit = f"{rng.choice(BRANDS)}{rng.choice(('五金厂', '超市', '饭店', '宾馆', '纺织厂', '物流公司', '加工厂', '仓库'))}"
        major = rng.random() < 0.06
        level = "重大" if major else "一般"
        description = rng.choice(DESCRIPTIONS).format(c=category or campaign.name)
        source = rng.choices(("检查", "自查", "督查", "督导组移交", "举报"), (50, 25, 12, 8, 5))[0]
        inspectors = tuple(rng.sample(INSPECTORS, 2))
        late = rng.choice((0,) * 8 + (3, 7, 12, 20))  # some are entered days after the inspection
        moment = _at(found, rng, late)
        location = rng.choice(("仓库", "生产车间", "疏散通道", "配电房", "屋顶", "一楼大厅", "装卸区", "宿舍", "厨房"))

        def report(ledger: Any) -> None:
            handle.number = ledger.report_hazard(
                campaign=campaign.id, unit=unit, description=description, level=level, found_on=found,
                category=category, village=village, location=location, source=source,
                inspectors=inspectors, unit_number=unit_handle.number if unit_handle else None)

        last = self.add(moment, report, "登记隐患")

        def step(on: date, run: Callable[[Any], Any], what: str, delay: int = 0) -> bool:
            """Schedule a status step; steps stay in order in recording time too."""
            nonlocal last
            if on > END:
                return False
            when = max(_at(on, rng, delay), last + timedelta(minutes=1))
            last = self.add(when, run, what)
            return True

        def annotate(on: date, run: Callable[[Any], Any], what: str, delay: int) -> None:
            if on <= END:
                self.add(max(_at(on, rng, delay), last + timedelta(minutes=1)), run, what)

        h = handle
        if rng.random() < 0.02:  # a duplicate entry, withdrawn
            on = found + timedelta(days=rng.randint(1, 20))
            step(on, lambda led: led.withdraw(h.number, reason="重复登记", on=on), "撤销")
            return
        person = self.person()
        if rng.random() < 0.05 and not major:  # a back-dated correction found months later
            fix = rng.choice(("location", "village"))
            value = (location + "西侧") if fix == "location" else rng.choice([v for v in VILLAGES if v != village])
            annotate(found, lambda led: led.correct(h.number, field=fix, value=value,
                                                    reason="回头看核实，原登记有误"),
                     "更正", delay=rng.randint(30, 150))
        if not major and rng.random() < 0.25:  # fixed on the spot
            plan_on = found
            deadline = found + timedelta(days=rng.randint(1, 5))
            step(plan_on, lambda led: led.plan_rectification(
                h.number, responsible_unit=unit, responsible_person=person, measures="立即整改",
                deadline=deadline, on=plan_on), "立即整改", late)
            done = found + timedelta(days=rng.randint(0, 3))
            checked = done + timedelta(days=rng.randint(1, 5))
            step(done, lambda led: led.complete_rectification(h.number, on=done), "整改完成")
            step(checked, lambda led: led.verify(h.number, passed=True, inspector=inspectors[0],
                                                 method="自评", on=checked), "验收")
            step(checked, lambda led: led.close(h.number, on=checked), "销号")
            return
        plan_on = found + timedelta(days=rng.randint(1, 10))
        deadline = plan_on + timedelta(days=rng.randint(15, 90) * (2 if major else 1))
        parts: dict[str, Any] = {"responsible_unit": unit, "responsible_person": person,
                                 "measures": "制定整改方案，落实专人整改", "deadline": deadline}
        if major or rng.random() < 0.7:
            parts["funds"] = round(rng.uniform(0.2, 30 if major else 5), 1)
        if major or rng.random() < 0.5:
            parts["contingency"] = f"{unit}专项应急预案"
        if not major and rng.random() < 0.15:  # an incomplete 五到位: the check finds it
            parts.pop("contingency", None)
            parts.pop("funds", None)
        step(plan_on, lambda led: led.plan_rectification(h.number, **parts, on=plan_on), "整改方案", late)
        if major and rng.random() < 0.92:  # a few are never escalated: the check finds them
            escalated_on = found + timedelta(days=rng.randint(1, 7))
            level_word = rng.choice(("镇", "镇", "市"))
            supervisor = "南阳镇安委会" if level_word == "镇" else "市安委办"
            doc_no = f"南安委督〔{escalated_on.year}〕{rng.randint(1, 60)}号"
            step(escalated_on, lambda led: led.escalate(h.number, supervisor=supervisor, level=level_word,
                                                       doc_no=doc_no, on=escalated_on), "挂牌督办")
        else:
            escalated_on = None
        if rng.random() < 0.3:
            on = plan_on + timedelta(days=rng.randint(3, 12))
            step(on, lambda led: led.report_progress(h.number, text="已完成整改工作量的一半", on=on), "进展")
        if rng.random() < 0.12:  # asks for more time
            asked = max(deadline - timedelta(days=5), plan_on)
            new_deadline = deadline + timedelta(days=rng.randint(30, 60))
            approved = rng.random() < 0.75
            decided = asked + timedelta(days=rng.randint(2, 7))
            step(asked, lambda led: led.request_extension(h.number, deadline=new_deadline,
                                                         reason="需采购设备，施工周期长", on=asked), "延期申请")
            step(decided, lambda led: led.decide_extension(h.number, approved=approved, on=decided,
                                                          actor="南阳镇安委办"), "延期审批")
            if approved:
                deadline = new_deadline
            earliest = decided
        else:
            earliest = plan_on
        fate = rng.random()
        if fate < 0.06:  # never finished: overdue if its deadline passed
            return
        span = (deadline - earliest).days
        if fate < 0.2:  # finished late
            done = deadline + timedelta(days=rng.randint(3, 45))
        else:
            done = earliest + timedelta(days=rng.randint(1, max(1, span)))
        if major and escalated_on is None:
            return  # a 重大 hazard cannot be closed before escalation: leave it awaiting
        cost = round(rng.uniform(0.1, parts.get("funds", 2.0)), 2)
        if not step(done, lambda led, d=done: led.complete_rectification(h.number, cost=cost, on=d), "整改完成"):
            return
        checked = done + timedelta(days=rng.randint(2, 10))
        if rng.random() < 0.08:  # failed verification: back to work
            step(checked, lambda led, d=checked: led.verify(h.number, passed=False, inspector=inspectors[0], on=d,
                                                 note="整改不到位"), "验收不通过")
            done = checked + timedelta(days=rng.randint(5, 15))
            if not step(done, lambda led, d=done: led.complete_rectification(h.number, on=d), "再次整改完成"):
                return
            checked = done + timedelta(days=rng.randint(2, 6))
        if major and "contingency" not in parts:
            return
        method = "专家" if major else rng.choice(("政府验收", "政府验收", "自评"))
        if not step(checked, lambda led, d=checked: led.verify(h.number, passed=True, inspector=inspectors[0],
                                                               method=method, on=d), "验收"):
            return
        closed = checked + timedelta(days=rng.randint(0, 5))
        if self.photographed < PHOTOS and major:
            # The evidence of a 销号: photos before and after, attached on the day it is verified.
            self.photographed += 1
            for minutes, kind in enumerate(("整改前", "整改后"), 1):  # no draw from rng: the story stays as it was
                self.add(last + timedelta(minutes=minutes), lambda led, k=kind, d=checked: led.attach(
                    h.number, data=demo_photo(h.number, k), name=f"{k}.png", kind=k, on=d), f"附件{kind}")
        if not step(closed, lambda led: led.close(h.number, on=closed, actor="南阳镇安委办"), "销号"):
            return
        if rng.random() < 0.04:  # 回头看: found not fixed
            reopened = closed + timedelta(days=rng.randint(60, 200))
            if step(reopened, lambda led: led.recheck(h.number, passed=False, inspector=inspectors[1], on=reopened,
                                                      note="回头看发现问题反弹"), "回头看复查不通过"):
                again = reopened + timedelta(days=rng.randint(10, 30))
                verified = again + timedelta(days=rng.randint(2, 6))
                if step(again, lambda led: led.complete_rectification(h.number, on=again), "再次整改完成"):
                    if step(verified, lambda led: led.verify(h.number, passed=True, inspector=inspectors[1],
                                                             on=verified), "复查"):
                        step(verified, lambda led: led.close(h.number, on=verified), "销号")

    # -- measures, tasks, indicators --------------------------------------------------------

    def plan_measures(self) -> None:
        for campaign in self.campaigns:
            departments = campaign.lead_departments or DEPARTMENTS_FALLBACK
            short = campaign.name.replace("安全专项整治", "").replace("专项整治", "").replace("专题", "")[:8]
            for i in range(max(1, round(self.rng.randint(3, 7) * max(self.scale, 0.3)))):
                rng = self.rng
                self.counts["measures"] += 1
                handle = _Handle()
                added = START + timedelta(days=rng.randint(0, 360))
                due = added + timedelta(days=rng.randint(60, 240))
                title = rng.choice(MEASURE_TITLES).format(n=short) if i else f"{short}专项整治实施方案"
                kind = "方案" if "方案" in title else rng.choice(("制度", "机制", "标准"))
                department = rng.choice(departments)

                def add(led: Any, h: _Handle = handle, title: str = title, kind: str = kind,
                        department: str = department, due: date = due, added: date = added,
                        cid: str = campaign.id) -> None:
                    h.number = led.add_measure(campaign=cid, title=title, department=department, kind=kind,
                                               due=due, on=added)

                last = self.add(_at(added, rng), add, "登记制度措施")
                if rng.random() < 0.8:
                    issued = added + timedelta(days=rng.randint(20, 260))
                    doc_no = f"南{short[:2]}发〔{issued.year}〕{rng.randint(1, 90)}号"
                    if issued <= END:
                        last = self.add(max(_at(issued, rng), last + timedelta(minutes=1)),
                                        lambda led, h=handle, d=issued, n=doc_no:
                                        led.issue_measure(h.number, doc_no=n, on=d), "印发")
                        if rng.random() < 0.1:
                            revised = issued + timedelta(days=rng.randint(60, 300))
                            if revised <= END:
                                last = self.add(max(_at(revised, rng), last + timedelta(minutes=1)),
                                                lambda led, h=handle, d=revised, t=title:
                                                led.revise_measure(h.number, reason="根据上级文件修订",
                                                                   title=t + "（修订）", on=d), "修订")
                        if rng.random() < 0.7:
                            implemented = issued + timedelta(days=rng.randint(30, 150))
                            if implemented <= END:
                                last = self.add(max(_at(implemented, rng), last + timedelta(minutes=1)),
                                                lambda led, h=handle, d=implemented:
                                                led.implement_measure(h.number, on=d), "落实")
                        elif rng.random() < 0.1:
                            repealed = issued + timedelta(days=rng.randint(100, 400))
                            if repealed <= END:
                                self.add(max(_at(repealed, rng), last + timedelta(minutes=1)),
                                         lambda led, h=handle, d=repealed:
                                         led.repeal_measure(h.number, reason="被新制度替代", on=d), "废止")

    def plan_tasks(self) -> None:
        for campaign in self.campaigns:
            for task in campaign.tasks:
                rng = self.rng
                if rng.random() > max(self.scale, 0.25):
                    continue  # a small demo follows a sample of the tasks
                due = task.due or date(2022, rng.randint(6, 12), 28)
                fate = rng.random()
                finish = (due - timedelta(days=rng.randint(0, 120)) if fate < 0.7 else
                          due + timedelta(days=rng.randint(5, 90)) if fate < 0.85 else None)
                begin = max(campaign.start, START) + timedelta(days=rng.randint(10, 120))
                percent = 0.0
                day = begin
                last: datetime | None = None
                while day <= END and (finish is None or day < finish):
                    percent = min(95.0, percent + rng.randint(10, 30))
                    moment = _at(day, rng) if last is None else max(_at(day, rng), last + timedelta(minutes=1))
                    last = self.add(moment, lambda led, t=task, p=percent, d=day:
                                    led.report_task_progress(t.id, text=f"已推进 {p:.0f}%", percent=p, on=d,
                                                             period=_period(t, d)),
                                    "任务进展")
                    day += timedelta(days=rng.randint(60, 150))
                if finish is not None and finish <= END and finish >= begin:
                    moment = _at(finish, rng) if last is None else max(_at(finish, rng), last + timedelta(minutes=1))
                    self.add(moment, lambda led, t=task, d=finish:
                             led.complete_task(t.id, on=d, period=_period(t, d)), "任务完成")

    def plan_indicators(self) -> None:
        wanted = {c.id for c in self.campaigns}
        for target in self.catalogue.targets.values():
            if target.measure is not None or target.campaign not in wanted:
                continue
            rng = self.rng
            goal = target.goal
            if target.comparator == "<=":
                value = goal + rng.randint(0, 2)
            else:
                value = goal * rng.uniform(0.4, 0.7)
            day = date(2020, 9, 30)
            last: datetime | None = None
            while day <= min(target.due, END):
                if target.comparator == "<=":
                    value = max(0, value - rng.randint(0, 1))
                else:
                    value = min(goal * 1.05 if target.unit != "%" else 100.0,
                                value + goal * rng.uniform(0.05, 0.2))
                reading = round(value) if target.unit in ("人", "个", "起") else round(value, 1)
                moment = _at(day, rng) if last is None else max(_at(day, rng), last + timedelta(minutes=1))
                last = self.add(moment, lambda led, t=target.id, v=reading, d=day:
                                led.record_indicator(t, value=v, on=d), "指标填报")
                day = _quarter_end(day + timedelta(days=1))

    def plan_reports(self) -> list[tuple[str, date, str | None]]:
        """(period, submission day, campaign): by the 25th, a few late, a couple never handed in.

        The township lists every month; a campaign whose plugin checks its own monthly lists hands
        in its own too (nearly always on time).
        """
        periods = []
        year, month = 2020, 8
        while (year, month) <= (END.year, END.month):
            periods.append(f"{year}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        # 2020-12 is always handed in: the demo shows its 回头看.
        missing = set(self.rng.sample([p for p in periods[1:-1] if p != "2020-12"], 2))
        late = set(self.rng.sample([p for p in periods if p not in missing], 3))
        out = []
        for period in periods:
            if period in missing:
                continue
            y, m = (int(x) for x in period.split("-"))
            day = self.rng.randint(26, 28) if period in late else self.rng.randint(20, 25)
            out.append((period, date(y, m, day), None))
        own = sorted({c.campaign for c in self.catalogue.checks.values() if "monthly" in c.id}
                     & {c.id for c in self.campaigns if c.kind != "总体"})
        for campaign in own:
            for period in periods:
                y, m = (int(x) for x in period.split("-"))
                day = self.rng.randint(18, 27) if self.rng.random() < 0.05 else self.rng.randint(18, 25)
                out.append((period, date(y, m, day), campaign))
        return out


def _quarter_end(day: date) -> date:
    month = ((day.month - 1) // 3 + 1) * 3
    following = date(day.year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def _record(ledger: Any, clock: DemoClock, actions: list[Action], result: DemoResult) -> None:
    if not actions:
        return
    clock.set(actions[-1].recorded)
    with ledger.batch():  # one transaction: all of the day's entries or none
        for action in actions:
            clock.set(action.recorded)
            try:
                action.run(ledger)
                result.events += 1
            except QingdanError as error:
                result.rejected.append(f"{action.recorded:%Y-%m-%d} {action.what}: {error}")


def _submit(ledger: Any, clock: DemoClock, submission: tuple[datetime, str, date, str | None],
            result: DemoResult) -> None:
    moment, period, day, campaign = submission
    clock.set(moment)
    result.reports.append(ledger.submit_report(period=period, campaign=campaign, as_of=day, on=day,
                                               actor="南阳镇安委办"))


def build_demo(url: str, *, seed: int = 2020, scale: str = "full", catalogue: Any = None,
               progress: Callable[[int, int, str], None] | None = None) -> DemoResult:
    """Record the demo story into a fresh ledger at ``url``; returns what was built.

    ``url`` must not hold anything but a previous demo (which is replaced): an existing file or a
    non-empty database that is not a demo ledger raises :class:`NotADemoLedger` and is left alone.
    ``scale``: ``full`` (1–2 thousand hazards) or ``small`` (a tenth, for tests). ``progress(done,
    total, month)`` is called after each month.
    """
    if scale not in SCALES:
        raise InvalidCommand(f"演示规模应为 {'、'.join(SCALES)}，收到“{scale}”")
    target = inspect_target(url)
    if target.path is None:  # PostgreSQL (or memory): recorded in place, after clearing a demo
        if target.state == "demo":
            _clear_postgres_demo(url)
        return _record_story(url, seed=seed, scale=scale, catalogue=catalogue, progress=progress)
    temporary = target.path.with_name(f".{target.path.name}.demo-{os.getpid()}-{secrets.token_hex(4)}.db")
    try:
        result = _record_story(str(temporary), seed=seed, scale=scale, catalogue=catalogue, progress=progress)
        _make_self_contained(temporary)
        inspect_target(url)  # still nothing but a demo there (nobody put a ledger there meanwhile)
        for suffix in SQLITE_SIDECARS:  # the old demo's journal must not be read into the new one
            Path(f"{target.path}{suffix}").unlink(missing_ok=True)
        os.replace(temporary, target.path)
    finally:
        for suffix in ("", *SQLITE_SIDECARS):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)
    result.url = url
    return result


def _record_story(url: str, *, seed: int, scale: str, catalogue: Any,
                  progress: Callable[[int, int, str], None] | None) -> DemoResult:
    clock = DemoClock()
    ledger = qingdan.open_ledger(url, actor="南阳镇安监局", clock=clock, catalogue=catalogue)
    result = DemoResult(url=url)
    try:
        story = Story(ledger.catalogue, seed, SCALES[scale])
        story.plan_units()
        story.plan_measures()
        story.plan_hazards()
        story.plan_tasks()
        story.plan_indicators()
        reports = story.plan_reports()
        result.hazards, result.measures, result.units = (story.counts[k] for k in ("hazards", "measures", "units"))
        actions = sorted(story.actions)
        # The township profile every form prints (its departments: those the campaigns name).
        # ("各有关部门和单位", "安委会有关成员单位" … are groups of them, not departments.)
        departments = sorted({d for c in ledger.catalogue.campaigns.values()
                              for d in (*c.lead_departments, *c.departments)
                              if not d.startswith("各") and "有关" not in d})
        ledger.set_profile(name="南阳镇", unit="南阳镇安全生产委员会办公室", reviewer="李强", preparer="王明",
                           phone="0000-0000000", departments=departments, on=date(2020, 7, 1),
                           actor="南阳镇安委办", note="演示：电话为虚构号码")
        submissions = [(datetime.combine(day, time(16, 0), tzinfo=CST), period, day, campaign)
                       for period, day, campaign in reports]
        months = sorted({(a.recorded.year, a.recorded.month) for a in actions}
                        | {(s[0].year, s[0].month) for s in submissions})
        # A batch is recorded at one moment, so the story is written one working day at a time:
        # each day's entries in one transaction, recorded at the day's last entry.
        days: dict[date, list[Action]] = {}
        for action in actions:
            days.setdefault(action.recorded.date(), []).append(action)
        due = sorted(submissions, key=lambda s: (s[0], s[3] or ""))
        for done, (year, month) in enumerate(months, 1):
            for day in sorted(d for d in days if (d.year, d.month) == (year, month)):
                while due and due[0][0].date() < day:
                    _submit(ledger, clock, due.pop(0), result)
                group = days[day]
                while due and due[0][0].date() == day:
                    before = [a for a in group if a.recorded < due[0][0]]
                    _record(ledger, clock, before, result)
                    _submit(ledger, clock, due.pop(0), result)
                    group = group[len(before):]
                _record(ledger, clock, group, result)
            while due and (due[0][0].year, due[0][0].month) == (year, month):
                _submit(ledger, clock, due.pop(0), result)
            if progress is not None:
                progress(done, len(months), f"{year}-{month:02d}")
        _mark_demo(ledger, seed=seed, scale=scale)
    finally:
        ledger.disconnect()
    return result


# -- recognising a demo ledger -------------------------------------------------------------------

DEMO_TABLE = "qd_demo"
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_EVENTS = "stored_events"


class NotADemoLedger(InvalidCommand):
    """Something other than a demo ledger is at the demo's path; nothing was changed."""

    def __init__(self, target: str, reason: str, *, database: bool = False) -> None:
        self.target, self.reason = target, reason
        if database:
            text = (f"数据库 {target} 不能用来建立演示台账：它{reason}。为免误删台账，演示没有改动它。"
                    "请另选一个空的数据库或 schema（如在地址后加 ?schema=demo）")
        else:
            text = (f"{target} 已存在，{reason}。为免误删台账，演示没有改动它。请另选一个文件名"
                    "（如 qingdan demo --db 演示台账.db）；如确定不再需要这个文件，请先自行移走或删除")
        super().__init__(text)


@dataclass(frozen=True)
class DemoTarget:
    """Where a demo would be built: ``state`` is ``absent`` (nothing there), ``empty`` (a database
    without events) or ``demo`` (a previous demo, intact, that may be replaced). ``path``: the SQLite
    file (None for PostgreSQL and memory)."""

    url: str
    state: str
    path: Path | None = None


def demo_mark(position: int, chain: str) -> str:
    """The seal of a demo marker: a hash of the last position and the chain head it names."""
    return hashlib.sha256(f"qingdan 南阳镇演示台账\n{int(position)}\n{chain}".encode()).hexdigest()


def _mark_demo(ledger: Any, *, seed: int, scale: str) -> None:
    """Leave the marker that lets a later ``qingdan demo`` recognise (and replace) this ledger."""
    position, chain = ledger.head()  # chains every event, so the head names the last one
    if position != ledger.last_position():
        raise QingdanError(f"演示台账未能封存：哈希链停在 #{position}，事件已到 #{ledger.last_position()}")
    store = ledger._view.store  # the marker is the demo's own table, beside the ledger's
    store.execute(f"CREATE TABLE IF NOT EXISTS {DEMO_TABLE} (mark TEXT PRIMARY KEY, position BIGINT NOT NULL, "
                  "chain TEXT NOT NULL, seed BIGINT, scale TEXT, built_at TEXT)")
    store.execute(f"DELETE FROM {DEMO_TABLE}")
    store.execute(f"INSERT INTO {DEMO_TABLE} (mark, position, chain, seed, scale, built_at) VALUES (?, ?, ?, ?, ?, ?)",
                  (demo_mark(position, chain), position, chain, seed, scale, datetime.now(CST).isoformat()))


def inspect_target(url: str) -> DemoTarget:
    """What is at ``url`` now; :class:`NotADemoLedger` unless it is nothing, empty, or a demo."""
    from qingdan.core.ledger import persistence_env

    env, backend = persistence_env(url)
    if backend == "postgres":
        return DemoTarget(url, _inspect_postgres(url, env))
    name = env["SQLITE_DBNAME"]
    if name.startswith("file:"):  # an in-memory ledger: always fresh
        return DemoTarget(url, "absent")
    path = Path(name)
    return DemoTarget(url, _inspect_sqlite(path), path)


def _inspect_sqlite(path: Path) -> str:
    if not path.exists() and not path.is_symlink():
        for suffix in SQLITE_SIDECARS:
            stray = Path(f"{path}{suffix}")
            if stray.exists():
                raise NotADemoLedger(str(stray), "是某个数据库留下的日志文件（其数据库文件已不在）")
        return "absent"
    if path.is_symlink():
        raise NotADemoLedger(str(path), "是一个指向别处的链接")
    if path.is_dir():
        raise NotADemoLedger(str(path), "是一个文件夹")
    if not path.is_file():
        raise NotADemoLedger(str(path), "不是普通文件")
    try:
        with open(path, "rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except OSError as error:
        raise NotADemoLedger(str(path), f"无法读取（{error.strerror or error}）") from None
    if not header:
        raise NotADemoLedger(str(path), "是一个空文件")
    if header != SQLITE_HEADER:
        raise NotADemoLedger(str(path), "不是 qingdan 台账（不是 SQLite 数据库文件）")
    # Read only; with no journal beside it the file alone is the database, read as immutable so
    # that looking creates no -wal/-shm files next to someone else's database.
    journal = any(Path(f"{path}{suffix}").exists() for suffix in SQLITE_SIDECARS)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{'mode=ro' if journal else 'immutable=1'}", uri=True)
    except sqlite3.Error as error:
        raise NotADemoLedger(str(path), f"无法作为数据库读取（{error}）") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if SQLITE_EVENTS not in tables:
            raise NotADemoLedger(str(path), "是一个 SQLite 数据库，但不是 qingdan 台账")

        def query(statement: str) -> list[tuple[Any, ...]]:
            return conn.execute(statement).fetchall()

        state = _judge(str(path), tables, query, SQLITE_EVENTS, "rowid")
    except sqlite3.Error as error:
        raise NotADemoLedger(str(path), f"无法作为数据库读取（{error}）") from None
    finally:
        conn.close()
    if state == "empty":
        raise NotADemoLedger(str(path), "是一个还没有登记任何事件的 qingdan 台账，不是演示台账")
    return state


def _judge(shown: str, tables: set[str], query: Callable[[str], list[tuple[Any, ...]]],
           events: str, position_column: str, *, database: bool = False) -> str:
    """``empty``, ``demo``, or :class:`NotADemoLedger`, from a qingdan database's tables and contents."""
    if events not in tables:
        if DEMO_TABLE in tables:
            raise NotADemoLedger(shown, database=database, reason="带有演示标记，但没有事件记录，与标记不符")
        return "empty"
    last = int(query(f"SELECT COALESCE(MAX({position_column}), 0) FROM {events}")[0][0])
    if DEMO_TABLE not in tables:
        if last == 0:
            return "empty"
        count = int(query(f"SELECT COUNT(*) FROM {events}")[0][0])
        raise NotADemoLedger(shown, database=database, reason=f"是一个 qingdan 台账（已登记 {count} 个事件），不是演示台账")
    marks = query(f"SELECT mark, position, chain FROM {DEMO_TABLE}")
    if len(marks) != 1 or not isinstance(marks[0][1], int) or marks[0][0] != demo_mark(marks[0][1], str(marks[0][2])):
        raise NotADemoLedger(shown, database=database, reason="带有演示标记，但标记已损坏，无法确认是演示台账")
    _, position, chain = marks[0]
    if last > position:
        added = int(query(f"SELECT COUNT(*) FROM {events} WHERE {position_column} > {int(position)}")[0][0])
        raise NotADemoLedger(shown, database=database, reason=f"原是演示台账，但建成后又登记了 {added} 个事件，可能已在使用")
    head = query(f"SELECT hash FROM qd_chain WHERE position = {int(position)}") if "qd_chain" in tables else []
    if last != position or not head or head[0][0] != chain:
        raise NotADemoLedger(shown, database=database, reason="带有演示标记，但事件记录与标记不符，无法确认是演示台账")
    return "demo"


def _postgres_events_table() -> str:
    from qingdan.core.ledger import LedgerApplication

    return f"{LedgerApplication.name.lower()}_events"


def _postgres_connect(env: dict[str, str]) -> Any:
    import psycopg

    return psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                           user=env["POSTGRES_USER"], password=env.get("POSTGRES_PASSWORD") or None,
                           autocommit=True, connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", 5)))


def _postgres_tables(conn: Any, schema: str) -> set[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))
    return {r[0] for r in rows.fetchall()}


def _inspect_postgres(url: str, env: dict[str, str]) -> str:
    from psycopg import sql

    schema = env.get("POSTGRES_SCHEMA") or "public"
    events = _postgres_events_table()
    with _postgres_connect(env) as conn:
        tables = _postgres_tables(conn, schema)
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

        def query(statement: str) -> list[tuple[Any, ...]]:
            return conn.execute(statement).fetchall()  # type: ignore[no-any-return]

        return _judge(_shown_url(url), tables, query, events, "notification_id", database=True)


def _clear_postgres_demo(url: str) -> None:
    """Empty a PostgreSQL demo ledger (checked by :func:`inspect_target` just before)."""
    from psycopg import sql

    from qingdan.core.ledger import persistence_env

    env, _ = persistence_env(url)
    schema = env.get("POSTGRES_SCHEMA") or "public"
    events = _postgres_events_table()
    with _postgres_connect(env) as conn:
        ours = sorted(t for t in _postgres_tables(conn, schema) if t == events or t.startswith("qd_"))
        with conn.transaction():
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                sql.SQL(", ").join(sql.Identifier(schema, t) for t in ours)))


def _shown_url(url: str) -> str:
    """A database URL without its password, to put in a message."""
    from urllib.parse import urlparse

    parts = urlparse(url)
    if parts.password:
        url = url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _make_self_contained(path: Path) -> None:
    """Fold a finished SQLite ledger's write-ahead log into the file, so the file alone is the ledger."""
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    for suffix in SQLITE_SIDECARS:
        leftover = Path(f"{path}{suffix}")
        if leftover.exists() and leftover.stat().st_size:
            raise QingdanError(f"演示台账未能写完：{leftover} 仍有未并入的内容")
        leftover.unlink(missing_ok=True)


def _period(task: Any, day: date) -> str | None:
    """The period of a recurring task that ``day`` falls in (None for a one-off task)."""
    from qingdan.core.spec import period_label

    return None if task.recurrence is None else period_label(task.recurrence, day)
