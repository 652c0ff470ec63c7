"""The policy lives in the ledger: set by an admin, recorded as events, obeyed whatever the environment,
with identity on the command line from the operating-system account (``os_users``)."""

from __future__ import annotations

import hashlib
from datetime import date
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from typer.testing import CliRunner

import qingdan
from qingdan import InvalidCommand, PermissionDenied
from qingdan.cli import app as cli
from qingdan.core import policy as policy_module
from qingdan.core.policy import Authenticated, Policy
from tests.conftest import event_count

TOKEN = "wangming-token-0123456789abcdef"

POLICY = f"""
[actors."安委办 王明"]
role = "admin"
os_users = ["wangming"]
token_sha256 = "{hashlib.sha256(TOKEN.encode()).hexdigest()}"

[actors."安委办 王明（值班）"]
role = "inspector"
os_users = ["wangming"]

[actors."市场监管分局 李四"]
role = "department"
department = "镇市场监管分局"
os_users = ["lisi"]

[actors."消防站 赵六"]
role = "department"
department = "镇消防救援站"
os_users = ["zhaoliu"]

[actors."检查员 孙七"]
role = "inspector"
os_users = ["sunqi"]

[actors."观察员 周八"]
role = "viewer"
os_users = ["zhouba"]
"""


@pytest.fixture
def account(monkeypatch):
    """Which operating-system account this process runs as (the tests play several)."""
    current = {"name": "wangming"}
    monkeypatch.setattr(policy_module, "os_account", lambda: (current["name"], "1000"))
    monkeypatch.delenv("QINGDAN_ACTOR", raising=False)
    monkeypatch.delenv("QINGDAN_POLICY", raising=False)

    def become(name: str) -> None:
        current["name"] = name

    return become


@pytest.fixture
def governed(ledger_url, clock, catalogue, account):
    clock.set("2020-09-01 10:00")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as led:
        led.set_policy(POLICY, actor="安委办 王明")
        yield led


def denied(ledger, call, match):
    before = event_count(ledger)
    with pytest.raises(PermissionDenied, match=match):
        call()
    assert event_count(ledger) == before


# -- deliverable 1: the policy in the ledger ----------------------------------------------------


def test_the_first_policy_must_name_an_admin_the_setter_maps_to(ledger_url, clock, catalogue, account):
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as led:
        with pytest.raises(InvalidCommand, match="至少要有一个安委办管理员"):
            led.set_policy('[actors."检查员 孙七"]\nrole = "inspector"\nos_users = ["wangming"]\n')
        account("sunqi")  # an admin is named, but this account maps to an inspector only
        with pytest.raises(InvalidCommand, match="须保留设定它的“检查员 孙七”为管理员"):
            led.set_policy(POLICY)
        with pytest.raises(PermissionDenied, match="不能以“安委办 王明”的名义"):
            led.set_policy(POLICY, actor="安委办 王明")
        assert event_count(led) == 0 and led.access_policy() is None
        account("wangming")
        assert led.set_policy(POLICY, actor="安委办 王明") == 1
        assert set(led.access_policy().grants) >= {"安委办 王明", "观察员 周八"}


def test_once_set_every_write_obeys_it_whatever_the_environment(governed, ledger_url, clock, catalogue,
                                                                account, tmp_path, monkeypatch):
    governed.disconnect()
    # A different policy file in the environment (everyone an admin) and no policy argument: ignored.
    lax = tmp_path / "lax.toml"
    lax.write_text('[actors."观察员 周八"]\nrole = "admin"\n', encoding="utf-8")
    monkeypatch.setenv("QINGDAN_POLICY", str(lax))
    account("zhouba")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as led:
        denied(led, lambda: led.report_hazard(campaign="fire", unit="x", description="y"),
               "观察员 周八（查看人员）不能登记问题隐患")
        # --actor may only name an actor this account maps to.
        denied(led, lambda: led.report_hazard(campaign="fire", unit="x", description="y", actor="安委办 王明"),
               "操作系统账户“zhouba”不能以“安委办 王明”的名义操作")
    monkeypatch.delenv("QINGDAN_POLICY")
    account("nobody")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue, actor="检查员 孙七") as led:
        denied(led, lambda: led.report_hazard(campaign="fire", unit="x", description="y"),
               "不能以“检查员 孙七”的名义")
    account("wangming")  # maps to two actors: say which
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as led:
        denied(led, lambda: led.report_hazard(campaign="fire", unit="x", description="y"),
               "对应多个操作人")
        n = led.report_hazard(campaign="fire", unit="x", description="y", actor="安委办 王明（值班）")
    account("sunqi")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as led:
        led.report_progress(n, text="已督促")  # the one actor this account maps to
        assert [e.actor for e in led.history(n)] == ["安委办 王明（值班）", "检查员 孙七"]


