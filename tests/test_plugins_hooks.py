"""Meta-tests: every hook is documented with its exact signature and exercised through the manager."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import qingdan
from qingdan.core import hookspecs
from qingdan.core.plugins import HOOK_NAMES, create_plugin_manager
from qingdan.core.rows import DueItem, ReminderNotice
from qingdan.core.spec import Campaign, Check, DeadlineRule, Projection, Target

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugin-guide.md"
HOOKS = sorted(name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("qingdan_"))
RESULT_TYPES = {
    "qingdan_campaign": Campaign,
    "qingdan_targets": Target,
    "qingdan_checks": Check,
    "qingdan_projections": Projection,
    "qingdan_deadline_rules": DeadlineRule,
}
#: Hooks called with arguments when something is sent, not when the catalogue is built.
SENDING_HOOKS = {"qingdan_reminders"}


def signature(name: str) -> str:
    function = getattr(hookspecs, name)
    return f"def {name}{inspect.signature(function)}".replace("'", "")


def test_the_six_hooks_of_the_contract():
    assert HOOKS == sorted(HOOK_NAMES) == sorted(set(RESULT_TYPES) | SENDING_HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_exact_signature(name):
    guide = GUIDE.read_text(encoding="utf-8")
    assert f"### `{name}`" in guide
    assert signature(name) in guide, signature(name)


@pytest.mark.parametrize("name", HOOKS)
def test_hookspec_docstring_says_when_called_and_what_empty_means(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Called once per plugin" in doc
    assert re.search(r"None|empty", doc)
    body = inspect.getsource(getattr(hookspecs, name)).split('"""')[-1].strip()
    assert body == "", "no logic in hookspec bodies"


@pytest.mark.parametrize("name", sorted(RESULT_TYPES))
def test_hook_is_exercised_through_the_plugin_manager(name):
    pm = create_plugin_manager(load=None)
    results = getattr(pm.hook, name)()
    assert results, f"no built-in plugin implements {name}"
    expected = RESULT_TYPES[name]
    for result in results:
        items = [result] if isinstance(result, expected) else list(result)
        assert items and all(isinstance(item, expected) for item in items)


def _notice() -> ReminderNotice:
    from datetime import date

    item = DueItem(kind="hazard", number="H-fire-2020-0001", campaign="fire", title="农贸市场：通道堵塞",
                   department="镇消防救援站", due=date(2020, 10, 21), days_left=2, working_days_left=2,
                   status="rectifying")
    return ReminderNotice(department="镇消防救援站", as_of=date(2020, 10, 19), within_days=7,
                          due_items=(item,), text="镇消防救援站：\n1. 【问题隐患】H-fire-2020-0001\n")


def test_reminders_hook_is_exercised_through_the_plugin_manager(tmp_path, monkeypatch):
    """Called with the notices; the built-in general plugin writes them to $QINGDAN_REMINDER_DIR."""
    pm = create_plugin_manager(load=None)
    monkeypatch.delenv("QINGDAN_REMINDER_DIR", raising=False)
    assert pm.hook.qingdan_reminders(notices=[_notice()]) == [], "nothing is sent by default"
    monkeypatch.setenv("QINGDAN_REMINDER_DIR", str(tmp_path / "out"))
    [line] = pm.hook.qingdan_reminders(notices=[_notice()])
    assert "1 份提醒通知" in line
    assert (tmp_path / "out" / "2020-10-19-镇消防救援站.txt").read_text(encoding="utf-8").startswith("镇消防救援站：")
    assert (tmp_path / "out" / "2020-10-19-reminders.json").exists()


def test_a_reminder_plugin_that_raises_is_named_and_the_others_still_send(tmp_path, monkeypatch):
    from qingdan.core.hookspecs import hookimpl
    from qingdan.core.plugins import Catalogue

    class Broken:
        @hookimpl
        def qingdan_reminders(self, notices):
            raise ConnectionError("短信网关无响应")

    class Counter:
        @hookimpl
        def qingdan_reminders(self, notices):
            return f"已发送 {len(notices)} 条"

    monkeypatch.delenv("QINGDAN_REMINDER_DIR", raising=False)
    pm = create_plugin_manager(load=[], extra=[Broken(), Counter()])
    sent, problems = Catalogue.from_plugin_manager(pm).send_reminders([_notice()])
    assert [line for _, line in sent] == ["已发送 1 条"]
    assert len(problems) == 1 and "短信网关无响应" in str(problems[0])
    assert Catalogue().send_reminders([_notice()]) == ([], []), "a catalogue built by hand sends nothing"


# The plugin-author API: every name importable from ``qingdan`` itself, the same object as in its home.
AUTHOR_API = {
    "Campaign": "qingdan.core.spec",
    "Target": "qingdan.core.spec",
    "Check": "qingdan.core.spec",
    "Finding": "qingdan.core.spec",
    "Projection": "qingdan.core.spec",
    "Snapshot": "qingdan.core.spec",
    "TaskSpec": "qingdan.core.spec",
    "Phase": "qingdan.core.spec",
    "AttributeSpec": "qingdan.core.spec",
    "hookimpl": "qingdan.core.hookspecs",
}


@pytest.mark.parametrize("name", sorted(AUTHOR_API))
def test_plugin_author_api_is_importable_from_qingdan(name):
    assert name in qingdan.__all__
    assert getattr(qingdan, name) is getattr(importlib.import_module(AUTHOR_API[name]), name)
