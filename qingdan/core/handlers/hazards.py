"""问题隐患: report, the 五到位 plan, 挂牌督办, extensions, progress, completion, 验收, 销号, 反销号,
回头看 re-inspection, corrections and withdrawal."""

from __future__ import annotations

from typing import Any

from .. import commands as cmd
from ..base import no_future
from ..domain import HAZARD_CORRECTABLE, Hazard
from ..errors import InvalidCommand
from ..records import Unit
from .base import Handler


class HazardCommands(Handler):
    def report(self, c: cmd.ReportHazard) -> str:
        campaign = self.campaign(c.campaign)
        self.check_category(campaign, c.category)
        common = self.uow.common(c)
        found_on = c.found_on or common["on"]
        no_future(found_on, self.uow.today(), "排查")
        if c.on is not None and c.on != found_on:
            raise InvalidCommand(f"隐患登记的业务日期即排查日期：on={c.on} 与 found_on={found_on} 不一致")
        if c.unit_number is not None:
            self.uow.get(Unit, c.unit_number)
        self.uow.authorise(Hazard, "report", common["actor"], c.number)
        fields = c.model_dump(exclude={"on", "actor", "note", "found_on", "number"})
        fields["inspectors"] = list(c.inspectors)
        common["on"] = found_on
        return self.uow.create(
            f"H-{c.campaign}-{found_on.year}", 4,
            lambda number: Hazard.report(number=number, found_on=found_on, **common, **fields),
            given=c.number,
        )

    def plan(self, number: str, c: cmd.PlanRectification) -> str:
        return self.uow.act(Hazard, number, "plan", c, **c.model_dump(exclude={"on", "actor", "note"}))

    def escalate(self, number: str, c: cmd.Escalate) -> str:
        return self.uow.act(Hazard, number, "escalate", c, supervisor=c.supervisor, level=c.level,
                            doc_no=c.doc_no)

    def request_extension(self, number: str, c: cmd.RequestExtension) -> str:
        return self.uow.act(Hazard, number, "request_extension", c, deadline=c.deadline,
                            deadline_working_days=c.deadline_working_days, reason=c.reason)

    def decide_extension(self, number: str, c: cmd.DecideExtension) -> str:
        return self.uow.act(Hazard, number, "decide_extension", c, approved=c.approved)

    def report_progress(self, number: str, c: cmd.ReportProgress) -> str:
        return self.uow.act(Hazard, number, "report_progress", c, text=c.text)

    def complete(self, number: str, c: cmd.CompleteRectification) -> str:
        return self.uow.act(Hazard, number, "complete", c, cost=c.cost)

    def verify(self, number: str, c: cmd.Verify) -> str:
        return self.uow.act(Hazard, number, "verify", c, passed=c.passed, inspector=c.inspector,
                            method=c.method)

    def close(self, number: str, c: cmd.Close) -> str:
        return self.uow.act(Hazard, number, "close", c)

    def reopen(self, number: str, c: cmd.Reopen) -> str:
        return self.uow.act(Hazard, number, "reopen", c, reason=c.reason)

    def recheck(self, number: str, c: cmd.Recheck) -> str:
        return self.uow.act(Hazard, number, "recheck", c, passed=c.passed, inspector=c.inspector,
                            method=c.method)

    def correct(self, number: str, c: cmd.Correct) -> str:
        if c.field == "found_on":
            raise InvalidCommand(f"{number}：排查日期不能更正；如登记有误，请撤销后按正确日期重新登记")
        if c.field not in HAZARD_CORRECTABLE:
            raise InvalidCommand(
                f"不能更正字段“{c.field}”。可更正：" + "、".join(f"{k}（{v}）" for k, v in HAZARD_CORRECTABLE.items())
            )
        hazard = self.uow.get(Hazard, number)
        value = self._correction_value(hazard, c.field, c.value)
        command = c.model_copy(update={"on": c.on or hazard.found_on})
        return self.uow.act(Hazard, number, "correct", command, field=c.field, value=value,
                            reason=c.reason)

    def _correction_value(self, hazard: Hazard, field: str, value: Any) -> Any:
        """The corrected value checked by the same rule as when it was first given."""
        probe = {"unit": "x", "description": "x", "campaign": hazard.campaign}
        if field in ("unit", "description"):
            probe[field] = value
            return cmd.validate(cmd.ReportHazard, **probe).model_dump()[field]
        if field in ("level", "source", "category", "village", "location", "unit_number", "inspectors"):
            checked = cmd.validate(cmd.ReportHazard, **probe, **{field: value}).model_dump()[field]
            if field == "category":
                self.check_category(self.campaign(hazard.campaign), checked)
            if field == "unit_number" and checked is not None:
                self.uow.get(Unit, checked)
            return list(checked) if field == "inspectors" else checked
        plan = cmd.validate(cmd.PlanRectification, **{field: value}).model_dump()
        return plan[field]

    def withdraw(self, number: str, c: cmd.Withdraw) -> str:
        """Withdraw an erroneous or duplicate entry, effective by default from its 排查日期: as known
        now it never stood in any day's list, as known before the withdrawal it did."""
        if c.on is None:
            c = c.model_copy(update={"on": self.uow.get(Hazard, number).found_on})
        return self.uow.act(Hazard, number, "withdraw", c, reason=c.reason)