def test_a_policy_change_is_an_admins_event_in_the_log_and_verify_covers_it(governed, account):
    account("sunqi")
    denied(governed, lambda: governed.set_policy(POLICY.replace('"viewer"', '"admin"')),
           "检查员 孙七（检查人员）不能修改权限配置")
    account("wangming")
    with pytest.raises(InvalidCommand, match="须保留设定它的“安委办 王明”为管理员"):
        handed_over = POLICY.replace('role = "admin"', 'role = "X"', 1).replace(
            '[actors."检查员 孙七"]\nrole = "inspector"', '[actors."检查员 孙七"]\nrole = "admin"')
        governed.set_policy(handed_over.replace('"X"', '"inspector"'), actor="安委办 王明")
    with pytest.raises(InvalidCommand, match="与台账中现行的相同"):
        governed.set_policy(POLICY, actor="安委办 王明")
    assert governed.set_policy(POLICY.replace('os_users = ["zhouba"]', 'os_users = ["zhouba", "zb"]'),
                               actor="安委办 王明", note="周八换了电脑") == 2
    assert [(e.type, e.actor, e.note) for e in governed.policy_history()] == [
        ("PolicyAdopted", "安委办 王明", None), ("PolicyChanged", "安委办 王明", "周八换了电脑")]
    assert governed.access_policy().grants["观察员 周八"].os_users == ("zhouba", "zb")
    report = governed.verify_integrity()
    assert report.ok and report.events_checked == 2


def test_an_edited_policy_event_fails_verify(governed, ledger_url):
    if not ledger_url.endswith(".db"):
        pytest.skip("the edit is made with sqlite3")
    import sqlite3

    with sqlite3.connect(ledger_url) as conn:
        conn.execute("UPDATE stored_events SET state = replace(state, 'viewer', 'admin') WHERE rowid = 1")
    report = governed.verify_integrity()
    assert not report.ok and any(p.kind == "tampered" for p in report.problems)


def test_rebuild_needs_the_admin_role(governed, account):
    governed.report_hazard(campaign="fire", unit="x", description="y", actor="安委办 王明")
    account("sunqi")
    with pytest.raises(PermissionDenied, match="检查员 孙七（检查人员）不能重建视图"):
        governed.rebuild()
    account("wangming")
    assert governed.rebuild(actor="安委办 王明") == 2


def test_a_host_passes_identity_through_authoriser_and_the_ledgers_policy_still_applies(
        governed, ledger_url, clock, catalogue, account):
    account("nobody")  # the host's service account maps to no actor: identity comes from the host
    asked = []

    class Host(Authenticated):
        def authorise(self, request):
            asked.append(request.actor)

    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue, authoriser=Host()) as led:
        led.report_hazard(campaign="fire", unit="x", description="y", actor="检查员 孙七")
        denied(led, lambda: led.report_hazard(campaign="fire", unit="x", description="y", actor="观察员 周八"),
               "查看人员）不能登记")
    assert asked == ["检查员 孙七"]


def test_the_command_line_sets_shows_and_obeys_the_ledgers_policy(tmp_path, account, monkeypatch):
    runner = CliRunner()
    db = str(tmp_path / "cli.db")
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    result = runner.invoke(cli, ["--db", db, "--actor", "安委办 王明", "policy", "set", str(path)])
    assert result.exit_code == 0, result.output
    assert "已启用台账的权限配置（第 1 版）" in result.stderr
    account("zhouba")
    shown = runner.invoke(cli, ["--db", db, "policy", "show", "--history"])
    assert shown.exit_code == 0 and 'os_users = ["zhouba"]' in shown.stdout
    assert Policy.from_text(shown.stdout).grants.keys() == Policy.from_text(POLICY).grants.keys()
    assert "“zhouba”对应的操作人：观察员 周八（查看人员）" in shown.stderr
    refused = runner.invoke(cli, ["--db", db, "--actor", "安委办 王明", "hazard", "report", "-c", "general",
                                  "--unit", "农贸市场", "--description", "通道堵塞", "--found-on", "2021-03-01"])
    assert refused.exit_code == 1 and "错误：操作系统账户“zhouba”不能以“安委办 王明”的名义操作" in refused.stderr
    assert "内部错误" not in refused.stderr
    refused = runner.invoke(cli, ["--db", db, "rebuild"])
    assert refused.exit_code == 1 and "不能重建视图" in refused.stderr
    account("sunqi")
    done = runner.invoke(cli, ["--db", db, "hazard", "report", "-c", "general", "--unit", "农贸市场",
                               "--description", "通道堵塞", "--found-on", "2021-03-01"])
    assert done.exit_code == 0, done.output
    with qingdan.open_ledger(db) as led:
        assert [e.actor for e in led.history(done.stdout.strip())] == ["检查员 孙七"]


