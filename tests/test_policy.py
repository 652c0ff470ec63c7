"""Who may do what: roles from a policy file, enforced before anything is written."""

from __future__ import annotations

from datetime import date

import pytest

import qingdan
from qingdan import InvalidCommand, PermissionDenied
from qingdan.core.policy import AccessRequest, Policy
from tests.conftest import event_count

POLICY = """
[actors."安委办 王明"]
role = "admin"

[actors."市场监管分局 李四"]
role = "department"
department = "镇市场监管分局"

[actors."消防站 赵六"]
role = "department"
department = "镇消防救援站"

[actors."检查员 孙七"]
role = "inspector"

[actors."观察员 周八"]
role = "viewer"
"""


@pytest.fixture
def governed(ledger_url, clock, catalogue, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    clock.set("2020-09-01 10:00")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue, policy=str(path)) as led:
        yield led


def denied(ledger, call, match):
    before = event_count(ledger)
    with pytest.raises(PermissionDenied, match=match):
        call()
    assert event_count(ledger) == before


def test_a_department_acts_only_on_hazards_assigned_to_it(governed):
    n = governed.report_hazard(campaign="fire", unit="农贸市场", description="通道堵塞", actor="检查员 孙七")
    denied(governed, lambda: governed.plan_rectification(n, measures="清理", actor="市场监管分局 李四"),
           "尚未指定责任单位")
    governed.plan_rectification(n, responsible_unit="镇市场监管分局", deadline=date(2020, 9, 30),
                                actor="安委办 王明")
    governed.plan_rectification(n, measures="清理杂物", actor="市场监管分局 李四")
    denied(governed, lambda: governed.complete_rectification(n, actor="消防站 赵六"),
           "该记录由 镇市场监管分局 负责")
    governed.complete_rectification(n, actor="市场监管分局 李四")
    assert [e.actor for e in governed.history(n)] == ["检查员 孙七", "安委办 王明", "市场监管分局 李四",
                                                       "市场监管分局 李四"]


def test_the_verifier_is_not_the_rectifier(governed):
    n = governed.report_hazard(campaign="fire", unit="超市", description="灭火器过期", actor="安委办 王明")
    governed.complete_rectification(n, actor="安委办 王明")
    denied(governed, lambda: governed.verify(n, passed=True, inspector="王明", actor="安委办 王明"),
           "不能再验收自己的整改")
    governed.verify(n, passed=True, inspector="孙七", actor="检查员 孙七")


def test_roles_limit_commands_with_a_reason(governed):
    n = governed.report_hazard(campaign="fire", unit="超市", description="x", actor="检查员 孙七")
    denied(governed, lambda: governed.close(n, actor="检查员 孙七"), "检查人员）不能销号问题隐患 .*只有安委办管理员可以")
    denied(governed, lambda: governed.report_hazard(campaign="fire", unit="x", description="y",
                                                    actor="观察员 周八"), "查看人员）不能登记问题隐患")
    denied(governed, lambda: governed.withdraw(n, reason="x", actor="陌生人"), "未在权限配置中登记")
    denied(governed, lambda: governed.add_measure(campaign="fire", title="制度", department="镇消防救援站",
                                                  actor="市场监管分局 李四"), "该记录由 镇消防救援站 负责")
    denied(governed, lambda: governed.submit_report(period="2020-09", actor="消防站 赵六"), "报送")
    governed.add_measure(campaign="fire", title="制度", department="镇消防救援站", actor="消防站 赵六")


def test_a_department_reports_progress_only_on_its_own_tasks(governed):
    denied(governed, lambda: governed.report_task_progress("fire-1", text="x", actor="市场监管分局 李四"),
           "该记录由 镇消防救援站 负责")
    governed.report_task_progress("fire-1", text="完成摸底", actor="消防站 赵六")


def test_a_host_system_plugs_in_its_own_policy(ledger_url, clock, catalogue):
    asked: list[AccessRequest] = []

    class DirectoryPolicy:
        """A host's own identity: here, anyone whose name ends in 管理员 is an administrator."""

        def authorise(self, request: AccessRequest) -> None:
            asked.append(request)
            if not request.actor.endswith("管理员"):
                raise PermissionDenied(f"{request.actor} 不是管理员")

    clock.set("2020-09-01 10:00")
    with qingdan.open_ledger(ledger_url, clock=clock, catalogue=catalogue, policy=DirectoryPolicy()) as led:
        led.report_hazard(campaign="fire", unit="x", description="y", actor="系统管理员")
        with pytest.raises(PermissionDenied, match="张三 不是管理员"):
            led.report_hazard(campaign="fire", unit="x", description="y", actor="张三")
    assert [(r.kind, r.command, r.actor) for r in asked] == [("Hazard", "report", "系统管理员"),
                                                             ("Hazard", "report", "张三")]


def test_a_broken_policy_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[actors."甲"]\nrole = "boss"\n', encoding="utf-8")
    with pytest.raises(InvalidCommand, match="role 应为 admin、department、inspector、viewer 之一"):
        Policy.from_file(path)
    path.write_text('[actors."乙"]\nrole = "department"\n', encoding="utf-8")
    with pytest.raises(InvalidCommand, match="须写明 department"):
        Policy.from_file(path)
