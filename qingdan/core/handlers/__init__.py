"""Command handlers, one module per record kind: each checks a command against the catalogue and the
record's state and hands the record to the write path (:mod:`qingdan.core.writes`).

They take validated command models (:mod:`qingdan.core.commands`); the :class:`~qingdan.core.ledger.Ledger`
facade validates keyword arguments into those models and calls them.
"""

from typing import Any

#: Each handler and its module, imported on first use: a ledger that only reads never imports the
#: aggregates and their event classes (most of a command's start-up).
_MODULES = {"AttachmentCommands": "attachments", "HazardCommands": "hazards", "MeasureCommands": "measures",
            "PolicyCommands": "access", "ReportCommands": "reports", "TaskCommands": "tasks",
            "TownshipCommands": "township", "UnitCommands": "units"}

__all__ = sorted(_MODULES)


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    globals()[name] = value
    return value
