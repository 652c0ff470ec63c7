"""What every handler shares: the write path and the catalogue's rules (campaigns, categories,
unit attributes, tasks, targets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidCommand, NotFound
from ..errors import show as _show
from ..writes import UnitOfWork


class Handler:
    def __init__(self, uow: UnitOfWork, catalogue: Callable[[], Any]) -> None:
        self.uow = uow
        self._catalogue = catalogue

    @property
    def catalogue(self) -> Any:
        return self._catalogue()

    def campaign(self, campaign_id: str) -> Any:
        return self.catalogue.campaign(campaign_id)

    def check_category(self, campaign: Any, category: str | None) -> None:
        if category is not None and campaign.hazard_categories and category not in campaign.hazard_categories:
            raise InvalidCommand(
                f"专项“{campaign.name}”没有隐患类别“{category}”。可用类别："
                + "、".join(campaign.hazard_categories)
            )

    def check_attributes(self, attributes: dict[str, Any], *, allow_none: bool) -> dict[str, Any]:
        return self.catalogue.check_unit_attributes(attributes, allow_none=allow_none)

    def task_spec(self, task_id: str) -> tuple[Any, Any]:
        task = self.catalogue.tasks.get(task_id)
        if task is not None:
            return self.catalogue.campaigns[task.campaign], task
        raise NotFound(f"没有任务“{_show(task_id)}”。用 `qingdan task list` 查看各专项的重点任务")

    def target(self, target_id: str) -> Any:
        target = self.catalogue.targets.get(target_id)
        if target is None:
            raise NotFound(f"没有目标“{_show(target_id)}”。用 `qingdan targets` 查看各专项的整治目标")
        return target
