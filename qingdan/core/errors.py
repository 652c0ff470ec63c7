"""The errors of qingdan: one root, four kinds a caller can act on."""

from __future__ import annotations

from .text import show  # noqa: F401  (its old home)


class QingdanError(Exception):
    """Root of every error qingdan raises on purpose.

    The message is written for the clerk who issued the command (in Chinese) and says what to do.
    """


class InvalidCommand(QingdanError):
    """Raised when a command breaks a rule (a bad date, a missing part, a wrong status); nothing is written."""


class NotFound(QingdanError):
    """Raised when a hazard, measure, task, unit, target or report number does not exist in the ledger."""


class NoLedger(NotFound):
    """Raised when the database named holds no ledger (a path that does not exist, an empty database)
    and the ledger was opened with ``create=False`` (reads); nothing was created."""


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
