"""Page timings on a kept ledger, by offset: the first, the middle and the last page of 50 at four
as-of dates, for all campaigns and for one, now and as known then (what docs/performance.md's *City*
section compares side by side, old code against new).

    python bench/pages.py /tmp/qingdan-bench/city-ledger-<pid>.db
"""

from __future__ import annotations

import sys
import time
from datetime import date, datetime
from datetime import time as dtime

import qingdan
from qingdan.core.clock import CST

DATES = (date(2020, 9, 30), date(2021, 6, 30), date(2022, 3, 31), date(2022, 12, 31))
PAGE = 50


def main(url: str) -> None:
    ledger = qingdan.open_ledger(url, actor="bench")
    ledger.catch_up()
    ledger.two_lists(as_of=DATES[-1], campaign="fire")  # warm-up: plugins, prepared statements
    for campaign in (None, "fire"):
        for known in (False, True):
            out = []
            for d in DATES:
                known_at = datetime.combine(d, dtime(23, 59), tzinfo=CST) if known else None
                total = len(ledger.two_lists(as_of=d, campaign=campaign, known_at=known_at).hazards)
                for offset in (0, total // 2, max(0, total - PAGE)):
                    ledger.forget_snapshots()
                    t0 = time.perf_counter()
                    ledger.two_lists(as_of=d, campaign=campaign, known_at=known_at, limit=PAGE, offset=offset)
                    out.append((time.perf_counter() - t0) * 1e3)
            print(f"{campaign or 'all campaigns'}{', as known then' if known else ''}: "
                  + " ".join(f"{ms:.0f}" for ms in out) + " ms (first, middle, last page at each date)")


if __name__ == "__main__":
    main(sys.argv[1])
