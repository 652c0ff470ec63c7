"""报送: the monthly submission of the 两个清单, digesting exactly what the ledger held."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from eventsourcing.persistence import IntegrityError

from .. import commands as cmd
from ..chain import chain_head
from ..errors import Conflict, InvalidCommand, QingdanError
from ..queries import LedgerSnapshot, rows_digest, two_lists
from ..records import Report, report_number
from ..rows import TwoLists, digest_fields
from ..writes import RETRIES, LogMoved
from .base import Handler


class ReportCommands(Handler):
    def submit(self, c: cmd.SubmitReport, prepare: Callable[[TwoLists], None] | None = None) -> str:
        uow = self.uow
        if uow.batching:
            raise InvalidCommand("报送两个清单须在批量登记完成之后进行（报送的是已登记的数据）")
        if c.campaign is not None:
            self.campaign(c.campaign)
        common = uow.common(c)
        uow.check_future(common["on"])
        as_of = c.as_of or common["on"]
        if as_of > common["on"]:
            raise InvalidCommand(f"截至日期 {as_of} 晚于报送日期 {common['on']}")
        number = report_number(c.period, c.campaign)
        label = f"{c.period}{'（' + c.campaign + '）' if c.campaign else ''} 的两个清单"
        for _ in range(RETRIES):
            existing: Report | None = None
            if uow.exists(number):
                existing = uow.get(Report, number)
                uow.authorise(Report, "resubmit", common["actor"], number, existing)
                if c.resubmit_reason is None:
                    raise InvalidCommand(
                        f"{label}已报送 {len(existing.submissions)} 次（最近一次 "
                        f"{existing.submissions[-1]['on']}）。如需重新报送，请说明原因（resubmit_reason，"
                        "命令行 --resubmit --reason …）；原报送记录保留，可用 report diff 对比")
            else:
                uow.authorise(Report, "submit", common["actor"], number)
                if c.resubmit_reason is not None:
                    raise InvalidCommand(f"{label}尚未报送过，首次报送无需填写重新报送原因")
            position, chain, lists, known_at = self._read_for_submission(as_of, c.campaign)
            if prepare is not None:
                prepare(lists)
            fields = {"as_of": as_of, "known_at": known_at or uow.now(), "position": position,
                      "chain": chain, "digest": rows_digest(lists), "digest_fields": digest_fields(),
                      "hazard_count": len(lists.hazards),
                      "measure_count": len(lists.measures)}
            with uow.clocked():
                if existing is None:
                    report = Report.submit(number=number, period=c.period, campaign=c.campaign,
                                           **common, **fields)
                else:
                    report = existing
                    report.resubmit(**common, reason=c.resubmit_reason, **fields)
            try:
                # An empty log has no recorded time to stand for "as known then": then the
                # submission must be the log's first event, known at its own recorded time.
                uow.store([report], at_position=0 if known_at is None else None,
                          stamp_known_at=Report.stamp_known_at if known_at is None else None)
            except (LogMoved, IntegrityError):
                uow.forget(report)
                continue  # another writer got in between: read the lists again
            return number
        raise Conflict(f"报送 {label}时其他人一直在登记，已重试 {RETRIES} 次仍未成功，请稍后再试")

    def _read_for_submission(self, as_of: date, campaign: str | None
                             ) -> tuple[int, str, TwoLists, datetime | None]:
        """What a submission hands in: the lists as of ``as_of`` of the log up to a position, that
        position, the chain head there and the recorded time of its event, read from one snapshot.

        That recorded time is the submission's ``known_at``: every event after the position was
        recorded later (:func:`qingdan.core.store.restamp`), so the lists as known then are exactly
        these, whatever is written meanwhile. None for an empty log.
        """
        view, uow = self.uow.view, self.uow
        for _ in range(RETRIES):
            view.catch_up()
            with view.store.read_snapshot():
                position = view.position()
                chain = chain_head(view.store, position)
                lists = two_lists(LedgerSnapshot(view, self.catalogue, as_of, None), campaign=campaign)
            if position == 0:
                return position, chain, lists, None
            last, *following = view.log.page(after=position - 1, limit=2)
            known_at = uow.recorded_time(last)
            if known_at is None:
                raise QingdanError(f"台账第 {position} 个事件无法读取（可能在 qingdan 之外被改动），"
                                   "请先运行 `qingdan verify`")
            if following and (uow.recorded_time(following[0]) or known_at) <= known_at:
                continue  # the view stopped inside one write: catch up with the rest of it
            return position, chain, lists, known_at
        raise Conflict("台账视图未能跟上事件记录，请稍后再试")
