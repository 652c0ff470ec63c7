"""Command handlers, one module per record kind: each checks a command against the catalogue and the
record's state and hands the record to the write path (:mod:`qingdan.core.writes`).

They take validated command models (:mod:`qingdan.core.commands`); the :class:`~qingdan.core.ledger.Ledger`
facade validates keyword arguments into those models and calls them.
"""

from .access import PolicyCommands
from .attachments import AttachmentCommands
from .hazards import HazardCommands
from .measures import MeasureCommands
from .reports import ReportCommands
from .tasks import TaskCommands
from .township import TownshipCommands
from .units import UnitCommands

__all__ = ["AttachmentCommands", "HazardCommands", "MeasureCommands", "PolicyCommands", "ReportCommands",
           "TaskCommands", "TownshipCommands", "UnitCommands"]
