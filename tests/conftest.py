"""Shared fixtures: a controllable clock, a small campaign catalogue, and a ledger on each backend.

The ``ledger`` fixture is parametrised over SQLite and PostgreSQL. PostgreSQL runs when
``QINGDAN_TEST_POSTGRES`` is set (e.g. ``postgresql://postgres@127.0.0.1:5432/test``); each test gets
its own schema, dropped afterwards. Under ``CI`` an unreachable server fails the run instead of
skipping, so a broken database can never pass as green.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest

import qingdan
from qingdan.core.domain import CST
from qingdan.core.plugins import Catalogue
from qingdan.core.spec import AttributeSpec, Campaign, Phase, Target, TaskSpec

DEFAULT_CI_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


class Clock:
    """A test clock: returns the time it is set to, one millisecond later at every call."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current

    def set(self, when: str | datetime) -> datetime:
        """Move the clock (``"2020-09-05 10:00"`` is China Standard Time)."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when).replace(tzinfo=CST)
        self.current = when
        return when

    def mark(self) -> datetime:
        """The current time, for use as ``known_at``; later events are recorded after it."""
        return self.current


@pytest.fixture(autouse=True)
def verify_state_dir(tmp_path_factory, monkeypatch) -> Iterator[str]:
    """Where ``verify`` remembers what it verified (outside the ledger): a directory of each test's
    own, never the user's state directory."""
    path = str(tmp_path_factory.mktemp("verify-state"))
    monkeypatch.setenv("QINGDAN_STATE_DIR", path)
    yield path


@pytest.fixture(scope="session")
def _cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def cache_dir(_cache_dir, monkeypatch) -> str:
    """Where the campaigns' names are cached (``qingdan.core.names``): one directory for the run,
    never the user's cache."""
    monkeypatch.setenv("QINGDAN_CACHE_DIR", _cache_dir)
    return _cache_dir


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2020, 7, 1, 9, 0, tzinfo=CST))


def make_catalogue() -> Catalogue:
    """Two small campaigns, independent of the built-in plugins, so the core tests stand alone."""
    fire = Campaign(
        id="fire", name="消防安全专项整治", kind="专项", lead_departments=("镇消防救援站",),
        departments=("镇安监局",), start=date(2020, 7, 1), end=date(2022, 12, 31),
        phases=(Phase(id="p1", name="集中攻坚", start=date(2020, 7, 1), end=date(2020, 12, 31),
                      source="测试"),),
        tasks=(TaskSpec(id="fire-1", campaign="fire", title="打通生命通道", lead_departments=("镇消防救援站",),
                        due=date(2022, 12, 31), source="测试"),),
        hazard_categories=("生命通道", "高层建筑", "群租房"),
        unit_attributes=(
            AttributeSpec(name="微型消防站", type="bool"),
            AttributeSpec(name="风险等级", type="choice", choices=("红", "橙", "黄", "蓝")),
            AttributeSpec(name="贮存起始日期", type="date"),
        ),
        source="测试",
    )
    hazchem = fire.model_copy(update={"id": "hazchem", "name": "危险化学品安全专项整治",
                                      "hazard_categories": (), "tasks": ()})
    targets = {
        "fire-officers": Target(id="fire-officers", campaign="fire", title="执法人员", goal=10,
                                unit="人", due=date(2021, 6, 30), source="测试"),
        "fire-computed": Target(id="fire-computed", campaign="fire", title="计算目标", goal=100,
                                due=date(2022, 12, 31), source="测试", measure=lambda s: None),
    }
    return Catalogue(campaigns={"fire": fire, "hazchem": hazchem}, targets=targets,
                     tasks={t.id: t for t in fire.tasks})


@pytest.fixture
def catalogue() -> Catalogue:
    return make_catalogue()


def postgres_url() -> str | None:
    url = os.environ.get("QINGDAN_TEST_POSTGRES")
    if not url and os.environ.get("CI"):
        url = DEFAULT_CI_POSTGRES
    return url


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, as a ledger URL; dropped afterwards."""
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests need QINGDAN_TEST_POSTGRES")
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {url} is unreachable under CI: {error}")
        pytest.skip(f"PostgreSQL at {url} is unreachable: {error}")
    schema = "qd_" + uuid.uuid4().hex[:12]
    conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}schema={schema}"
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return request.getfixturevalue("pg_schema")


@pytest.fixture
def ledger(ledger_url: str, clock: Clock, catalogue) -> Iterator[qingdan.Ledger]:
    with qingdan.open_ledger(ledger_url, actor="安监办张三", clock=clock, catalogue=catalogue) as led:
        yield led


def event_count(ledger: qingdan.Ledger) -> int:
    """How many events the ledger has stored: a rejected command must leave it unchanged."""
    return ledger.last_position()


@pytest.fixture(params=["sqlite", "postgres"])
def url_factory(request: pytest.FixtureRequest, tmp_path_factory):
    """A callable returning a fresh, empty ledger URL on each call (for hypothesis examples)."""
    if request.param == "sqlite":
        yield lambda: str(tmp_path_factory.mktemp("ledger") / "ledger.db")
        return
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests need QINGDAN_TEST_POSTGRES")
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {url} is unreachable under CI: {error}")
        pytest.skip(f"PostgreSQL at {url} is unreachable: {error}")
    schemas: list[str] = []

    def fresh() -> str:
        schema = "qd_" + uuid.uuid4().hex[:12]
        conn.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}schema={schema}"

    yield fresh
    for schema in schemas:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
    conn.close()
