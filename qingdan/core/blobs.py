"""Attachment contents, stored inside the ledger database by their sha256.

``qd_blobs (sha256 TEXT PRIMARY KEY, size, data)`` holds each distinct content once, whichever
records and events refer to it. A blob is written by the recorder in the same transaction as the
``Attached`` event that names it (:mod:`qingdan.core.store` calls :func:`insert_sqlite` or
:func:`insert_postgres` under the log's write lock), so the log never names a blob that is not
stored, and a blob is never stored for an event that was not. The event carries the sha256, so the
hash chain covers the content; :func:`check` is what ``verify`` runs over the table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

TABLE = "qd_blobs"
PAGE = 32  # blobs read at once by ``check``: at most 32 × the size limit in memory

Blob = tuple[str, bytes]  # (sha256, data)


def create_table(backend: str) -> str:
    data = "BLOB" if backend == "sqlite" else "BYTEA"
    return f"CREATE TABLE IF NOT EXISTS {TABLE} (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, data {data} NOT NULL)"


def insert_sqlite(cursor: Any, blobs: Sequence[Blob]) -> None:
    """Within the recorder's transaction: store each blob not stored yet (deduplicated by sha256)."""
    if blobs:
        cursor.executemany(f"INSERT OR IGNORE INTO {TABLE} (sha256, size, data) VALUES (?, ?, ?)",
                           [(sha, len(data), data) for sha, data in blobs])


def insert_postgres(cursor: Any, schema: str, blobs: Sequence[Blob]) -> None:
    if blobs:
        from psycopg.sql import SQL, Identifier

        cursor.executemany(SQL("INSERT INTO {0}.{1} (sha256, size, data) VALUES (%s, %s, %s) "
                               "ON CONFLICT (sha256) DO NOTHING").format(Identifier(schema), Identifier(TABLE)),
                           [(sha, len(data), data) for sha, data in blobs])


Query = Callable[..., list[tuple[Any, ...]]]


def fetch(query: Query, sha256: str) -> bytes | None:
    rows = query(f"SELECT data FROM {TABLE} WHERE sha256 = ?", (sha256,))
    return bytes(rows[0][0]) if rows else None


def stored(query: Query) -> Iterator[tuple[str, bytes]]:
    """Every stored blob (sha256 as stored, data), in sha256 order, a page at a time."""
    after = ""
    while rows := query(f"SELECT sha256, data FROM {TABLE} WHERE sha256 > ? ORDER BY sha256 LIMIT ?",
                        (after, PAGE)):
        for sha, data in rows:
            yield str(sha), bytes(data)
        after = rows[-1][0]


def _some(query: Query, shas: list[str]) -> Iterator[tuple[str, bytes]]:
    for sha in shas:
        rows = query(f"SELECT sha256, data FROM {TABLE} WHERE sha256 = ?", (sha,))
        if rows:
            yield str(rows[0][0]), bytes(rows[0][1])


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sizes(query: Query, backend: str) -> dict[str, int]:
    """Every stored blob's sha256 and the length of its data, without reading the data."""
    length = "length" if backend == "sqlite" else "octet_length"
    return {str(sha): int(size) for sha, size in query(f"SELECT sha256, {length}(data) FROM {TABLE}")}


def check(query: Query, references: Mapping[str, Sequence[str]], *,
          only: set[str] | None = None, sound: dict[str, int] | None = None) -> tuple[int, list[tuple[str, str]]]:
    """Every stored blob against its sha256, and every referenced blob present.

    ``references``: sha256 → the records (numbers) whose events name it. ``only``: read just these
    blobs (by sha256), not every one. ``sound``: filled with the size of each blob that matched its
    sha256. Returns how many blobs were read and ``(sha256, what is wrong)`` for each problem, the
    records named."""
    def who(sha: str) -> str:
        numbers = references.get(sha) or ()
        return "、".join(dict.fromkeys(numbers)) if numbers else "（无记录引用）"

    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    count = 0
    for sha, data in (stored(query) if only is None else _some(query, sorted(only))):
        count += 1
        seen.add(sha)
        if digest(data) == sha:
            if sound is not None:
                sound[sha] = len(data)
        else:
            problems.append((sha, f"附件 {sha[:12]}…（{who(sha)}）的内容与其 SHA-256 不符：附件被改动"))
    for sha in references:
        if sha not in seen:
            problems.append((sha, f"附件 {sha[:12]}…（{who(sha)}）在数据库中不见了：附件被删除"))
    return count, problems
