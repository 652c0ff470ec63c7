"""A deterministic 台账 csv of hazards for the import's memory step (``bench/steps.py import``).

Each row is a hazard of one of five campaigns: a quarter 重大 (挂牌督办, with funds and a
contingency plan), and at every stage — 未整改, 整改中, 待验收, 已销号 (twice as often) — with the
dates each stage needs: about 3.4 events a row.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

HEADER = ["序号", "单位名称", "村（居）", "隐患描述", "隐患等级", "排查日期", "整改责任单位", "整改责任人", "整改措施",
          "整改期限", "整改资金", "预案", "是否挂牌督办", "整改状态", "整改完成日期", "验收日期", "销号日期", "专项",
          "检查人员"]
VILLAGES = ("东港村", "南阳村", "西湖村", "北山村", "中心社区")
CAMPAIGNS = ("fire", "fire", "hazchem", "road", "construction")


def write_csv(path: Path, rows: int, seed: int = 20200701) -> Path:
    r = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(1, rows + 1):
            found = date(2020, 7, 1) + timedelta(days=r.randrange(0, 180))
            level = r.choice(("一般", "一般", "一般", "重大"))
            stage = r.choice(("未整改", "整改中", "待验收", "已销号", "已销号"))
            plan = stage != "未整改"
            done = found + timedelta(days=r.randrange(1, 30))
            unit = f"企业{i:06d}号五金厂"
            out.writerow([
                i, unit, r.choice(VILLAGES), f"配电箱未接地第{i}处，消防通道堵塞", level, found.isoformat(),
                unit if plan else "", "王伟" if plan else "", "重新接地并清理通道" if plan else "",
                (found + timedelta(days=60)).isoformat() if plan else "", "0.5" if plan else "",
                "专项预案" if plan else "", "县级" if level == "重大" else "否", stage,
                done.isoformat() if stage in ("待验收", "已销号") else "", "",
                (done + timedelta(days=3)).isoformat() if stage == "已销号" else "", r.choice(CAMPAIGNS), "张三"])
    return path
