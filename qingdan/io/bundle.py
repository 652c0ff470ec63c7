"""The whole ledger as one zip file: the event log, every attachment and a manifest of sha256s.

``qingdan export --format zip`` writes it; ``qingdan import FILE.zip`` restores it into an empty
ledger, exactly (the same events at the same positions, so the same hash chain). Its members:

- ``manifest.json`` — ``{"format": "qingdan-bundle", "version": 1, "created_at", "position",
  "chain_head", "events", "files": [{"path", "sha256", "size"}, …], "attachments": [{"sha256",
  "size", "media_type", "name", "kind", "number"}, …]}``: every other member with its sha256;
- ``events.jsonl`` — the event log as ``export --format jsonl`` writes it (one event a line, for
  people and scripts);
- ``log.jsonl`` — the same events as stored (``position``, ``originator_id``, ``version``,
  ``topic``, ``state`` in base64): what a restore writes back;
- ``attachments/<sha256>`` — each attachment's bytes, named by their sha256.

A script can check a bundle offline with nothing but the manifest (docs/reliability.md shows one).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from qingdan.core.errors import InvalidCommand
from qingdan.core.eventlog import StoredRow
from qingdan.core.rows import json_default
from qingdan.io.atomic import atomic_write, check_output_path

FORMAT, VERSION = "qingdan-bundle", 1
MANIFEST, EVENTS, LOG, ATTACHMENTS = "manifest.json", "events.jsonl", "log.jsonl", "attachments/"
MAX_MEMBER = 2 * 1024 ** 3  # a member that says it is larger is refused before it is read


# -- the event log as JSON lines (also ``export --format jsonl``) ----------------------------------


def event_lines(ledger: Any, upto: int | None = None) -> Iterator[tuple[Any, str]]:
    """(event, its JSON line) for every stored event in log order (up to position ``upto``)."""
    for event in ledger.events():
        if upto is not None and event.position > upto:
            return
        yield event, json.dumps(event.model_dump(), ensure_ascii=False, default=json_default) + "\n"


def write_jsonl(ledger: Any, stream: IO[str]) -> int:
    count = 0
    for _, line in event_lines(ledger):
        stream.write(line)
        count += 1
    return count


# -- writing a bundle -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleSummary:
    events: int
    attachments: int
    position: int
    chain_head: str


class _Hashing:
    """A zip member being written, hashed and counted on the way."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.hash, self.size = stream, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.hash.update(data)
        self.size += len(data)


def write_bundle(ledger: Any, path: str | Path) -> BundleSummary:
    """The ledger as a zip bundle at ``path`` (written whole or not at all)."""
    check_output_path(path)
    position, head = ledger.head()
    files: list[dict[str, Any]] = []
    attachments: dict[str, dict[str, Any]] = {}
    events = 0
    with atomic_write(path, "wb") as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(EVENTS, "w") as raw:
            out = _Hashing(raw)
            for event, line in event_lines(ledger, upto=position):
                out.write(line.encode("utf-8"))
                events += 1
                if event.type.endswith(".Attached"):
                    sha = event.data["sha256"]
                    attachments.setdefault(sha, {
                        "sha256": sha, "size": event.data["size"], "media_type": event.data["media_type"],
                        "name": event.data["name"], "kind": event.data["kind"], "number": event.number})
        files.append({"path": EVENTS, "sha256": out.hash.hexdigest(), "size": out.size})
        with archive.open(LOG, "w") as raw:
            out = _Hashing(raw)
            for row in ledger.raw_log():
                if row.id > position:
                    break
                out.write((json.dumps({
                    "position": row.id, "originator_id": str(row.originator_id),
                    "version": row.originator_version, "topic": row.topic,
                    "state": base64.b64encode(bytes(row.state)).decode("ascii")}) + "\n").encode("utf-8"))
        files.append({"path": LOG, "sha256": out.hash.hexdigest(), "size": out.size})
        for sha in sorted(attachments):
            data = ledger.attachment(sha)  # checked against its sha256: an altered one is refused
            info = zipfile.ZipInfo(ATTACHMENTS + sha, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, data, compress_type=zipfile.ZIP_STORED)  # photos are compressed already
            files.append({"path": ATTACHMENTS + sha, "sha256": sha, "size": len(data)})
        manifest = {"format": FORMAT, "version": VERSION,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "position": position, "chain_head": head, "events": events, "files": files,
                    "attachments": list(attachments.values())}
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    return BundleSummary(events=events, attachments=len(attachments), position=position, chain_head=head)


