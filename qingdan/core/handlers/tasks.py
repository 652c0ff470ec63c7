"""重点任务 progress and completion, and reported 指标 readings: records of things a plugin defines.

A recurring task (``TaskSpec.recurrence``) is one record per period: ``task:fire.9@2021``; a one-off
task keeps its key ``task:fire.9``.
"""

from __future__ import annotations

from typing import Any

from .. import commands as cmd
from ..errors import InvalidCommand
from ..errors import show as _show
from ..labels import RECURRENCE_LABELS
from ..records import Indicator, Task
from ..spec import period_bounds
from .base import Handler


class TaskCommands(Handler):
    def _tracked_task(self, task_id: str, c: Any, action: str) -> str:
        """The task's record number (``fire.9`` or ``fire.9@2021``), tracked."""
        campaign, spec = self.task_spec(task_id)
        common = self.uow.common(c)
        self.uow.check_future(common["on"])
        number = self._number(task_id, spec, campaign, c.period, common["on"])
        self.uow.authorise(Task, action, common["actor"], number, departments=spec.all_departments)
        self.uow.track(Task, "task:" + number, number, campaign, common["actor"])
        return number

    @staticmethod
    def _number(task_id: str, spec: Any, campaign: Any, period: str | None, on: Any) -> str:
        if spec.recurrence is None:
            if period is not None:
                raise InvalidCommand(f"任务 {task_id} 不是周期性任务，不能填写周期（收到“{_show(period)}”）")
            return task_id
        every = RECURRENCE_LABELS[spec.recurrence]
        if period is None:
            raise InvalidCommand(f"任务 {task_id} 为{every}任务，请填写周期（如 "
                                 f"{spec.periods(campaign.start, campaign.end, campaign.end)[0][0]}）")
        try:
            first, last = period_bounds(spec.recurrence, period)
        except ValueError:
            raise InvalidCommand(f"任务 {task_id} 为{every}任务，周期“{_show(period)}”格式不符") from None
        begun = [label for label, _ in spec.periods(campaign.start, campaign.end, campaign.end)]
        if period not in begun:
            raise InvalidCommand(f"任务 {task_id} 的周期应为 {begun[0]} 至 {begun[-1]}，收到“{_show(period)}”")
        if on < first:
            raise InvalidCommand(f"任务 {task_id}：周期 {period} 自 {first} 开始，{on} 尚未开始")
        return f"{task_id}@{period}"

    def report_progress(self, task_id: str, c: cmd.ReportTaskProgress) -> str:
        number = self._tracked_task(task_id, c, "report_progress")
        return self.uow.act(Task, number, "report_progress", c, key="task:" + number,
                            text=c.text, percent=c.percent)

    def complete(self, task_id: str, c: cmd.CompleteTask) -> str:
        number = self._tracked_task(task_id, c, "complete")
        return self.uow.act(Task, number, "complete", c, key="task:" + number)

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
