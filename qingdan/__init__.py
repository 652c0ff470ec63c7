"""qingdan: an event-sourced ledger of the 两个清单 for 安全生产专项整治 campaigns.

The public API: :func:`open_ledger`, the plugin models and ``hookimpl``, the row models and the errors.
"""

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
    "Snapshot",
    "HazardRow", "MeasureRow", "TaskRow", "UnitRow", "IndicatorReading", "TwoLists", "HistoryEntry",
    "TargetStatus",
    "QingdanError", "InvalidCommand", "NotFound", "Conflict", "PermissionDenied",
]