# -- checking and restoring ----------------------------------------------------------------------


def is_bundle(path: str | Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return MANIFEST in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_MEMBER:
        raise InvalidCommand(f"台账包中的 {name} 过大（{info.file_size} 字节），不予读取")
    with archive.open(info) as stream:
        data = stream.read(MAX_MEMBER + 1)
    if len(data) > MAX_MEMBER:
        raise InvalidCommand(f"台账包中的 {name} 过大，不予读取")
    return data


def check_bundle(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """The manifest and every problem: a member missing, altered (its sha256 differs), or not in
    the manifest. What the offline check script in docs/reliability.md does, with the same words."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidCommand(f"{Path(path).name} 不是有效的 zip 台账包（{error}）") from None
    with archive:
        try:
            manifest = json.loads(_read(archive, MANIFEST))
        except (KeyError, ValueError):
            raise InvalidCommand(f"{Path(path).name} 中没有可读的 {MANIFEST}，不是 qingdan 台账包") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise InvalidCommand(f"{Path(path).name} 不是 qingdan 台账包（{MANIFEST} 的 format 不对）")
        if manifest.get("version") != VERSION:
            raise InvalidCommand(f"台账包版本 {manifest.get('version')!r} 不受支持（应为 {VERSION}）")
        problems = []
        listed = {f["path"]: f for f in manifest.get("files", [])}
        names = set(archive.namelist())
        for name, entry in listed.items():
            if name not in names:
                problems.append(f"{name}：清单中有，包中没有")
            elif hashlib.sha256(_read(archive, name)).hexdigest() != entry["sha256"]:
                problems.append(f"{name}：SHA-256 与清单不符（被改动）")
            elif name.startswith(ATTACHMENTS) and name[len(ATTACHMENTS):] != entry["sha256"]:
                problems.append(f"{name}：文件名不是其 SHA-256")
        problems += [f"{name}：不在清单中" for name in sorted(names - set(listed) - {MANIFEST})]
    return manifest, problems


def read_bundle(path: str | Path) -> tuple[dict[str, Any], list[StoredRow], dict[str, bytes]]:
    """The manifest, the stored events and the attachments of a checked bundle."""
    manifest, problems = check_bundle(path)
    if problems:
        raise InvalidCommand(f"{Path(path).name} 未通过校验，未恢复任何数据：" + "；".join(problems[:5]))
    rows: list[StoredRow] = []
    with zipfile.ZipFile(path) as archive:
        for number, line in enumerate(_read(archive, LOG).decode("utf-8").splitlines(), 1):
            try:
                item = json.loads(line)
                rows.append(StoredRow(id=int(item["position"]), originator_id=UUID(item["originator_id"]),
                                      originator_version=int(item["version"]), topic=str(item["topic"]),
                                      state=base64.b64decode(item["state"], validate=True)))
            except (ValueError, KeyError, TypeError):
                raise InvalidCommand(f"{LOG} 第 {number} 行无法读取，未恢复任何数据") from None
        blobs = {name[len(ATTACHMENTS):]: _read(archive, name) for name in archive.namelist()
                 if name.startswith(ATTACHMENTS)}
    return manifest, rows, blobs


def restore_bundle(ledger: Any, path: str | Path) -> BundleSummary:
    """Restore a bundle into an empty ledger; all or nothing. The chain head afterwards is the
    bundle's (the caller may compare: ``summary.chain_head == manifest["chain_head"]``)."""
    manifest, rows, blobs = read_bundle(path)
    count = ledger.restore(rows, blobs)
    position, head = ledger.head()
    if head != manifest.get("chain_head"):
        raise InvalidCommand(f"恢复后的哈希链头 {head[:12]}… 与台账包记录的 {str(manifest.get('chain_head'))[:12]}… "
                             "不一致；请运行 `qingdan verify`")
    return BundleSummary(events=count, attachments=len(blobs), position=position, chain_head=head)
