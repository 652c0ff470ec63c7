"""What ``verify`` remembers of a ledger between runs, kept outside the ledger's database.

After a ``verify`` that found nothing wrong, it writes what it verified to a file in the auditor's own
state directory (``QINGDAN_STATE_DIR``, else ``$XDG_STATE_HOME/qingdan``, else
``~/.local/state/qingdan``; ``%LOCALAPPDATA%\\qingdan`` on Windows), one file per ledger location:
the view's position it compared, the hash chain's head there and every :data:`~qingdan.core.logscan.CHECKPOINT`
events before it, the latest recorded time, a digest of each record's view rows and the size of
each attachment it hashed. The next ``verify`` on this machine checks only what changed since
(:mod:`qingdan.core.incremental`), and — because the file is not in the database — it also sees a
history rewritten with a recomputed chain, which nothing inside the database can show.

Whoever can write this file can make the next incremental check skip what they choose: keep it in
an account of the auditor's own (the file is created readable by its owner only); ``--full``
re-derives everything without trusting it. See ``docs/reliability.md`` §4b.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

FORMAT = "qingdan-verify-state"
#: 2: each record's view rows digested with :mod:`marshal` (1: with ``repr``; such a file is still
#: read, for its chain hashes, but its digests are not — every record is folded again once)
VERSION = 2


class Remembered(BaseModel):
    """One ledger's verified prefix, as the last ``verify`` that found nothing wrong left it."""

    model_config = ConfigDict(frozen=True)

    format: str = FORMAT
    version: int = VERSION
    #: where the ledger is (the SQLite file's real path; PostgreSQL without the password)
    ledger: str
    verified_at: str
    #: the view's position the whole view was compared at; the chain's last position at or before it
    #: and its hash there
    position: int
    head_position: int
    head: str
    #: the chain's hash at positions up to ``head_position`` (every CHECKPOINT events, and the head)
    checkpoints: dict[int, str]
    #: the latest recorded time of the events up to ``position`` (ISO, UTC); later events never earlier
    last_recorded: str | None
    #: each record's view rows, as a digest (:func:`rows_digest`), by record id
    records: dict[str, str]
    #: each attachment hashed and found sound: sha256 → size
    blobs: dict[str, int]


@dataclass
class Seen:
    """What one run of ``verify`` saw, for the state it leaves (filled as it goes)."""

    scan: Any = None
    position: int = 0
    records: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, int] = field(default_factory=dict)
    last_recorded: datetime | None = None


def rows_digest(rows: list[tuple[Any, ...]]) -> str:
    """A record's view rows as one digest, whatever order they are stored in (each row as the audit
    reads it: every column but the row id, values with their types).

    Each row is written with :mod:`marshal` at its format version 2, which tags every value with its
    type and gives its length (so the rows' bytes, sorted and joined, are one text for one set of
    rows) and, unlike versions 3 on, never writes a reference to an object met before (so equal rows
    give equal bytes whatever objects hold them). A complete check digests every row of the view:
    this takes a little over half the time ``repr`` did (format 1; 0.26 s against 0.46 s of CPU for
    the 120,000 rows of the bench's county). A value marshal cannot write (a column altered into a
    type the database driver returns as, say, a ``Decimal``) makes its row the 2-tuple ``("repr",
    repr(row))``, which no row of the view (a 5-tuple) is written as. Were a later Python ever to
    write version 2 otherwise, the digests would differ: every record folded again, never a changed
    row taken for a remembered one."""
    written = []
    for row in rows:
        try:
            written.append(marshal.dumps(row, 2))
        except ValueError:
            written.append(marshal.dumps(("repr", repr(row)), 2))
    written.sort()
    return hashlib.sha256(b"".join(written)).hexdigest()


def default_directory() -> Path:
    """The auditor's state directory (see the module's docstring)."""
    given = os.environ.get("QINGDAN_STATE_DIR")
    if given:
        return Path(given).expanduser()
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "qingdan"
    base = os.environ.get("XDG_STATE_HOME")
    return (Path(base) if base else Path.home() / ".local" / "state") / "qingdan"


def locator(env: dict[str, str], backend: str) -> str:
    """Where a ledger is, as one text: the SQLite file's real path, or the PostgreSQL server,
    database, user and schema (never the password)."""
    if backend == "sqlite":
        return "sqlite:" + os.path.realpath(env["SQLITE_DBNAME"])
    return (f"postgresql://{env.get('POSTGRES_USER', '')}@{env.get('POSTGRES_HOST', '')}:"
            f"{env.get('POSTGRES_PORT', '')}/{env.get('POSTGRES_DBNAME', '')}"
            f"?schema={env.get('POSTGRES_SCHEMA') or 'public'}")


class StateFile:
    """The file holding one ledger's :class:`Remembered`, in a state directory."""

    def __init__(self, directory: Path, ledger: str) -> None:
        self.ledger = ledger
        self.path = Path(directory) / "verify" / (hashlib.sha256(ledger.encode()).hexdigest()[:32] + ".json")

    def load(self) -> tuple[Remembered | None, str | None]:
        """The remembered state, or None and why not (None too when there is none yet)."""
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as error:
            return None, f"本机记下的核验状态 {self.path} 无法读取（{error.strerror or error}）：本次完整核验"
        try:
            found = Remembered.model_validate_json(text)
        except ValidationError:
            return None, f"本机记下的核验状态 {self.path} 已损坏或格式不符：未使用，本次完整核验"
        if found.format == FORMAT and found.version == 1 and found.ledger == self.ledger:
            # Its chain hashes still say what was verified (and show history rewritten since); its
            # digests of the view rows are of the earlier format: none is taken as the rows' now.
            return found.model_copy(update={"records": {}}), (
                f"本机记下的核验状态 {self.path} 是上一版本的格式：其哈希链仍用于核对，各记录的视图摘要不再使用，本次重放每条记录")
        if found.format != FORMAT or found.version != VERSION:
            return None, f"本机记下的核验状态 {self.path} 是另一版本的格式：未使用，本次完整核验"
        if found.ledger != self.ledger:
            return None, (f"本机记下的核验状态 {self.path} 属于另一本台账（{found.ledger}）：未使用，本次完整核验")
        return found, None

    def save(self, state: Remembered) -> str | None:
        """Write it (atomically, readable by its owner only); None, or why it could not be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=".verify-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(state.model_dump_json().encode("utf-8"))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(name, self.path)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        except OSError as error:
            return f"核验状态无法写入 {self.path}（{error.strerror or error}）：下次仍将完整核验"
        return None

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
