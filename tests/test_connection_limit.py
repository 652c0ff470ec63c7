"""A PostgreSQL server out of connections refuses a command before anything is written, and says so.

Every connection a write needs (the event store's and the view's) is opened with the ledger, so a
command never commits its events and then fails to open the view's connection (the clerk, told it
failed, would register the hazard twice). The test uses a role of its own with a small
``CONNECTION LIMIT`` (created and dropped here), never the server's own limit.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlparse

import pytest
from typer.testing import CliRunner

import qingdan
from qingdan import QingdanError
from qingdan.cli import app
from tests.conftest import postgres_url


@pytest.fixture
def limited_role():
    """(superuser connection, role, ledger URL as that role in a schema it owns)."""
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL tests need QINGDAN_TEST_POSTGRES")
    import psycopg

    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at {url} is unreachable: {error}")
    tag = uuid.uuid4().hex[:10]
    role, schema = f"qd_limit_{tag}", f"qd_limit_{tag}"
    admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 20")
    admin.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {role}")
    parts = urlparse(url)
    limited = f"postgresql://{role}@{parts.hostname}:{parts.port or 5432}{parts.path}?schema={schema}"
    try:
        yield admin, role, limited
    finally:
        admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT -1")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        for _ in range(50):
            try:
                admin.execute(f"DROP ROLE {role}")
                break
            except psycopg.errors.DependentObjectsStillInUse:
                time.sleep(0.1)
            except psycopg.OperationalError:
                time.sleep(0.1)
        admin.close()


def connections(admin, role: str) -> int:
    return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,)).fetchone()[0]


def test_no_connection_is_opened_after_the_write_and_a_refused_one_writes_nothing(limited_role, catalogue,
                                                                                   monkeypatch):
    admin, role, url = limited_role
    monkeypatch.setenv("QINGDAN_ACTOR", "安监办")
    with qingdan.open_ledger(url, catalogue=catalogue) as ledger:
        time.sleep(0.2)
        held = connections(admin, role)
        # From now on the server accepts no further connection for this role.
        admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT {held}")
        # Commands of the open ledger need none: each is recorded whole, view included.
        first = ledger.report_hazard(campaign="fire", unit="超市", description="通道堵塞")
        for i in range(5):
            ledger.report_progress(first, text=f"第{i}次督促")
            ledger.report_hazard(campaign="fire", unit=f"单位{i}", description="灭火器过期")
        assert len(ledger.two_lists().hazards) == 6 and ledger.history(first)[-1].data["text"] == "第4次督促"
        before = ledger.last_position()
        # A second clerk's ledger cannot connect: refused, said so, nothing written.
        with pytest.raises(QingdanError, match="无法打开台账数据库.*（未写入任何内容）"):
            qingdan.open_ledger(url, catalogue=catalogue)
        result = CliRunner().invoke(app, ["--db", url, "hazard", "report", "-c", "general", "--unit", "农贸市场",
                                          "--description", "通道堵塞", "--found-on", "2021-03-01"])
        assert result.exit_code == 1 and "内部错误" not in result.output
        assert "错误：无法打开台账数据库" in result.stderr and "未写入任何内容" in result.stderr
        assert ledger.last_position() == before
        assert ledger.verify_integrity().ok
        assert connections(admin, role) <= held
