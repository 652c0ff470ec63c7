"""The read side of the ledger's facade: queries as of any date, the view, the audit.

:class:`~qingdan.core.ledger.Ledger` is this plus the commands; both halves only delegate — the
queries to :mod:`qingdan.core.reading`, the audit to :mod:`qingdan.core.audit` — so each stays a
list of the public names with their signatures and documentation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from . import audit, rows
from .audit import VerifyReport
from .chain import chain_head
from .eventlog import EventLog
from .queries import LedgerSnapshot, Stats
from .reading import Queries
from .spec import Finding
from .view import View


class LedgerReads:
    """What every ledger answers; the state it reads is set up by :class:`~qingdan.core.ledger.Ledger`."""

    _queries: Queries
    _view: View
    _log: EventLog
    catalogue: Any

    def today(self) -> date:  # pragma: no cover - the ledger's own clock
        raise NotImplementedError

    def profile(self, *, as_of: date | None = None,
                known_at: date | datetime | None = None) -> rows.TownshipProfile | None:
        """The township profile as of a date (None until one is set)."""
        return self._queries.profile(as_of, known_at)

    # -- queries -------------------------------------------------------------------------------

    def hazard(self, number: str, /, *, as_of: date | None = None,
               known_at: date | datetime | None = None) -> rows.HazardRow:
        """The hazard as it stood at the end of ``as_of``, as recorded by ``known_at``."""
        return self._queries.hazard(number, as_of, known_at)

    def measure(self, number: str, /, *, as_of: date | None = None,
                known_at: date | datetime | None = None) -> rows.MeasureRow:
        """The measure as it stood at the end of ``as_of``, as recorded by ``known_at``."""
        return self._queries.measure(number, as_of, known_at)

    def unit(self, number: str, /, *, as_of: date | None = None,
             known_at: date | datetime | None = None) -> rows.UnitRow:
        """The unit with its attributes as of ``as_of``."""
        return self._queries.unit(number, as_of, known_at)

    def indicator(self, target_id: str, /, *, as_of: date | None = None,
                  known_at: date | datetime | None = None) -> rows.IndicatorReading | None:
        """The latest reading of a target dated on or before ``as_of``."""
        return self._queries.indicator(target_id, as_of, known_at)

    def history(self, number: str, /) -> list[rows.HistoryEntry]:
        """Every event of a record, in recording order, with effective date, recorded time, actor."""
        return self._queries.history(number)

    def snapshot(self, *, as_of: date | None = None,
                 known_at: date | datetime | None = None) -> LedgerSnapshot:
        """The read-only state as of ``as_of`` (default today) as known at ``known_at`` (default now)."""
        return self._queries.snapshot(as_of=as_of, known_at=known_at)

    def forget_snapshots(self) -> None:
        """Drop the decoded snapshots kept for repeated reads (benchmarks measure cold reads)."""
        self._queries.forget_snapshots()

    def two_lists(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                  campaign: str | None = None, department: str | None = None,
                  village: str | None = None, include_withdrawn: bool = False,
                  limit: int | None = None, offset: int = 0) -> rows.TwoLists:
        """The 问题隐患清单 and 制度措施清单 as they stood at ``as_of``, as known at ``known_at``.

        Rows are ordered by number; ``limit``/``offset`` page through each list.
        """
        return self._queries.two_lists(as_of=as_of, known_at=known_at, campaign=campaign,
                                       department=department, village=village,
                                       include_withdrawn=include_withdrawn, limit=limit, offset=offset)

    def overdue(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                campaign: str | None = None) -> list[rows.HazardRow]:
        """Hazards not completed whose deadline passed before ``as_of``."""
        lists = self.two_lists(as_of=as_of, known_at=known_at, campaign=campaign)
        return [h for h in lists.hazards if h.overdue]

    def due_soon(self, *, within_days: int = 7, as_of: date | None = None,
                 known_at: date | datetime | None = None) -> list[rows.DueItem]:
        """Open hazards' deadlines, unfinished 重点任务 and planned 制度措施 falling due within
        ``within_days`` after ``as_of`` — and those already overdue (negative ``days_left``) — by date."""
        return self._queries.due_soon(within_days, as_of, known_at)

    def stats(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              campaign: str | None = None) -> Stats:
        """Counts by campaign, level and status; 整改率; 重大隐患 open and overdue; measures by status."""
        return self._queries.stats(as_of, known_at, campaign)

    def tasks(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              campaign: str | None = None) -> list[rows.TaskRow]:
        """The 重点任务 of the loaded campaigns with their progress as of the date."""
        return self._queries.tasks(as_of, known_at, campaign)

    def units(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
              kind: str | None = None, include_closed: bool = False, **attributes: Any) -> list[rows.UnitRow]:
        """Units with their attributes as of the date (closed ones only with ``include_closed``).

        Each attribute filter is coerced to the attribute's declared type (``贮存起始日期="2020-08-01"``
        matches the date; ``None`` matches units without it); an undeclared name or a value of the
        wrong type raises :class:`InvalidCommand`.
        """
        return self._queries.units(as_of, known_at, kind, include_closed, attributes)

    def targets(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                campaign: str | None = None) -> list[rows.TargetStatus]:
        """Every 整治目标 with its value and state; plugin failures go to ``evaluation_errors``."""
        return self._queries.targets(as_of, known_at, campaign)

    def findings(self, *, as_of: date | None = None, known_at: date | datetime | None = None,
                 campaign: str | None = None) -> list[Finding]:
        """What every check finds (about ``campaign``, if given); plugin failures go to ``evaluation_errors``.

        Every check runs even when filtering, because the plan-wide checks find things about
        every campaign's hazards and tasks.
        """
        return self._queries.findings(as_of, known_at, campaign)

    def projection(self, projection_id: str, /, *, as_of: date | None = None,
                   known_at: date | datetime | None = None) -> list[dict[str, Any]]:
        """A campaign's own table (e.g. 红橙黄蓝 distribution of units) as of the date."""
        return self._queries.projection(projection_id, as_of, known_at)

    # -- the view and the audit -----------------------------------------------------------------

    def catch_up(self) -> int:
        """Apply to the view any events it has not seen yet; returns how many."""
        return self._view.catch_up()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Replay the view from the event log beside the live one and swap it in (readers never
        see a half-built view); ``progress(done, total)`` is called per batch."""
        applied = self._view.rebuild(progress)
        self.forget_snapshots()
        return applied

    def head(self) -> tuple[int, str]:
        """The position of the last event and the hash chain's head there (after catching up)."""
        self._view.catch_up()
        position = self._view.position()
        return position, chain_head(self._view.store, position)

    def verify_integrity(self, *, dates: list[date] | None = None) -> VerifyReport:
        """What ``qingdan verify`` runs (``verify`` itself is the 验收 command). Recompute the hash
        chain, check every submitted report's digest against a fresh reconstruction, and check the
        view against the reference fold (today, each report's date, and ``dates``). ``.ok`` is
        False and ``.problems`` names each problem when anything is wrong."""
        self.forget_snapshots()  # read the view afresh: the point is to catch it being wrong
        return audit.verify(audit.Sources(log=self._log, view=self._view, catalogue=self.catalogue,
                                          snapshot=self.snapshot, two_lists=self.two_lists,
                                          today=self.today), dates=dates)
