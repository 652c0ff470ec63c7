"""``qingdan serve`` as a real process, and ``qingdan token create``.

A server is started as a subprocess on 127.0.0.1 (port 0: the kernel picks a free one, the server
prints it) on SQLite and PostgreSQL. Several clients write hazards and progress on one shared hazard
while others read the two lists; then SIGTERM arrives with writes in flight. Afterwards the ledger,
opened directly, must hold exactly the writes that were answered 2xx. Also: the refusal to serve a
public address without a policy (before anything is bound), the token → policy → Bearer round trip,
and the example follower (examples/follower.py) resuming from its saved position.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

import qingdan
from qingdan.cli import app
from qingdan.cli.serve import is_loopback
from qingdan.core.policy import Policy

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parent.parent
FOLLOWER = ROOT / "examples" / "follower.py"
SCRIPT = Path(sys.executable).with_name("qingdan")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [
    sys.executable, "-c", "import sys; from qingdan.cli import main; sys.argv[0] = 'qingdan'; main()"]
LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)/api/")
NUMBER = re.compile(r"^H-fire-2020-(\d{4})$")
AS_OF = "2020-12-31"

WRITERS, READERS, REQUESTS = 4, 2, 15  # 6 client threads × 15 requests during the load phase
runner = CliRunner()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QINGDAN_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running(url: str, tmp_path: Path, *options: str) -> Iterator[Server]:
    """``qingdan serve --db URL --port 0 …`` until it prints where it listens (at most 20 s)."""
    log = tmp_path / "serve.log"
    with log.open("wb") as err, open(tmp_path / "serve.out", "wb") as out:
        process = subprocess.Popen([*COMMAND, "--init", "serve", "--db", url, "--port", "0", *options],
                                   stdout=out, stderr=err, env=clean_env(), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 20
        while True:
            found = LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
            if found:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"qingdan serve did not start (exit {process.poll()}):\n{log.read_text()}")
            time.sleep(0.05)
        yield Server(process, found.group(1), log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@dataclass
class Tally:
    """What the clients saw: accepted writes by key, every status, and what the readers counted."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    hazards: dict[str, str] = field(default_factory=dict)      # description -> number (201)
    answered: list[float] = field(default_factory=list)        # when each 201 arrived (monotonic)
    progress: list[str] = field(default_factory=list)          # texts answered 200
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (key, status, body)
    unknown: set[str] = field(default_factory=set)              # sent, connection lost before an answer
    statuses: dict[int, int] = field(default_factory=dict)
    reads: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def actor_header(name: str) -> dict[str, str]:
    return {"X-Qingdan-Actor": quote(name)}


def report(client: httpx.Client, tally: Tally, description: str, actor: str) -> None:
    body = {"campaign": "fire", "unit": f"{description}单位", "description": description,
            "found_on": "2020-09-01", "village": "南阳村"}
    try:
        response = client.post("/api/hazards", json=body, headers=actor_header(actor))
    except httpx.ConnectError:
        return  # nothing was sent
    except httpx.TransportError:
        with tally.lock:
            tally.unknown.add(description)
        return
    with tally.lock:
        tally.count(response.status_code)
        if response.status_code == 201:
            number = response.json()["number"]
            if number in tally.hazards.values():
                tally.errors.append(f"number {number} given twice")
            tally.hazards[description] = number
            tally.answered.append(time.monotonic())
        else:
            tally.rejected.append((description, response.status_code, response.text))


def progress(client: httpx.Client, tally: Tally, shared: str, text: str, actor: str) -> None:
    response = client.post(f"/api/hazards/{shared}/report-progress", json={"text": text, "on": "2020-09-02"},
                           headers=actor_header(actor))
    with tally.lock:
        tally.count(response.status_code)
        if response.status_code == 200:
            tally.progress.append(text)
        else:
            tally.rejected.append((text, response.status_code, response.text))


def two_lists(client: httpx.Client, tally: Tally) -> list[str]:
    response = client.get("/api/two-lists", params={"as_of": AS_OF, "campaign": "fire"})
    numbers = [h["number"] for h in response.json()["hazards"]] if response.status_code == 200 else []
    with tally.lock:
        tally.reads += 1
        tally.count(response.status_code)
        if response.status_code != 200:
            tally.errors.append(f"two-lists answered {response.status_code}: {response.text}")
        if len(set(numbers)) != len(numbers):
            tally.errors.append(f"a hazard listed twice in one read: {numbers}")
    return numbers


