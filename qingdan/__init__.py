"""qingdan: an event-sourced ledger of the 两个清单 for 安全生产专项整治 campaigns.

The public API: :func:`open_ledger`, the plugin models and ``hookimpl``, the helpers for writing a
campaign plugin (:mod:`qingdan.core.authoring`), the row models and the errors.
"""

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
from qingdan.core.errors import Conflict, InvalidCommand, NotFound, PermissionDenied, QingdanError
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
