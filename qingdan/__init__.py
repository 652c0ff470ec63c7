"""qingdan: an event-sourced ledger of the 两个清单 for 安全生产专项整治 campaigns.

The public API: :func:`open_ledger`, the plugin models and ``hookimpl``, the helpers for writing a
campaign plugin (:mod:`qingdan.core.authoring`), the row models and the errors.

The names load when first used (PEP 562): ``import qingdan`` itself costs only the errors, so a
command that needs the ledger but not the plugin helpers or the row models does not pay for them
(start-up is what a clerk waits for at every command).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from qingdan.core.errors import Conflict, InvalidCommand, NotFound, PermissionDenied, QingdanError

#: Where each public name lives.
_HOMES = {
    **dict.fromkeys(("check", "hazard_rule", "monthly_two_lists_check", "phases", "projection",
                     "share_target", "standard_phases", "target", "task_rule", "task_table",
                     "unit_check", "unit_rule"), "qingdan.core.authoring"),
    "hookimpl": "qingdan.core.hookspecs",
    "Ledger": "qingdan.core.ledger", "open_ledger": "qingdan.core.ledger",
    **dict.fromkeys(("HazardRow", "HistoryEntry", "IndicatorReading", "MeasureRow", "TargetStatus",
                     "TaskRow", "TwoLists", "UnitRow"), "qingdan.core.rows"),
    **dict.fromkeys(("AttributeSpec", "Campaign", "Check", "DeadlineRule", "Finding", "Phase",
                     "Projection", "Snapshot", "Target", "TaskSpec"), "qingdan.core.spec"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qingdan' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


if TYPE_CHECKING:  # what type checkers and IDEs see: the same names, imported eagerly
    from qingdan.core.authoring import (
        check,
        hazard_rule,
        monthly_two_lists_check,
        phases,
        projection,
        share_target,
        standard_phases,
        target,
        task_rule,
        task_table,
        unit_check,
        unit_rule,
    )
    from qingdan.core.hookspecs import hookimpl
    from qingdan.core.ledger import Ledger, open_ledger
    from qingdan.core.rows import (
        HazardRow,
        HistoryEntry,
        IndicatorReading,
        MeasureRow,
        TargetStatus,
        TaskRow,
        TwoLists,
        UnitRow,
    )
    from qingdan.core.spec import (
        AttributeSpec,
        Campaign,
        Check,
        DeadlineRule,
        Finding,
        Phase,
        Projection,
        Snapshot,
        Target,
        TaskSpec,
    )

__all__ = [
    "open_ledger", "Ledger", "hookimpl",
    "Campaign", "Phase", "TaskSpec", "AttributeSpec", "Target", "Check", "Finding", "Projection",
    "Snapshot", "DeadlineRule",
    "phases", "standard_phases", "task_table", "target", "share_target", "check", "unit_check",
    "unit_rule", "hazard_rule", "task_rule", "monthly_two_lists_check", "projection",
    "HazardRow", "MeasureRow", "TaskRow", "UnitRow", "IndicatorReading", "TwoLists", "HistoryEntry",
    "TargetStatus",
    "QingdanError", "InvalidCommand", "NotFound", "Conflict", "PermissionDenied",
]