def writer(base: str, tally: Tally, start: threading.Barrier, t: int, shared: str) -> None:
    mine: list[str] = []
    actor = f"检查员{t} 王明/“南阳”"  # non-ASCII, a space, a slash and quotes: all percent-encoded
    with httpx.Client(base_url=base, timeout=20) as client:
        start.wait(10)
        for i in range(REQUESTS):
            if i % 2 == 0:
                description = f"并发登记 {t}-{i}"
                report(client, tally, description, actor)
                if description in tally.hazards:
                    mine.append(tally.hazards[description])
            else:
                progress(client, tally, shared, f"进展 {t}-{i}", actor)
        seen = set(two_lists(client, tally))
    if not set(mine) <= seen:
        with tally.lock:
            tally.errors.append(f"writer {t} does not see its own hazards {sorted(set(mine) - seen)}")


def reader(base: str, tally: Tally, start: threading.Barrier, t: int) -> None:
    previous = 0
    with httpx.Client(base_url=base, timeout=20) as client:
        start.wait(10)
        for _ in range(REQUESTS):
            numbers = two_lists(client, tally)
            if len(numbers) < previous:
                with tally.lock:
                    tally.errors.append(f"reader {t}: the list shrank from {previous} to {len(numbers)}")
            previous = len(numbers)


def follow_feed(base: str, tally: Tally, start: threading.Barrier, done: threading.Event,
                seen: list[int]) -> None:
    """Poll /api/events from the last position while the others write; catch up once they are done.
    Positions must only grow: an event committed behind a position already read would be lost."""
    after = 0
    with httpx.Client(base_url=base, timeout=20) as client:
        start.wait(10)
        for _ in range(2000):
            finished = done.is_set()
            page = client.get("/api/events", params={"after": after, "limit": 50}).json()
            positions = [e["position"] for e in page["events"]]
            if positions and (positions[0] <= after or positions != sorted(set(positions))):
                with tally.lock:
                    tally.errors.append(f"feed went backwards after {after}: {positions}")
            seen.extend(positions)
            after = page["last"]
            if finished and not positions:
                return
            if not positions:
                time.sleep(0.01)
    with tally.lock:
        tally.errors.append("the feed follower never caught up")


def run_threads(threads: list[threading.Thread], limit: float) -> None:
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + limit
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"clients still running after {limit} s"


def test_concurrent_clients_then_sigterm(ledger_url: str, tmp_path: Path) -> None:
    """6 clients × 15 requests, then SIGTERM with writes in flight: every 2xx is in the ledger, no more."""
    tally = Tally()
    with running(ledger_url, tmp_path) as server:
        with httpx.Client(base_url=server.base, timeout=20) as client:
            first = client.post("/api/hazards", headers=actor_header("镇安委办 王明"), json={
                "campaign": "fire", "unit": "南阳镇农贸市场", "description": "共享隐患", "found_on": "2020-09-01"})
            assert first.status_code == 201, first.text
            shared = first.json()["number"]

        # -- load: writers and readers at once ----------------------------------------------------
        started = time.monotonic()
        start = threading.Barrier(WRITERS + READERS + 1)
        threads = [threading.Thread(target=writer, args=(server.base, tally, start, t, shared))
                   for t in range(WRITERS)]
        threads += [threading.Thread(target=reader, args=(server.base, tally, start, t))
                    for t in range(READERS)]
        done, feed = threading.Event(), []
        follower = threading.Thread(target=follow_feed, args=(server.base, tally, start, done, feed))
        follower.start()
        run_threads(threads, 60)
        done.set()
        follower.join(20)
        load_seconds = time.monotonic() - started
        assert not tally.errors, tally.errors
        assert set(tally.statuses) <= {200, 201, 409}, tally.rejected
        assert all(status == 409 for _, status, _ in tally.rejected), tally.rejected
        numbers = [shared, *tally.hazards.values()]
        sequence = sorted(int(NUMBER.match(n).group(1)) for n in numbers)
        assert sequence == list(range(1, len(numbers) + 1)), "hazard numbers are unique and dense"
        load = dict(tally.statuses)

        # -- SIGTERM with writes in flight ---------------------------------------------------------
        before = len(tally.hazards)
        stop = threading.Event()

        def keep_writing(t: int) -> None:
            with httpx.Client(base_url=server.base, timeout=20) as client:
                for i in range(200):
                    if stop.is_set() or server.process.poll() is not None:
                        return
                    try:
                        report(client, tally, f"停机前登记 {t}-{i}", f"检查员{t}")
                    except httpx.HTTPError:
                        return
        writers = [threading.Thread(target=keep_writing, args=(t,)) for t in range(WRITERS)]
        for thread in writers:
            thread.start()
        deadline = time.monotonic() + 10
        while len(tally.hazards) < before + 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        in_flight_at_signal = len(tally.hazards) - before
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        status = server.process.wait(15)
        stopped_in = time.monotonic() - signalled
        stop.set()
        for thread in writers:
            thread.join(20)
        after_signal = sum(t > signalled for t in tally.answered)
        assert status == 0, server.stderr()
        assert after_signal > 0, "no write was in flight when SIGTERM came: the test proved nothing"
        assert stopped_in < 5, f"took {stopped_in:.1f} s to stop"
        assert "已停止" in server.stderr()

    # -- the ledger, opened directly, holds exactly the accepted writes ----------------------------
    with qingdan.open_ledger(ledger_url) as ledger:
        stored = {h.description: h.number for h in ledger.two_lists(as_of=date(2020, 12, 31)).hazards}
        history = ledger.history(shared)
        positions = [e.position for e in ledger.events()]
        last = ledger.last_position()
        verified = ledger.verify_integrity()
    accepted = {"共享隐患": shared, **tally.hazards}
    missing = {d: n for d, n in accepted.items() if stored.get(d) != n}
    assert not missing, f"accepted but not in the ledger: {missing}"
    extra = set(stored) - set(accepted)
    assert extra <= tally.unknown, f"in the ledger but never accepted: {extra - tally.unknown}"
    assert not {d for d, _, _ in tally.rejected} & set(stored), "a rejected write was stored"
    texts = sorted(e.data["text"] for e in history if e.type == "ProgressReported")
    assert texts == sorted(tally.progress)
    assert len(positions) == len(stored) + len(texts), "one event per accepted write, nothing else"
    assert positions == sorted(set(positions)) and last == positions[-1]
    assert set(feed) <= set(positions) and set(feed) >= {p for p in positions if p <= max(feed)}, \
        "the feed, followed during the load, skipped no event"
    assert verified.ok, verified.problems
    backend = "postgresql" if ledger_url.startswith("postgresql") else "sqlite"
    print(f"\n[{backend}] load: {sum(load.values())} requests in {load_seconds:.2f} s "
          f"({load}), conflicts {load.get(409, 0)}, {tally.reads} reads; SIGTERM after "
          f"{in_flight_at_signal} writes of the last phase, stopped in {stopped_in:.2f} s, "
          f"{len(tally.hazards) - before} accepted in that phase ({after_signal} answered after the "
          f"signal), {len(tally.unknown)} unanswered, "
          f"{len(extra)} of those stored; ledger {len(positions)} events, last position {last} "
          f"({last - len(positions)} unused positions); the feed followed to {max(feed)}")