def test_http_tokens_come_from_the_ledgers_policy(governed, ledger_url, catalogue, account):
    from qingdan.web import create_app

    account("nobody")  # the service's own account: irrelevant over HTTP
    with TestClient(create_app(ledger_url, catalogue=catalogue, pages=False)) as client:
        body = {"campaign": "fire", "unit": "x", "description": "y"}
        refused = client.post("/api/hazards", json=body, headers={"X-Qingdan-Actor": quote("安委办 王明")})
        assert refused.status_code == 401 and "令牌" in refused.json()["error"]["message"]
        made = client.post("/api/hazards", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert made.status_code == 201, made.text
        number = made.json()["number"]
    assert [e.actor for e in governed.history(number)] == ["安委办 王明"]


# -- deliverable 2: the role rules as clerks need them -------------------------------------------


def test_the_verifier_named_on_the_verification_is_compared_with_who_completed(governed, account):
    account("lisi")
    n = governed.report_hazard(campaign="fire", unit="超市", description="灭火器过期")
    governed.plan_rectification(n, responsible_unit="镇市场监管分局", deadline=date(2020, 9, 30))
    governed.complete_rectification(n)
    account("sunqi")  # the inspector types it, but names the rectifier as 验收人
    denied(governed, lambda: governed.verify(n, passed=True, inspector="李四"),
           "验收人“李四”登记了 .* 的整改完成（市场监管分局 李四），不能再验收自己的整改")
    governed.verify(n, passed=True, inspector="孙七")
    # The one who completed may type the verification of an inspector who did it (e.g. the admin's
    # clerk entering a paper form), as long as the named 验收人 is someone else.
    account("wangming")
    m = governed.report_hazard(campaign="fire", unit="超市", description="通道", actor="安委办 王明")
    governed.complete_rectification(m, actor="安委办 王明")
    denied(governed, lambda: governed.verify(m, passed=True, inspector="王明", actor="安委办 王明"),
           "不能再验收自己的整改")
    governed.verify(m, passed=True, inspector="孙七", actor="安委办 王明")


def test_a_department_plans_the_hazard_it_reported(governed, account):
    account("lisi")
    n = governed.report_hazard(campaign="fire", unit="农贸市场", description="通道堵塞")
    governed.plan_rectification(n, measures="清理杂物")  # nobody made responsible yet: its own report
    account("zhaoliu")
    denied(governed, lambda: governed.plan_rectification(n, measures="x"), "尚未指定责任单位")
    account("lisi")
    denied(governed, lambda: governed.plan_rectification(n, responsible_unit="镇消防救援站"),
           "尚未指定责任单位")  # it may not hand its report to another department
    governed.plan_rectification(n, responsible_unit="镇市场监管分局", deadline=date(2020, 9, 30))
    governed.complete_rectification(n)
    assert governed.hazard(n).status == "awaiting_verification"


def test_an_admin_imports_historical_closed_and_verified_rows_under_a_policy(governed, ledger_url, clock,
                                                                            catalogue, tmp_path):
    from qingdan.io.importer import import_file

    wb = Workbook()
    ws = wb.active
    ws.append(["单位名称", "排查日期", "隐患描述", "检查人员", "验收人", "整改责任单位", "整改状态", "完成日期",
               "验收日期", "销号日期"])
    ws.append(["恒达五金厂", "2020-07-01", "配电箱未接地", "王明", "孙七", "恒达五金厂", "已销号", "2020-07-10",
               "2020-07-12", "2020-07-15"])
    ws.append(["宏远超市", "2020-07-02", "安全出口上锁", "孙七", None, "宏远超市", "已验收", "2020-07-11",
               "2020-07-13", None])
    ws.append(["鑫盛饭店", "2020-07-03", "燃气报警器失效", None, None, "鑫盛饭店", "已销号", "2020-07-11",
               None, "2020-07-14"])
    path = tmp_path / "history.xlsx"
    wb.save(path)
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue, actor="安委办 王明") as admin:
        import_file(admin, path, campaign="fire", on=date(2020, 9, 1))
    hazards = {h.unit: h for h in governed.two_lists().hazards}
    assert hazards["恒达五金厂"].status == "closed" and hazards["宏远超市"].verified_on == date(2020, 7, 13)
    verifiers = {unit: [e.data["inspector"] for e in governed.history(h.number) if e.type == "Verified"]
                 for unit, h in hazards.items()}
    assert verifiers == {"恒达五金厂": ["孙七"], "宏远超市": ["孙七"], "鑫盛饭店": ["台账导入"]}


