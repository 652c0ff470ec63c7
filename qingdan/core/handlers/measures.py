"""制度措施: add, 印发, 落实, revise, 废止."""

from __future__ import annotations

from .. import commands as cmd
from ..errors import InvalidCommand
from ..records import Measure
from .base import Handler


class MeasureCommands(Handler):
    def add(self, c: cmd.AddMeasure) -> str:
        self.campaign(c.campaign)
        common = self.uow.common(c)
        self.uow.check_future(common["on"])
        self.uow.authorise(Measure, "add", common["actor"], c.number, departments=(c.department,))
        fields = c.model_dump(include={"campaign", "title", "kind", "department", "due"})
        if c.due is not None and c.due < common["on"]:
            raise InvalidCommand(f"完成时限 {c.due} 早于登记日期 {common['on']}")
        return self.uow.create(
            f"M-{c.campaign}-{common['on'].year}", 4,
            lambda number: Measure.add(number=number, **common, **fields),
            given=c.number,
        )

    def issue(self, number: str, c: cmd.IssueMeasure) -> str:
        return self.uow.act(Measure, number, "issue", c, doc_no=c.doc_no)

    def implement(self, number: str, c: cmd.ImplementMeasure) -> str:
        return self.uow.act(Measure, number, "implement", c)

    def revise(self, number: str, c: cmd.ReviseMeasure) -> str:
        return self.uow.act(Measure, number, "revise", c, reason=c.reason, title=c.title, doc_no=c.doc_no)

    def repeal(self, number: str, c: cmd.RepealMeasure) -> str:
        return self.uow.act(Measure, number, "repeal", c, reason=c.reason)