def test_token_policy_bearer_and_follower(tmp_path: Path) -> None:
    """token create → policy → Bearer writes as that actor; the follower reads a page and resumes."""
    name = "镇安委办 王明"
    created = runner.invoke(app, ["token", "create", "--actor", name])
    assert created.exit_code == 0, created.stderr
    token = created.stdout.strip()
    snippet = created.stderr[created.stderr.index("[actors."):].split("\n\n")[0]
    policy = tmp_path / "policy.toml"
    policy.write_text(f'{snippet}\nrole = "admin"\n\n[actors."查看员"]\nrole = "viewer"\n', encoding="utf-8")

    state = tmp_path / "follower.pos"

    def follow(base: str, *options: str) -> list[str]:
        result = subprocess.run([sys.executable, str(FOLLOWER), base, "--state", str(state), "--once", *options],
                                capture_output=True, text=True, timeout=20, env=clean_env())
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    with running(str(tmp_path / "ledger.db"), tmp_path, "--policy", str(policy)) as server:
        assert "1 个令牌" in server.stderr()
        with httpx.Client(base_url=server.base, timeout=20) as client:
            signed = {"Authorization": f"Bearer {token}"}
            for i in range(3):
                response = client.post("/api/hazards", headers=signed, json={
                    "campaign": "fire", "unit": f"单位{i}", "description": f"隐患{i}", "found_on": "2020-09-01"})
                assert response.status_code == 201, response.text
            wrong = client.post("/api/hazards", headers={"Authorization": "Bearer wrong"}, json={})
            assert wrong.status_code == 401
            assert wrong.json()["error"]["type"] == "Unauthenticated" and "令牌" in wrong.json()["error"]["message"]
            named = client.post("/api/hazards", headers=actor_header(name), json={
                "campaign": "fire", "unit": "u", "description": "d"})
            assert named.status_code == 401, "with a policy, X-Qingdan-Actor is no identity"

        first = follow(server.base, "--limit", "2")
        assert [line.split()[0] for line in first] == ["1", "2"] and name in first[0]
        assert state.read_text().strip() == "2"
        second = follow(server.base, "--limit", "2", "--json")
        assert len(second) == 1 and '"position": 3' in second[0] and f'"actor": "{name}"' in second[0]
        assert follow(server.base) == [] and state.read_text().strip() == "3"
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(15) == 0


