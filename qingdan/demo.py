"""A deterministic demo ledger of 南阳镇 (the seed's township)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import qingdan
from qingdan.core.domain import CST


class DemoClock:
    """Recorded times that follow the story (the demo is written as if entered at the time)."""

    def __init__(self) -> None:
        self.current = datetime(2020, 7, 1, 9, 0, tzinfo=CST)

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current

    def day(self, d: date, hour: int = 10) -> None:
        self.current = max(self.current, datetime(d.year, d.month, d.day, hour, tzinfo=CST))


def build_demo(url: str, progress: Callable[[str], None] = lambda _: None) -> tuple[qingdan.Ledger, str]:
    """Create the demo ledger at ``url``; returns it with the number of the showcased hazard."""
    clock = DemoClock()
    ledger = qingdan.open_ledger(url, actor="南阳镇安监局", clock=clock)
    campaign = "fire" if "fire" in ledger.catalogue.campaigns else next(iter(ledger.catalogue.campaigns))
    progress(f"台账：{url}；专项：{campaign}")

    def on(d: date) -> date:
        clock.day(d)
        return d

    n = ledger.report_hazard(campaign=campaign, unit="南阳镇农贸市场", village="南阳村",
                             location="东侧疏散通道", level="重大", source="检查",
                             inspectors=("镇安监局 王明", "镇消防救援站 李强"),
                             description="疏散通道堆放杂物，消防车通道被占用",
                             found_on=on(date(2020, 9, 3)))
    ledger.plan_rectification(n, responsible_unit="南阳镇农贸市场", responsible_person="张建国",
                              measures="清理杂物，设置禁停标志", funds=1.5,
                              deadline=date(2020, 9, 30), contingency="市场火灾应急疏散预案",
                              on=on(date(2020, 9, 5)))
    ledger.escalate(n, supervisor="南阳镇安委会", level="镇", doc_no="南安委督〔2020〕5号",
                    on=on(date(2020, 9, 6)))
    ledger.request_extension(n, deadline=date(2020, 10, 20), reason="摊位搬迁需协调",
                             on=on(date(2020, 9, 25)))
    ledger.decide_extension(n, approved=True, on=on(date(2020, 9, 27)), actor="南阳镇安委办")
    ledger.complete_rectification(n, cost=1.2, on=on(date(2020, 10, 12)))
    ledger.verify(n, passed=False, inspector="李强", on=on(date(2020, 10, 14)),
                  note="禁停标志未设置")
    ledger.complete_rectification(n, on=on(date(2020, 10, 18)))
    ledger.verify(n, passed=True, inspector="李强", method="政府验收", on=on(date(2020, 10, 19)))
    ledger.close(n, on=on(date(2020, 10, 20)), actor="南阳镇安委办")
    ledger.reopen(n, reason="回头看发现通道再次被占用", on=on(date(2021, 4, 8)))
    ledger.complete_rectification(n, on=on(date(2021, 4, 15)))
    ledger.verify(n, passed=True, inspector="王明", method="专家", on=on(date(2021, 4, 16)))
    ledger.close(n, on=on(date(2021, 4, 18)), actor="南阳镇安委办")
    progress(f"已记录 {n} 的完整整改过程")
    return ledger, n
