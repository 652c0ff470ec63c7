"""The errors of qingdan: one root, four kinds a caller can act on."""

from __future__ import annotations

from typing import Any


class QingdanError(Exception):
    """Root of every error qingdan raises on purpose.

    The message is written for the clerk who issued the command (in Chinese) and says what to do.
    """


class InvalidCommand(QingdanError):
    """Raised when a command breaks a rule (a bad date, a missing part, a wrong status); nothing is written."""


class NotFound(QingdanError):
    """Raised when a hazard, measure, task, unit, target or report number does not exist in the ledger."""


class Conflict(QingdanError):
    """Raised when another writer changed the same record first and a retry could not resolve it."""


class PermissionDenied(QingdanError):
    """Raised when the acting person's role does not allow the command; nothing is written."""


class WriteFailed(QingdanError):
    """Raised when the database refused a write (disk full, connection lost …): nothing was recorded,
    the ledger is as it was; the command may be run again."""


class ViewBehind(QingdanError):
    """Raised when a command's events were recorded but the view could not be brought up to date
    after them: the facts are saved (do not enter them again); the next read or write catches up."""


class PluginError(QingdanError):
    """Raised when a plugin is broken (duplicate ids, misspelt hooks, a hook that raised)."""


def show(value: Any, limit: int = 40) -> str:
    """An input value as a clerk can read it in a message: control characters visible, long text cut."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字）"