def test_public_host_without_policy_is_refused(tmp_path: Path) -> None:
    """--host 0.0.0.0 without a policy: exit 2 and a Chinese reason, before anything is bound."""
    result = subprocess.run([*COMMAND, "serve", "--db", str(tmp_path / "x.db"), "--host", "0.0.0.0"],
                            capture_output=True, text=True, timeout=20, env=clean_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "错误：不能在 0.0.0.0 上对外提供服务而不配置权限" in result.stderr and "--policy" in result.stderr
    assert "listening" not in result.stderr and "Uvicorn" not in result.stderr
    assert not (tmp_path / "x.db").exists(), "refused before the ledger is even opened"


def test_a_mistyped_db_is_an_error_not_a_new_empty_ledger(tmp_path: Path) -> None:
    result = subprocess.run([*COMMAND, "serve", "--db", str(tmp_path / "台帐.db"), "--port", "0"],
                            capture_output=True, text=True, timeout=30, env=clean_env(), cwd=tmp_path)
    assert result.returncode == 1 and "处没有台账" in result.stderr and "--init" in result.stderr, result.stderr
    assert not (tmp_path / "台帐.db").exists() and "Uvicorn" not in result.stderr


def test_refusal_comes_before_binding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bound: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        bound.append(address)
        raise OSError(98, "Address already in use")  # stop here: never bind a public address in a test

    monkeypatch.setattr(socket.socket, "bind", refuse)
    monkeypatch.delenv("QINGDAN_POLICY", raising=False)
    db = str(tmp_path / "x.db")
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        result = runner.invoke(app, ["serve", "--db", db, "--host", host])
        assert result.exit_code == 2 and "不配置权限" in result.stderr, result.stderr
    assert bound == []
    # with a policy (here from $QINGDAN_POLICY) the same host gets as far as binding
    policy = tmp_path / "policy.toml"
    policy.write_text('[actors."王明"]\nrole = "admin"\n', encoding="utf-8")
    result = runner.invoke(app, ["serve", "--db", db, "--host", "0.0.0.0", "--port", "8080"],
                           env={"QINGDAN_POLICY": str(policy)})
    assert result.exit_code == 1 and "端口 8080 已被占用" in result.stderr, result.stderr
    assert bound == [("0.0.0.0", 8080)]


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LocalHost", True), ("0.0.0.0", False), ("::", False), ("192.168.1.10", False),
    ("example.org", False), ("localhost.example.org", False), ("", False),
])
def test_loopback_rule(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_missing_web_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # import fastapi → ModuleNotFoundError
    result = runner.invoke(app, ["serve", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert "pip install 'qingdan[web]'" in result.stderr and "缺少 fastapi" in result.stderr


def test_other_commands_do_not_import_fastapi() -> None:
    code = ("import sys, qingdan.cli; "
            "print([m for m in ('fastapi', 'uvicorn', 'starlette', 'qingdan.web') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                            env=clean_env())
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.parametrize("name", ["镇安委办 王明", 'O"Brien \\ 李'])
def test_token_create_prints_token_and_policy_line(name: str, tmp_path: Path) -> None:
    """stdout: the token alone; stderr: a snippet that, pasted into a policy, accepts that token."""
    result = runner.invoke(app, ["token", "create", "--actor", name])
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and len(token) >= 43
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert f'token_sha256 = "{digest}"' in result.stderr and "只显示这一次" in result.stderr
    snippet = result.stderr[result.stderr.index("[actors."):].split("\n\n")[0]
    assert list(tomllib.loads(snippet)["actors"]) == [name]
    policy = tmp_path / "policy.toml"
    policy.write_text(snippet + '\nrole = "inspector"\n', encoding="utf-8")
    loaded = Policy.from_file(policy)
    assert loaded.actor_for_token(token) == name
    assert loaded.actor_for_token(token + "x") is None
    assert runner.invoke(app, ["token", "create", "--actor", name]).stdout.strip() != token


def test_token_create_checks_the_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[actors."王明"]\nrole = "admin"\ntoken_sha256 = "{"0" * 64}"\n', encoding="utf-8")
    unknown = runner.invoke(app, ["token", "create", "--actor", "李四", "--policy", str(policy)])
    assert unknown.exit_code == 1 and "没有操作人“李四”" in unknown.stderr and "王明" in unknown.stderr
    assert unknown.stdout == ""
    known = runner.invoke(app, ["token", "create", "--actor", "王明", "--policy", str(policy)])
    assert known.exit_code == 0 and "原令牌即失效" in known.stderr
    missing = runner.invoke(app, ["token", "create"], env={"QINGDAN_ACTOR": ""})
    assert missing.exit_code == 2 and "--actor" in missing.stderr
