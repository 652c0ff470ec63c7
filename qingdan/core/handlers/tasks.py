"""重点任务 progress and completion, and reported 指标 readings: records of things a plugin defines."""

from __future__ import annotations

from .. import commands as cmd
from ..errors import InvalidCommand
from ..records import Indicator, Task
from .base import Handler


class TaskCommands(Handler):
    def _tracked_task(self, task_id: str, c: cmd.Command, action: str) -> None:
        campaign, spec = self.task_spec(task_id)
        common = self.uow.common(c)
        self.uow.check_future(common["on"])
        self.uow.authorise(Task, action, common["actor"], task_id,
                           departments=spec.lead_departments + spec.departments)
        self.uow.track(Task, "task:" + task_id, task_id, campaign, common["actor"])

    def report_progress(self, task_id: str, c: cmd.ReportTaskProgress) -> str:
        self._tracked_task(task_id, c, "report_progress")
        return self.uow.act(Task, task_id, "report_progress", c, key="task:" + task_id,
                            text=c.text, percent=c.percent)

    def complete(self, task_id: str, c: cmd.CompleteTask) -> str:
        self._tracked_task(task_id, c, "complete")
        return self.uow.act(Task, task_id, "complete", c, key="task:" + task_id)

    def record_indicator(self, target_id: str, c: cmd.RecordIndicator) -> str:
        target = self.target(target_id)
        if target.measure is not None:
            raise InvalidCommand(f"目标“{target.title}”由台账数据计算得出，不需要填报指标")
        campaign = self.campaign(target.campaign)
        common = self.uow.common(c)
        self.uow.check_future(common["on"])
        self.uow.authorise(Indicator, "record", common["actor"], target_id)
        self.uow.track(Indicator, "indicator:" + target_id, target_id, campaign, common["actor"])
        return self.uow.act(Indicator, target_id, "record", c, key="indicator:" + target_id,
                            value=c.value)
