"""Hostile input to every API command: a clear QingdanError, nothing written, never a crash.

Hypothesis throws wrong types, missing and unknown arguments, absurd dates, enormous strings,
control characters, formula text and odd Unicode at each command. Whatever happens, the outcome is
either success or a :class:`qingdan.QingdanError` whose message is one readable line, and a rejected
command leaves the log exactly as it was.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qingdan
from qingdan.core.domain import CST
from tests.conftest import Clock, event_count, make_catalogue

EXAMPLES = int(os.environ.get("QINGDAN_FUZZ_EXAMPLES", "60"))

hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(min_size=2001, max_size=2500),
    st.sampled_from(["", "   ", "=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "\x00", "a\x1bb",
                     "\u202e反转", "\ud7ff", "𠀀" * 3, "DROP TABLE stored_events;--", "\r\n", "重大"]),
)
hostile_value = st.one_of(
    hostile_text, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["2020-09-01", "2020/9/1", "2020-13-45", "昨天", "1e309", "NaN", "-1", "0"]),
)

COMMANDS = {
    "report_hazard": (None, ["campaign", "unit", "description", "level", "found_on", "category",
                             "village", "location", "source", "inspectors", "unit_number", "number"]),
    "plan_rectification": ("hazard", ["responsible_unit", "responsible_person", "measures", "funds",
                                      "deadline", "deadline_working_days", "contingency"]),
    "escalate": ("hazard", ["supervisor", "level", "doc_no"]),
    "request_extension": ("hazard", ["deadline", "deadline_working_days", "reason"]),
    "decide_extension": ("hazard", ["approved"]),
    "report_progress": ("hazard", ["text"]),
    "complete_rectification": ("hazard", ["cost"]),
    "verify": ("hazard", ["passed", "inspector", "method"]),
    "close": ("hazard", []),
    "reopen": ("hazard", ["reason"]),
    "recheck": ("hazard", ["passed", "inspector", "method"]),
    "correct": ("hazard", ["field", "value", "reason"]),
    "withdraw": ("hazard", ["reason"]),
    "add_measure": (None, ["campaign", "title", "department", "kind", "due", "number"]),
    "issue_measure": ("measure", ["doc_no"]),
    "implement_measure": ("measure", []),
    "revise_measure": ("measure", ["reason", "title", "doc_no"]),
    "repeal_measure": ("measure", ["reason"]),
    "report_task_progress": ("task", ["text", "percent", "period"]),
    "complete_task": ("task", ["period"]),
    "register_unit": (None, ["name", "kind", "village", "credit_code", "attributes", "number"]),
    "set_unit_attributes": ("unit", ["attributes"]),
    "close_unit": ("unit", ["reason"]),
    "record_indicator": ("target", ["value"]),
    "submit_report": (None, ["period", "campaign", "as_of", "resubmit_reason"]),
}
COMMON = ["on", "actor", "note"]


@st.composite
def hostile_call(draw):
    name = draw(st.sampled_from(sorted(COMMANDS)))
    subject, params = COMMANDS[name]
    chosen = draw(st.lists(st.sampled_from(params + COMMON + ["bogus", "number_", "__class__"]),
                           unique=True, max_size=6))
    kwargs = {key: draw(hostile_value) for key in chosen}
    target = draw(st.one_of(st.just("existing"), hostile_text)) if subject else None
    return name, subject, target, kwargs


@pytest.fixture(scope="module")
def fuzz_ledger(tmp_path_factory):
    clock = Clock(datetime(2020, 7, 1, 9, tzinfo=CST))
    url = str(tmp_path_factory.mktemp("fuzz") / "ledger.db")
    ledger = qingdan.open_ledger(url, clock=clock, catalogue=make_catalogue())
    clock.set("2020-09-01 10:00")
    existing = {
        "hazard": ledger.report_hazard(campaign="fire", unit="甲", description="乙"),
        "measure": ledger.add_measure(campaign="fire", title="制度", department="镇消防救援站"),
        "unit": ledger.register_unit(name="企业", kind="企业"),
        "task": "fire-1",
        "target": "fire-officers",
    }
    clock.set("2020-10-01 10:00")
    yield ledger, existing, clock
    ledger.disconnect()


@settings(max_examples=EXAMPLES * len(COMMANDS) // 4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(call=hostile_call())
def test_hostile_arguments_get_a_clear_error_and_write_nothing(fuzz_ledger, call):
    ledger, existing, clock = fuzz_ledger
    name, subject, target, kwargs = call
    clock.current += timedelta(seconds=1)
    args = () if subject is None else (existing[subject] if target == "existing" else target,)
    before = event_count(ledger)
    try:
        getattr(ledger, name)(*args, **kwargs)
    except qingdan.QingdanError as error:
        message = str(error)
        assert message and "\n" not in message.strip() and "Traceback" not in message
        assert len(message) < 2000, message[:200]
        assert all(ch.isprintable() or ch == " " for ch in message), repr(message[:200])
        assert event_count(ledger) == before
    except TypeError as error:
        # Only a wrong *positional* shape may escape as TypeError (a programming error in the
        # caller's code, not data); keyword input never does.
        assert "positional" in str(error), error