def test_a_batch_reads_the_policy_once_and_the_next_batch_reads_it_again(governed, ledger_url, clock, catalogue,
                                                                        account):
    account("sunqi")
    with governed.batch():  # the inspector may report, in a batch as alone
        governed.report_hazard(campaign="fire", unit="农贸市场", description="通道堵塞", actor="检查员 孙七")
        governed.report_hazard(campaign="fire", unit="农贸市场", description="灭火器过期", actor="检查员 孙七")
    account("wangming")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as other:  # another writer
        other.set_policy(POLICY.replace('[actors."检查员 孙七"]\nrole = "inspector"',
                                        '[actors."检查员 孙七"]\nrole = "viewer"'), actor="安委办 王明")
    account("sunqi")

    def batch() -> None:
        with governed.batch():
            governed.report_hazard(campaign="fire", unit="农贸市场", description="电线老化", actor="检查员 孙七")

    denied(governed, batch, "检查员 孙七（查看人员）不能登记问题隐患")  # the policy read for the earlier batch no longer holds
    assert len(governed.two_lists(as_of=date(2020, 9, 1)).hazards) == 2


def test_a_single_command_is_judged_on_the_policy_in_memory_and_its_write_checks_it(
        governed, ledger_url, clock, catalogue, account, monkeypatch):
    from qingdan.core.handlers.access import POLICY_ID

    recorder = governed._app.recorder
    reads: list[object] = []
    select = recorder.select_events

    def counting(originator_id, *args, **kwargs):
        if originator_id == POLICY_ID:
            reads.append(originator_id)
        return select(originator_id, *args, **kwargs)

    monkeypatch.setattr(recorder, "select_events", counting)
    account("sunqi")
    governed.report_hazard(campaign="fire", unit="农贸市场", description="通道堵塞", actor="检查员 孙七")
    reads.clear()  # the first reading also loads the policy; from now on it is held in memory
    governed.report_hazard(campaign="fire", unit="农贸市场", description="灭火器过期", actor="检查员 孙七")
    assert not reads  # its actor and its authorisation: the policy in memory, checked under the write lock
    reads.clear()
    account("wangming")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as other:  # another writer
        other.set_policy(POLICY.replace('[actors."检查员 孙七"]\nrole = "inspector"',
                                        '[actors."检查员 孙七"]\nrole = "viewer"'), actor="安委办 王明")
    account("sunqi")
    denied(governed, lambda: governed.report_hazard(campaign="fire", unit="农贸市场", description="电线老化",
                                                    actor="检查员 孙七"), "检查员 孙七（查看人员）不能登记问题隐患")
    # judged on the policy in memory (an inspector may report), its write found the policy changed
    # under the lock and wrote nothing; judged again: one look-up finds the change, one loads it
    assert len(reads) == 2
    assert len(governed.two_lists(as_of=date(2020, 9, 1)).hazards) == 2


def test_a_command_refused_on_a_policy_changed_since_is_judged_again(governed, ledger_url, clock,
                                                                    catalogue, account):
    account("zhouba")
    denied(governed, lambda: governed.report_hazard(campaign="fire", unit="农贸市场", description="通道堵塞",
                                                    actor="观察员 周八"), "观察员 周八（查看人员）不能登记问题隐患")
    account("wangming")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as other:  # another writer
        other.set_policy(POLICY.replace('[actors."观察员 周八"]\nrole = "viewer"',
                                        '[actors."观察员 周八"]\nrole = "inspector"'), actor="安委办 王明")
    account("zhouba")
    # refused on the policy this ledger holds in memory, which is no longer the stored one: judged
    # again on the stored one, which allows it
    number = governed.report_hazard(campaign="fire", unit="农贸市场", description="通道堵塞", actor="观察员 周八")
    assert governed.hazard(number).description == "通道堵塞"
    account("wangming")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue) as other:
        other.set_policy(POLICY, actor="安委办 王明")  # a viewer again
    account("zhouba")
    denied(governed, lambda: governed.report_hazard(campaign="fire", unit="农贸市场", description="电线老化",
                                                    actor="观察员 周八"), "观察员 周八（查看人员）不能登记问题隐患")
    assert len(governed.two_lists(as_of=date(2020, 9, 1)).hazards) == 1
